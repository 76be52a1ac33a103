//! Station rules: the PIN and its lockout, staff grants, lockdown, calling staff, idle reset.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::msg::{Effect, Key, Msg};
use crate::app::state::{
    Notice, OperatorPage, OperatorStep, Phase, Prep, Session, Settings, State,
};
use crate::app::update::update;
use crate::interview::fixture::{self, Q};
use crate::media::analyze::Level;
use crate::session::Progress;

fn state() -> crate::TestResult<State> {
    let iv = fixture::interview(
        "st",
        &[Q {
            id: "q1",
            preparation_seconds: 30,
            answer_seconds: 60,
            attempts: 1,
        }],
    )?;
    let settings = Settings {
        operator_pin: true,
        lockdown: true,
        idle_reset: Some(Duration::from_secs(120)),
        // Recording starts on the key here (the countdown has its own tests).
        countdown: Duration::ZERO,
        ..Settings::default()
    };
    let progress = Progress::new("s", "st", 1, 0);
    let now = Instant::now();
    let session = Session::new(Arc::new(iv), progress, PathBuf::from("/data/s"), now);
    let mut st = State::new(settings, session, now);
    st.session.progress.device_test_passed = true;
    st.session.phase = Phase::Questions { selected: 0 };
    Ok(st)
}

/// A key, without the activity notes (a test of its own checks those).
fn key(st: &mut State, k: Key) -> Vec<Effect> {
    update(st, Msg::Key(k))
        .into_iter()
        .filter(|e| !matches!(e, Effect::NoteActivity { .. }))
        .collect()
}

fn type_pin(st: &mut State, pin: &str) -> Vec<Effect> {
    key(st, Key::Operator);
    for c in pin.chars() {
        key(st, Key::Char(c));
    }
    key(st, Key::Enter)
}

fn tick(st: &mut State, d: Duration) -> Vec<Effect> {
    let now = st.now + d;
    update(st, Msg::Tick(now))
}

#[test]
fn the_pin_opens_the_menu_and_is_checked_off_the_screen() -> crate::TestResult {
    let mut st = state()?;
    let fx = type_pin(&mut st, "2468");
    assert_eq!(fx, vec![Effect::CheckPin { pin: "2468".into() }]);
    assert!(matches!(
        st.operator.step,
        OperatorStep::Pin { checking: true, .. }
    ));
    // Keys while checking change nothing.
    assert!(key(&mut st, Key::Char('9')).is_empty());
    update(&mut st, Msg::PinChecked { ok: true });
    assert_eq!(st.operator.step, OperatorStep::Menu { selected: 0 });
    key(&mut st, Key::Esc);
    assert_eq!(st.operator.step, OperatorStep::Closed);
    Ok(())
}

#[test]
fn five_wrong_pins_lock_the_menu_for_a_growing_time() -> crate::TestResult {
    let mut st = state()?;
    for _ in 0..5 {
        type_pin(&mut st, "0000");
        update(&mut st, Msg::PinChecked { ok: false });
    }
    assert_eq!(st.operator.step, OperatorStep::Closed);
    let first = st.operator.locked_until.ok_or("not locked")? - st.now;
    assert_eq!(first, Duration::from_secs(30));
    // While locked, F12 shows only the lockout.
    key(&mut st, Key::Operator);
    assert!(matches!(
        st.operator.step,
        OperatorStep::Page {
            page: OperatorPage::Locked,
            ..
        }
    ));
    key(&mut st, Key::Enter);
    assert_eq!(st.operator.step, OperatorStep::Closed);
    // After the lock, one more wrong PIN locks for twice as long.
    tick(&mut st, Duration::from_secs(31));
    type_pin(&mut st, "0000");
    update(&mut st, Msg::PinChecked { ok: false });
    assert_eq!(
        st.operator.locked_until.ok_or("not locked")? - st.now,
        Duration::from_secs(60)
    );
    // The right PIN resets the count.
    tick(&mut st, Duration::from_secs(61));
    type_pin(&mut st, "2468");
    update(&mut st, Msg::PinChecked { ok: true });
    assert_eq!(st.operator.failures, 0);
    Ok(())
}

#[test]
fn no_pin_configured_means_no_menu() -> crate::TestResult {
    let mut st = state()?;
    st.settings.operator_pin = false;
    key(&mut st, Key::Operator);
    assert_eq!(st.operator.step, OperatorStep::Closed);
    Ok(())
}

fn open_menu(st: &mut State) {
    type_pin(st, "2468");
    update(st, Msg::PinChecked { ok: true });
}

fn choose(st: &mut State, index: usize) -> Vec<Effect> {
    for _ in 0..index {
        key(st, Key::Down);
    }
    key(st, Key::Enter)
}

