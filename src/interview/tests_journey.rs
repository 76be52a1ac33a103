//! The interview's journey fields: `[practice]`, `countdown_seconds`, `video_replays`, and a
//! question video checked by a [`VideoCheck`] — each problem at its file:line with its field.

use super::*;

// The same sample interview as the other interview tests, so line numbers agree.
use super::tests::{HEAD, Q1, err, parse};

#[test]
fn practice_and_countdown_are_optional_and_read_when_given() -> crate::TestResult {
    let plain = parse(&format!("{HEAD}{Q1}"))?;
    assert_eq!(plain.practice, None);
    assert_eq!(plain.countdown, None);
    let text = format!("countdown_seconds = 5\n{HEAD}[practice]\ntext = \"  Warm up.  \"\n\n{Q1}");
    let i = parse(&text)?;
    assert_eq!(i.countdown, Some(Duration::from_secs(5)));
    assert_eq!(
        i.practice,
        Some(Practice {
            text: "Warm up.".into(),
            answer_limit: Duration::from_secs(60),
        })
    );
    let off = parse(&format!("countdown_seconds = 0\n{HEAD}{Q1}"))?;
    assert_eq!(off.countdown, Some(Duration::ZERO));
    Ok(())
}

#[test]
fn journey_fields_out_of_range_are_reported_at_their_line() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!("countdown_seconds = 30\n{HEAD}{Q1}"),
            "sample.toml:1:1: field 'countdown_seconds' must be between 0 and 10, found 30",
        ),
        (
            format!("{HEAD}[practice]\ntext = \"Go.\"\nmax_seconds = 5\n\n{Q1}"),
            "sample.toml:11:1: [practice]: field 'max_seconds' must be between 10 and 300, \
             found 5",
        ),
        (
            format!("{HEAD}[practice]\ntext = \" \"\n\n{Q1}"),
            "sample.toml:10:1: [practice]: field 'text' must be non-empty text: the practice \
             question, found \" \"",
        ),
        (
            format!("{HEAD}[practice]\ntxt = \"Go.\"\n\n{Q1}"),
            "sample.toml:10:1: [practice]: unknown field 'txt' (expected one of: text, \
             max_seconds)",
        ),
        (
            format!("{HEAD}{Q1}video_replays = 2\n"),
            "sample.toml:15:1: question 1 (\"q1\"): field 'video_replays' needs a 'video' in \
             the same question (remove it, or add the video)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(&text), want, "\n{text}");
    }
}

/// A player that says what is wrong with every file.
struct Refuses(VideoProblem);

impl VideoCheck for Refuses {
    fn check(&self, _: &Path) -> Result<(), VideoProblem> {
        Err(self.0.clone())
    }
}

#[test]
fn replays_default_to_one_and_are_range_checked() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("q.mp4"), b"placeholder")?;
    let file = dir.path().join("i.toml");
    std::fs::write(&file, format!("{HEAD}{Q1}video = \"q.mp4\"\n"))?;
    assert_eq!(Interview::load(&file)?.questions[0].video_replays, 1);
    std::fs::write(
        &file,
        format!("{HEAD}{Q1}video = \"q.mp4\"\nvideo_replays = 0\n"),
    )?;
    assert_eq!(Interview::load(&file)?.questions[0].video_replays, 0);
    std::fs::write(
        &file,
        format!("{HEAD}{Q1}video = \"q.mp4\"\nvideo_replays = 9\n"),
    )?;
    let e = Interview::load(&file).err().map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            format!(
                "{}:16:1: question 1 (\"q1\"): field 'video_replays' must be between 0 and 5, \
                 found 9",
                file.display()
            )
            .as_str()
        )
    );
    Ok(())
}

#[test]
fn a_video_the_player_cannot_play_is_refused_at_its_line() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("q.mp4");
    std::fs::write(&video, b"placeholder")?;
    let file = dir.path().join("i.toml");
    std::fs::write(&file, format!("{HEAD}{Q1}video = \"q.mp4\"\n"))?;
    let refuses = Refuses(VideoProblem::Codec {
        found: "hev1, mp4a".into(),
    });
    let e = Interview::load_checked(&file, &refuses)
        .err()
        .ok_or("accepted a video the player refuses")?;
    assert_eq!(e.line(), Some(15));
    assert_eq!(e.field(), Some("video"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}:15:1: question 1 (\"q1\"): field 'video' names {}, which booth cannot play: it \
             has no H.264 picture (its tracks: hev1, mp4a); make question videos with \
             scripts/make-question-video.sh",
            file.display(),
            video.display()
        )
    );
    // Without a player (tools, tests) only the file's existence is checked.
    assert!(Interview::load(&file).is_ok());
    Ok(())
}
