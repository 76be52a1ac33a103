//! booth in a real terminal: a tmux server of its own per session, keys sent, the screen read
//! back, signals delivered to the booth process (the pane's shell's child).

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session running booth in its only pane.
pub struct Tmux {
    name: String,
    socket: String,
}

impl Tmux {
    /// Starts `booth run <args>` in a fresh tmux server of its own.
    pub fn start(name: &str, args: &[&str]) -> Tmux {
        Tmux::start_with_env(name, &[], args)
    }

    /// Starts `booth run <args>` with extra environment variables.
    pub fn start_with_env(name: &str, env: &[(&str, &str)], args: &[&str]) -> Tmux {
        let socket = format!("booth-test-{}-{name}", std::process::id());
        let t = Tmux {
            name: name.to_string(),
            socket,
        };
        let booth = env!("CARGO_BIN_EXE_booth");
        // A shell runs booth, then shows its exit status on the restored screen.
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let vars: String = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let cmd = format!(
            "{vars}{booth} run {}; echo \"booth exited: $?\"; sleep 120",
            quoted.join(" ")
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

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = super::run_ok(
            Command::new("tmux")
                .args(["-L", &self.socket])
                .args(args)
                .env("TERM", "xterm-256color"),
            "tmux",
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.name])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", &self.name, k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn wait_for(&self, text: &str, secs: u64) {
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

    /// Copies everything booth writes to the terminal from now on, escape sequences and all,
    /// into `path`.
    pub fn record_output(&self, path: &std::path::Path) {
        let cmd = format!("cat >> '{}'", path.display());
        self.tmux(&["pipe-pane", "-o", "-t", &self.name, &cmd]);
    }

    /// From the welcome screen through the camera and microphone check (a test clip recorded
    /// and accepted) to the question list.
    pub fn pass_device_test(&self) {
        self.wait_for("press Enter if you have none", 15);
        self.keys(&["Enter"]);
        // The bundled interview's privacy notice, accepted by its own key.
        self.wait_for("Press A to accept", 5);
        self.keys(&["a"]);
        self.wait_for("What to expect", 5);
        self.keys(&["Enter"]);
        self.wait_for("Record a test clip", 15);
        self.keys(&["r"]);
        self.wait_for("Stop", 15);
        self.keys(&["s"]);
        self.wait_for("Looks good!", 15);
        self.keys(&["Enter"]);
        self.wait_for("View question", 5);
    }

    pub fn pane(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", &self.name, format])
            .trim()
            .to_string()
    }

    /// booth is the shell's child.
    pub fn booth_pid(&self) -> u32 {
        let shell = self.pane("#{pane_pid}");
        let out = super::run_ok(Command::new("pgrep").args(["-P", &shell]), "procps");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .find(|&pid: &u32| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "booth")
            })
            .expect("booth is not running in the pane")
    }

    pub fn signal(&self, sig: &str) {
        super::run_ok(
            Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(self.booth_pid().to_string()),
            "procps",
        );
    }

    /// Waits for booth to exit; returns its exit status as the shell saw it.
    pub fn wait_exit(&self, secs: u64) -> i32 {
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
