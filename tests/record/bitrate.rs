//! The encoder's rate control on scenes with detail: noisy 720p and the synthetic talking
//! head both come out near the 2.5 Mb/s target.

use std::path::Path;
use std::process::Command;

use super::common::*;
use super::record;

/// The video stream's bitrate in bits per second, as ffprobe reads it.
fn video_bitrate(path: &Path) -> f64 {
    let o = run_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .args(["stream=bit_rate", "-of", "csv=p=0"])
            .arg(path),
        "ffprobe",
    );
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

#[test]
fn bitrate_holds_on_noisy_720p() {
    let dir = tempfile::tempdir().unwrap();
    let y4m = dir.path().join("noisy.y4m");
    run_ok(
        Command::new("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i"])
            .arg("testsrc2=size=1280x720:rate=30:duration=6,noise=alls=20:allf=t")
            .args(["-pix_fmt", "yuv420p", "-y"])
            .arg(&y4m),
        "ffmpeg",
    );
    let out = dir.path().join("noisy.mp4");
    let o = record(&[
        "--video",
        &format!("file:{}", y4m.display()),
        "--audio",
        "tone",
        "--pace",
        "none",
        "--duration",
        "6",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kbps = video_bitrate(&out) / 1000.0;
    assert!(
        (2000.0..=3000.0).contains(&kbps),
        "noisy 720p came out at {kbps:.0} kb/s for a 2500 kb/s target"
    );
}

/// The synthetic talking head (detail everywhere, a moving face, sensor noise) at 720p30:
/// the achieved video bitrate within 5% of the 2.5 Mb/s target (it was 6.7% over in bitrate
/// rate-control mode).
#[test]
fn bitrate_holds_on_the_talking_head() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("head.mp4");
    let o = record(&[
        "--video",
        "head",
        "--audio",
        "tone",
        "--pace",
        "none",
        "--duration",
        "10",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ratio = video_bitrate(&out) / 2_500_000.0;
    assert!(
        (0.95..=1.05).contains(&ratio),
        "the talking head came out at {ratio:.3} of the 2500 kb/s target"
    );
}
