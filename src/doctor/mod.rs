//! `booth doctor`'s checks as a library: is this station ready for a candidate? Each check
//! gives a plain verdict (ok / warning / failure), a one-line finding, a fix in plain words and
//! machine-readable details. No terminal code: `booth doctor` prints a [`Report`], the kiosk's
//! operator menu shows [`Report::lines`].
//!
//! The checks: the config file, the language files (`languages`), the interview file (or
//! folder of them), the roster of codes when there is one, the camera, the microphone, the
//! speaker, the disk, the clock, the upload endpoint and the outbox; then the console's doors (`console`, `vt-lock`, `gettys`,
//! `ctrl-alt-del`, `sysrq`: see [`console`]) and whether booth.service lets the kiosk write
//! where the config says (`sandbox`), read under a folder standing in for `/` so that
//! tests can prepare one. Every step that touches a device
//! or the network runs under a time limit ([`bounded`] and HTTP timeouts), so the doctor
//! answers within about half a minute whatever hangs. Nothing here creates an upload or
//! disturbs a running kiosk: while one runs on the same data directory, its devices are
//! reported from its status, not reopened.

mod access;
mod centre;
mod console;
mod devices;
mod endpoint;
mod files;
mod languages;
mod station;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::status::KioskStatus;

pub use station::{ClockFacts, judge_clock};

/// How a check came out. Ordered: the worst verdict of a report decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Warning,
    Failure,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warning => "warning",
            Verdict::Failure => "failure",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// config | languages | interview | roster | camera | microphone | speaker | disk | clock |
    /// upload | outbox | console | vt-lock | gettys | ctrl-alt-del | sysrq | sandbox
    pub name: &'static str,
    pub verdict: Verdict,
    /// What was found, one line.
    pub finding: String,
    /// What to do about it, in plain words; `None` when there is nothing to do.
    pub fix: Option<String>,
    /// The facts behind the finding, for scripts.
    pub details: serde_json::Value,
}

impl Check {
    pub fn ok(name: &'static str, finding: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Ok,
            finding: finding.into(),
            fix: None,
            details: serde_json::Value::Null,
        }
    }

    pub fn warning(
        name: &'static str,
        finding: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            verdict: Verdict::Warning,
            fix: Some(fix.into()),
            ..Check::ok(name, finding)
        }
    }

    pub fn failure(
        name: &'static str,
        finding: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            verdict: Verdict::Failure,
            fix: Some(fix.into()),
            ..Check::ok(name, finding)
        }
    }

    pub fn with(mut self, details: serde_json::Value) -> Check {
        self.details = details;
        self
    }
}

/// Every check of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub version: &'static str,
    /// From the config, when it could be read.
    pub station_id: Option<String>,
    /// `None`: the built-in config.
    pub config_file: Option<PathBuf>,
    /// The worst verdict of all checks.
    pub verdict: Verdict,
    /// What `booth doctor` exits with: 0 all ok, 1 warnings, 2 failures.
    pub exit_code: u8,
    pub checks: Vec<Check>,
}

impl Report {
    fn new(station_id: Option<String>, config_file: Option<&Path>, checks: Vec<Check>) -> Report {
        let verdict = checks
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Ok);
        Report {
            version: env!("CARGO_PKG_VERSION"),
            station_id,
            config_file: config_file.map(Path::to_path_buf),
            verdict,
            exit_code: match verdict {
                Verdict::Ok => 0,
                Verdict::Warning => 1,
                Verdict::Failure => 2,
            },
            checks,
        }
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Short lines for a small screen: verdict, name and finding, and the fix under anything
    /// that is not ok.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.checks {
            let mark = match c.verdict {
                Verdict::Ok => "ok     ",
                Verdict::Warning => "WARNING",
                Verdict::Failure => "FAILURE",
            };
            out.push(format!("{mark} {}: {}", c.name, c.finding));
            if let Some(fix) = &c.fix {
                out.push(format!("        fix: {fix}"));
            }
        }
        out
    }
}

/// Which checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything, opening the camera, microphone and speaker (`booth doctor`).
    Everything,
    /// From inside the kiosk: everything but the devices it holds itself.
    Kiosk,
}

/// The time limits of the device and network steps.
pub(crate) const CAMERA_LIMIT: Duration = Duration::from_secs(8);
pub(crate) const MIC_LISTEN: Duration = Duration::from_secs(3);
pub(crate) const MIC_LIMIT: Duration = Duration::from_secs(8);
pub(crate) const SPEAKER_LIMIT: Duration = Duration::from_secs(5);
pub(crate) const HTTP_STEP: Duration = Duration::from_secs(5);
pub(crate) const ENDPOINT_LIMIT: Duration = Duration::from_secs(15);

/// `booth doctor`: reads the config (the built-in one for `None`) and checks everything.
pub fn run(config_file: Option<&Path>) -> Report {
    run_under(config_file, Path::new("/"))
}

