//! Every screen drawn into a `TestBackend` at 80×24 and 160×48, compared with its reviewed
//! snapshot (`cargo insta review` after an intended change).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::theme::{ColorDepth, Theme};
use crate::app::msg::ClipChecks;
use crate::app::state::{DeviceStatus, Phase, Prep, Session, Settings, State, TestStep};
use crate::interview::Interview;
use crate::media::analyze::{AudioVerdict, Level, PictureVerdict};
use crate::media::frame::VideoFrame;
use crate::session::{Delivery, Progress, Take, TakeState};

const INTERVIEW: &str = r#"
id = "snap"
title = "Customer Support Specialist – first interview"
language = "en"
intro = """
Thank you for applying! You will answer three short questions on camera.

Speak as you would to a colleague – there are no trick questions."""
[support]
contact = "Ask the staff at the front desk – they are happy to help."
phone = "+44 20 7946 0000"
[[question]]
id = "q-intro"
text = "To start, tell us a little about yourself and what draws you to customer support."
preparation_seconds = 0
answer_seconds = 90
attempts = 2
[[question]]
id = "q-team"
text = "Tell us about a time you worked with someone else to solve a problem. What was the situation, what did you do, and how did it turn out?"
preparation_seconds = 30
answer_seconds = 120
minimum_answer_seconds = 30
attempts = 3
[[question]]
id = "q-priorities"
text = "It is Monday morning: forty unread emails, the phone ringing and a customer waiting in the chat. What do you do first?"
preparation_seconds = 20
answer_seconds = 60
attempts = 1
"#;

pub(super) fn base() -> crate::TestResult<State> {
    let iv = Interview::parse(INTERVIEW, std::path::Path::new("snap.toml"))?;
    let mut progress = Progress::new("snapshot-session", &iv.id, iv.questions.len(), 0);
    progress.device_test_passed = true;
    let now = Instant::now();
    let session = Session::new(Arc::new(iv), progress, PathBuf::from("/data/session"), now);
    let mut st = State::new(Settings::default(), session, now);
    st.devices.status = DeviceStatus::Ready {
        camera: "test".into(),
        microphone: "tone".into(),
    };
    st.devices.level = Some(Level {
        rms_dbfs: -24.0,
        peak_dbfs: -18.0,
        clipped: false,
    });
    st.devices.last_sound = Some(st.now);
    // A picture with a bright left half, so the preview is visible in the text snapshot.
    let mut frame = VideoFrame::filled(64, 36, 60, 128, 128, st.now);
    for row in 0..36 {
        for col in 0..32 {
            frame.data[row * 64 + col] = 200;
        }
    }
    st.devices.preview = Some(Arc::new(frame));
    Ok(st)
}

pub(super) fn draw(st: &State, w: u16, h: u16) -> crate::TestResult<String> {
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    let theme = Theme::standard(ColorDepth::Ansi16);
    terminal.draw(|f| super::view(st, &theme, f))?;
    Ok(format!("{}", terminal.backend()))
}

pub(super) fn snap(name: &str, st: &State) -> crate::TestResult {
    insta::assert_snapshot!(format!("{name}_80x24"), draw(st, 80, 24)?);
    insta::assert_snapshot!(format!("{name}_160x48"), draw(st, 160, 48)?);
    Ok(())
}

pub(super) fn take(st: &mut State, q: usize, state: TakeState) {
    st.session.progress.questions[q].takes.push(Take {
        file: format!("q{}-take1.mp4", q + 1),
        state,
        seconds: Some(47.0),
        note: None,
        submit_failed: false,
    });
}

/// The operator menu open on its second action, after staff granted one more attempt.
pub(super) fn operator_menu_after_a_grant(st: &mut State) {
    st.operator.step = crate::app::state::OperatorStep::Menu { selected: 1 };
    st.session.progress.grants = vec![crate::session::Grant {
        kind: crate::session::GrantKind::ExtraAttempt,
        question: 0,
        question_id: "q1".into(),
        amount: 1,
        at_unix: 0,
    }];
}

/// Every answer sent, on the done screen: the first delivered, the second on its way (45 of
/// 100), the third waiting for the network.
pub(super) fn done_while_sending(st: &mut State) {
    for q in 0..3 {
        take(st, q, TakeState::Submitted);
        st.session.progress.questions[q].delivery = if q == 0 {
            Delivery::Uploaded
        } else {
            Delivery::Queued
        };
    }
    st.record_upload(1, |u| {
        u.sent = 45;
        u.total = 100;
    });
    st.record_upload(2, |u| u.waiting = true);
    st.session.phase = Phase::Done {
        ends: st.now + Duration::from_secs(45),
    };
}

#[test]
fn welcome_and_overview() -> crate::TestResult {
    let mut st = base()?;
    snap("welcome", &st)?;
    st.session.phase = Phase::Overview;
    snap("overview", &st)?;
    // The same screens in German, as a candidate who picked it on the welcome screen sees them.
    st.session.text = crate::i18n::for_language("de");
    snap("overview_de", &st)?;
    st.session.phase = Phase::Questions { selected: 1 };
    snap("questions_de", &st)?;
    Ok(())
}

