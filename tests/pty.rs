//! The real binary in a real terminal (tmux): `booth run --demo` taken through the whole
//! bundled interview by keys, then stopped with SIGTERM — the terminal must be restored —
//! and a SIGKILL in the middle of an answer followed by a restart that resumes it.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::mp4s_in;
use common::tmux::Tmux;

use std::time::{Duration, Instant};

/// Records an answer on an open question screen: start, speak for `secs`, stop, send.
fn answer(t: &Tmux, secs: u64) {
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(secs));
    t.keys(&["s"]);
    t.wait_for("Your answer", 15);
    t.keys(&["Enter"]);
}

#[test]
fn the_demo_interview_from_start_to_finish_in_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        "full",
        &["--demo", "--data-dir", data.path().to_str().unwrap()],
    );
    t.pass_device_test();

    // 1: no preparation time.
    t.keys(&["Enter"]);
    t.wait_for("Ready when you are", 5);
    t.keys(&["Enter"]);
    answer(&t, 2);
    // 2: the video question; skip the video, start early.
    t.wait_for("View question", 10);
    t.keys(&["Enter"]);
    t.wait_for("Watch the question", 10);
    t.keys(&["Enter"]);
    t.wait_for("Preparation time", 5);
    t.keys(&["Enter"]);
    answer(&t, 2);
    // 3: thirty seconds at least.
    t.wait_for("View question", 10);
    t.keys(&["Enter", "Enter"]);
    t.wait_for("You can stop after 0:30", 15);
    t.wait_for("Press S when you have finished", 40);
    answer(&t, 0);
    // 4: one attempt.
    t.wait_for("View question", 10);
    t.keys(&["Enter", "Enter"]);
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["s"]);
    t.wait_for("This was your last attempt", 15);
    t.keys(&["Enter"]);
    t.wait_for("you have finished the interview", 10);
    t.wait_for("Your receipt code", 1);

    // The demo delivers to a directory under its data directory (the platform stand-in).
    let delivered = data.path().join("delivered");
    let deadline = Instant::now() + Duration::from_secs(20);
    while mp4s_in(&delivered).len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = mp4s_in(&delivered);
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files {
        common::assert_decodes_cleanly(f);
    }

    // SIGTERM ends the kiosk cleanly, with the terminal given back.
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
    assert_eq!(
        t.pane("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    assert_eq!(t.pane("#{cursor_flag}"), "1", "cursor left hidden");
}

#[test]
fn a_kill_mid_answer_resumes_on_the_same_question_without_losing_an_attempt() {
    let data = tempfile::tempdir().unwrap();
    {
        let t = Tmux::start(
            "crash",
            &["--demo", "--data-dir", data.path().to_str().unwrap()],
        );
        t.pass_device_test();
        t.keys(&["Enter", "Enter"]);
        t.wait_for("RECORDING", 15);
        std::thread::sleep(Duration::from_secs(4));
        t.signal("KILL");
        assert_eq!(t.wait_exit(10), 137);
    }
    let t = Tmux::start(
        "resumed",
        &["--demo", "--data-dir", data.path().to_str().unwrap()],
    );
    t.wait_for("Your answer", 20);
    t.wait_for("This recording was cut short", 1);
    t.wait_for("2 attempts left", 1);
    let screen = t.screen();
    assert!(screen.contains("Question 1 of 4"), "{screen}");
    t.keys(&["Enter"]);
    // Copied on to the demo's folder (its stand-in platform), once the upload catches up: a
    // folder is not the hiring team, and the screen says so.
    t.wait_for("copied ✓", 20);
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
    let delivered = data.path().join("delivered");
    let deadline = Instant::now() + Duration::from_secs(20);
    while mp4s_in(&delivered).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = mp4s_in(&delivered);
    assert_eq!(files.len(), 1, "{files:?}");
    common::assert_decodes_cleanly(&files[0]);
    let p = common::probe(&files[0]);
    let d = p.video().duration.unwrap();
    assert!(d >= 2.0, "the recovered answer lasts only {d} s");
}

/// A terminal that speaks the kitty graphics protocol gets the camera as a real picture (kitty
/// escape sequences in booth's output) while the words around it stay ordinary text.
#[test]
fn a_graphics_terminal_gets_a_real_picture() {
    let data = tempfile::tempdir().unwrap();
    let out = data.path().join("terminal-output");
    let t = Tmux::start_with_env(
        "gfx",
        &[("BOOTH_GRAPHICS", "kitty")],
        &["--demo", "--data-dir", data.path().to_str().unwrap()],
    );
    t.wait_for("press Enter if you have none", 15);
    t.record_output(&out);
    t.keys(&["Enter"]);
    t.wait_for("Press A to accept", 5);
    t.keys(&["a"]);
    t.wait_for("What to expect", 5);
    t.keys(&["Enter"]);
    t.wait_for("Record a test clip", 15);
    // The picture is sent at most five times a second; give it a few.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let written = std::fs::read(&out).unwrap();
    let kitty = written.windows(4).filter(|w| w == b",a=T").count();
    assert!(
        kitty >= 2,
        "expected kitty picture transmissions, found {kitty} in {} bytes",
        written.len()
    );
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
}
