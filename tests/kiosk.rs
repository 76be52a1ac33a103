//! The kiosk in a real terminal: lockdown against keys and signals, the operator PIN and its
//! menu as the only way out, and the idle privacy reset — checked on disk: the walked-away
//! candidate's unsent take and test clip are gone, the answer they sent is still in the outbox.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::mp4s_in;
use common::tmux::Tmux;

const PIN: &str = "2468";

/// A station config on the synthetic devices, with the bundled interview and the test PIN.
fn config(dir: &Path, kiosk: &str) -> PathBuf {
    let hash = booth::pin::hash_pin(PIN).unwrap();
    common::kiosk_config(
        dir,
        "",
        &format!("[kiosk]\noperator_pin_hash = \"{hash}\"\n{kiosk}"),
    )
}

#[test]
fn lockdown_holds_against_keys_and_signals_and_only_the_operator_quits() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "lockdown = true\nidle_reset_seconds = 0");
    let t = Tmux::start("lock", &["--config", cfg.to_str().unwrap()]);
    t.wait_for("press Enter if you have none", 15);
    let pid = t.booth_pid();
    // Keys that end or suspend ordinary programs.
    t.keys(&["C-c", "C-z", "C-\\", "Escape", "C-d"]);
    // And the signals those keys would send outside raw mode (SIGQUIT would otherwise end
    // booth with a core dump).
    for sig in ["INT", "TSTP", "QUIT"] {
        t.signal(sig);
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(t.booth_pid(), pid, "booth was replaced or ended");
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let run_state = state
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert_ne!(run_state, "T", "booth was stopped (suspended)");
    let screen = t.screen();
    assert!(
        screen.contains("Welcome") || screen.contains("What to expect"),
        "booth's screen is gone:\n{screen}"
    );

    // The operator: a wrong PIN is refused, the right one opens the menu, Quit leaves.
    t.keys(&["F12"]);
    t.wait_for("Enter the operator PIN", 5);
    t.keys(&["1", "1", "1", "1", "Enter"]);
    t.wait_for("Wrong PIN (1 of 5)", 10);
    let mut keys: Vec<&str> = PIN.split("").filter(|s| !s.is_empty()).collect();
    keys.push("Enter");
    t.keys(&keys);
    t.wait_for("Operator menu", 10);
    // Diagnostics: the station checks of `booth doctor` fill the page in when they finish.
    t.keys(&["Down", "Down", "Down", "Down", "Enter"]);
    t.wait_for("camera and microphone: not open", 10);
    t.wait_for("config:", 20);
    t.wait_for("upload:", 1);
    t.wait_for("outbox:", 1);
    t.keys(&["x"]);
    t.wait_for("Operator menu", 5);
    t.keys(&[
        "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Enter",
    ]);
    assert_eq!(t.wait_exit(15), 0);
    assert_eq!(t.pane("#{alternate_on}"), "0");
}

#[test]
fn an_idle_station_wipes_the_candidate_but_keeps_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    // The platform is unreachable, so the sent answer waits in the outbox.
    let cfg = config(
        dir.path(),
        "lockdown = false\nidle_reset_seconds = 4\nidle_countdown_seconds = 5\n\
         [upload]\nendpoint = \"http://127.0.0.1:9/files/\"",
    );
    let data = dir.path().join("data");
    let t = Tmux::start("idle", &["--config", cfg.to_str().unwrap()]);
    t.pass_device_test();
    // Question 1: recorded and sent.
    t.keys(&["Enter", "Enter"]);
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["s"]);
    t.wait_for("Send this answer", 15);
    t.keys(&["Enter"]);
    t.wait_for("View question", 10);
    // Question 2: recorded, not sent — then the candidate walks away.
    t.keys(&["Enter"]);
    t.wait_for("Watch the question", 10);
    t.keys(&["Enter", "Enter"]);
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["s"]);
    t.wait_for("Send this answer", 15);

    let sessions = data.join("sessions");
    let old = std::fs::read_to_string(sessions.join("current")).unwrap();
    let old_dir = sessions.join(old.trim());
    assert_eq!(
        mp4s_in(&old_dir).len(),
        1,
        "the unsent take should be on disk"
    );
    let outbox = data.join("outbox").join("answers");
    assert_eq!(
        mp4s_in(&outbox).len(),
        1,
        "the sent answer should wait in the outbox"
    );

    t.wait_for("Are you still there?", 15);
    t.wait_for("press Enter if you have none", 15);
    assert!(!old_dir.exists(), "the old session was not wiped");
    let new = std::fs::read_to_string(sessions.join("current")).unwrap();
    assert_ne!(new.trim(), old.trim());
    let kept = mp4s_in(&outbox);
    assert_eq!(kept.len(), 1, "the wipe touched the outbox: {kept:?}");
    common::assert_decodes_cleanly(&kept[0]);
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
}

#[test]
fn a_station_restarted_after_its_candidate_left_does_not_reopen_their_screen() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "lockdown = false\nidle_reset_seconds = 60\nidle_countdown_seconds = 5",
    );
    let data = dir.path().join("data");
    {
        let t = Tmux::start("left", &["--config", cfg.to_str().unwrap()]);
        t.pass_device_test();
        t.keys(&["Enter", "Enter"]);
        t.wait_for("RECORDING", 15);
        t.keys(&["s"]);
        t.wait_for("Send this answer", 15);
        // The station dies, and stays off while the candidate walks away.
        t.signal("KILL");
        assert_eq!(t.wait_exit(10), 137);
    }
    let sessions = data.join("sessions");
    let id = std::fs::read_to_string(sessions.join("current")).unwrap();
    let session = sessions.join(id.trim());
    let ten_minutes_ago = booth::clock::unix_now() - 600;
    std::fs::write(session.join("activity"), ten_minutes_ago.to_string()).unwrap();
    let progress = std::fs::File::options()
        .write(true)
        .open(session.join("progress.json"))
        .unwrap();
    progress
        .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(ten_minutes_ago))
        .unwrap();
    drop(progress);

    let t = Tmux::start("back", &["--config", cfg.to_str().unwrap()]);
    // The first screen is the countdown over a blank screen, never the candidate's answer.
    t.wait_for("Are you still there?", 15);
    let screen = t.screen();
    assert!(!screen.contains("Send this answer"), "{screen}");
    assert!(!screen.contains("Question 1"), "{screen}");
    t.wait_for("press Enter if you have none", 15);
    assert!(
        !session.exists(),
        "the walked-away candidate's session was not wiped"
    );
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
}
