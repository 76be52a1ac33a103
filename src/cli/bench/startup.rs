//! Start-up, reported without a floor: `booth run --demo` in a fresh terminal (a tmux server of
//! the bench's own, 160×48) until its first screen is drawn, against the same terminal
//! starting a program that prints one line at once — the peer that says what the terminal
//! itself costs; and the wall time of `booth doctor` with the built-in config.
//!
//! The screen is read with `tmux capture-pane` every few milliseconds, so each time carries
//! up to one polling interval (plus one capture) of slack on both sides.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::report::median;
use super::{BenchError, path_str};
use crate::logging::console;

const ROUNDS: usize = 5;
const POLL: Duration = Duration::from_millis(5);
/// A start that draws nothing in this time has failed.
const GIVE_UP: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize)]
pub struct Startup {
    pub rounds: usize,
    /// `booth run --demo` to its first drawn screen, each round (the first is the coldest).
    pub booth_run_ms: Vec<f64>,
    /// The terminal starting `echo` to its line on the screen, each round.
    pub terminal_alone_ms: Vec<f64>,
    pub booth_run_median_ms: f64,
    pub terminal_alone_median_ms: f64,
    /// `booth doctor` (built-in config), wall time of each round, and its exit code.
    pub doctor_ms: Vec<f64>,
    pub doctor_median_ms: f64,
    pub doctor_exit_code: Option<i32>,
}

/// A tmux server of the bench's own, killed when dropped.
pub(super) struct Terminal {
    socket: String,
}

impl Terminal {
    /// `command` in a fresh 160×48 terminal (session `bench` of its own tmux server).
    pub fn start(socket: &str, command: &str) -> Result<Terminal, BenchError> {
        let t = Terminal {
            socket: socket.to_string(),
        };
        t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            "160",
            "-y",
            "48",
            command,
        ])?;
        Ok(t)
    }

    pub fn screen(&self) -> Result<String, BenchError> {
        self.tmux(&["capture-pane", "-p", "-t", "bench"])
    }

    pub fn key(&self, key: &str) -> Result<(), BenchError> {
        self.tmux(&["send-keys", "-t", "bench", key]).map(|_| ())
    }

    /// Waits until the screen shows `text`; returns when it was first seen.
    pub fn wait_for(&self, text: &str, within: Duration) -> Result<Instant, BenchError> {
        let started = Instant::now();
        loop {
            let screen = self.screen()?;
            if screen.contains(text) {
                return Ok(Instant::now());
            }
            if started.elapsed() > within {
                return Err(BenchError::Failed {
                    program: "booth run in tmux".into(),
                    detail: format!(
                        "{text:?} not on the screen within {} s; it shows: {}",
                        within.as_secs(),
                        screen.split_whitespace().collect::<Vec<_>>().join(" ")
                    ),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// booth's process id, from /proc: the pane's own process when the shell handed itself
    /// over to booth (exec), else the shell's first child.
    pub fn booth_pid(&self) -> Result<u32, BenchError> {
        let pane = self.tmux(&["display-message", "-p", "-t", "bench", "#{pane_pid}"])?;
        let pane = pane.trim();
        let exe = std::fs::read_link(format!("/proc/{pane}/exe")).ok();
        let pid = if exe.is_some() && exe == std::env::current_exe().ok() {
            pane.parse().ok()
        } else {
            std::fs::read_to_string(format!("/proc/{pane}/task/{pane}/children"))
                .ok()
                .and_then(|c| c.split_whitespace().next()?.parse().ok())
        };
        pid.ok_or_else(|| BenchError::Parse(format!("no booth process in the terminal ({pane})")))
    }

    fn tmux(&self, args: &[&str]) -> Result<String, BenchError> {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BenchError::Spawn {
                program: "tmux".into(),
                source,
            })?;
        if !out.status.success() {
            return Err(BenchError::Failed {
                program: format!("tmux {}", args.first().copied().unwrap_or_default()),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `command` in a 160×48 terminal and returns the milliseconds until the screen
    /// shows anything.
    fn time_to_first_screen(socket: &str, command: &str) -> Result<f64, BenchError> {
        let started = Instant::now();
        let t = Terminal::start(socket, command)?;
        loop {
            if t.screen()?.chars().any(|c| !c.is_whitespace()) {
                return Ok(started.elapsed().as_secs_f64() * 1000.0);
            }
            if started.elapsed() > GIVE_UP {
                return Err(BenchError::Failed {
                    program: command.to_string(),
                    detail: format!("drew nothing within {} s", GIVE_UP.as_secs()),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Terminal {
    /// Ends the terminal and waits (up to 5 s) for the program in it to be gone, so that the
    /// bench's work directory, removed next, is not written to after.
    fn drop(&mut self) {
        let pane: Option<u32> = self
            .tmux(&["display-message", "-p", "-t", "bench", "#{pane_pid}"])
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(pid) = pane {
            let gone_by = Instant::now() + Duration::from_secs(5);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < gone_by {
                std::thread::sleep(POLL);
            }
        }
    }
}

pub fn measure(work: &Path) -> Result<Startup, BenchError> {
    console("bench: start-up of booth run (to its first screen) and booth doctor");
    let exe = std::env::current_exe().map_err(|source| BenchError::Spawn {
        program: "booth".into(),
        source,
    })?;
    let socket = |what: &str, n: usize| format!("booth-bench-{}-{what}-{n}", std::process::id());
    let (mut booth, mut alone, mut doctor) = (Vec::new(), Vec::new(), Vec::new());
    let mut doctor_exit_code = None;
    for n in 0..ROUNDS {
        let data = work.join(format!("run-{n}"));
        let run = format!(
            "'{}' run --demo --data-dir '{}'",
            exe.display(),
            path_str(&data)
        );
        booth.push(Terminal::time_to_first_screen(&socket("run", n), &run)?);
        alone.push(Terminal::time_to_first_screen(
            &socket("echo", n),
            "echo ready; sleep 30",
        )?);
        let started = Instant::now();
        let status = Command::new(&exe)
            .args(["doctor", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|source| BenchError::Spawn {
                program: "booth doctor".into(),
                source,
            })?;
        doctor.push(started.elapsed().as_secs_f64() * 1000.0);
        doctor_exit_code = status.code();
    }
    Ok(Startup {
        rounds: ROUNDS,
        booth_run_median_ms: median(booth.clone()),
        terminal_alone_median_ms: median(alone.clone()),
        doctor_median_ms: median(doctor.clone()),
        booth_run_ms: booth,
        terminal_alone_ms: alone,
        doctor_ms: doctor,
        doctor_exit_code,
    })
}

pub fn print(s: &Startup, load: &str) {
    println!(
        "Start-up ({} rounds, {load}): booth run --demo to its first screen, median {:.0} ms (first {:.0} ms); the terminal alone {:.0} ms; booth doctor {:.0} ms (exit {})",
        s.rounds,
        s.booth_run_median_ms,
        s.booth_run_ms.first().copied().unwrap_or_default(),
        s.terminal_alone_median_ms,
        s.doctor_median_ms,
        s.doctor_exit_code
            .map_or("by a signal".into(), |c| c.to_string())
    );
}
