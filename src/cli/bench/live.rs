//! The live comparison, per scene and per length: `booth record` from a synthetic camera and
//! microphone in real time at 720p30, against
//! - the bare cost of booth's own encoder on the very same frames, in this process: the
//!   scene's frames generated alone, then generated and encoded by OpenH264 (no capture
//!   thread, no audio, no mux, no file), so the difference of the two is the encoder's and
//!   `booth record` over their sum is what the rest of the pipeline costs;
//! - the same bare encoder fed at the camera's pace (one thread sleeping until each frame is
//!   due, as a live encoder must): an encoder that sleeps between pictures finds its caches
//!   cold and pays for each wake-up, which no pipeline around it can avoid, so `booth record`
//!   over this one is the pipeline's own overhead;
//! - ffmpeg encoding the same live picture in real time with x264 `ultrafast` (and AAC from
//!   its own sine), fed booth's frames as Y4M through a pipe at the camera's pace by this
//!   process; the feeder's CPU is counted with ffmpeg's, as the generator is in booth's.
//!
//! Also dropped frames and memory: the peak (`VmHWM`), which also holds the worst moment of
//! the run — a stall on a busy machine fills the camera's queue with up to 8 pictures of
//! 1.4 MB, and a longer run meets a worse stall — and the median of `VmRSS` sampled once a
//! second while it records, which a leak makes grow from the short run to the long one and a
//! stall does not.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use serde::Serialize;

use super::report::{median, ratio};
use super::{AUDIO_KBPS, BenchError, VIDEO_KBPS, num, path_str};
use crate::logging::console;
use crate::media::encode::{H264Encoder, VideoEncoderConfig};
use crate::media::open::open_video;
use crate::media::source::{Pace, VideoRequest, VideoSpec};
use crate::procinfo::cpu_seconds;

const LIVE: VideoRequest = VideoRequest {
    width: 1280,
    height: 720,
    fps: 30,
};

#[derive(Debug, Serialize)]
pub struct BoothLive {
    pub cpu_seconds: f64,
    pub cpu_share_of_one_core: f64,
    pub video_frames: u64,
    pub dropped_frames: u64,
    pub peak_rss_mib: f64,
    /// The median of its resident memory, sampled once a second while it ran.
    pub median_rss_mib: f64,
}

