//! The interview file (TOML) a hiring team writes: what the candidate is told, who to ask for
//! help, and the questions with their timing. This module owns the file's format, its
//! validation (every error names file:line:column, the table, the field and what is allowed)
//! and the plain validated model the rest of booth uses; nothing outside sees toml or spans.
//!
//! ```toml
//! id = "sample-customer-support"
//! title = "Customer Support Specialist – first interview"
//! intro = """…"""
//! language = "en"
//!
//! [support]
//! contact = "Ask the staff at the front desk."
//!
//! countdown_seconds = 3  # optional: 3-2-1 before each recording (0 = none)
//!
//! [consent]             # optional; accepted before the device test (see `consent`)
//! text = """…"""
//!
//! [practice]            # optional; a warm-up never sent (see `practice`)
//! text = "Tell us what you had for breakfast."
//!
//! [defaults]            # optional; fills in what a question leaves out
//! attempts = 2
//!
//! [[question]]
//! id = "q-intro"
//! text = "Tell us a little about yourself."
//! preparation_seconds = 30
//! answer_seconds = 90
//! video = "q.mp4"        # optional (see `video`), with video_replays = 1
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

pub use crate::tomlfile::Diagnostic;
use crate::tomlfile::{self, Document, Span};

pub mod catalog;
mod consent;
#[cfg(test)]
pub(crate) mod fixture;
mod practice;
mod summary;
mod support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_journey;
mod translations;
mod video;

pub use catalog::{Catalog, CatalogError};
pub use consent::Consent;
pub use practice::Practice;
use translations::RawByLanguage;
pub use translations::{Texts, Translations};
pub use video::{DEFAULT_REPLAYS, ExistsOnly, VideoCheck, VideoProblem};

/// Inclusive limits, shared by validation and the messages that state them.
const PREPARATION: (i64, i64) = (0, 600);
const ANSWER: (i64, i64) = (10, 1800);
const ATTEMPTS: (i64, i64) = (1, 10);
const COUNTDOWN: (i64, i64) = (0, 10);

const ID_RULE: &str = "letters, digits, '.', '_' and '-' (like \"q-teamwork\")";
const LANGUAGE_RULE: &str = "a language tag like \"en\", \"et\" or \"de-CH\"";

/// A validated interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interview {
    pub id: String,
    pub title: String,
    /// Shown before the first question; paragraphs are separated by blank lines.
    pub intro: String,
    pub language: String,
    pub support: Support,
    /// The privacy notice the candidate must accept before anything is recorded.
    pub consent: Option<Consent>,
    /// The warm-up question offered before the real ones, if any.
    pub practice: Option<Practice>,
    /// The 3-2-1 before each recording, when the interview sets it (else the station's).
    pub countdown: Option<Duration>,
    /// At least one.
    pub questions: Vec<Question>,
    /// The texts above in other languages (`<field>_by_language`; see `translations`).
    pub translations: Translations,
    /// The file this was read from, absolute.
    pub source: PathBuf,
}

/// Who the candidate can turn to; shown on every screen that can go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Support {
    pub contact: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One question with its timing, defaults already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// An MP4 played before the question, absolute.
    pub video: Option<PathBuf>,
    /// How many more times the candidate may watch the video after the first.
    pub video_replays: u32,
    /// Time to think before recording starts; zero for none.
    pub preparation: Duration,
    /// Recording stops at this length.
    pub answer_limit: Duration,
    /// The candidate cannot finish an answer before this.
    pub minimum_answer: Option<Duration>,
    pub attempts: u32,
}

/// Why an interview file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum InterviewError {
    #[error("{}: cannot read the interview file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] Diagnostic),
}

impl InterviewError {
    /// The file, as the caller named it.
    pub fn path(&self) -> &Path {
        match self {
            InterviewError::Read { path, .. } => path,
            InterviewError::Invalid(d) => d.path(),
        }
    }
    /// 1-based line, for problems inside the file.
    pub fn line(&self) -> Option<usize> {
        match self {
            InterviewError::Read { .. } => None,
            InterviewError::Invalid(d) => Some(d.line()),
        }
    }
    /// 1-based column, for problems inside the file.
    pub fn column(&self) -> Option<usize> {
        match self {
            InterviewError::Read { .. } => None,
            InterviewError::Invalid(d) => Some(d.column()),
        }
    }
    /// The field the problem is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            InterviewError::Read { .. } => None,
            InterviewError::Invalid(d) => d.field(),
        }
    }
}

impl Interview {
    /// Reads and validates an interview file; videos must exist.
    pub fn load(path: &Path) -> Result<Interview, InterviewError> {
        Interview::load_checked(path, &ExistsOnly)
    }