#[test]
fn staff_grant_attempts_and_time_and_they_are_recorded() -> crate::TestResult {
    let mut st = state()?;
    assert_eq!(st.attempts_left(0), 1);
    open_menu(&mut st);
    assert_eq!(choose(&mut st, 0), vec![st.save()]);
    assert_eq!(st.attempts_left(0), 2);
    assert_eq!(st.session.progress.questions[0].extra_attempts, 1);
    open_menu(&mut st);
    choose(&mut st, 1);
    assert_eq!(st.answer_limit(0), Duration::from_secs(120));
    // Extra preparation reaches a countdown already running.
    key(&mut st, Key::Enter);
    let Phase::Question {
        prep: Prep::Counting { ends },
        ..
    } = st.session.phase
    else {
        panic!("{:?}", st.session.phase)
    };
    open_menu(&mut st);
    choose(&mut st, 2);
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Counting {
                ends: ends + Duration::from_secs(60)
            }
        }
    );
    assert_eq!(st.session.progress.grants.len(), 3);
    Ok(())
}

#[test]
fn the_menu_asks_for_the_queue_and_diagnostics_and_can_quit() -> crate::TestResult {
    let mut st = state()?;
    open_menu(&mut st);
    assert_eq!(choose(&mut st, 3), vec![Effect::ShowUploadQueue]);
    update(
        &mut st,
        Msg::OperatorPage {
            page: OperatorPage::UploadQueue,
            lines: vec!["outbox: 0 file(s)".into()],
        },
    );
    assert!(matches!(st.operator.step, OperatorStep::Page { .. }));
    key(&mut st, Key::Char('x'));
    assert_eq!(st.operator.step, OperatorStep::Menu { selected: 0 });
    assert_eq!(choose(&mut st, 4), vec![Effect::RunDiagnostics]);
    let fx = {
        key(&mut st, Key::Esc);
        open_menu(&mut st);
        choose(&mut st, 7)
    };
    assert!(fx.contains(&Effect::Quit), "{fx:?}");
    Ok(())
}

#[test]
fn slow_diagnostics_fill_in_their_page_only_while_it_is_open() -> crate::TestResult {
    let page = |lines: &[&str]| Msg::OperatorPage {
        page: OperatorPage::Diagnostics,
        lines: lines.iter().map(|l| l.to_string()).collect(),
    };
    let later = |lines: &[&str]| Msg::OperatorPageUpdated {
        page: OperatorPage::Diagnostics,
        lines: lines.iter().map(|l| l.to_string()).collect(),
    };
    let mut st = state()?;
    open_menu(&mut st);
    assert_eq!(choose(&mut st, 4), vec![Effect::RunDiagnostics]);
    update(&mut st, page(&["camera: open", "…"]));
    update(&mut st, later(&["camera: open", "ok upload"]));
    assert_eq!(
        st.operator.step,
        OperatorStep::Page {
            page: OperatorPage::Diagnostics,
            lines: vec!["camera: open".into(), "ok upload".into()]
        }
    );
    // Back at the menu, or on another page: a late result does not take the screen.
    key(&mut st, Key::Esc);
    let before = st.operator.step.clone();
    update(&mut st, later(&["late"]));
    assert_eq!(st.operator.step, before);
    update(
        &mut st,
        Msg::OperatorPage {
            page: OperatorPage::UploadQueue,
            lines: vec![],
        },
    );
    update(&mut st, later(&["late"]));
    assert!(matches!(
        st.operator.step,
        OperatorStep::Page {
            page: OperatorPage::UploadQueue,
            ..
        }
    ));
    Ok(())
}

#[test]
fn lockdown_ignores_interrupts_but_not_a_stop_request() -> crate::TestResult {
    let mut st = state()?;
    assert!(update(&mut st, Msg::Interrupt).is_empty());
    assert!(!st.quitting);
    st.settings.lockdown = false;
    assert!(update(&mut st, Msg::Interrupt).contains(&Effect::Quit));
    let mut st = state()?;
    assert!(update(&mut st, Msg::Terminate).contains(&Effect::Quit));
    Ok(())
}

#[test]
fn help_calls_staff() -> crate::TestResult {
    let mut st = state()?;
    key(&mut st, Key::Help);
    assert_eq!(
        key(&mut st, Key::Char('c')),
        vec![Effect::CallStaff {
            session: st.session.progress.session_id.clone(),
            phase: "questions",
        }]
    );
    assert!(!st.session.help);
    assert_eq!(st.session.notice, Some(Notice::StaffCalled));
    // With the bell on, the loop is asked to ring it too (the executor never writes to the
    // terminal).
    st.settings.staff_bell = true;
    key(&mut st, Key::Help);
    let fx = key(&mut st, Key::Char('c'));
    assert_eq!(fx.last(), Some(&Effect::RingBell), "{fx:?}");
    Ok(())
}