#[test]
fn device_test_screens() -> crate::TestResult {
    let mut st = base()?;
    st.session.progress.device_test_passed = false;
    st.session.phase = Phase::DeviceTest(TestStep::Ready);
    snap("device_test_ready", &st)?;
    st.session.phase = Phase::DeviceTest(TestStep::Recording {
        started: st.now - Duration::from_secs(3),
    });
    snap("device_test_recording", &st)?;
    st.session.phase = Phase::DeviceTest(TestStep::Review {
        checks: ClipChecks {
            picture: PictureVerdict::Ok,
            sound: AudioVerdict::Ok,
        },
        playing: false,
    });
    snap("device_test_review_good", &st)?;
    st.session.phase = Phase::DeviceTest(TestStep::Review {
        checks: ClipChecks {
            picture: PictureVerdict::Black,
            sound: AudioVerdict::NoSound,
        },
        playing: false,
    });
    snap("device_test_review_problems", &st)?;
    st.session.phase = Phase::DeviceTest(TestStep::Review {
        checks: ClipChecks {
            picture: PictureVerdict::Ok,
            sound: AudioVerdict::Ok,
        },
        playing: true,
    });
    st.session.playback.frame = st.devices.preview.clone();
    st.session.playback.position = Duration::from_secs(3);
    st.session.playback.length = Duration::from_secs(8);
    st.session.playback.level = Some(Level {
        rms_dbfs: -30.0,
        peak_dbfs: -24.0,
        clipped: false,
    });
    st.session.playback.silent = true;
    snap("device_test_review_playing", &st)?;
    st.session.playback = Default::default();
    st.session.phase = Phase::DeviceTest(TestStep::Ready);
    st.devices.status = DeviceStatus::Failed(crate::app::state::DeviceProblem::Camera);
    st.devices.preview = None;
    snap("device_test_no_camera", &st)?;
    Ok(())
}

#[test]
fn question_list() -> crate::TestResult {
    let mut st = base()?;
    take(&mut st, 0, TakeState::Submitted);
    st.session.progress.questions[0].delivery = Delivery::Queued;
    st.session.progress.questions[0].attempts_used = 1;
    st.session.phase = Phase::Questions { selected: 1 };
    snap("questions", &st)?;
    Ok(())
}

#[test]
fn answering() -> crate::TestResult {
    let mut st = base()?;
    st.session.phase = Phase::Question {
        q: 1,
        prep: Prep::Counting {
            ends: st.now + Duration::from_secs(21),
        },
    };
    snap("question_preparation", &st)?;
    Arc::make_mut(&mut st.session.interview).questions[1].video = Some(PathBuf::from("/q.mp4"));
    st.session.phase = Phase::Question {
        q: 1,
        prep: Prep::Watching { paused: false },
    };
    st.session.playback.frame = st.devices.preview.clone();
    st.session.playback.position = Duration::from_secs(4);
    st.session.playback.length = Duration::from_secs(11);
    st.session.playback.silent = true;
    snap("question_watching", &st)?;
    st.session.playback = Default::default();
    st.session.phase = Phase::Question {
        q: 1,
        prep: Prep::WaitingForSound,
    };
    st.devices.level = Some(Level {
        rms_dbfs: -70.0,
        peak_dbfs: -62.0,
        clipped: false,
    });
    st.devices.last_sound = None;
    snap("question_waiting_for_sound", &st)?;
    take(&mut st, 1, TakeState::Recording);
    st.devices.last_sound = Some(st.now - Duration::from_secs(4));
    st.session.phase = Phase::Recording {
        q: 1,
        take: 0,
        started: Some(st.now - Duration::from_secs(42)),
        stopping: false,
    };
    snap("recording_silent", &st)?;
    st.session.progress.questions[1].takes[0].state = TakeState::Saved;
    st.session.progress.questions[1].attempts_used = 1;
    st.session.phase = Phase::Review {
        q: 1,
        take: 0,
        playing: false,
    };
    snap("review", &st)?;
    Ok(())
}

#[test]
fn done_and_help() -> crate::TestResult {
    let mut st = base()?;
    done_while_sending(&mut st);
    snap("done", &st)?;
    st.session.phase = Phase::Questions { selected: 0 };
    st.session.help = true;
    snap("help", &st)?;
    Ok(())
}

#[test]
fn operator_and_idle_overlays() -> crate::TestResult {
    use crate::app::state::OperatorStep;
    let mut st = base()?;
    st.session.phase = Phase::Questions { selected: 1 };
    st.operator.step = OperatorStep::Pin {
        digits: "24".into(),
        checking: false,
    };
    st.operator.failures = 2;
    snap("operator_pin", &st)?;
    operator_menu_after_a_grant(&mut st);
    snap("operator_menu", &st)?;
    st.operator.step = OperatorStep::Closed;
    st.session.idle_ends = Some(st.now + Duration::from_secs(27));
    snap("idle_countdown", &st)?;
    Ok(())
}

#[test]
fn too_small_asks_for_a_larger_window() -> crate::TestResult {
    let st = base()?;
    let out = draw(&st, 60, 20)?;
    assert!(out.contains("Please make this window larger"), "{out}");
    insta::assert_snapshot!("too_small_60x20", out);
    Ok(())
}

#[test]
fn terminal_graphics_draw_the_picture_panes() -> crate::TestResult {
    let mut st = base()?;
    st.session.phase = Phase::DeviceTest(TestStep::Ready);
    let theme = Theme::standard(ColorDepth::Ansi16);
    let kitty = ratatui_image::picker::ProtocolType::Kitty;
    let mut gfx = super::graphics::Graphics::with_protocol(kitty, None);
    assert!(gfx.is_some());
    let mut terminal = Terminal::new(TestBackend::new(80, 24))?;
    terminal.draw(|f| super::view_with(&st, &theme, &mut gfx, f))?;
    let cells: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(cells.contains("\x1b_G"), "no kitty picture drawn");
    // Without graphics the same pane is text cells.
    assert!(!draw(&st, 80, 24)?.contains("\x1b_G"));
    Ok(())
}
