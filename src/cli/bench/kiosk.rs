//! The kiosk as a candidate uses it: `booth run --demo` (synthetic camera and microphone,
//! the bundled interview) in a 160×48 terminal (tmux, half-block preview and level meter),
//! taken by keys through the device check to the questions, with earlier answers uploading
//! in the background over a shaped link ([`super::background`]).
//!
//! - CPU: booth's own CPU over an answer of `--kiosk-seconds`, against `booth record` of the
//!   same sources for as long in the same run, as a share of a core each (floor 1.25×).
//! - Latency: from the key that starts an answer to "RECORDING" on the screen, and to the
//!   capture of the answer's first picture (the recorder logs its wall-clock time), on the
//!   first three questions of each of [`SESSIONS`] fresh kiosks (floor 150 ms on the median
//!   and the worst). The screen is polled every 5 ms through `tmux capture-pane`, which adds
//!   up to a poll and a capture to the first figure; the second has no such error.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::background::{Background, BackgroundUpload, LINK, Received};
use super::report::{median, ratio};
use super::startup::Terminal;
use super::{BenchError, booth_record, num, path_str};
use crate::logging::console;

const SESSIONS: usize = 4;
pub const CPU_FLOOR: f64 = 1.25;
pub const LATENCY_FLOOR_MS: f64 = 150.0;
const STEP: Duration = Duration::from_secs(20);
/// What the recorder logs for each answer's first picture (see `media::recorder`).
const FIRST_PICTURE: &str = "first picture of the answer";

#[derive(Debug, Serialize)]
pub struct KioskFigure {
    pub answer_seconds: u32,
    pub kiosk_cpu_share_of_one_core: f64,
    pub record_cpu_share_of_one_core: f64,
    pub kiosk_vs_record: f64,
    pub cpu_floor: f64,
    /// Key press to "RECORDING" on the screen, in order.
    pub start_latencies_ms: Vec<f64>,
    pub start_latency_median_ms: f64,
    pub start_latency_worst_ms: f64,
    /// Key press to the capture of the first picture in the answer's file, in order.
    pub first_picture_latencies_ms: Vec<f64>,
    pub first_picture_latency_median_ms: f64,
    pub first_picture_latency_worst_ms: f64,
    pub latency_floor_ms: f64,
    /// The upload behind the measured answer.
    pub background_upload: BackgroundUpload,
}

impl KioskFigure {
    pub fn misses_a_floor(&self) -> bool {
        self.kiosk_vs_record > self.cpu_floor
            || self.start_latency_worst_ms > self.latency_floor_ms
            || self.first_picture_latency_worst_ms > self.latency_floor_ms
    }
}

/// The latencies gathered over the sessions.
#[derive(Debug, Default)]
struct Latencies {
    screen_ms: Vec<f64>,
    first_picture_ms: Vec<f64>,
}

/// The capture times (µs since the epoch) of the first pictures the kiosk's log names so far.
fn first_pictures(log: &Path) -> Vec<u64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(FIRST_PICTURE))
        .filter_map(captured_unix_us)
        .collect()
}

