//! `booth bench [--json]`: how booth's encoding compares with ffmpeg on the same machine, in
//! the same run, on the same input — as ratios, never as absolute thresholds in tests.
//!
//! 1. Offline, per scene (`test`: booth's colour bars; `head`: booth's synthetic talking head,
//!    the realistic one): a 60 s 1280×720×30 Y4M rendered by booth's own source plus a 48 kHz
//!    WAV, encoded by `booth record --pace none` and by ffmpeg/libx264 `ultrafast` and
//!    `veryfast` with AAC at the same bitrates: CPU seconds per recorded second, the ratios, the
//!    achieved video bitrate against the target and the PSNR against the source ([`encode`]).
//! 2. Live: `booth record` from the synthetic camera and microphone in real time, at 720p30,
//!    for a short and a long run: CPU share of one core, dropped frames, and peak memory
//!    (which must not grow with the length of the recording).
//! 3. Upload: booth's tus upload to the test tus server on loopback against curl sending the
//!    same file in one PATCH, as a throughput ratio with a floor ([`upload`]); below the floor
//!    the bench exits 1.

mod encode;
mod upload;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clap::Args;
use serde::Serialize;

use super::Exit;
use crate::logging::console;
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
    #[arg(long, num_args = 2, default_values_t = [10, 40])]
    pub live: Vec<u32>,
    /// Where to put the (large) input files; default: /dev/shm when present.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Only the upload figure (skips the encoder and live runs).
    #[arg(long)]
    pub upload_only: bool,
    /// MiB sent per upload round.
    #[arg(long, default_value_t = 256)]
    pub upload_mib: u32,
    /// A fixed chunk size for booth in the upload figure (default: the config's, 8 MiB growing
    /// to 64 MiB on a fast link).
    #[arg(long, value_name = "MIB")]
    pub upload_chunk_mib: Option<u32>,
    /// The test tus server's node project (installed by `scripts/setup.sh bench`).
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tus-server"))]
    pub tus_server: PathBuf,
}

#[derive(Debug, Serialize)]
struct LiveRun {
    seconds: u32,
    cpu_share_of_one_core: f64,
    dropped_frames: u64,
    peak_rss_mib: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    scenes: Vec<encode::SceneReport>,
    live: Vec<LiveRun>,
    live_memory_growth_ratio: f64,
}

/// Everything one run measured; the encoder figures are left out with `--upload-only`.
#[derive(Debug, Serialize)]
struct FullReport {
    #[serde(flatten)]
    encode: Option<Report>,
    upload: upload::UploadFigure,
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

fn bench(args: &BenchArgs) -> Result<Report, BenchError> {
    let base = work_base(args);
    let dir = tempfile::Builder::new()
        .prefix("booth-bench-")
        .tempdir_in(&base)
        .map_err(|source| BenchError::Spawn {
            program: format!("a work directory in {}", base.display()),
            source,
        })?;
    let secs = args.seconds.to_string();
    let wav = dir.path().join("input.wav");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:sample_rate=48000:duration={secs}"),
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            "-y",
            &path_str(&wav),
        ],
    )?;
    let scenes = args
        .scenes
        .iter()
        .map(|scene| encode::measure_scene(scene, args.seconds, dir.path(), &wav))
        .collect::<Result<Vec<_>, _>>()?;
    drop(dir);

    let mut live = Vec::new();
    for &seconds in &args.live {
        console(&format!(
            "bench: live 720p30 from the synthetic sources, {seconds} s"
        ));
        let ldir = tempfile::tempdir().map_err(|source| BenchError::Spawn {
            program: "a temporary directory".into(),
            source,
        })?;
        let out = ldir.path().join("live.mp4");
        let v = booth_record(&[
            "--video".into(),
            "test".into(),
            "--audio".into(),
            "tone".into(),
            "--duration".into(),
            seconds.to_string(),
            "--output".into(),
            path_str(&out),
        ])?;
        live.push(LiveRun {
            seconds,
            cpu_share_of_one_core: num(&v, "cpu_seconds") / seconds as f64,
            dropped_frames: num(&v, "dropped_frames") as u64,
            peak_rss_mib: num(&v, "peak_rss_kib") / 1024.0,
        });
    }

    let growth = match (live.first(), live.last()) {
        (Some(a), Some(b)) => b.peak_rss_mib / a.peak_rss_mib.max(1e-9),
        _ => 1.0,
    };
    Ok(Report {
        scenes,
        live,
        live_memory_growth_ratio: growth,
    })
}

pub fn run_bench(args: &BenchArgs) -> Exit {
    let measured = (if args.upload_only {
        Ok(None)
    } else {
        bench(args).map(Some)
    })
    .and_then(|encode| {
        let upload = upload::measure(
            &work_base(args),
            args.upload_mib,
            args.upload_chunk_mib,
            &args.tus_server,
        )?;
        Ok(FullReport { encode, upload })
    });
    let full = match measured {
        Ok(r) => r,
        Err(e) => {
            super::report_error(&e);
            return Exit::Failed;
        }
    };
    let below_floor = full.upload.booth_vs_curl < upload::FLOOR;
    if args.json {
        match serde_json::to_string_pretty(&full) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                super::report_error(&e);
                return Exit::Failed;
            }
        }
    } else {
        if let Some(report) = &full.encode {
            print_encode(report);
        }
        let u = &full.upload;
        let chunks: Vec<String> = u
            .booth_chunks_mib
            .iter()
            .map(|c| format!("{c:.0}"))
            .collect();
        println!(
            "Upload ({} MiB to the loopback tus server; booth's PATCHes in MiB: {}): median of {} paired rounds booth / curl (one PATCH) {:.2} (floor {:.2}){}",
            u.file_mib,
            chunks.join(" "),
            u.rounds,
            u.booth_vs_curl,
            u.floor,
            if below_floor { "  BELOW THE FLOOR" } else { "" }
        );
        println!(
            "  medians: booth {:.0} MiB/s, curl {:.0} MiB/s; best: booth {:.0}, curl {:.0}; control, curl in booth's chunks: {:.0} MiB/s (booth / that {:.2})",
            u.booth_median_mib_per_s,
            u.curl_median_mib_per_s,
            u.booth_best_mib_per_s,
            u.curl_best_mib_per_s,
            u.curl_chunked_median_mib_per_s,
            u.booth_vs_curl_chunked
        );
    }
    if below_floor { Exit::Failed } else { Exit::Ok }
}

fn print_encode(report: &Report) {
    for scene in &report.scenes {
        encode::print_scene(scene);
    }
    println!("Live 720p30 from the synthetic sources:");
    for l in &report.live {
        println!(
            "  {:>3} s: {:>5.1}% of one core, {} dropped frames, peak {:.1} MiB",
            l.seconds,
            l.cpu_share_of_one_core * 100.0,
            l.dropped_frames,
            l.peak_rss_mib
        );
    }
    println!(
        "  peak memory, long run / short run: {:.2}",
        report.live_memory_growth_ratio
    );
}
