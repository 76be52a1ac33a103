//! The executor's devices going away and coming back: a camera (a Y4M file here, whose
//! failure the test controls by what the file holds) lost mid-answer, a reopening that fails
//! while it is gone, and one that finds it back and records again. Every report names its
//! opening.

use std::time::Duration;

use tokio::sync::mpsc;

use super::tests::{camera_that_breaks, executor_with, session_id, station};
use super::*;
use crate::app::msg::{Purpose, RecordingProblem, TakeRef};
use crate::media::source::VideoSpec;
use crate::session::Take;

/// The next report about the devices (opened, failed) or a recording's outcome.
async fn news(reports: &mut mpsc::UnboundedReceiver<Msg>) -> crate::TestResult<Msg> {
    let wait = async {
        while let Some(m) = reports.recv().await {
            if matches!(
                m,
                Msg::DevicesReady { .. }
                    | Msg::DevicesFailed { .. }
                    | Msg::RecordingSaved { .. }
                    | Msg::RecordingFailed { .. }
            ) {
                return Some(m);
            }
        }
        None
    };
    Ok(tokio::time::timeout(Duration::from_secs(20), wait)
        .await?
        .ok_or("the reports ended")?)
}

/// A 64x48 Y4M at 30 fps of `frames` good pictures that ends cleanly.
fn good_camera(path: &std::path::Path, frames: usize) -> crate::TestResult {
    let mut y4m = b"YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n".to_vec();
    for _ in 0..frames {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend(std::iter::repeat_n(128u8, 64 * 48 * 3 / 2));
    }
    std::fs::write(path, y4m)?;
    Ok(())
}

#[tokio::test]
async fn a_camera_lost_mid_answer_is_reopened_when_back_and_records_again() -> crate::TestResult {
    let st = station(Take::recording("q1-take1.mp4".into()))?;
    let camera = st.root.path().join("camera.y4m");
    camera_that_breaks(&camera, 45)?;
    let (mut executor, mut reports) = executor_with(&st, VideoSpec::File(camera.clone()))?;
    let take = |take| {
        Purpose::Answer(TakeRef {
            session: session_id(&st),
            question: 0,
            take,
        })
    };
    executor.execute(Effect::OpenDevices { opening: 1 }).await;
    let opened = news(&mut reports).await?;
    assert!(
        matches!(opened, Msg::DevicesReady { opening: 1, .. }),
        "{opened:?}"
    );
    let first = st.session.join("q1-take1.mp4");
    executor
        .execute(Effect::StartRecording {
            purpose: take(0),
            file: first.clone(),
            limit: Duration::from_secs(60),
        })
        .await;
    // The camera breaks 1.5 s in: the forwarder says so for opening 1, and the take keeps
    // what it had (in either order).
    let (mut lost, mut kept) = (false, None);
    while !lost || kept.is_none() {
        match news(&mut reports).await? {
            Msg::DevicesFailed { opening: 1, .. } => lost = true,
            Msg::RecordingFailed {
                problem: RecordingProblem::Device(_),
                kept_seconds,
                ..
            } => kept = Some(kept_seconds.ok_or("nothing kept")?),
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    let kept = kept.unwrap_or_default();
    assert!(kept > 0.5 && kept <= 1.6, "kept {kept} s");
    // The interrupted take is a finished MP4 with its picture and sound.
    let tracks = crate::media::mp4read::read_tracks(&first)?;
    assert_eq!(tracks.len(), 2, "{tracks:?}");

    // Gone: the try fails, and says so for its own opening.
    std::fs::remove_file(&camera)?;
    executor.execute(Effect::OpenDevices { opening: 2 }).await;
    let failed = news(&mut reports).await?;
    assert!(
        matches!(failed, Msg::DevicesFailed { opening: 2, .. }),
        "{failed:?}"
    );
    // Back: the next try opens it, and the next take records to its end.
    good_camera(&camera, 90)?;
    executor.execute(Effect::OpenDevices { opening: 3 }).await;
    let back = news(&mut reports).await?;
    assert!(
        matches!(back, Msg::DevicesReady { opening: 3, .. }),
        "{back:?}"
    );
    executor
        .execute(Effect::StartRecording {
            purpose: take(1),
            file: st.session.join("q1-take2.mp4"),
            limit: Duration::from_secs(1),
        })
        .await;
    let saved = news(&mut reports).await?;
    assert!(
        matches!(&saved, Msg::RecordingSaved { purpose, seconds, .. }
            if *purpose == take(1) && *seconds > 0.8),
        "{saved:?}"
    );
    executor.shutdown().await;
    Ok(())
}
