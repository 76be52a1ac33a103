//! The `[interview]` section: which interviews a station runs (one `file`, a `folder` of them,
//! or both), the roster of invitation codes that picks one per candidate, and the rules a
//! typed code must follow. Reading the interview files and the roster is `interview::catalog`'s
//! and `codes`' business; this is only where they are.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::fields::{built_in, int, whole};
use crate::tomlfile::{Diagnostic, Document};

pub(super) const CODE_LENGTH: (i64, i64) = (1, 64);
const FILE_RULE: &str = "a path to an interview file, or \"\" when 'folder' is set";
const FOLDER_RULE: &str = "a path to a folder of interview files, or \"\" for none";
const ROSTER_RULE: &str = "a path to a .csv or .toml roster of codes, or \"\" for none";

/// A validated `[interview]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterviewRef {
    /// Absolute. The interview a one-interview station runs, and the default one beside a
    /// folder. Empty when the config names only a folder: read it through
    /// [`InterviewRef::default_file`].
    pub file: PathBuf,
    /// Absolute; every `*.toml` directly in it is an interview.
    pub folder: Option<PathBuf>,
    /// Absolute; codes (or code prefixes) → interview ids. With a roster a code is required.
    pub roster: Option<PathBuf>,
    /// Ask every candidate for a code even without a roster.
    pub require_code: bool,
    /// Inclusive limits on a code's length, after trimming.
    pub code_min_length: usize,
    pub code_max_length: usize,
}

impl InterviewRef {
    /// The `file`, when the config names one.
    pub fn default_file(&self) -> Option<&Path> {
        (!self.file.as_os_str().is_empty()).then_some(self.file.as_path())
    }

