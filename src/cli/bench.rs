//! `booth bench [--json]`: how booth's encoding compares with ffmpeg on the same machine, in
//! the same run, on the same input — as ratios, never as absolute thresholds in tests.
//!
//! 1. Offline, per scene (`test`: booth's colour bars; `head`: booth's synthetic talking head,
//!    the realistic one): a 60 s 1280×720×30 Y4M rendered by booth's own source plus a 48 kHz
//!    WAV, encoded by `booth record --pace none` and by ffmpeg/libx264 `ultrafast` and
//!    `veryfast` with AAC at the same bitrates: CPU seconds per recorded second, the ratios, the
//!    achieved video bitrate against the target and the PSNR against the source ([`encode`]).
//! 2. Live, per scene: `booth record` from the synthetic camera and microphone in real time
//!    at 720p30, for a short and a long run, against booth's bare encoder on the same frames
//!    and against ffmpeg/x264 `ultrafast` fed the same live picture ([`live`]).
//! 3. Upload: booth's tus upload to the test tus server on loopback against curl sending the
//!    same file in one PATCH, as a throughput ratio with a floor ([`upload`]); below the floor
//!    the bench exits 1.
//!
//! 4. Start-up: `booth run` to its first screen in a fresh terminal, and `booth doctor`
//!    ([`startup`]), reported without a floor.
//! 5. The kiosk as a candidate uses it, in a terminal: CPU against `booth record` and the
//!    latency from a key to the recording indicator ([`kiosk`]), reported against floors
//!    but not in the exit code (a shared machine's latencies are too noisy for that).
//! 6. Upload over emulated wide-area links: booth against curl through a shaping proxy
//!    ([`wan`]).
//!
//! Each of these is a step ([`report`]): one that fails leaves its error in its place and the
//! others' figures stand; the bench then exits 1. `--only live` (or any list of [`BenchStep`]s)
//! runs just those.

mod encode;
mod kiosk;
mod live;
mod report;
mod startup;
mod upload;
mod wan;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clap::Args;
use serde::Serialize;

use report::{Step, StepFailure, load_text, step};

use super::Exit;
use crate::media::source::VideoSpec;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of input for the offline comparison.
    #[arg(long, default_value_t = 60)]
    pub seconds: u32,
    /// The scenes of the offline comparison (synthetic video sources by name).
    #[arg(long, value_delimiter = ',', default_values = ["test", "head"])]
    pub scenes: Vec<VideoSpec>,
    /// Seconds of the short and long live recordings.
    #[arg(long, num_args = 1.., default_values_t = [10, 40])]
    pub live: Vec<u32>,
    /// Also a 10-minute live recording per scene (for peak memory over a whole answer).
    #[arg(long)]
    pub long: bool,
    /// Where to put the (large) input files; default: /dev/shm when present.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Only the upload figures, on loopback and over the emulated links (skips the rest).
    #[arg(long, conflicts_with = "only")]
    pub upload_only: bool,
    /// Only these steps (e.g. `--only live`, `--only transcode,live`); default: all of them.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<BenchStep>,
    /// MiB sent per upload round.
    #[arg(long, default_value_t = 256)]
    pub upload_mib: u32,
    /// A fixed chunk size for booth in the upload figure (default: the config's, 8 MiB growing
    /// to 64 MiB on a fast link).
    #[arg(long, value_name = "MIB")]
    pub upload_chunk_mib: Option<u32>,
    /// Seconds of the kiosk's measured answer (booth run in a terminal, against booth record).
    #[arg(long, default_value_t = 60)]
    pub kiosk_seconds: u32,
    /// MiB sent per round over the emulated wide-area links.
    #[arg(long, default_value_t = 32)]
    pub wan_mib: u32,
    /// Paired rounds per emulated link.
    #[arg(long, default_value_t = 5)]
    pub wan_rounds: usize,
    /// The test tus server's node project (installed by `scripts/setup.sh bench`).
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tus-server"))]
    pub tus_server: PathBuf,
}

/// The bench's steps, as `--only` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchStep {
    Transcode,
    Live,
    Upload,
    Wan,
    Kiosk,
    Startup,
}

