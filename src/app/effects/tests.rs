//! The executor as the one owner of effects: what is asked in order happens in order, across
//! the joint between sending a take and wiping its session.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::*;
use crate::app::msg::{RecordingProblem, Submission, TakeRef};
use crate::config::Config;
use crate::interview::fixture::{self, Q};
use crate::interview::{Catalog, Interview};
use crate::media::source::{AudioSpec, Pace, VideoRequest, VideoSpec};
use crate::session::{Progress, Take, TakeState};

pub(super) struct Station {
    pub(super) root: tempfile::TempDir,
    data: PathBuf,
    interview: Arc<Interview>,
    pub(super) session: PathBuf,
}

/// A data directory with one session holding one recorded take of q1.
pub(super) fn station(take: Take) -> crate::TestResult<Station> {
    let root = tempfile::tempdir()?;
    let data = root.path().join("data");
    let interview = Arc::new(fixture::interview("iv", &[Q::quick("q1", 2)])?);
    let (mut progress, session) =
        crate::app::sessions::new_session(&data, &interview, crate::clock::unix_now())?;
    std::fs::write(session.join(&take.file), b"the answer")?;
    progress.questions[0].takes.push(take);
    progress.save(&session)?;
    Ok(Station {
        root,
        data,
        interview,
        session,
    })
}

fn executor(st: &Station) -> crate::TestResult<(Executor, mpsc::UnboundedReceiver<Msg>)> {
    executor_with(st, VideoSpec::Test)
}

