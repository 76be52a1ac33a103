//! The real binary in a real terminal (tmux): `booth run --demo` taken through the whole
//! bundled interview by keys, then stopped with SIGTERM — the terminal must be restored —
//! and a SIGKILL in the middle of an answer followed by a restart that resumes it.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session running booth in its only pane.
struct Tmux {
    name: String,
    socket: String,
}

impl Tmux {
    fn start(name: &str, data_dir: &Path) -> Tmux {
        let socket = format!("booth-test-{}-{name}", std::process::id());
        let t = Tmux {
            name: name.to_string(),
            socket,
        };
        let booth = env!("CARGO_BIN_EXE_booth");
        // A shell runs booth, then shows its exit status on the restored screen.
        let cmd = format!(
            "{booth} run --demo --data-dir '{}'; echo \"booth exited: $?\"; sleep 120",
            data_dir.display()
        );
        t.tmux(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "110",
            "-y",
            "32",
            &cmd,
        ]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = common::run_ok(
            Command::new("tmux")
                .args(["-L", &self.socket])
                .args(args)
                .env("TERM", "xterm-256color"),
            "tmux",
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.name])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", &self.name, k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn wait_for(&self, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {text:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn pane(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", &self.name, format])
            .trim()
            .to_string()
    }

    /// booth is the shell's child.
    fn booth_pid(&self) -> u32 {
        let shell = self.pane("#{pane_pid}");
        let out = common::run_ok(Command::new("pgrep").args(["-P", &shell]), "procps");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .find(|&pid: &u32| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "booth")
            })
            .expect("booth is not running in the pane")
    }

    fn signal(&self, sig: &str) {
        common::run_ok(
            Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(self.booth_pid().to_string()),
            "procps",
        );
    }

    /// Waits for booth to exit; returns its exit status as the shell saw it.
    fn wait_exit(&self, secs: u64) -> i32 {
        self.wait_for("booth exited:", secs);
        let screen = self.screen();
        screen
            .lines()
            .find_map(|l| l.split("booth exited: ").nth(1))
            // After a kill the terminal is still raw: the text may run into booth's screen.
            .and_then(|s| {
                let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .unwrap_or_else(|| panic!("no exit status on screen:\n{screen}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// Records an answer on an open question screen: start, speak for `secs`, stop, send.
fn answer(t: &Tmux, secs: u64) {
    t.wait_for("RECORDING", 15);
    std::thread::sleep(Duration::from_secs(secs));
    t.keys(&["s"]);
    t.wait_for("Your answer", 15);
    t.keys(&["Enter"]);
}

fn mp4s_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_demo_interview_from_start_to_finish_in_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let t = Tmux::start("full", data.path());
    t.wait_for("Press any key to begin", 15);
    t.keys(&["x"]);
    t.wait_for("What to expect", 5);
    t.keys(&["Enter"]);
    t.wait_for("Record a test clip", 15);
    t.keys(&["r"]);
    t.wait_for("Stop", 15);
    t.keys(&["s"]);
    t.wait_for("Looks good!", 15);
    t.keys(&["Enter"]);
    t.wait_for("View question", 5);

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
    t.wait_for("BTH-", 1);

    let outbox = data.path().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    while mp4s_in(&outbox).len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = mp4s_in(&outbox);
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
        let t = Tmux::start("crash", data.path());
        t.wait_for("Press any key to begin", 15);
        t.keys(&["x", "Enter"]);
        t.wait_for("Record a test clip", 15);
        t.keys(&["r"]);
        t.wait_for("Stop", 15);
        t.keys(&["s"]);
        t.wait_for("Looks good!", 15);
        t.keys(&["Enter"]);
        t.wait_for("View question", 5);
        t.keys(&["Enter", "Enter"]);
        t.wait_for("RECORDING", 15);
        std::thread::sleep(Duration::from_secs(4));
        t.signal("KILL");
        assert_eq!(t.wait_exit(10), 137);
    }
    let t = Tmux::start("resumed", data.path());
    t.wait_for("Your answer", 20);
    t.wait_for("This recording was cut short", 1);
    t.wait_for("2 attempts left", 1);
    let screen = t.screen();
    assert!(screen.contains("Question 1 of 4"), "{screen}");
    t.keys(&["Enter"]);
    t.wait_for("saved ✓", 10);
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
    let files = mp4s_in(&data.path().join("outbox"));
    assert_eq!(files.len(), 1, "{files:?}");
    common::assert_decodes_cleanly(&files[0]);
    let p = common::probe(&files[0]);
    let d = p.video().duration.unwrap();
    assert!(d >= 2.0, "the recovered answer lasts only {d} s");
}