impl BenchArgs {
    /// Whether this run measures `step` (`--only`, `--upload-only`, or everything).
    fn runs(&self, step: BenchStep) -> bool {
        if !self.only.is_empty() {
            self.only.contains(&step)
        } else if self.upload_only {
            matches!(step, BenchStep::Upload | BenchStep::Wan)
        } else {
            true
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("cannot run {program}: {source} (run `make test` or scripts/setup.sh to install it)")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} failed: {detail}")]
    Failed { program: String, detail: String },
    #[error("{0}")]
    Parse(String),
}

const VIDEO_KBPS: u32 = 2500;
/// The `--long` live run: as long as the longest answers.
const LONG_LIVE_SECONDS: u32 = 600;
const AUDIO_KBPS: u32 = 128;

fn run(program: &str, args: &[&str]) -> Result<Output, BenchError> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| BenchError::Spawn {
            program: program.into(),
            source,
        })?;
    if !out.status.success() {
        let tail: String = String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join(" | ");
        return Err(BenchError::Failed {
            program: program.into(),
            detail: tail,
        });
    }
    Ok(out)
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// `bench: utime=…s stime=…s rtime=…s` and `bench: maxrss=…KiB` from `ffmpeg -benchmark`.
fn ffmpeg_bench(stderr: &str) -> Result<(f64, f64, f64), BenchError> {
    let field = |key: &str| -> Option<f64> {
        let line = stderr.lines().rev().find(|l| l.contains(key))?;
        let v = line.split(key).nth(1)?;
        let end = v.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        v[..end].parse().ok()
    };
    let cpu = field("utime=").zip(field("stime=")).map(|(u, s)| u + s);
    let wall = field("rtime=");
    let rss = field("maxrss=").unwrap_or(0.0) / 1024.0;
    match (cpu, wall) {
        (Some(c), Some(w)) => Ok((c, w, rss)),
        _ => Err(BenchError::Parse(
            "ffmpeg -benchmark printed no utime/rtime".into(),
        )),
    }
}

fn psnr(encoded: &Path, source: &Path) -> Option<f64> {
    let out = run(
        "ffmpeg",
        &[
            "-v",
            "info",
            "-nostats",
            "-i",
            &path_str(encoded),
            "-i",
            &path_str(source),
            "-lavfi",
            "[0:v][1:v]psnr",
            "-f",
            "null",
            "-",
        ],
    )
    .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().rev().find(|l| l.contains("PSNR"))?;
    let avg = line.split("average:").nth(1)?;
    avg.split_whitespace().next()?.parse().ok()
}

fn video_kbps(path: &Path) -> Option<f64> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=bit_rate",
            "-of",
            "csv=p=0",
            &path_str(path),
        ],
    )
    .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<f64>()
        .ok()
        .map(|b| b / 1000.0)
}

fn booth_record(args: &[String]) -> Result<serde_json::Value, BenchError> {
    let exe = std::env::current_exe().map_err(|source| BenchError::Spawn {
        program: "booth".into(),
        source,
    })?;
    let exe = path_str(&exe);
    let mut all = vec!["record".to_string(), "--json".into()];
    all.extend_from_slice(args);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = run(&exe, &refs)?;
    serde_json::from_slice(&out.stdout)
        .map_err(|e| BenchError::Parse(format!("booth record --json: {e}")))
}

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v.get(key)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0)
}

fn work_base(args: &BenchArgs) -> PathBuf {
    args.work_dir.clone().unwrap_or_else(|| {
        if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        }
    })
}

/// Everything one run measured, step by step; a step that failed says why in its place.
#[derive(Debug, Serialize)]
struct FullReport {
    /// The offline transcode, one step per scene (none when not run: `--upload-only`, `--only`).
    scenes: Vec<Step<encode::SceneReport>>,
    /// The live comparison, one step per scene (none when not run).
    live: Vec<Step<live::LiveScene>>,
    /// booth against curl on loopback (null when not run).
    upload: Option<Step<upload::UploadFigure>>,
    /// booth against curl through the shaping proxy (null when not run).
    wan: Option<Step<wan::WanFigure>>,
    /// The kiosk in a terminal against booth record (null when not run).
    kiosk: Option<Step<kiosk::KioskFigure>>,
    /// `booth run` to its first screen and `booth doctor` (null when not run).
    startup: Option<Step<startup::Startup>>,
    /// The names of the steps that failed; the bench exits 1 when there is any.
    failed_steps: Vec<String>,
}

fn work_dir(base: &Path, prefix: &str) -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base)
        .map_err(|source| BenchError::Spawn {
            program: format!("a work directory in {}", base.display()),
            source,
        })
}

fn sine_wav(seconds: u32, wav: &Path) -> Result<(), BenchError> {
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            "-y",
            &path_str(wav),
        ],
    )
    .map(|_| ())
}

/// The offline transcode, one step per scene; a shared input that cannot be made fails each.
fn transcode_steps(args: &BenchArgs) -> Vec<Step<encode::SceneReport>> {
    let base = work_base(args);
    let prepared = work_dir(&base, "booth-bench-").and_then(|dir| {
        let wav = dir.path().join("input.wav");
        sine_wav(args.seconds, &wav)?;
        Ok((dir, wav))
    });
    let steps = args
        .scenes
        .iter()
        .map(|scene| {
            step(&format!("transcode {scene}"), || {
                let (dir, wav) = prepared.as_ref().map_err(|e| BenchError::Failed {
                    program: "the bench's input".into(),
                    detail: e.to_string(),
                })?;
                encode::measure_scene(scene, args.seconds, dir.path(), wav)
            })
        })
        .collect();
    drop(prepared);
    steps
}

fn live_steps(args: &BenchArgs) -> Vec<Step<live::LiveScene>> {
    let mut lengths = args.live.clone();
    if args.long {
        lengths.push(LONG_LIVE_SECONDS);
    }
    args.scenes
        .iter()
        .map(|scene| {
            step(&format!("live {scene}"), || {
                let dir = work_dir(&work_base(args), "booth-bench-live-")?;
                live::measure(scene, &lengths, dir.path())
            })
        })
        .collect()
}

