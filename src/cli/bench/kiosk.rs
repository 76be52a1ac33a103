//! The kiosk as a candidate uses it: `booth run --demo` (synthetic camera and microphone,
//! the bundled interview) in a 160×48 terminal (tmux, half-block preview and level meter),
//! taken by keys through the device check to the questions.
//!
//! - CPU: booth's own CPU over an answer of `--kiosk-seconds`, against `booth record` of the
//!   same sources for as long in the same run, as a share of a core each (floor 1.25×).
//! - Latency: the key that starts an answer to "RECORDING" on the screen, on the first three
//!   questions of each of [`SESSIONS`] fresh kiosks (floor 150 ms on the median and the
//!   worst). The screen is polled every 5 ms through `tmux capture-pane`, which adds up to a
//!   poll and a capture to each figure.
//!
//! Not measured here yet: an upload running in the background during the answer, and the
//! latency from the key to the first captured frame in the file.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::report::{median, ratio};
use super::startup::Terminal;
use super::{BenchError, booth_record, num, path_str};
use crate::logging::console;

const SESSIONS: usize = 4;
pub const CPU_FLOOR: f64 = 1.25;
pub const LATENCY_FLOOR_MS: f64 = 150.0;
const STEP: Duration = Duration::from_secs(20);

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
    pub latency_floor_ms: f64,
    pub background_upload: bool,
}

impl KioskFigure {
    pub fn misses_a_floor(&self) -> bool {
        self.kiosk_vs_record > self.cpu_floor || self.start_latency_worst_ms > self.latency_floor_ms
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

/// Sends `key` and returns the milliseconds until "RECORDING" shows.
fn start_answer(t: &Terminal, key: &str) -> Result<f64, BenchError> {
    let pressed = Instant::now();
    t.key(key)?;
    let seen = t.wait_for("RECORDING", STEP)?;
    Ok(seen.duration_since(pressed).as_secs_f64() * 1000.0)
}

/// One kiosk from its start to the third question's recording; returns booth's CPU share of
/// one core over the first answer, which lasts `answer`.
fn session(
    exe: &str,
    data: &std::path::Path,
    socket: &str,
    answer: Duration,
    latencies: &mut Vec<f64>,
) -> Result<f64, BenchError> {
    let t = Terminal::start(
        socket,
        &format!("'{exe}' run --demo --data-dir '{}'", path_str(data)),
    )?;
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
    latencies.push(start_answer(&t, "Enter")?);
    let (cpu0, wall0) = (process_cpu(pid)?, Instant::now());
    std::thread::sleep(answer);
    let share = ratio(process_cpu(pid)? - cpu0, wall0.elapsed().as_secs_f64());
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
    latencies.push(start_answer(&t, "Enter")?);
    std::thread::sleep(Duration::from_secs(1));
    t.key("s")?;
    for (text, key) in [("Your answer", "Enter"), ("View question", "Enter")] {
        t.wait_for(text, STEP)?;
        pause();
        t.key(key)?;
    }
    pause();
    latencies.push(start_answer(&t, "Enter")?);
    Ok(share)
}

pub fn measure(work: &std::path::Path, answer_seconds: u32) -> Result<KioskFigure, BenchError> {
    console(&format!(
        "bench: the kiosk in a 160x48 terminal, a {answer_seconds} s answer and {SESSIONS} sessions of start latencies"
    ));
    let exe = std::env::current_exe().map_err(|source| BenchError::Spawn {
        program: "booth".into(),
        source,
    })?;
    let exe = path_str(&exe);
    let mut latencies = Vec::new();
    let mut kiosk_share = 0.0;
    for n in 0..SESSIONS {
        let answer = Duration::from_secs(if n == 0 { answer_seconds.into() } else { 1 });
        let socket = format!("booth-bench-{}-kiosk-{n}", std::process::id());
        let share = session(
            &exe,
            &work.join(format!("kiosk-{n}")),
            &socket,
            answer,
            &mut latencies,
        )?;
        if n == 0 {
            kiosk_share = share;
        }
    }
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
    Ok(KioskFigure {
        answer_seconds,
        kiosk_cpu_share_of_one_core: kiosk_share,
        record_cpu_share_of_one_core: record_share,
        kiosk_vs_record: ratio(kiosk_share, record_share),
        cpu_floor: CPU_FLOOR,
        start_latency_median_ms: median(latencies.clone()),
        start_latency_worst_ms: latencies.iter().copied().fold(0.0, f64::max),
        start_latencies_ms: latencies,
        latency_floor_ms: LATENCY_FLOOR_MS,
        background_upload: false,
    })
}

pub fn print(k: &KioskFigure, load: &str) {
    println!(
        "Kiosk in a 160x48 terminal ({load}): {} s answer at {:.1}% of a core against booth record's {:.1}%: {:.2} (floor {:.2}); key to RECORDING median {:.0} ms, worst {:.0} ms of {} (floor {:.0} ms){}",
        k.answer_seconds,
        k.kiosk_cpu_share_of_one_core * 100.0,
        k.record_cpu_share_of_one_core * 100.0,
        k.kiosk_vs_record,
        k.cpu_floor,
        k.start_latency_median_ms,
        k.start_latency_worst_ms,
        k.start_latencies_ms.len(),
        k.latency_floor_ms,
        if k.misses_a_floor() {
            "  MISSES A FLOOR"
        } else {
            ""
        }
    );
}