#[test]
fn idle_counts_down_then_wipes_and_a_key_cancels() -> crate::TestResult {
    let mut st = state()?;
    assert!(tick(&mut st, Duration::from_secs(119)).is_empty());
    assert_eq!(st.session.idle_ends, None);
    tick(&mut st, Duration::from_secs(1));
    let ends = st.session.idle_ends.ok_or("the countdown did not start")?;
    assert_eq!(ends - st.now, Duration::from_secs(30));
    // A key says "still here" and does nothing else.
    assert!(key(&mut st, Key::Enter).is_empty());
    assert_eq!(st.session.idle_ends, None);
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    tick(&mut st, Duration::from_secs(120));
    let fx = tick(&mut st, Duration::from_secs(30));
    assert_eq!(
        fx,
        vec![
            Effect::StopPlayback,
            Effect::EndSession {
                session: "s".into(),
                dir: PathBuf::from("/data/s"),
                progress: Box::new(st.session.progress.clone()),
            }
        ]
    );
    // The new session brings back the welcome screen, in the interview's language.
    st.session.text = crate::i18n::for_language("de");
    let interview = st.session.interview.clone();
    update(
        &mut st,
        Msg::SessionStarted {
            progress: Progress::new("s2", "st", 1, 0),
            dir: PathBuf::from("/data/s2"),
            interview,
        },
    );
    assert_eq!(st.session.phase, Phase::Welcome(Default::default()));
    assert_eq!(st.session.text.code, "en");
    assert_eq!(st.session.progress.session_id, "s2");
    Ok(())
}

#[test]
fn never_idle_while_recording_or_on_the_welcome_screen() -> crate::TestResult {
    let mut st = state()?;
    st.devices.status = crate::app::state::DeviceStatus::Ready {
        camera: "cam".into(),
        microphone: "mic".into(),
    };
    update(
        &mut st,
        Msg::Level(Level {
            rms_dbfs: -20.0,
            peak_dbfs: -10.0,
            clipped: false,
        }),
    );
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    assert!(matches!(st.session.phase, Phase::Recording { .. }));
    tick(&mut st, Duration::from_secs(50));
    tick(&mut st, Duration::from_secs(200));
    assert_eq!(st.session.idle_ends, None);
    let mut welcome = state()?;
    welcome.session.phase = Phase::Welcome(Default::default());
    tick(&mut welcome, Duration::from_secs(1000));
    assert_eq!(welcome.session.idle_ends, None);
    Ok(())
}

/// Every field of a candidate's session set to something of theirs: a struct literal, so a
/// field added to `Session` must be added here too (and is then checked below).
fn lived_in(st: &State) -> Session {
    let mut progress = st.session.progress.clone();
    progress.candidate_ref = Some("WALK-IN-07".into());
    progress.current = Some(0);
    let frame = crate::media::frame::VideoFrame::filled(16, 16, 90, 128, 128, st.now);
    Session {
        interview: st.session.interview.clone(),
        progress,
        dir: PathBuf::from("/data/previous"),
        phase: Phase::Question {
            q: 0,
            prep: Prep::Ready,
        },
        notice: Some(Notice::StaffCalled),
        help: true,
        help_scroll: 7,
        text: crate::i18n::for_language("de"),
        playback: crate::app::state::Playback {
            frame: Some(Arc::new(frame)),
            position: Duration::from_secs(3),
            length: Duration::from_secs(9),
            level: None,
            silent: true,
        },
        uploads: vec![crate::app::state::UploadView {
            sent: 10,
            total: 20,
            waiting: true,
            refused: false,
        }],
        preview_hidden: true,
        video_plays: vec![2],
        last_input: st.now - Duration::from_secs(40),
        idle_ends: Some(st.now + Duration::from_secs(5)),
        activity_noted: Some(st.now),
    }
}

#[test]
fn a_new_session_leaves_nothing_of_the_last_candidate() -> crate::TestResult {
    let mut st = state()?;
    st.session = lived_in(&st);
    st.operator.failures = 2;
    tick(&mut st, Duration::from_secs(1));
    let next = Progress::new("next", "st", 1, 0);
    let interview = st.session.interview.clone();
    let fx = update(
        &mut st,
        Msg::SessionStarted {
            progress: next.clone(),
            dir: PathBuf::from("/data/next"),
            interview: interview.clone(),
        },
    );
    assert!(fx.is_empty());
    let fresh = Session::new(interview, next, PathBuf::from("/data/next"), st.now);
    assert_eq!(st.session, fresh);
    assert_eq!(st.session.text.code, "en");
    assert_eq!(st.session.phase, Phase::Welcome(Default::default()));
    // The station's own things stay: the operator's wrong PINs still count.
    assert_eq!(st.operator.failures, 2);
    Ok(())
}