    /// Reads and validates an interview file, each question video also by `videos` (the
    /// kiosk and `booth doctor` pass booth's player, so a video it cannot play is refused
    /// here, at its line).
    pub fn load_checked(path: &Path, videos: &dyn VideoCheck) -> Result<Interview, InterviewError> {
        let text = std::fs::read_to_string(path).map_err(|source| InterviewError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Interview::parse_checked(&text, path, videos)
    }

    /// Validates interview text. `path` is named in messages, and relative video paths are
    /// read from its directory (videos must exist).
    pub fn parse(text: &str, path: &Path) -> Result<Interview, InterviewError> {
        Interview::parse_checked(text, path, &ExistsOnly)
    }

    /// [`Interview::parse`], each question video also checked by `videos`.
    pub fn parse_checked(
        text: &str,
        path: &Path,
        videos: &dyn VideoCheck,
    ) -> Result<Interview, InterviewError> {
        let doc = Document::parse(text, path, expectation)?;
        let raw: RawInterview = doc.deserialize()?;
        Ok(build(&doc, raw, path, videos)?)
    }
}

// ---- the file as written -------------------------------------------------------------------
// Field order here is the order "expected one of: …" lists them in.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterview {
    id: Spanned<String>,
    title: Spanned<String>,
    title_by_language: RawByLanguage,
    intro: Spanned<String>,
    intro_by_language: RawByLanguage,
    language: Spanned<String>,
    countdown_seconds: Option<Spanned<i64>>,
    support: support::RawSupport,
    consent: Option<consent::RawConsent>,
    practice: Option<practice::RawPractice>,
    defaults: Option<RawTiming>,
    #[serde(default)]
    question: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTiming {
    preparation_seconds: Option<Spanned<i64>>,
    answer_seconds: Option<Spanned<i64>>,
    minimum_answer_seconds: Option<Spanned<i64>>,
    attempts: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    text: Spanned<String>,
    text_by_language: RawByLanguage,
    video: Option<Spanned<String>>,
    video_replays: Option<Spanned<i64>>,
    preparation_seconds: Option<Spanned<i64>>,
    answer_seconds: Option<Spanned<i64>>,
    minimum_answer_seconds: Option<Spanned<i64>>,
    attempts: Option<Spanned<i64>>,
}

/// What each field accepts, worded for messages; see [`tomlfile::Expectations`].
fn expectation(table: Option<&str>, field: &str) -> Option<String> {
    let text = match (table, field) {
        (None | Some("question"), "id") => ID_RULE,
        (None, "title" | "intro") | (Some("question"), "text") => "non-empty text",
        (None, "language") => LANGUAGE_RULE,
        (None, "countdown_seconds") => return Some(range(COUNTDOWN)),
        (None, "practice") => "a [practice] table with 'text' and optional 'max_seconds'",
        (Some("practice"), field) => return practice::expectation(field),
        (Some("question"), "video_replays") => return Some(range(video::REPLAYS)),
        (None, "title_by_language" | "intro_by_language")
        | (Some("support"), "contact_by_language")
        | (Some("question" | "consent"), "text_by_language")
        | (Some("consent"), "title_by_language") => {
            "a table of translations by language, like { de = \"…\", pl = \"…\" }"
        }
        (None, "support") => "a [support] table with 'contact' and optional 'email' and 'phone'",
        (None, "consent") => "a [consent] table with 'text' and optional 'title'",
        (Some("consent"), field) => return consent::expectation(field).map(str::to_string),
        (None, "defaults") => "a [defaults] table",
        (None, "question") => "one or more [[question]] tables",
        (Some("support"), "contact") => "non-empty text telling the candidate how to get help",
        (Some("support"), "email") => "an email address like \"desk@example.com\"",
        (Some("support"), "phone") => "a phone number (digits, spaces and + - ( ) . /)",
        (Some("question"), "video") => video::RULE,
        (Some("question" | "defaults"), "preparation_seconds") => return Some(range(PREPARATION)),
        (Some("question" | "defaults"), "answer_seconds") => return Some(range(ANSWER)),
        (Some("question" | "defaults"), "attempts") => return Some(range(ATTEMPTS)),
        (Some("question" | "defaults"), "minimum_answer_seconds") => {
            "a whole number of seconds, at least 1 and less than answer_seconds"
        }
        _ => return None,
    };
    Some(text.to_string())
}

fn range((lo, hi): (i64, i64)) -> String {
    format!("a whole number between {lo} and {hi}")
}

// ---- validation ----------------------------------------------------------------------------

fn build(
    doc: &Document<'_>,
    mut raw: RawInterview,
    path: &Path,
    videos: &dyn VideoCheck,
) -> Result<Interview, Diagnostic> {
    let translations = translations::gather(doc, &mut raw)?;
    let id = identifier(doc, raw.id, "id")?;
    let title = non_empty(doc, raw.title, "title")?;
    let intro = non_empty(doc, raw.intro, "intro")?;
    let language = language(doc, raw.language)?;
    let support = support::build(doc, raw.support)?;
    let consent = raw.consent.map(|c| consent::build(doc, c)).transpose()?;
    let practice = raw.practice.map(|p| practice::build(doc, p)).transpose()?;
    let countdown = raw
        .countdown_seconds
        .map(|v| in_range(doc, &v, "countdown_seconds", COUNTDOWN).map(seconds))
        .transpose()?;
    let has_defaults = raw.defaults.is_some();
    let defaults = raw.defaults.unwrap_or_default();
    check_defaults(doc, &defaults)?;
    if raw.question.is_empty() {
        return Err(doc.error_at_top(
            "the interview has no questions: add at least one [[question]] table \
             (with id, text, preparation_seconds, answer_seconds and attempts)",
        ));
    }
    let source = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = tomlfile::base_dir(path);
    let mut seen: HashMap<String, (usize, Span)> = HashMap::new();
    let mut questions = Vec::with_capacity(raw.question.len());
    let defaults = Defaults {
        timing: &defaults,
        present: has_defaults,
    };
    let place = Place { dir: &dir, videos };
    for (index, q) in raw.question.into_iter().enumerate() {
        questions.push(question(doc, index, q, &defaults, &place, &mut seen)?);
    }
    Ok(Interview {
        id,
        title,
        intro,
        language,
        support,
        consent,
        practice,
        countdown,
        questions,
        translations,
        source,
    })
}

/// Where a question's video is looked for, and how it is checked.
struct Place<'a> {
    dir: &'a Path,
    videos: &'a dyn VideoCheck,
}

