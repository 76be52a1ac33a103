//! The real binary in a real terminal (tmux), through the journey's new steps: the practice
//! question (recorded, reviewed, "not sent"), the 3-2-1 before a recording, the question
//! video paused and watched again, and an answer sent; the practice take never reaches the
//! delivery folder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::mp4s_in;
use common::tmux::Tmux;

fn interview(dir: &Path) -> std::path::PathBuf {
    let video = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/question-2.mp4");
    let text = format!(
        "id = \"journey\"\ntitle = \"Journey\"\nintro = \"Hello.\"\nlanguage = \"en\"\n\
         countdown_seconds = 3\n\
         [support]\ncontact = \"Ask the desk.\"\n\
         [practice]\ntext = \"Practice: say your name.\"\nmax_seconds = 30\n\
         [[question]]\nid = \"q-video\"\ntext = \"Watch, then answer.\"\nvideo = \"{}\"\n\
         video_replays = 1\npreparation_seconds = 0\nanswer_seconds = 60\nattempts = 2\n",
        video.display()
    );
    let path = dir.join("journey.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn practice_countdown_replay_and_answer_in_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let delivered = dir.path().join("delivered");
    let cfg = common::kiosk_config(
        dir.path(),
        "",
        &format!("[upload]\nendpoint = \"dir:{}\"\n", delivered.display()),
    );
    let iv = interview(dir.path());
    let t = Tmux::start(
        "journey",
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--interview",
            iv.to_str().unwrap(),
        ],
    );
    t.wait_for("press Enter if you have none", 15);
    t.keys(&["Enter"]);
    t.wait_for("What to expect", 5);
    t.keys(&["Enter"]);
    t.wait_for("Record a test clip", 15);
    t.keys(&["r"]);
    t.wait_for("Stop", 15);
    t.keys(&["s"]);
    t.wait_for("Looks good!", 15);
    t.keys(&["Enter"]);

    // The practice: offered after the device test, counted down, recorded, reviewed.
    t.wait_for("Practice question", 10);
    t.wait_for("Practice – not sent", 1);
    t.keys(&["Enter"]);
    t.wait_for("Recording starts in", 5);
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["s"]);
    t.wait_for("Your practice answer", 15);
    t.keys(&["Enter"]);

    // The video question: the video plays, pauses, is skipped, then watched again.
    t.wait_for("View question", 10);
    t.keys(&["Enter"]);
    t.wait_for("Watch the question", 10);
    t.keys(&["Space"]);
    t.wait_for("Paused at", 5);
    t.keys(&["Space", "Enter"]);
    t.wait_for("Watch the video again", 10);
    t.keys(&["v"]);
    t.wait_for("Watch the question", 10);
    t.keys(&["Enter"]);
    t.wait_for("Ready when you are", 10);
    let screen = t.screen();
    assert!(
        !screen.contains("Watch the video again"),
        "no replay left, yet offered:\n{screen}"
    );

    // The answer, after its countdown; Esc in the countdown first goes back for free.
    t.keys(&["Enter"]);
    t.wait_for("Recording starts in", 5);
    t.keys(&["Escape"]);
    t.wait_for("Ready when you are", 5);
    t.keys(&["Enter"]);
    t.wait_for("Recording starts in", 5);
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["s"]);
    t.wait_for("Your answer", 15);
    t.keys(&["Enter"]);
    t.wait_for("you have finished the interview", 10);

    let deadline = Instant::now() + Duration::from_secs(20);
    while mp4s_in(&delivered).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = mp4s_in(&delivered);
    assert_eq!(files.len(), 1, "only the answer is delivered: {files:?}");
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
}