/// The `captured_unix_us` field of a log line, text (`captured_unix_us=…`) or JSON
/// (`"captured_unix_us":…`).
fn captured_unix_us(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("captured_unix_us")?;
    let digits: String = rest
        .trim_start_matches(['=', '"', ':', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn unix_us_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Waits until the log names more than `before` first pictures; returns the next one's.
fn next_first_picture(log: &Path, before: usize) -> Result<u64, BenchError> {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(&t) = first_pictures(log).get(before) {
            return Ok(t);
        }
        if Instant::now() > deadline {
            return Err(BenchError::Failed {
                program: "booth run in tmux".into(),
                detail: format!(
                    "no \"{FIRST_PICTURE}\" line in {} within {} s",
                    log.display(),
                    STEP.as_secs()
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn process_cpu(pid: u32) -> Result<f64, BenchError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| BenchError::Parse(format!("/proc/{pid}/stat: {e}")))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (tick(11), tick(12)) {
        (Some(u), Some(s)) => Ok((u + s) / 100.0),
        _ => Err(BenchError::Parse(format!(
            "/proc/{pid}/stat has no CPU times"
        ))),
    }
}

/// Presses Enter to start an answer and adds the latencies to "RECORDING" on the screen and
/// to the first picture's capture.
fn start_answer(t: &Terminal, log: &Path, latencies: &mut Latencies) -> Result<(), BenchError> {
    let before = first_pictures(log).len();
    let (pressed, pressed_us) = (Instant::now(), unix_us_now());
    t.key("Enter")?;
    let seen = t.wait_for("RECORDING", STEP)?;
    latencies
        .screen_ms
        .push(seen.duration_since(pressed).as_secs_f64() * 1000.0);
    let captured_us = next_first_picture(log, before)?;
    latencies
        .first_picture_ms
        .push((captured_us as f64 - pressed_us as f64) / 1000.0);
    Ok(())
}

/// The measured answer: booth's CPU share of one core and the bytes the background upload
/// moved while it lasted.
struct Answer {
    cpu_share: f64,
    received: Received,
    took: Duration,
}

/// One kiosk from its start to the third question's recording; the first answer lasts
/// `answer` and is measured.
fn session(
    exe: &str,
    data: &Path,
    socket: &str,
    answer: Duration,
    background: &Background,
    latencies: &mut Latencies,
) -> Result<Answer, BenchError> {
    let t = Terminal::start(
        socket,
        &format!(
            "'{exe}' run --demo --config '{}' --data-dir '{}'",
            path_str(&background.config_file),
            path_str(data)
        ),
    )?;
    let log = data.join("logs").join(crate::logging::CURRENT_LOG);
    let pause = || std::thread::sleep(Duration::from_millis(150));
    for (text, key) in [
        ("press Enter if you have none", "Enter"),
        ("Press A to accept", "a"),
        ("What to expect", "Enter"),
        ("Record a test clip", "r"),
        ("Stop", "s"),
        ("Looks good!", "Enter"),
        ("View question", "Enter"),
    ] {
        t.wait_for(text, STEP)?;
        pause();
        t.key(key)?;
    }
    let pid = t.booth_pid()?;
    t.wait_for("Ready when you are", STEP)?;
    start_answer(&t, &log, latencies)?;
    let (cpu0, sent0, wall0) = (process_cpu(pid)?, background.received(), Instant::now());
    std::thread::sleep(answer);
    let took = wall0.elapsed();
    let measured = Answer {
        cpu_share: ratio(process_cpu(pid)? - cpu0, took.as_secs_f64()),
        received: Received {
            at_start: sent0,
            at_end: background.received(),
        },
        took,
    };
    t.key("s")?;
    for (text, key) in [
        ("Your answer", "Enter"),
        ("View question", "Enter"),
        ("Watch the question", "Enter"),
    ] {
        t.wait_for(text, STEP)?;
        pause();
        t.key(key)?;
    }
    t.wait_for("Preparation time", STEP)?;
    start_answer(&t, &log, latencies)?;
    std::thread::sleep(Duration::from_secs(1));
    t.key("s")?;
    for (text, key) in [("Your answer", "Enter"), ("View question", "Enter")] {
        t.wait_for(text, STEP)?;
        pause();
        t.key(key)?;
    }
    pause();
    start_answer(&t, &log, latencies)?;
    Ok(measured)
}

pub fn measure(
    work: &Path,
    answer_seconds: u32,
    project: &Path,
) -> Result<KioskFigure, BenchError> {
    console(&format!(
        "bench: the kiosk in a 160x48 terminal, a {answer_seconds} s answer with uploads in the background, and {SESSIONS} sessions of start latencies"
    ));
    let exe = std::env::current_exe().map_err(|source| BenchError::Spawn {
        program: "booth".into(),
        source,
    })?;
    let exe = path_str(&exe);
    // The peer first: its file is also what the background upload sends.
    let out = work.join("record.mp4");
    let v = booth_record(&[
        "--video".into(),
        "test".into(),
        "--audio".into(),
        "tone".into(),
        "--duration".into(),
        answer_seconds.to_string(),
        "--output".into(),
        path_str(&out),
    ])?;
    let record_share = ratio(num(&v, "cpu_seconds"), f64::from(answer_seconds));
    let background = Background::start(&work.join("server"), project)?;
    let socket = |n: usize| format!("booth-bench-{}-kiosk-{n}", std::process::id());
    let mut latencies = Latencies::default();
    let first = work.join("kiosk-0");
    let queued = background.seed(&first, &out, answer_seconds)?;
    let answer = Duration::from_secs(answer_seconds.into());
    let a = session(
        &exe,
        &first,
        &socket(0),
        answer,
        &background,
        &mut latencies,
    )?;
    for n in 1..SESSIONS {
        let data = work.join(format!("kiosk-{n}"));
        let short = Duration::from_secs(1);
        session(&exe, &data, &socket(n), short, &background, &mut latencies)?;
    }
    let worst = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    Ok(KioskFigure {
        answer_seconds,
        kiosk_cpu_share_of_one_core: a.cpu_share,
        record_cpu_share_of_one_core: record_share,
        kiosk_vs_record: ratio(a.cpu_share, record_share),
        cpu_floor: CPU_FLOOR,
        start_latency_median_ms: median(latencies.screen_ms.clone()),
        start_latency_worst_ms: worst(&latencies.screen_ms),
        start_latencies_ms: latencies.screen_ms,
        first_picture_latency_median_ms: median(latencies.first_picture_ms.clone()),
        first_picture_latency_worst_ms: worst(&latencies.first_picture_ms),
        first_picture_latencies_ms: latencies.first_picture_ms,
        latency_floor_ms: LATENCY_FLOOR_MS,
        background_upload: BackgroundUpload::during(LINK, queued, a.received, a.took),
    })
}

pub fn print(k: &KioskFigure, load: &str) {
    let b = &k.background_upload;
    println!(
        "Kiosk in a 160x48 terminal ({load}): {} s answer at {:.1}% of a core against booth record's {:.1}%: {:.2} (floor {:.2}), while {} earlier answers ({:.0} MiB) uploaded at {:.2} MiB/s over a {} Mbit/s {} ms link{}",
        k.answer_seconds,
        k.kiosk_cpu_share_of_one_core * 100.0,
        k.record_cpu_share_of_one_core * 100.0,
        k.kiosk_vs_record,
        k.cpu_floor,
        b.answers_queued,
        b.mib_queued,
        b.mib_per_s_during_answer,
        b.link.mbit_per_s,
        b.link.one_way_delay_ms,
        if b.running_at_the_end {
            ""
        } else {
            " (the upload ended before the answer did)"
        },
    );
    println!(
        "  key to RECORDING on screen: median {:.0} ms, worst {:.0} ms; key to the first picture in the file: median {:.0} ms, worst {:.0} ms; of {} (floor {:.0} ms){}",
        k.start_latency_median_ms,
        k.start_latency_worst_ms,
        k.first_picture_latency_median_ms,
        k.first_picture_latency_worst_ms,
        k.start_latencies_ms.len(),
        k.latency_floor_ms,
        if k.misses_a_floor() {
            "  MISSES A FLOOR"
        } else {
            ""
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_pictures_capture_time_is_read_from_text_and_json_lines() {
        let text = "2026-12-06T16:00:00.1Z  INFO booth::media::recorder: first picture of the answer after_start_ms=12.5 captured_unix_us=1765036800123456";
        assert_eq!(captured_unix_us(text), Some(1_765_036_800_123_456));
        let json = r#"{"fields":{"message":"first picture of the answer","after_start_ms":3.0,"captured_unix_us":42}}"#;
        assert_eq!(captured_unix_us(json), Some(42));
        assert_eq!(captured_unix_us("first picture of the answer"), None);
    }

    #[test]
    fn only_the_recorders_first_picture_lines_count() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("booth.log");
        assert!(first_pictures(&log).is_empty(), "no log yet");
        std::fs::write(
            &log,
            "x INFO first picture of the answer captured_unix_us=10\nx INFO other captured_unix_us=11\nx INFO first picture of the answer captured_unix_us=12\n",
        )?;
        assert_eq!(first_pictures(&log), vec![10, 12]);
        assert_eq!(next_first_picture(&log, 1)?, 12);
        Ok(())
    }
}