pub(super) fn executor_with(
    st: &Station,
    video: VideoSpec,
) -> crate::TestResult<(Executor, mpsc::UnboundedReceiver<Msg>)> {
    let text = format!(
        "[station]\ndata_dir = \"{}\"\n[upload]\nendpoint = \"dir:{}\"\n",
        st.data.display(),
        st.root.path().join("platform").display()
    );
    let config = Config::parse(&text, Path::new("/t/config.toml"))?;
    let uploads = crate::upload::UploadService::start(&config, &st.data.join("outbox"))?;
    let devices = DeviceSettings {
        video,
        audio: AudioSpec::Tone,
        request: VideoRequest::default(),
        pace: Pace::Realtime,
        video_kbps: 400,
        audio_kbps: 64,
        sound_output: false,
        pin_hash: None,
        receipt_command: None,
        outbox: st.data.join("outbox"),
        station_id: "t".into(),
        services: Default::default(),
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let station = StationFiles {
        data_dir: st.data.clone(),
        catalog: Arc::new(Catalog::single((*st.interview).clone())),
        roster: None,
    };
    Ok((Executor::new(devices, station, tx, uploads), rx))
}

pub(super) fn session_id(st: &Station) -> String {
    st.session
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_wipe_asked_right_after_a_submit_waits_for_the_outbox() -> crate::TestResult {
    let st = station(Take {
        state: TakeState::Saved,
        seconds: Some(3.0),
        ..Take::recording("q1-take1.mp4".into())
    })?;
    let (executor, mut reports) = executor(&st)?;
    let session = session_id(&st);
    let take = TakeRef {
        session: session.clone(),
        question: 0,
        take: 0,
    };
    let (effects, rx) = mpsc::unbounded_channel();
    let span = tracing::Span::none;
    effects.send((
        Effect::Submit(Submission {
            take: take.clone(),
            file: st.session.join("q1-take1.mp4"),
            interview_id: "iv".into(),
            candidate_ref: Some("AB-12345".into()),
            question_id: "q1".into(),
            attempt: 1,
            seconds: 3.0,
        }),
        span(),
    ))?;
    let known = Progress::load(&st.session)?.ok_or("no progress")?;
    effects.send((
        Effect::EndSession {
            session: session.clone(),
            dir: st.session.clone(),
            progress: Box::new(known),
        },
        span(),
    ))?;
    effects.send((Effect::Quit, span()))?;
    assert_eq!(executor.run(rx).await, Ended::Quit);
    // The take reached the outbox before the wipe, and the reports say so in that order
    // (upload news may come in between).
    let mut order = Vec::new();
    while let Ok(msg) = reports.try_recv() {
        match msg {
            Msg::Submitted { take: got, .. } => order.push(Ok(got)),
            Msg::SessionStarted { progress, dir, .. } => order.push(Err((progress, dir))),
            _ => {}
        }
    }
    let [Ok(got), Err((progress, dir))] =
        <[_; 2]>::try_from(order).map_err(|o| format!("{o:?}"))?
    else {
        panic!("the submission was not reported before the new session")
    };
    assert_eq!(got, take);
    assert_ne!(progress.session_id, session);
    assert!(dir.is_dir());
    assert!(!st.session.exists(), "the old session was not wiped");
    let answers = st.data.join("outbox").join(crate::upload::ANSWERS_DIR);
    let queued: Vec<_> = std::fs::read_dir(&answers)?.flatten().collect();
    assert_eq!(queued.len() + platform_files(&st), 1, "{queued:?}");
    Ok(())
}

/// Answers the platform stand-in already has.
fn platform_files(st: &Station) -> usize {
    std::fs::read_dir(st.root.path().join("platform"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "mp4"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn the_wipe_sets_aside_a_take_whose_sending_failed() -> crate::TestResult {
    // Found by the station simulation: on a failing disk the progress saying so was never
    // written, and the wipe, reading the disk, deleted the take. The flow's own progress
    // travels with the wipe now.
    let st = station(Take {
        state: TakeState::Saved,
        ..Take::recording("q1-take1.mp4".into())
    })?;
    let mut known = Progress::load(&st.session)?.ok_or("no progress")?;
    known.questions[0].takes[0].submit_failed = true;
    let (mut executor, mut reports) = executor(&st)?;
    executor
        .execute(Effect::EndSession {
            session: session_id(&st),
            dir: st.session.clone(),
            progress: Box::new(known),
        })
        .await;
    assert!(matches!(
        reports.recv().await,
        Some(Msg::SessionStarted { .. })
    ));
    let kept = crate::app::sessions::set_aside_dir(&st.data)
        .join(session_id(&st))
        .join("q1-take1.mp4");
    assert_eq!(std::fs::read(&kept)?, b"the answer");
    assert!(!st.session.exists());
    executor.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn progress_is_saved_by_the_executor_in_order() -> crate::TestResult {
    let st = station(Take::recording("q1-take1.mp4".into()))?;
    let (mut executor, _reports) = executor(&st)?;
    let mut p = Progress::load(&st.session)?.ok_or("no progress")?;
    for n in 1..=3 {
        p.questions[0].extra_attempts = n;
        executor
            .execute(Effect::SaveProgress {
                dir: st.session.clone(),
                progress: Box::new(p.clone()),
            })
            .await;
    }
    let saved = Progress::load(&st.session)?.ok_or("no progress")?;
    assert_eq!(saved.questions[0].extra_attempts, 3);
    executor.shutdown().await;
    Ok(())
}

/// The next report about the devices or a recording (pictures and levels skipped).
pub(super) async fn next(reports: &mut mpsc::UnboundedReceiver<Msg>) -> Option<Msg> {
    let wait = async {
        while let Some(m) = reports.recv().await {
            if matches!(
                m,
                Msg::DevicesReady { .. }
                    | Msg::RecordingStarted { .. }
                    | Msg::RecordingSaved { .. }
                    | Msg::RecordingFailed { .. }
            ) {
                return Some(m);
            }
        }
        None
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), wait)
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn the_next_recording_starts_right_after_the_last_ones_outcome() -> crate::TestResult {
    // Found by the station simulation: the last recording's thread sends its outcome just
    // before it ends, and a recording asked for in that instant was refused without a word,
    // leaving the candidate on "starting" for good.
    let st = station(Take::recording("q1-take1.mp4".into()))?;
    let (mut executor, mut reports) = executor(&st)?;
    executor.execute(Effect::OpenDevices { opening: 1 }).await;
    assert!(matches!(
        next(&mut reports).await,
        Some(Msg::DevicesReady { .. })
    ));
    let clip = || Effect::StartRecording {
        purpose: crate::app::msg::Purpose::TestClip {
            session: "s".into(),
        },
        file: st.session.join("device-test.mp4"),
        limit: std::time::Duration::from_secs(30),
    };
    for round in 0..5 {
        executor.execute(clip()).await;
        let started = next(&mut reports).await;
        assert!(
            matches!(started, Some(Msg::RecordingStarted { .. })),
            "round {round}: {started:?}"
        );
        executor.execute(Effect::StopRecording).await;
        let outcome = next(&mut reports).await;
        assert!(
            matches!(
                outcome,
                Some(Msg::RecordingSaved { .. } | Msg::RecordingFailed { .. })
            ),
            "round {round}: {outcome:?}"
        );
    }
    executor.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn staff_time_granted_mid_answer_lengthens_the_recording() -> crate::TestResult {
    let st = station(Take::recording("q1-take1.mp4".into()))?;
    let (mut executor, mut reports) = executor(&st)?;
    executor.execute(Effect::OpenDevices { opening: 1 }).await;
    assert!(matches!(
        next(&mut reports).await,
        Some(Msg::DevicesReady { .. })
    ));
    let file = st.session.join("q1-take1.mp4");
    let purpose = crate::app::msg::Purpose::Answer(TakeRef {
        session: session_id(&st),
        question: 0,
        take: 0,
    });
    executor
        .execute(Effect::StartRecording {
            purpose,
            file: file.clone(),
            limit: std::time::Duration::from_secs(1),
        })
        .await;
    assert!(matches!(
        next(&mut reports).await,
        Some(Msg::RecordingStarted { .. })
    ));
    executor
        .execute(Effect::ExtendRecording {
            limit: std::time::Duration::from_millis(2500),
        })
        .await;
    // The recording ends by itself, at its new limit.
    let Some(Msg::RecordingSaved { seconds, .. }) = next(&mut reports).await else {
        panic!("the recording did not end by itself")
    };
    assert!((2.2..=2.8).contains(&seconds), "recorded {seconds} s");
    executor.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_submission_whose_take_is_gone_fails_as_the_takes_problem() -> crate::TestResult {
    let st = station(Take {
        state: TakeState::Saved,
        seconds: Some(3.0),
        ..Take::recording("q1-take1.mp4".into())
    })?;
    let file = st.session.join("q1-take1.mp4");
    std::fs::remove_file(&file)?;
    let (mut executor, mut reports) = executor(&st)?;
    let take = TakeRef {
        session: session_id(&st),
        question: 0,
        take: 0,
    };
    executor
        .execute(Effect::Submit(Submission {
            take: take.clone(),
            file,
            interview_id: "iv".into(),
            candidate_ref: None,
            question_id: "q1".into(),
            attempt: 1,
            seconds: 3.0,
        }))
        .await;
    let failed = loop {
        let report = tokio::time::timeout(std::time::Duration::from_secs(20), reports.recv());
        match report.await?.ok_or("no report")? {
            Msg::SubmitFailed { take, problem, .. } => break (take, problem),
            _ => continue,
        }
    };
    assert_eq!(failed, (take, crate::app::msg::SubmitProblem::Take));
    executor.shutdown().await;
    Ok(())
}

/// A 64x48 Y4M at 30 fps: `frames` good pictures, then bytes that are no picture at all.
pub(super) fn camera_that_breaks(path: &Path, frames: usize) -> crate::TestResult {
    let mut y4m = b"YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n".to_vec();
    for _ in 0..frames {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend(std::iter::repeat_n(128u8, 64 * 48 * 3 / 2));
    }
    y4m.extend_from_slice(b"NOT A FRAME AT ALL\n");
    std::fs::write(path, y4m)?;
    Ok(())
}

#[tokio::test]
async fn a_camera_lost_mid_answer_interrupts_the_take_and_the_screen_hears_it() -> crate::TestResult
{
    // Two consumers read the capture events: the forwarder (the screen) and the recording's
    // outcome. They raced for each event, so a lost camera either never reached the screen or
    // left the answer recording sound alone to its limit and then called it saved.
    let st = station(Take::recording("q1-take1.mp4".into()))?;
    let camera = st.root.path().join("camera.y4m");
    camera_that_breaks(&camera, 60)?;
    let (mut executor, mut reports) = executor_with(&st, VideoSpec::File(camera))?;
    executor.execute(Effect::OpenDevices { opening: 1 }).await;
    let purpose = crate::app::msg::Purpose::Answer(TakeRef {
        session: session_id(&st),
        question: 0,
        take: 0,
    });
    executor
        .execute(Effect::StartRecording {
            purpose,
            file: st.session.join("q1-take1.mp4"),
            limit: std::time::Duration::from_secs(60),
        })
        .await;
    let (mut screen_told, mut outcome) = (false, None);
    let wait = async {
        while let Some(m) = reports.recv().await {
            match m {
                Msg::DevicesFailed { .. } => screen_told = true,
                Msg::RecordingSaved { .. } | Msg::RecordingFailed { .. } => {
                    outcome = Some(m);
                    break;
                }
                _ => {}
            }
        }
    };
    // Far less than the answer's 60 s: the camera is lost 2 s in.
    tokio::time::timeout(std::time::Duration::from_secs(20), wait).await?;
    let Some(Msg::RecordingFailed {
        problem: RecordingProblem::Device(_),
        kept_seconds: Some(kept),
        ..
    }) = outcome
    else {
        panic!("the lost camera did not end the take: {outcome:?}");
    };
    assert!(kept > 0.5 && kept <= 2.1, "kept {kept} s");
    // The screen heard it too (the forwarder may report just after the outcome).
    if !screen_told {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while let Some(m) = reports.recv().await {
                if matches!(m, Msg::DevicesFailed { .. }) {
                    return true;
                }
            }
            false
        });
        screen_told = next.await?;
    }
    assert!(screen_told, "the screen was not told the camera was lost");
    executor.shutdown().await;
    Ok(())
}
