//! The offline transcode comparison, one scene at a time: the scene rendered by booth's own
//! synthetic source into a Y4M file, then encoded by `booth record --pace none` and by
//! ffmpeg/libx264 `ultrafast` and `veryfast` at the same bitrate, with CPU, bitrate, PSNR and
//! peak memory for each and booth's ratios against both; and by x264 `veryfast` held to the
//! baseline profile that OpenH264 writes, to show how much of a quality gap is the profile's.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::{AUDIO_KBPS, BenchError, VIDEO_KBPS, booth_record, num, path_str, psnr, run};
use crate::logging::console;
use crate::media::open::open_video;
use crate::media::source::{Pace, VideoRequest, VideoSpec};

/// Booth's achieved bitrate must be within this share of the target on a scene with detail.
pub const BITRATE_TOLERANCE: f64 = 0.05;

#[derive(Debug, Serialize)]
pub struct EncodeRun {
    pub name: String,
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
    pub cpu_per_recorded_second: f64,
    pub video_kbps: f64,
    pub psnr_db: Option<f64>,
    pub peak_rss_mib: Option<f64>,
}

/// Every figure of one scene.
#[derive(Debug, Serialize)]
pub struct SceneReport {
    pub scene: String,
    pub input: String,
    pub target_video_kbps: u32,
    pub encoders: Vec<EncodeRun>,
    pub booth_cpu_vs_x264_ultrafast: f64,
    pub booth_cpu_vs_x264_veryfast: f64,
    /// Booth's achieved video bitrate over the target (1.0 is exact).
    pub booth_kbps_vs_target: f64,
    /// Booth's PSNR minus x264 veryfast's, in dB.
    pub booth_psnr_minus_veryfast_db: Option<f64>,
    /// Booth's PSNR minus x264 veryfast's held to the baseline profile booth writes, in dB.
    pub booth_psnr_minus_veryfast_baseline_db: Option<f64>,
    /// Seconds booth took to render the scene into the Y4M file (generation cost alone,
    /// including writing it to the work directory).
    pub render_seconds: f64,
}

/// The offline comparison's picture: 720p30, an interview camera's usual mode.
const SCENE: VideoRequest = VideoRequest {
    width: 1280,
    height: 720,
    fps: 30,
};