fn measure_all(args: &BenchArgs) -> FullReport {
    let scenes = if args.runs(BenchStep::Transcode) {
        transcode_steps(args)
    } else {
        Vec::new()
    };
    let live = if args.runs(BenchStep::Live) {
        live_steps(args)
    } else {
        Vec::new()
    };
    let upload = args.runs(BenchStep::Upload).then(|| {
        step("upload", || {
            upload::measure(
                &work_base(args),
                args.upload_mib,
                args.upload_chunk_mib,
                &args.tus_server,
            )
        })
    });
    let wan = args.runs(BenchStep::Wan).then(|| {
        step("wan", || {
            wan::measure(
                &work_base(args),
                args.wan_mib,
                args.wan_rounds.max(1),
                &args.tus_server,
            )
        })
    });
    let kiosk = args.runs(BenchStep::Kiosk).then(|| {
        step("kiosk", || {
            let dir = work_dir(&work_base(args), "booth-bench-kiosk-")?;
            kiosk::measure(dir.path(), args.kiosk_seconds.max(1))
        })
    });
    let startup = args.runs(BenchStep::Startup).then(|| {
        step("startup", || {
            let dir = work_dir(&work_base(args), "booth-bench-startup-")?;
            startup::measure(dir.path())
        })
    });
    let failed_steps = scenes
        .iter()
        .filter_map(Step::failure)
        .chain(live.iter().filter_map(Step::failure))
        .chain(upload.as_ref().and_then(Step::failure))
        .chain(wan.as_ref().and_then(Step::failure))
        .chain(kiosk.as_ref().and_then(Step::failure))
        .chain(startup.as_ref().and_then(Step::failure))
        .map(|f| f.step.clone())
        .collect();
    FullReport {
        scenes,
        live,
        upload,
        wan,
        kiosk,
        startup,
        failed_steps,
    }
}

pub fn run_bench(args: &BenchArgs) -> Exit {
    let full = measure_all(args);
    let below_floor = full
        .upload
        .as_ref()
        .and_then(Step::figure)
        .is_some_and(upload::UploadFigure::below_floor)
        || full
            .wan
            .as_ref()
            .and_then(Step::figure)
            .is_some_and(wan::WanFigure::below_floor);
    if args.json {
        match serde_json::to_string_pretty(&full) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                super::report_error(&e);
                return Exit::Failed;
            }
        }
    } else {
        print_table(&full);
    }
    if below_floor || !full.failed_steps.is_empty() {
        Exit::Failed
    } else {
        Exit::Ok
    }
}

fn print_failure(f: &StepFailure) {
    println!(
        "{}: FAILED ({}): {}",
        f.step,
        serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        f.message
    );
}

fn print_table(full: &FullReport) {
    for s in &full.scenes {
        match s {
            Step::Measured(m) => encode::print_scene(&m.figure, &load_text(m)),
            Step::Failed(f) => print_failure(f),
        }
    }
    for s in &full.live {
        match s {
            Step::Measured(m) => live::print_scene(&m.figure, &load_text(m)),
            Step::Failed(f) => print_failure(f),
        }
    }
    match &full.upload {
        Some(Step::Measured(m)) => upload::print(&m.figure, &load_text(m)),
        Some(Step::Failed(f)) => print_failure(f),
        None => {}
    }
    match &full.wan {
        Some(Step::Measured(m)) => wan::print(&m.figure, &load_text(m)),
        Some(Step::Failed(f)) => print_failure(f),
        None => {}
    }
    match &full.kiosk {
        Some(Step::Measured(m)) => kiosk::print(&m.figure, &load_text(m)),
        Some(Step::Failed(f)) => print_failure(f),
        None => {}
    }
    match &full.startup {
        Some(Step::Measured(m)) => startup::print(&m.figure, &load_text(m)),
        Some(Step::Failed(f)) => print_failure(f),
        None => {}
    }
    if !full.failed_steps.is_empty() {
        println!("Failed steps: {}", full.failed_steps.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{BenchArgs, BenchStep};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn steps(args: &[&str]) -> Result<Vec<BenchStep>, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))?;
        let all = [
            BenchStep::Transcode,
            BenchStep::Live,
            BenchStep::Upload,
            BenchStep::Wan,
            BenchStep::Kiosk,
            BenchStep::Startup,
        ];
        Ok(all.into_iter().filter(|s| cli.bench.runs(*s)).collect())
    }

    #[test]
    fn only_selects_the_named_steps() -> crate::TestResult {
        assert_eq!(steps(&["--only", "live"])?, vec![BenchStep::Live]);
        assert_eq!(
            steps(&["--only", "transcode,kiosk"])?,
            vec![BenchStep::Transcode, BenchStep::Kiosk]
        );
        assert_eq!(
            steps(&["--upload-only"])?,
            vec![BenchStep::Upload, BenchStep::Wan]
        );
        assert_eq!(steps(&[])?.len(), 6);
        assert!(steps(&["--only", "nothing"]).is_err());
        assert!(steps(&["--only", "live", "--upload-only"]).is_err());
        Ok(())
    }
}
