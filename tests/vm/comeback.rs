//! The kiosk's camera unplugged and plugged back (vivid unbound and bound again, scenario
//! `comeback` in guest.sh): once on the question screen, while /dev/video0's number is held so
//! that the camera returns under another node, and once two seconds into an answer. booth
//! reopens it by itself both times (finding it by its bus and card name), keeps the answer it
//! was recording as an interrupted take that plays, and records the next take.

use std::path::Path;

use serde_json::Value;

use super::{Scenario, assert_decodes_cleanly_vfr, probe};

/// The one-question interview the scenario runs (written to the VM's /in by `boot`).
pub const INTERVIEW: &str = r#"
id = "comeback"
title = "Devices that come back"
intro = "A camera that goes away and comes back."
language = "en"
[support]
contact = "the desk"
[[question]]
id = "q1"
text = "Tell us about yourself."
preparation_seconds = 0
answer_seconds = 60
attempts = 2
"#;

/// An answer booth kept: H.264 and AAC, `range` seconds long, every frame decodable.
fn playable(path: &Path, range: std::ops::Range<f64>, ctx: &str) {
    assert!(path.exists(), "{} was not kept\n{ctx}", path.display());
    assert_decodes_cleanly_vfr(path);
    let p = probe(path);
    let (video, audio) = (p.video(), p.audio());
    assert_eq!(
        (video.codec_name.as_str(), audio.codec_name.as_str()),
        ("h264", "aac"),
        "{}",
        path.display()
    );
    let v = video.duration.expect("video duration");
    assert!(range.contains(&v), "{}: {v:.2} s\n{ctx}", path.display());
}

#[test]
fn vm_a_camera_unplugged_mid_interview_and_mid_answer_comes_back() {
    let s = Scenario::get("comeback");
    let log = s.log();
    let ctx = format!(
        "{}\nsteps:\n{}\nlog:\n{log}",
        s.context(),
        std::fs::read_to_string(s.dir.join("steps")).unwrap_or_default()
    );
    assert_eq!(s.exit(), 0, "{ctx}");
    assert_eq!(log.matches("a device was lost").count(), 2, "{ctx}");
    assert_eq!(log.matches("the lost device is back").count(), 2, "{ctx}");
    // The first time back, /dev/video0 was still taken: the same camera under another node,
    // found by its bus and card name, not whatever the configured path now is.
    let back: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("the camera is back"))
        .collect();
    // (A try may find it before the driver lets it be opened: at least once per return.)
    assert!(back.len() >= 2, "{ctx}");
    assert!(
        back[0].contains("vivid") && !back[0].contains("path=/dev/video0"),
        "{}\n{ctx}",
        back[0]
    );
    // The take the unplug cut short was kept, not counted, and plays; recording again then
    // replaced it with a take that counts.
    let json = |f: &str| -> Value { serde_json::from_str(&s.file(f)).expect("progress is JSON") };
    let cut = json("progress-interrupted.json");
    assert_eq!(
        cut["questions"][0]["takes"][0]["state"], "interrupted",
        "{cut}"
    );
    assert_eq!(cut["questions"][0]["attempts_used"], 0, "{cut}");
    let end = json("progress.json");
    assert_eq!(end["questions"][0]["takes"][1]["state"], "saved", "{end}");
    assert_eq!(end["questions"][0]["attempts_used"], 1, "{end}");
    playable(&s.dir.join("q1-take1.mp4"), 1.0..10.0, &ctx);
    playable(&s.dir.join("q1-take2.mp4"), 1.0..10.0, &ctx);
}
