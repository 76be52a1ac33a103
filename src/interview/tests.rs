//! Interview file tests: the exact wording and position of every kind of complaint, defaults,
//! path resolution, the summaries, and the bundled sample.

use super::*;

/// Lines 1–8; a test's own text starts on line 9.
pub(super) const HEAD: &str = "\
id = \"t\"
title = \"T\"
intro = \"Hi.\"
language = \"en\"

[support]
contact = \"Ask the desk.\"

";

/// A complete question whose fields start on line 10 when placed right after HEAD.
pub(super) const Q1: &str = "\
[[question]]
id = \"q1\"
text = \"Why?\"
preparation_seconds = 0
answer_seconds = 60
attempts = 1
";

pub(super) fn parse(text: &str) -> Result<Interview, InterviewError> {
    Interview::parse(text, Path::new("sample.toml"))
}

pub(super) fn err(text: &str) -> String {
    match parse(text) {
        Ok(i) => panic!("accepted: {i:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_minimal_interview_parses() -> crate::TestResult {
    let i = parse(&format!("{HEAD}{Q1}"))?;
    assert_eq!(i.id, "t");
    assert_eq!(i.support.contact, "Ask the desk.");
    assert_eq!(i.support.email, None);
    assert_eq!(
        i.questions,
        [Question {
            id: "q1".into(),
            text: "Why?".into(),
            video: None,
            video_replays: 1,
            preparation: Duration::ZERO,
            answer_limit: Duration::from_secs(60),
            minimum_answer: None,
            attempts: 1,
        }]
    );
    assert!(i.source.is_absolute());
    assert!(i.source.ends_with("sample.toml"));
    Ok(())
}

#[test]
fn bad_inputs_are_reported_with_position_field_and_what_is_allowed() {
    let q = |extra: &str| format!("{HEAD}{Q1}{extra}");
    let cases: Vec<(String, &str)> = vec![
        (
            "id = \"t\"\ntitel = \"T\"\n".into(),
            "sample.toml:2:1: unknown field 'titel' (expected one of: id, title, \
             title_by_language, intro, intro_by_language, language, countdown_seconds, support, \
             consent, practice, defaults, question)",
        ),
        (
            q("vidoe = \"a.mp4\"\n"),
            "sample.toml:15:1: question 1 (\"q1\"): unknown field 'vidoe' (expected one of: \
             id, text, text_by_language, video, video_replays, preparation_seconds, \
             answer_seconds, minimum_answer_seconds, attempts)",
        ),
        (
            format!("{HEAD}[defaults]\nattempt = 2\n\n{Q1}"),
            "sample.toml:10:1: [defaults]: unknown field 'attempt' (expected one of: \
             preparation_seconds, answer_seconds, minimum_answer_seconds, attempts)",
        ),
        (
            format!("{HEAD}[support.hours]\nopen = 9\n{Q1}"),
            "sample.toml:9:10: [support]: unknown field 'hours' (expected one of: contact, \
             contact_by_language, email, phone)",
        ),
        (
            format!("{HEAD}{}", Q1.replace("attempts = 1", "attempts = \"two\"")),
            "sample.toml:14:1: question 1 (\"q1\"): field 'attempts' must be a whole number \
             between 1 and 10, found \"two\"",
        ),
        (
            format!(
                "{HEAD}{}",
                Q1.replace("answer_seconds = 60", "answer_seconds = 1.5")
            ),
            "sample.toml:13:1: question 1 (\"q1\"): field 'answer_seconds' must be a whole \
             number between 10 and 1800, found 1.5",
        ),
        (
            format!("{HEAD}{}", Q1.replace("attempts = 1", "attempts = 0")),
            "sample.toml:14:1: question 1 (\"q1\"): field 'attempts' must be between 1 and 10, \
             found 0",
        ),
        (
            format!(
                "{HEAD}{}",
                Q1.replace("preparation_seconds = 0", "preparation_seconds = -5")
            ),
            "sample.toml:12:1: question 1 (\"q1\"): field 'preparation_seconds' must be between \
             0 and 600, found -5",
        ),
        (
            HEAD.replace("title = \"T\"\n", ""),
            "sample.toml:1:1: missing required top-level field 'title' (non-empty text)",
        ),
        (
            format!("{HEAD}{}", Q1.replace("text = \"Why?\"\n", "")),
            "sample.toml:9:1: question 1 (\"q1\"): missing required field 'text' (non-empty \
             text)",
        ),
        (
            HEAD.replace("contact = \"Ask the desk.\"\n", "email = \"a@b.org\"\n"),
            "sample.toml:6:1: [support]: missing required field 'contact' (non-empty text \
             telling the candidate how to get help)",
        ),
        (
            format!("{HEAD}{}", Q1.replace("answer_seconds = 60\n", "")),
            "sample.toml:9:1: question 1 (\"q1\"): missing required field 'answer_seconds' (a \
             whole number between 10 and 1800): set it here or in a [defaults] table",
        ),
        (
            format!(
                "{HEAD}[defaults]\nattempts = 2\n\n{}",
                Q1.replace("answer_seconds = 60\n", "")
            ),
            "sample.toml:12:1: question 1 (\"q1\"): missing required field 'answer_seconds' (a \
             whole number between 10 and 1800): set it here or in [defaults]",
        ),
        (
            format!("{HEAD}{Q1}\n{Q1}"),
            "sample.toml:17:1: question 2 (\"q1\"): duplicate question id 'q1' (question 1 at \
             line 10 already uses it)",
        ),
        (
            q("minimum_answer_seconds = 60\n"),
            "sample.toml:15:1: question 1 (\"q1\"): field 'minimum_answer_seconds' must be at \
             least 1 and less than answer_seconds (60), found 60",
        ),
        (
            format!("{HEAD}[defaults]\nminimum_answer_seconds = 90\n\n{Q1}"),
            "sample.toml:16:1: question 1 (\"q1\"): field 'minimum_answer_seconds' must be at \
             least 1 and less than answer_seconds (60), found 90 (from [defaults] at line 10)",
        ),
        (
            format!("{HEAD}[defaults]\nanswer_seconds = 5000\n\n{Q1}"),
            "sample.toml:10:1: [defaults]: field 'answer_seconds' must be between 10 and 1800, \
             found 5000",
        ),
        (
            HEAD.to_string(),
            "sample.toml:1:1: the interview has no questions: add at least one [[question]] \
             table (with id, text, preparation_seconds, answer_seconds and attempts)",
        ),
        (
            format!("{HEAD}{}", Q1.replace("\"q1\"", "\"q 1\"")),
            "sample.toml:10:1: question 1 (\"q 1\"): field 'id' must be letters, digits, '.', \
             '_' and '-' (like \"q-teamwork\"), found \"q 1\"",
        ),
        (
            format!("{}{Q1}", HEAD.replace("\"en\"", "\"English\"")),
            "sample.toml:4:1: field 'language' must be a language tag like \"en\", \"et\" or \
             \"de-CH\", found \"English\"",
        ),
        (
            format!("{}{Q1}", HEAD.replace("\"T\"", "\"  \"")),
            "sample.toml:2:1: field 'title' must be non-empty text, found \"  \"",
        ),
        (
            q("video = \"intro.mov\"\n"),
            "sample.toml:15:1: question 1 (\"q1\"): field 'video' must be a path to an .mp4 \
             file (H.264 picture, AAC sound), as scripts/make-question-video.sh makes, found \
             \"intro.mov\"",
        ),
        (
            format!(
                "{}{Q1}",
                HEAD.replace(
                    "[support]\ncontact = \"Ask the desk.\"\n",
                    "support = \"desk\"\n"
                )
            ),
            "sample.toml:6:1: field 'support' must be a [support] table with 'contact' and \
             optional 'email' and 'phone', found \"desk\"",
        ),
        (
            format!("{HEAD}[question]\nid = \"q1\"\n"),
            "sample.toml:9:1: field 'question' must be one or more [[question]] tables, found a \
             table",
        ),
        (
            q("attempts = 2\n"),
            "sample.toml:15:1: 'attempts' is set more than once",
        ),
        (
            format!("{HEAD}{}", Q1.replace("text = \"Why?\"", "text = \"Why?")),
            "sample.toml:11:13: not valid TOML: invalid basic string, expected `\"`",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, expected)| err(text) != *expected)
        .map(|(text, expected)| format!("{text}\n  got: {}\n want: {expected}\n", err(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_expose_path_line_and_field() {
    let e = parse(&format!(
        "{HEAD}{}",
        Q1.replace("attempts = 1", "attempts = 0")
    ))
    .unwrap_err();
    assert_eq!(e.path(), Path::new("sample.toml"));
    assert_eq!(e.line(), Some(14));
    assert_eq!(e.column(), Some(1));
    assert_eq!(e.field(), Some("attempts"));
    let InterviewError::Invalid(d) = e else {
        panic!("not a diagnostic")
    };
    assert_eq!(d.context(), Some("question 1 (\"q1\")"));

    let e = Interview::load(Path::new("/nonexistent/interview.toml")).unwrap_err();
    assert_eq!(e.line(), None);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/interview.toml: cannot read the interview file: "),
        "{e}"
    );
}

#[test]
fn defaults_fill_in_what_a_question_leaves_out() -> crate::TestResult {
    let text = format!(
        "{HEAD}[defaults]\npreparation_seconds = 20\nanswer_seconds = 90\n\
         minimum_answer_seconds = 15\nattempts = 3\n\n\
         [[question]]\nid = \"a\"\ntext = \"A?\"\n\n\
         [[question]]\nid = \"b\"\ntext = \"B?\"\nanswer_seconds = 30\nattempts = 1\n\
         minimum_answer_seconds = 5\npreparation_seconds = 0\n"
    );
    let i = parse(&text)?;
    let [a, b] = &i.questions[..] else {
        panic!("two questions expected")
    };
    assert_eq!(a.preparation, Duration::from_secs(20));
    assert_eq!(a.answer_limit, Duration::from_secs(90));
    assert_eq!(a.minimum_answer, Some(Duration::from_secs(15)));
    assert_eq!(a.attempts, 3);
    assert_eq!(b.preparation, Duration::ZERO);
    assert_eq!(b.answer_limit, Duration::from_secs(30));
    assert_eq!(b.minimum_answer, Some(Duration::from_secs(5)));
    assert_eq!(b.attempts, 1);
    Ok(())
}

#[test]
fn videos_resolve_against_the_interview_directory_and_must_exist() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("media"))?;
    std::fs::write(dir.path().join("media/q.mp4"), b"placeholder")?;
    let file = dir.path().join("interview.toml");

    let text = format!("{HEAD}{Q1}video = \"media/q.mp4\"\n");
    std::fs::write(&file, &text)?;
    let i = Interview::load(&file)?;
    assert_eq!(i.questions[0].video, Some(dir.path().join("media/q.mp4")));
    assert_eq!(i.source, file);

    let text = format!("{HEAD}{Q1}video = \"missing.mp4\"\n");
    std::fs::write(&file, &text)?;
    let e = Interview::load(&file).unwrap_err();
    let d = dir.path().display();
    assert_eq!(
        e.to_string(),
        format!(
            "{d}/interview.toml:15:1: question 1 (\"q1\"): field 'video' must name an existing \
             .mp4 file, but {d}/missing.mp4 does not exist (relative paths are read from {d})"
        )
    );
    assert_eq!(e.field(), Some("video"));

    let text = format!("{HEAD}{Q1}video = \"media.mp4\"\n");
    std::fs::create_dir(dir.path().join("media.mp4"))?;
    std::fs::write(&file, &text)?;
    let e = Interview::load(&file).unwrap_err().to_string();
    assert!(e.contains("media.mp4 is not a file"), "{e}");
    Ok(())
}

#[test]
fn support_contact_details_are_checked() -> crate::TestResult {
    let with = |extra: &str| {
        format!(
            "{}{Q1}",
            HEAD.replace("[support]\n", &format!("[support]\n{extra}"))
        )
    };
    let i = parse(&with(
        "email = \"desk@example.com\"\nphone = \"+44 20 7946 0000\"\n",
    ))?;
    assert_eq!(i.support.email.as_deref(), Some("desk@example.com"));
    assert_eq!(i.support.phone.as_deref(), Some("+44 20 7946 0000"));
    assert_eq!(
        err(&with("email = \"front desk\"\n")),
        "sample.toml:7:1: [support]: field 'email' must be an email address like \
         \"desk@example.com\", found \"front desk\""
    );
    assert_eq!(
        err(&with("phone = \"ask us\"\n")),
        "sample.toml:7:1: [support]: field 'phone' must be a phone number (digits, spaces and \
         + - ( ) . /), found \"ask us\""
    );
    Ok(())
}

#[test]
fn language_tags() -> crate::TestResult {
    for ok in ["en", "et", "de-CH", "zh-Hant-TW", "es-419", "fil"] {
        let text = format!("{}{Q1}", HEAD.replace("\"en\"", &format!("\"{ok}\"")));
        assert_eq!(parse(&text)?.language, ok);
    }
    for bad in ["", "e", "english", "en_GB", "en-", "de-CHXXXXXXX"] {
        let text = format!("{}{Q1}", HEAD.replace("\"en\"", &format!("\"{bad}\"")));
        assert!(parse(&text).is_err(), "{bad} accepted");
    }
    Ok(())
}

fn question(prep: u64, answer: u64, attempts: u32) -> Question {
    Question {
        id: "q".into(),
        text: "?".into(),
        video: None,
        video_replays: 1,
        preparation: Duration::from_secs(prep),
        answer_limit: Duration::from_secs(answer),
        minimum_answer: None,
        attempts,
    }
}

fn with_questions(questions: Vec<Question>) -> Interview {
    Interview {
        id: "t".into(),
        title: "T".into(),
        intro: "Hi.".into(),
        language: "en".into(),
        support: Support {
            contact: "desk".into(),
            email: None,
            phone: None,
        },
        consent: None,
        practice: None,
        countdown: None,
        questions,
        translations: Default::default(),
        source: PathBuf::from("/x.toml"),
    }
}

#[test]
fn ranges_for_the_overview_screen() {
    let mixed = with_questions(vec![question(0, 60, 1), question(45, 120, 3)]);
    assert_eq!(mixed.attempts_range(), Some((1, 3)));
    assert_eq!(
        mixed.answer_limit_range(),
        Some((Duration::from_secs(60), Duration::from_secs(120)))
    );
    assert_eq!(
        mixed.preparation_range(),
        Some((Duration::ZERO, Duration::from_secs(45)))
    );
    assert_eq!(with_questions(vec![]).attempts_range(), None);
}

#[test]
fn the_bundled_sample_loads() -> crate::TestResult {
    // The sample's video is produced separately; a placeholder stands in for it here.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("interview.toml");
    std::fs::write(&file, include_str!("../../assets/interview.toml"))?;
    std::fs::write(dir.path().join("question-2.mp4"), b"placeholder")?;
    let i = Interview::load(&file)?;

    assert_eq!(i.id, "sample-customer-support");
    assert_eq!(i.language, "en");
    assert!(i.intro.starts_with("Thank you for applying"), "{}", i.intro);
    let consent = i.consent.as_ref().ok_or("the sample has no consent text")?;
    assert!(
        consent.text.contains("recruiting@example.com"),
        "{}",
        consent.text
    );
    assert_eq!(consent.sha256.len(), 64);
    assert!(!i.intro.contains('\\'));
    assert_eq!(i.question_count(), 4);
    let videos: Vec<_> = i.questions.iter().filter_map(|q| q.video.clone()).collect();
    assert_eq!(videos, [dir.path().join("question-2.mp4")]);
    assert!(i.questions.iter().any(|q| q.preparation.is_zero()));
    assert!(i.questions.iter().any(|q| q.minimum_answer.is_some()));
    assert_eq!(i.attempts_range(), Some((1, 3)));
    assert_eq!(
        i.answer_limit_range(),
        Some((Duration::from_secs(60), Duration::from_secs(120)))
    );
    assert_eq!(
        i.preparation_range(),
        Some((Duration::ZERO, Duration::from_secs(45)))
    );
    Ok(())
}

#[test]
fn the_bundled_sample_names_its_missing_video() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("interview.toml");
    std::fs::write(&file, include_str!("../../assets/interview.toml"))?;
    let e = Interview::load(&file).unwrap_err();
    assert_eq!(e.field(), Some("video"));
    assert!(
        e.to_string().contains("question 2 (\"q-upset-customer\")"),
        "{e}"
    );
    Ok(())
}

#[test]
fn a_consent_text_is_kept_as_written_with_its_hash() -> crate::TestResult {
    let text = format!(
        "{HEAD}[consent]\ntitle = \" Your privacy \"\ntext = \"\"\"\nWe record your answers.\n\n\
         They are kept for \\\n90 days.\n\"\"\"\n\n{Q1}"
    );
    let i = parse(&text)?;
    let consent = i.consent.ok_or("no consent")?;
    assert_eq!(consent.title.as_deref(), Some("Your privacy"));
    // TOML's own rules applied (the line continuation joined), nothing else.
    assert_eq!(
        consent.text,
        "We record your answers.\n\nThey are kept for 90 days.\n"
    );
    // `printf 'We record your answers.\n\nThey are kept for 90 days.\n' | sha256sum`
    assert_eq!(
        consent.sha256,
        "59017719048e1742e77bd53ae18704ad776579a28fd4f2d1cd3c3d31693efd21"
    );
    assert_eq!(
        consent,
        Consent::new(consent.title.clone(), consent.text.clone())
    );
    assert!(parse(&format!("{HEAD}{Q1}"))?.consent.is_none());
    Ok(())
}

#[test]
fn consent_problems_are_reported_at_their_line() {
    let cases = [
        (
            format!("{HEAD}[consent]\ntitle = \"Privacy\"\n\n{Q1}"),
            "sample.toml:9:1: [consent]: missing required field 'text' (non-empty text: the \
             privacy notice the candidate accepts)",
        ),
        (
            format!("{HEAD}[consent]\ntext = \"  \"\n\n{Q1}"),
            "sample.toml:10:1: [consent]: field 'text' must be non-empty text: the privacy \
             notice the candidate accepts, found \"  \"",
        ),
        (
            format!("{HEAD}[consent]\ntext = \"Ok.\"\ntitle = \"\"\n\n{Q1}"),
            "sample.toml:11:1: [consent]: field 'title' must be non-empty text (a heading for \
             the consent screen), found \"\"",
        ),
        (
            format!("{HEAD}[consent]\ntext = \"Ok.\"\naccept_key = \"y\"\n\n{Q1}"),
            "sample.toml:11:1: [consent]: unknown field 'accept_key' (expected one of: title, \
             title_by_language, text, text_by_language)",
        ),
        (
            format!(
                "{}{Q1}",
                HEAD.replace("[support]", "consent = \"yes\"\n[support]")
            ),
            "sample.toml:6:1: field 'consent' must be a [consent] table with 'text' and optional \
             'title', found \"yes\"",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, expected)| err(text) != *expected)
        .map(|(text, expected)| format!("{text}\n  got: {}\n want: {expected}\n", err(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