struct Defaults<'a> {
    timing: &'a RawTiming,
    /// Whether the file has a [defaults] table at all, for the "missing" message's advice.
    present: bool,
}

fn question(
    doc: &Document<'_>,
    index: usize,
    q: Spanned<RawQuestion>,
    defaults: &Defaults<'_>,
    place: &Place<'_>,
    seen: &mut HashMap<String, (usize, Span)>,
) -> Result<Question, Diagnostic> {
    let header = q.span();
    let q = q.into_inner();
    let id_span = q.id.span();
    let id = identifier(doc, q.id, "id")?;
    if let Some((first, first_span)) = seen.get(&id) {
        return Err(doc.error(
            &id_span,
            None,
            format!(
                "duplicate question id '{id}' (question {} at line {} already uses it)",
                first + 1,
                doc.line_of(first_span)
            ),
        ));
    }
    seen.insert(id.clone(), (index, id_span));
    let text = non_empty(doc, q.text, "text")?;
    let video = q
        .video
        .map(|v| video::video(doc, v, place.dir, place.videos))
        .transpose()?;
    let video_replays = video::replays(doc, q.video_replays, video.is_some())?;

    let d = defaults.timing;
    let required = |own: Option<Spanned<i64>>, default: &Option<Spanned<i64>>, field, limits| {
        let value = own.or_else(|| default.clone());
        required_in_range(doc, &header, value, field, limits, defaults.present)
    };
    let preparation = required(
        q.preparation_seconds,
        &d.preparation_seconds,
        "preparation_seconds",
        PREPARATION,
    )?;
    let answer_span = q.answer_seconds.as_ref().map(Spanned::span);
    let answer = required(
        q.answer_seconds,
        &d.answer_seconds,
        "answer_seconds",
        ANSWER,
    )?;
    let attempts = required(q.attempts, &d.attempts, "attempts", ATTEMPTS)?;

    let minimum = match (q.minimum_answer_seconds, &d.minimum_answer_seconds) {
        (Some(own), _) => Some(minimum(doc, &own, answer, &own.span(), "")?),
        (None, Some(default)) => {
            // The default is fine on its own (checked with [defaults]); it can still clash with
            // this question's shorter limit. Point at the question, where the fix usually is.
            let anchor = answer_span.clone().unwrap_or_else(|| header.clone());
            let note = format!(
                " (from [defaults] at line {})",
                doc.line_of(&default.span())
            );
            Some(minimum(doc, default, answer, &anchor, &note)?)
        }
        (None, None) => None,
    };

    Ok(Question {
        id,
        text,
        video,
        video_replays,
        preparation: seconds(preparation),
        answer_limit: seconds(answer),
        minimum_answer: minimum.map(seconds),
        // Range-checked to 1..=10 above, so the conversion cannot fail.
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    })
}