/// [`run`] with the console checks judging `root` as the station's `/` (`booth doctor
/// --root DIR`, for tests).
pub fn run_under(config_file: Option<&Path>, root: &Path) -> Report {
    let (config_check, config) = files::config_check(config_file);
    let Some(config) = config else {
        // Nothing else can be judged without a config, except the clock.
        let clock = judge_clock(&ClockFacts::now(None, None));
        return Report::new(None, config_file, vec![config_check, clock]);
    };
    let mut checks = vec![config_check, languages::languages(config_file)];
    checks.extend(station_checks(&config, Scope::Everything));
    let kiosk = running_kiosk(&config.station.data_dir).map(|k| k.pid);
    checks.extend(console::checks(root, kiosk));
    checks.push(console::sandbox(root, &config));
    Report::new(Some(config.station.id.clone()), config_file, checks)
}

/// The operator menu's diagnostics: the config file re-read from disk (an edit may have
/// broken it), then the running kiosk's own config checked, without its devices.
pub fn run_in_kiosk(config: &Config, config_file: Option<&Path>) -> Report {
    let (config_check, _) = files::config_check(config_file);
    let mut checks = vec![config_check, languages::languages(config_file)];
    checks.extend(station_checks(config, Scope::Kiosk));
    checks.extend(console::checks(Path::new("/"), Some(std::process::id())));
    checks.push(console::sandbox(Path::new("/"), config));
    Report::new(Some(config.station.id.clone()), config_file, checks)
}

/// Every check after the config's. Devices and the endpoint run side by side, so the slowest
/// (listening to the microphone) sets the pace.
fn station_checks(config: &Config, scope: Scope) -> Vec<Check> {
    let data_dir = &config.station.data_dir;
    // A kiosk running on this data directory keeps its devices; the doctor leaves them be.
    let kiosk = match scope {
        Scope::Everything => running_kiosk(data_dir),
        Scope::Kiosk => None,
    };
    let (interview_check, catalog, interview) = centre::interviews(config);
    let (devices, upload) = std::thread::scope(|s| {
        let devices = (scope == Scope::Everything).then(|| {
            let k = kiosk.clone();
            let camera = s.spawn(move || devices::camera(config, k.as_ref()));
            let k = kiosk.clone();
            let microphone = s.spawn(move || devices::microphone(config, k.as_ref()));
            let speaker = s.spawn(devices::speaker);
            [camera, microphone, speaker]
        });
        let upload = endpoint::upload(config);
        let devices = devices.map(|handles| {
            handles.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Check::failure(
                        "device",
                        "the check itself crashed (see the log)",
                        "report this as a bug in booth",
                    )
                })
            })
        });
        (devices, upload)
    });
    let mut checks = vec![interview_check];
    checks.extend(centre::roster(config, catalog.as_ref()));
    checks.extend(devices.into_iter().flatten());
    checks.push(station::disk(config, interview.as_deref()));
    checks.push(judge_clock(&ClockFacts::now(
        Some(data_dir),
        upload.server_time,
    )));
    checks.push(endpoint::with_service_health(upload.check, config));
    checks.push(station::outbox(data_dir));
    checks
}

/// The kiosk publishing status on `data_dir`, if its process is alive.
fn running_kiosk(data_dir: &Path) -> Option<KioskStatus> {
    let status = KioskStatus::read(data_dir)?;
    let alive =
        Path::new(&format!("/proc/{}", status.pid)).exists() && status.pid != std::process::id();
    alive.then_some(status)
}

/// Runs `f` on a thread of its own and waits at most `limit` for it. A step that hangs (a
/// driver that never answers) is left behind rather than waited for: the doctor must answer.
pub(crate) fn bounded<T: Send + 'static>(
    name: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let spawned = std::thread::Builder::new()
        .name(format!("booth-doctor-{name}"))
        .spawn(move || {
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(limit).ok()
}

/// `12.3 GB` (decimal, as disks are sold).
pub(crate) fn gigabytes(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.0} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_decides_the_exit_code() -> crate::TestResult {
        let ok = Check::ok("disk", "fine");
        let warn = Check::warning("clock", "a bit off", "set it");
        let fail = Check::failure("camera", "missing", "plug it in");
        let r = Report::new(None, None, vec![ok.clone()]);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Ok, 0));
        let r = Report::new(None, None, vec![ok.clone(), warn.clone()]);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Warning, 1));
        let r = Report::new(None, None, vec![fail, warn, ok]);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Failure, 2));
        let lines = r.lines();
        assert_eq!(lines[0], "FAILURE camera: missing");
        assert_eq!(lines[1], "        fix: plug it in");
        assert_eq!(lines.last().ok_or("no lines")?, "ok      disk: fine");
        let json = serde_json::to_value(&r)?;
        assert_eq!(json["checks"][0]["verdict"], "failure");
        assert_eq!(json["checks"][2]["fix"], serde_json::Value::Null);
        Ok(())
    }

    #[test]
    fn a_step_that_hangs_is_given_up() {
        let started = std::time::Instant::now();
        let r = bounded("test", Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(5));
            1
        });
        assert_eq!(r, None);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(bounded("test", Duration::from_secs(5), || 7), Some(7));
    }

    #[test]
    fn sizes_read_like_a_disk_label() {
        assert_eq!(gigabytes(12_345_678_901), "12.3 GB");
        assert_eq!(gigabytes(250_000_000), "250 MB");
    }
}