/// OpenH264 alone on the scene's frames, in this process.
#[derive(Debug, Serialize, PartialEq)]
pub struct BareEncoder {
    pub frames: u32,
    /// CPU seconds to generate the frames alone.
    pub generate_cpu_seconds: f64,
    /// CPU seconds of OpenH264 on them (generating and encoding, less generating alone).
    pub encode_cpu_seconds: f64,
    /// CPU seconds to generate and encode them at the camera's pace, in one thread.
    pub paced_cpu_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct FfmpegLive {
    pub cpu_seconds: f64,
    /// This process writing the frames into ffmpeg's pipe (generation included).
    pub feeder_cpu_seconds: f64,
    pub peak_rss_mib: f64,
}

#[derive(Debug, Serialize)]
pub struct LiveRun {
    pub seconds: u32,
    pub booth: BoothLive,
    pub bare_encoder: BareEncoder,
    pub ffmpeg_x264_ultrafast: FfmpegLive,
    /// booth record's CPU over the bare encoder's plus the frames' generation (both sides
    /// make the same frames): the cost of capture, audio, mux and file around the encoder,
    /// and of encoding live rather than back to back.
    pub pipeline_vs_bare_encoder: f64,
    /// booth record's CPU over the bare encoder's at the camera's pace: the cost of capture,
    /// audio, mux and file around a live encoder.
    pub pipeline_vs_paced_encoder: f64,
    /// booth record's CPU over ffmpeg's plus its feeder's.
    pub booth_vs_ffmpeg_ultrafast: f64,
}

#[derive(Debug, Serialize)]
pub struct LiveScene {
    pub scene: String,
    pub runs: Vec<LiveRun>,
    /// booth's peak memory in the longest run over the shortest.
    pub booth_memory_growth_ratio: f64,
    /// booth's median memory in the longest run over the shortest.
    pub booth_median_memory_growth_ratio: f64,
}

/// The live figures of one scene at each length in `lengths` (seconds).
pub fn measure(scene: &VideoSpec, lengths: &[u32], dir: &Path) -> Result<LiveScene, BenchError> {
    let mut runs = Vec::new();
    for &seconds in lengths {
        console(&format!(
            "bench: live 720p30 '{scene}', {seconds} s: booth record, the bare encoder, ffmpeg x264 ultrafast"
        ));
        let booth = booth_live(
            scene,
            seconds,
            &dir.join(format!("live-{scene}-{seconds}.mp4")),
        )?;
        let bare = bare_encoder(scene, seconds * LIVE.fps)?;
        let ffmpeg = ffmpeg_live(
            scene,
            seconds,
            &dir.join(format!("x264-{scene}-{seconds}.mp4")),
        )?;
        runs.push(LiveRun {
            seconds,
            pipeline_vs_bare_encoder: ratio(
                booth.cpu_seconds,
                bare.generate_cpu_seconds + bare.encode_cpu_seconds,
            ),
            pipeline_vs_paced_encoder: ratio(booth.cpu_seconds, bare.paced_cpu_seconds),
            booth_vs_ffmpeg_ultrafast: ratio(
                booth.cpu_seconds,
                ffmpeg.cpu_seconds + ffmpeg.feeder_cpu_seconds,
            ),
            booth,
            bare_encoder: bare,
            ffmpeg_x264_ultrafast: ffmpeg,
        });
    }
    let growth = |of: fn(&BoothLive) -> f64| match (runs.first(), runs.last()) {
        (Some(a), Some(b)) => ratio(of(&b.booth), of(&a.booth)),
        _ => 1.0,
    };
    Ok(LiveScene {
        scene: scene.to_string(),
        booth_memory_growth_ratio: growth(|b| b.peak_rss_mib),
        booth_median_memory_growth_ratio: growth(|b| b.median_rss_mib),
        runs,
    })
}

fn booth_live(scene: &VideoSpec, seconds: u32, out: &Path) -> Result<BoothLive, BenchError> {
    let (v, rss) = booth_record_sampled(&[
        "--video".into(),
        scene.to_string(),
        "--audio".into(),
        "tone".into(),
        "--duration".into(),
        seconds.to_string(),
        "--video-kbps".into(),
        VIDEO_KBPS.to_string(),
        "--audio-kbps".into(),
        AUDIO_KBPS.to_string(),
        "--output".into(),
        path_str(out),
    ])?;
    let _ = std::fs::remove_file(out);
    let cpu = num(&v, "cpu_seconds");
    Ok(BoothLive {
        cpu_seconds: cpu,
        cpu_share_of_one_core: ratio(cpu, f64::from(seconds)),
        video_frames: num(&v, "video_frames") as u64,
        dropped_frames: num(&v, "dropped_frames") as u64,
        peak_rss_mib: num(&v, "peak_rss_kib") / 1024.0,
        median_rss_mib: median(rss),
    })
}

/// `booth record --json ARGS` and its resident memory in MiB, sampled once a second.
fn booth_record_sampled(args: &[String]) -> Result<(serde_json::Value, Vec<f64>), BenchError> {
    let spawn = |source| BenchError::Spawn {
        program: "booth record".into(),
        source,
    };
    let exe = std::env::current_exe().map_err(spawn)?;
    let child = Command::new(exe)
        .args(["record", "--json"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn)?;
    let status = PathBuf::from(format!("/proc/{}/status", child.id()));
    let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
    let sampler = std::thread::spawn(move || {
        let mut samples = Vec::new();
        // The period is the sampling's; the wait ends at once when `stop` goes away.
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(Duration::from_secs(1)) {
            samples.extend(vm_rss_kib(&status).map(|k| k / 1024.0));
        }
        samples
    });
    let out = child.wait_with_output();
    drop(stop);
    let samples = sampler.join().unwrap_or_default();
    let out = out.map_err(spawn)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(BenchError::Failed {
            program: "booth record".into(),
            detail: stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | "),
        });
    }
    let v = serde_json::from_slice(&out.stdout)
        .map_err(|e| BenchError::Parse(format!("booth record --json: {e}")))?;
    Ok((v, samples))
}

/// `VmRSS` of a process in KiB, from its `/proc/PID/status`; `None` once it has exited.
fn vm_rss_kib(status: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

fn process_cpu() -> Result<f64, BenchError> {
    cpu_seconds().ok_or_else(|| BenchError::Parse("/proc/self/stat has no CPU times".into()))
}

fn source_error(scene: &VideoSpec, e: impl std::fmt::Display) -> BenchError {
    BenchError::Parse(format!("the {scene} scene: {e}"))
}

/// Generates `frames` of `scene` at `pace`, encoding them too when `encode`; returns the
/// process CPU seconds spent.
fn generate(scene: &VideoSpec, frames: u32, encode: bool, pace: Pace) -> Result<f64, BenchError> {
    let mut src =
        open_video(scene, LIVE, pace, Instant::now()).map_err(|e| source_error(scene, e))?;
    let mut encoder = if encode {
        Some(
            H264Encoder::new(VideoEncoderConfig {
                width: LIVE.width,
                height: LIVE.height,
                fps: f64::from(LIVE.fps),
                bitrate: VIDEO_KBPS * 1000,
                idr_interval: Duration::from_secs(2),
            })
            .map_err(|e| source_error(scene, e))?,
        )
    } else {
        None
    };
    let before = process_cpu()?;
    for _ in 0..frames {
        let frame = src
            .next_frame()
            .map_err(|e| source_error(scene, e))?
            .ok_or_else(|| source_error(scene, "it ended early"))?;
        if let Some(enc) = encoder.as_mut() {
            enc.encode(&frame).map_err(|e| source_error(scene, e))?;
        }
        std::hint::black_box(&frame);
    }
    Ok(process_cpu()? - before)
}

fn bare_encoder(scene: &VideoSpec, frames: u32) -> Result<BareEncoder, BenchError> {
    let generate_cpu_seconds = generate(scene, frames, false, Pace::None)?;
    let both = generate(scene, frames, true, Pace::None)?;
    let paced_cpu_seconds = generate(scene, frames, true, Pace::Realtime)?;
    Ok(BareEncoder {
        frames,
        generate_cpu_seconds,
        encode_cpu_seconds: (both - generate_cpu_seconds).max(0.0),
        paced_cpu_seconds,
    })
}

fn ffmpeg_live(scene: &VideoSpec, seconds: u32, out: &Path) -> Result<FfmpegLive, BenchError> {
    let spawn = |source| BenchError::Spawn {
        program: "ffmpeg".into(),
        source,
    };
    let mut child = Command::new("ffmpeg")
        .args(["-benchmark", "-nostats", "-v", "info"])
        .args(["-f", "yuv4mpegpipe", "-i", "-", "-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=48000:duration={seconds}"
        ))
        .args([
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .args(["-b:v", &format!("{VIDEO_KBPS}k"), "-c:a", "aac"])
        .args(["-b:a", &format!("{AUDIO_KBPS}k"), "-ac", "1", "-y"])
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn)?;
    let feeder = child.stdin.take().map(|mut pipe| {
        let scene = scene.clone();
        std::thread::spawn(move || -> Result<f64, BenchError> {
            let before = process_cpu()?;
            let mut src = open_video(&scene, LIVE, Pace::Realtime, Instant::now())
                .map_err(|e| source_error(&scene, e))?;
            let header = format!(
                "YUV4MPEG2 W{} H{} F{}:1 Ip A1:1 C420jpeg\n",
                LIVE.width, LIVE.height, LIVE.fps
            );
            let write = |e: std::io::Error| BenchError::Failed {
                program: "ffmpeg".into(),
                detail: format!("its input pipe closed: {e}"),
            };
            pipe.write_all(header.as_bytes()).map_err(write)?;
            for _ in 0..seconds * LIVE.fps {
                let frame = src
                    .next_frame()
                    .map_err(|e| source_error(&scene, e))?
                    .ok_or_else(|| source_error(&scene, "it ended early"))?;
                pipe.write_all(b"FRAME\n").map_err(write)?;
                pipe.write_all(&frame.data).map_err(write)?;
            }
            drop(pipe);
            Ok(process_cpu()? - before)
        })
    });
    let output = child.wait_with_output().map_err(spawn)?;
    let feeder_cpu_seconds = match feeder.map(std::thread::JoinHandle::join) {
        Some(Ok(r)) => r?,
        _ => {
            return Err(BenchError::Parse(
                "the frame feeder for ffmpeg stopped".into(),
            ));
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(BenchError::Failed {
            program: "ffmpeg".into(),
            detail: stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | "),
        });
    }
    let _ = std::fs::remove_file(out);
    let (cpu_seconds, _wall, peak_rss_mib) = super::ffmpeg_bench(&stderr)?;
    Ok(FfmpegLive {
        cpu_seconds,
        feeder_cpu_seconds,
        peak_rss_mib,
    })
}

pub fn print_scene(s: &LiveScene, load: &str) {
    println!("Live 720p30 '{}' ({load}):", s.scene);
    for r in &s.runs {
        println!(
            "  {:>3} s: booth {:.2} CPU-s ({:.1}% of one core, {} frames, {} dropped, peak {:.1} MiB, median {:.1} MiB); bare encoder {:.2} + generating {:.2} (at the camera's pace {:.2}); ffmpeg x264 ultrafast {:.2} + feeder {:.2} (peak {:.1} MiB)",
            r.seconds,
            r.booth.cpu_seconds,
            r.booth.cpu_share_of_one_core * 100.0,
            r.booth.video_frames,
            r.booth.dropped_frames,
            r.booth.peak_rss_mib,
            r.booth.median_rss_mib,
            r.bare_encoder.encode_cpu_seconds,
            r.bare_encoder.generate_cpu_seconds,
            r.bare_encoder.paced_cpu_seconds,
            r.ffmpeg_x264_ultrafast.cpu_seconds,
            r.ffmpeg_x264_ultrafast.feeder_cpu_seconds,
            r.ffmpeg_x264_ultrafast.peak_rss_mib,
        );
        println!(
            "         pipeline / bare encoder (with generation): {:.2}, / the same at the camera's pace: {:.2}   booth / ffmpeg ultrafast: {:.2}",
            r.pipeline_vs_bare_encoder, r.pipeline_vs_paced_encoder, r.booth_vs_ffmpeg_ultrafast
        );
    }
    println!(
        "  booth's memory, longest run / shortest: peak {:.2}, median {:.2}",
        s.booth_memory_growth_ratio, s.booth_median_memory_growth_ratio
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_from_proc_and_none_once_gone() -> crate::TestResult {
        let own = vm_rss_kib(Path::new("/proc/self/status")).ok_or("no VmRSS")?;
        assert!(own > 1000.0, "{own} KiB");
        assert_eq!(vm_rss_kib(Path::new("/proc/nonexistent/status")), None);
        Ok(())
    }
}