/// Range-checks whatever [defaults] sets, so a bad default is reported once, at its line.
fn check_defaults(doc: &Document<'_>, d: &RawTiming) -> Result<(), Diagnostic> {
    let fields = [
        (&d.preparation_seconds, "preparation_seconds", PREPARATION),
        (&d.answer_seconds, "answer_seconds", ANSWER),
        (&d.attempts, "attempts", ATTEMPTS),
    ];
    for (value, field, limits) in fields {
        if let Some(v) = value {
            in_range(doc, v, field, limits)?;
        }
    }
    if let (Some(min), Some(answer)) = (&d.minimum_answer_seconds, &d.answer_seconds) {
        minimum(doc, min, *answer.get_ref(), &min.span(), "")?;
    } else if let Some(min) = &d.minimum_answer_seconds {
        // Each question's own limit is checked against it later; here only what no limit allows.
        in_range(doc, min, "minimum_answer_seconds", (1, ANSWER.1 - 1))?;
    }
    Ok(())
}

fn required_in_range(
    doc: &Document<'_>,
    header: &Span,
    value: Option<Spanned<i64>>,
    field: &str,
    limits: (i64, i64),
    has_defaults: bool,
) -> Result<i64, Diagnostic> {
    match value {
        Some(v) => in_range(doc, &v, field, limits),
        None => {
            let advice = if has_defaults {
                "set it here or in [defaults]"
            } else {
                "set it here or in a [defaults] table"
            };
            Err(doc.error(
                header,
                Some(field),
                format!(
                    "missing required field '{field}' ({}): {advice}",
                    range(limits)
                ),
            ))
        }
    }
}

fn in_range(
    doc: &Document<'_>,
    v: &Spanned<i64>,
    field: &str,
    (lo, hi): (i64, i64),
) -> Result<i64, Diagnostic> {
    let n = *v.get_ref();
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(doc.error(
            &v.span(),
            Some(field),
            format!("field '{field}' must be between {lo} and {hi}, found {n}"),
        ))
    }
}

/// `minimum_answer_seconds` must leave room to answer: at least 1, below the limit.
fn minimum(
    doc: &Document<'_>,
    min: &Spanned<i64>,
    answer: i64,
    anchor: &Span,
    note: &str,
) -> Result<i64, Diagnostic> {
    let n = *min.get_ref();
    if n >= 1 && n < answer {
        Ok(n)
    } else {
        Err(doc.error(
            anchor,
            Some("minimum_answer_seconds"),
            format!(
                "field 'minimum_answer_seconds' must be at least 1 and less than \
                 answer_seconds ({answer}), found {n}{note}"
            ),
        ))
    }
}

fn seconds(n: i64) -> Duration {
    // Every caller range-checked `n` to be non-negative.
    Duration::from_secs(u64::try_from(n).unwrap_or(0))
}

fn must_be(field: &str, allowed: &str, found: &str) -> String {
    format!("field '{field}' must be {allowed}, found {found:?}")
}

/// Text is trimmed: a TOML `"""` block usually ends in a newline nobody means.
fn non_empty(doc: &Document<'_>, v: Spanned<String>, field: &str) -> Result<String, Diagnostic> {
    let text = v.get_ref().trim();
    if text.is_empty() {
        Err(doc.error(
            &v.span(),
            Some(field),
            must_be(field, "non-empty text", v.get_ref()),
        ))
    } else {
        Ok(text.to_string())
    }
}

/// Ids end up in file names and manifests, so they are kept to a portable alphabet.
fn identifier(doc: &Document<'_>, v: Spanned<String>, field: &str) -> Result<String, Diagnostic> {
    let s = v.get_ref();
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s.clone())
    } else {
        Err(doc.error(&v.span(), Some(field), must_be(field, ID_RULE, s)))
    }
}

/// BCP-47-ish: a 2–3 letter language, then subtags of 1–8 letters or digits ("de-CH",
/// "zh-Hant-TW", "es-419"). Not a registry check, just enough to catch "English" or "en_GB".
fn language(doc: &Document<'_>, v: Spanned<String>) -> Result<String, Diagnostic> {
    let s = v.get_ref();
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(s.clone())
    } else {
        Err(doc.error(
            &v.span(),
            Some("language"),
            must_be("language", LANGUAGE_RULE, s),
        ))
    }
}