/// Renders `seconds` of `scene` into `y4m`, returning the seconds it took.
fn render_scene(
    scene: &VideoSpec,
    request: VideoRequest,
    seconds: u32,
    y4m: &Path,
) -> Result<f64, BenchError> {
    let io = |source: std::io::Error| BenchError::Spawn {
        program: format!("writing {}", y4m.display()),
        source,
    };
    let start = Instant::now();
    let mut src = open_video(scene, request, Pace::None, start)
        .map_err(|e| BenchError::Parse(format!("cannot open the {scene} scene: {e}")))?;
    let mut out = BufWriter::new(File::create(y4m).map_err(io)?);
    writeln!(
        out,
        "YUV4MPEG2 W{} H{} F{}:1 Ip A1:1 C420jpeg",
        request.width, request.height, request.fps
    )
    .map_err(io)?;
    for _ in 0..seconds * request.fps {
        let frame = src
            .next_frame()
            .map_err(|e| BenchError::Parse(format!("the {scene} scene: {e}")))?
            .ok_or_else(|| BenchError::Parse(format!("the {scene} scene ended early")))?;
        out.write_all(b"FRAME\n").map_err(io)?;
        out.write_all(&frame.data).map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(start.elapsed().as_secs_f64())
}

fn booth_run(y4m: &Path, wav: &Path, out: &Path, recorded: f64) -> Result<EncodeRun, BenchError> {
    console("bench: booth (openh264 + fdk-aac)");
    let wall = Instant::now();
    let v = booth_record(&[
        "--video".into(),
        format!("file:{}", y4m.display()),
        "--audio".into(),
        format!("file:{}", wav.display()),
        "--pace".into(),
        "none".into(),
        "--video-kbps".into(),
        VIDEO_KBPS.to_string(),
        "--audio-kbps".into(),
        AUDIO_KBPS.to_string(),
        "--output".into(),
        path_str(out),
    ])?;
    let cpu = num(&v, "cpu_seconds");
    Ok(EncodeRun {
        name: "booth".into(),
        cpu_seconds: cpu,
        wall_seconds: wall.elapsed().as_secs_f64(),
        cpu_per_recorded_second: cpu / recorded,
        video_kbps: super::video_kbps(out).unwrap_or(0.0),
        psnr_db: psnr(out, y4m),
        peak_rss_mib: Some(num(&v, "peak_rss_kib") / 1024.0),
    })
}

/// How x264 is run: a preset, and optionally the H.264 profile it may use.
#[derive(Debug, Clone, Copy)]
struct X264 {
    preset: &'static str,
    /// `Some("baseline")` restricts x264 to the profile booth's OpenH264 writes (no CABAC, no
    /// B-frames, no 8×8 transform), which shows how much of a quality gap is the profile's.
    profile: Option<&'static str>,
}

impl X264 {
    fn name(self) -> String {
        match self.profile {
            Some(p) => format!("ffmpeg libx264 {} {p}", self.preset),
            None => format!("ffmpeg libx264 {}", self.preset),
        }
    }
}

/// The peers, in the report's order after booth: ultrafast and veryfast are the floors'.
const PEERS: [X264; 3] = [
    X264 {
        preset: "ultrafast",
        profile: None,
    },
    X264 {
        preset: "veryfast",
        profile: None,
    },
    X264 {
        preset: "veryfast",
        profile: Some("baseline"),
    },
];

fn x264_run(
    x264: X264,
    y4m: &Path,
    wav: &Path,
    out: &Path,
    recorded: f64,
) -> Result<EncodeRun, BenchError> {
    console(&format!("bench: {} + aac", x264.name()));
    let profile: &[&str] = match x264.profile {
        Some(p) => &["-profile:v", p],
        None => &[],
    };
    let (y4m_s, wav_s, out_s, kbps) = (
        path_str(y4m),
        path_str(wav),
        path_str(out),
        format!("{VIDEO_KBPS}k"),
    );
    let audio_kbps = format!("{AUDIO_KBPS}k");
    let head = [
        "-benchmark",
        "-nostats",
        "-v",
        "info",
        "-i",
        &y4m_s,
        "-i",
        &wav_s,
        "-c:v",
        "libx264",
        "-preset",
        x264.preset,
        "-b:v",
        &kbps,
    ];
    let tail = ["-c:a", "aac", "-b:a", &audio_kbps, "-y", &out_s];
    let args: Vec<&str> = head.iter().chain(profile).chain(&tail).copied().collect();
    let o = run("ffmpeg", &args)?;
    let (cpu, wall, rss) = super::ffmpeg_bench(&String::from_utf8_lossy(&o.stdout))
        .or_else(|_| super::ffmpeg_bench(&String::from_utf8_lossy(&o.stderr)))?;
    Ok(EncodeRun {
        name: x264.name(),
        cpu_seconds: cpu,
        wall_seconds: wall,
        cpu_per_recorded_second: cpu / recorded,
        video_kbps: super::video_kbps(out).unwrap_or(0.0),
        psnr_db: psnr(out, y4m),
        peak_rss_mib: Some(rss),
    })
}

/// Renders `scene` into `dir`, encodes it four ways against `wav`, and deletes the input.
pub fn measure_scene(
    scene: &VideoSpec,
    seconds: u32,
    dir: &Path,
    wav: &Path,
) -> Result<SceneReport, BenchError> {
    let y4m = dir.join(format!("{scene}.y4m"));
    console(&format!(
        "bench: scene '{scene}': rendering {seconds} s of 1280x720x30"
    ));
    let render_seconds = render_scene(scene, SCENE, seconds, &y4m)?;
    let recorded = f64::from(seconds);
    let booth = booth_run(&y4m, wav, &dir.join(format!("{scene}-booth.mp4")), recorded)?;
    let mut encoders = vec![booth];
    for (n, x264) in PEERS.into_iter().enumerate() {
        let out = dir.join(format!("{scene}-x264-{n}.mp4"));
        encoders.push(x264_run(x264, &y4m, wav, &out, recorded)?);
    }
    // The input is large (80 MiB a minute); the next scene needs the room.
    let _ = std::fs::remove_file(&y4m);
    let ratio = |i: usize| encoders[0].cpu_seconds / encoders[i].cpu_seconds.max(1e-9);
    Ok(SceneReport {
        scene: scene.to_string(),
        input: format!("{seconds} s 1280x720x30 booth '{scene}' source, 48 kHz mono sine"),
        target_video_kbps: VIDEO_KBPS,
        booth_cpu_vs_x264_ultrafast: ratio(1),
        booth_cpu_vs_x264_veryfast: ratio(2),
        booth_kbps_vs_target: encoders[0].video_kbps / f64::from(VIDEO_KBPS),
        booth_psnr_minus_veryfast_db: encoders[0]
            .psnr_db
            .zip(encoders[2].psnr_db)
            .map(|(b, v)| b - v),
        booth_psnr_minus_veryfast_baseline_db: encoders[0]
            .psnr_db
            .zip(encoders[3].psnr_db)
            .map(|(b, v)| b - v),
        render_seconds,
        encoders,
    })
}

pub fn print_scene(report: &SceneReport, load: &str) {
    println!("Scene '{}': {} ({load})", report.scene, report.input);
    println!(
        "{:<34} {:>9} {:>9} {:>12} {:>9} {:>8} {:>9}",
        "encoder", "CPU s", "wall s", "CPU s / s", "kb/s", "PSNR dB", "peak MiB"
    );
    for e in &report.encoders {
        println!(
            "{:<34} {:>9.2} {:>9.2} {:>12.3} {:>9.0} {:>8} {:>9.1}",
            e.name,
            e.cpu_seconds,
            e.wall_seconds,
            e.cpu_per_recorded_second,
            e.video_kbps,
            e.psnr_db.map_or("-".into(), |p| format!("{p:.2}")),
            e.peak_rss_mib.unwrap_or(0.0)
        );
    }
    let off = (report.booth_kbps_vs_target - 1.0).abs() > BITRATE_TOLERANCE;
    println!(
        "booth CPU / x264 ultrafast: {:.2}   / veryfast: {:.2}   booth PSNR - veryfast: {} dB (- veryfast baseline: {} dB)   booth kb/s / target {}: {:.3}{}   (scene rendered in {:.1} s)",
        report.booth_cpu_vs_x264_ultrafast,
        report.booth_cpu_vs_x264_veryfast,
        report
            .booth_psnr_minus_veryfast_db
            .map_or("-".into(), |d| format!("{d:+.2}")),
        report
            .booth_psnr_minus_veryfast_baseline_db
            .map_or("-".into(), |d| format!("{d:+.2}")),
        report.target_video_kbps,
        report.booth_kbps_vs_target,
        if off { " (off by more than 5%)" } else { "" },
        report.render_seconds
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::source::VideoSource;
    use crate::media::synthetic::TalkingHead;
    use crate::media::y4m::Y4mSource;

    /// The file booth encodes in the bench holds exactly the frames the live source gives.
    #[test]
    fn a_rendered_scene_reads_back_as_the_source_frames() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let y4m = dir.path().join("head.y4m");
        let request = VideoRequest {
            width: 64,
            height: 48,
            fps: 10,
        };
        render_scene(&VideoSpec::Head, request, 2, &y4m)?;
        let epoch = Instant::now();
        let mut file = Y4mSource::open(&y4m, Pace::None, epoch)?;
        let mut live = TalkingHead::new(request, Pace::None, epoch);
        for n in 0..20 {
            let a = file.next_frame()?.ok_or("file ended early")?;
            let b = live.next_frame()?.ok_or("no frame")?;
            assert_eq!(a.data, b.data, "frame {n}");
        }
        assert!(file.next_frame()?.is_none());
        Ok(())
    }
}