    /// Whether the welcome screen must have a code before the interview starts.
    pub fn code_required(&self) -> bool {
        self.require_code || self.roster.is_some()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInterviewRef {
    file: Spanned<String>,
    folder: Spanned<String>,
    roster: Spanned<String>,
    require_code: Spanned<bool>,
    code_min_length: Spanned<i64>,
    code_max_length: Spanned<i64>,
}

/// What each `[interview]` field accepts, for messages.
pub(super) fn expectation(field: &str) -> Option<String> {
    Some(match field {
        "file" => FILE_RULE.to_string(),
        "folder" => FOLDER_RULE.to_string(),
        "roster" => ROSTER_RULE.to_string(),
        "require_code" => "true or false".to_string(),
        "code_min_length" | "code_max_length" => whole(CODE_LENGTH),
        _ => return None,
    })
}

/// A path (from the directory of the file that wrote it), or `None` for "" (the way the file
/// says "none").
fn optional_path(doc: &Document<'_>, v: &Spanned<String>) -> Option<PathBuf> {
    let s = v.get_ref().trim();
    (!s.is_empty()).then(|| crate::tomlfile::resolve(doc.dir_of(&v.span()), s))
}

fn roster_path(doc: &Document<'_>, v: &Spanned<String>) -> Result<Option<PathBuf>, Diagnostic> {
    let Some(path) = optional_path(doc, v) else {
        return Ok(None);
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("csv" | "toml")) {
        Ok(Some(path))
    } else {
        Err(doc.error(
            &v.span(),
            None,
            format!(
                "field 'roster' must be {ROSTER_RULE}, found {:?} (the extension says which \
                 format it is)",
                v.get_ref()
            ),
        ))
    }
}

/// `code_min_length` and `code_max_length`, each in range and the maximum not below the minimum.
fn code_lengths(
    doc: &Document<'_>,
    min: &Spanned<i64>,
    max: &Spanned<i64>,
) -> Result<(usize, usize), Diagnostic> {
    let length = |v: &Spanned<i64>, field| int(doc, v, field, CODE_LENGTH).map(|n| n as usize);
    let (lo, hi) = (
        length(min, "code_min_length")?,
        length(max, "code_max_length")?,
    );
    if hi >= lo {
        return Ok((lo, hi));
    }
    let message =
        format!("field 'code_max_length' must be at least code_min_length ({lo}), found {hi}");
    // Point at what a station's file set; the other may be the built-in value.
    Err(if built_in(doc, &max.span()) {
        doc.error(&min.span(), Some("code_min_length"), message)
    } else {
        doc.error(&max.span(), Some("code_max_length"), message)
    })
}

pub(super) fn build(doc: &Document<'_>, raw: RawInterviewRef) -> Result<InterviewRef, Diagnostic> {
    let folder = optional_path(doc, &raw.folder);
    // A station given only a folder does not also run the built-in default file.
    let folder_only = built_in(doc, &raw.file.span()) && folder.is_some();
    let file = if folder_only {
        PathBuf::new()
    } else {
        optional_path(doc, &raw.file).unwrap_or_default()
    };
    if file.as_os_str().is_empty() && folder.is_none() {
        let message = "[interview] needs 'file' (the interview this station runs) or 'folder' \
                       (a folder of interview files), or both";
        // Point at what a station's file emptied.
        let span = if built_in(doc, &raw.file.span()) {
            raw.folder.span()
        } else {
            raw.file.span()
        };
        return Err(doc.error(&span, None, message));
    }
    let (code_min_length, code_max_length) =
        code_lengths(doc, &raw.code_min_length, &raw.code_max_length)?;
    Ok(InterviewRef {
        file,
        folder,
        roster: roster_path(doc, &raw.roster)?,
        require_code: *raw.require_code.get_ref(),
        code_min_length,
        code_max_length,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/booth/config.toml"))
    }

    fn err(text: &str) -> String {
        match Config::parse(text, Path::new("c.toml")) {
            Ok(c) => panic!("accepted: {:?}", c.interview),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_file_alone_works_as_before() -> crate::TestResult {
        let c = parse("[interview]\nfile = \"roles/support.toml\"\n")?;
        let i = &c.interview;
        assert_eq!(i.file, Path::new("/etc/booth/roles/support.toml"));
        assert_eq!(
            i.default_file(),
            Some(Path::new("/etc/booth/roles/support.toml"))
        );
        assert_eq!((i.folder.as_ref(), i.roster.as_ref()), (None, None));
        assert!(!i.code_required());
        Ok(())
    }

    #[test]
    fn a_folder_alone_does_not_bring_the_built_in_file_along() -> crate::TestResult {
        let c = parse("[interview]\nfolder = \"interviews\"\nroster = \"codes.CSV\"\n")?;
        let i = &c.interview;
        assert_eq!(i.default_file(), None);
        assert_eq!(
            i.folder.as_deref(),
            Some(Path::new("/etc/booth/interviews"))
        );
        assert_eq!(i.roster.as_deref(), Some(Path::new("/etc/booth/codes.CSV")));
        assert!(i.code_required(), "a roster always asks for codes");

        let c = parse("[interview]\nfile = \"a.toml\"\nfolder = \"more\"\nroster = \"\"\n")?;
        assert_eq!(
            c.interview.default_file(),
            Some(Path::new("/etc/booth/a.toml"))
        );
        assert_eq!(c.interview.roster, None);

        let c = parse("[interview]\nrequire_code = true\ncode_min_length = 6\n")?;
        assert!(c.interview.code_required());
        assert_eq!(
            (c.interview.code_min_length, c.interview.code_max_length),
            (6, 32)
        );
        Ok(())
    }

    #[test]
    fn bad_interview_settings_name_their_line() {
        let cases = [
            (
                "[interview]\nfile = \"\"\n",
                "c.toml:2:1: [interview]: [interview] needs 'file' (the interview this station \
                 runs) or 'folder' (a folder of interview files), or both",
            ),
            (
                "[interview]\nfolder = \"\"\nfile = \" \"\n",
                "c.toml:3:1: [interview]: [interview] needs 'file' (the interview this station \
                 runs) or 'folder' (a folder of interview files), or both",
            ),
            (
                "[interview]\nroster = \"codes.xlsx\"\n",
                "c.toml:2:1: [interview]: field 'roster' must be a path to a .csv or .toml \
                 roster of codes, or \"\" for none, found \"codes.xlsx\" (the extension says \
                 which format it is)",
            ),
            (
                "[interview]\ncode_min_length = 0\n",
                "c.toml:2:1: [interview]: field 'code_min_length' must be between 1 and 64, \
                 found 0",
            ),
            (
                "[interview]\ncode_max_length = 3\n",
                "c.toml:2:1: [interview]: field 'code_max_length' must be at least \
                 code_min_length (4), found 3",
            ),
            (
                "[interview]\ncode_min_length = 40\n",
                "c.toml:2:1: [interview]: field 'code_max_length' must be at least \
                 code_min_length (40), found 32",
            ),
            (
                "[interview]\nrequire_code = \"yes\"\n",
                "c.toml:2:1: [interview]: field 'require_code' must be true or false, found \
                 \"yes\"",
            ),
            (
                "[interview]\nfolders = \"x\"\n",
                "c.toml:2:1: [interview]: unknown field 'folders' (expected one of: file, \
                 folder, roster, require_code, code_min_length, code_max_length)",
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(text, want)| err(text) != *want)
            .map(|(text, want)| format!("{text}\n  got: {}\n want: {want}\n", err(text)))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
