//! Every screen the kiosk can show, as sample states: each phase and its steps, each notice,
//! help, the idle countdown and the operator's overlays. The fit test, the snapshots (at 80×24
//! and 160×48, in every bundled language) and the key test (`keys_tests`) walk this one list.
//! A new `Phase`, `TestStep`, `Prep`, `Notice` or `OperatorStep` variant does not compile in
//! [`variant`] until it is given an index there, and then fails
//! `every_variant_has_a_sample` until a sample below shows it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::snapshots::{base, done_while_sending, operator_menu_after_a_grant, take};
use crate::app::msg::ClipChecks;
use crate::app::state::{
    CodeEntry, CodeMode, CodeProblem, DeviceProblem, DeviceStatus, Notice, OperatorPage,
    OperatorStep, Phase, PracticeStep, Prep, Slot, State, Target, TestStep,
};
use crate::interview::{Consent, Practice};
use crate::media::analyze::{AudioVerdict, Level, PictureVerdict};
use crate::session::{Delivery, TakeState};

/// One sample screen: a name for its snapshot and the state it is drawn from.
pub(super) struct Screen {
    pub name: String,
    pub state: State,
}

/// Which variant a state shows, per enum, for the coverage check: (enum, index, of how many).
fn variant(st: &State) -> Vec<(&'static str, usize, usize)> {
    let phase = match &st.session.phase {
        Phase::Welcome(_) => 0,
        Phase::Consent => 1,
        Phase::Declined { .. } => 2,
        Phase::Overview => 3,
        Phase::DeviceTest(_) => 4,
        Phase::Questions { .. } => 5,
        Phase::Question { .. } => 6,
        Phase::Recording { .. } => 7,
        Phase::Review { .. } => 8,
        Phase::Submitting { .. } => 9,
        Phase::Done { .. } => 10,
        Phase::Resetting => 11,
        Phase::OutOfOrder => 12,
        Phase::Countdown { .. } => 13,
        Phase::Practice(_) => 14,
    };
    let mut out = vec![("Phase", phase, 15)];
    if let Phase::Practice(step) = &st.session.phase {
        let i = match step {
            PracticeStep::Ready => 0,
            PracticeStep::WaitingForSound => 1,
            PracticeStep::Recording { .. } => 2,
            PracticeStep::Review { .. } => 3,
        };
        out.push(("PracticeStep", i, 4));
    }
    if let Phase::DeviceTest(step) = &st.session.phase {
        let i = match step {
            TestStep::Ready => 0,
            TestStep::Recording { .. } => 1,
            TestStep::Saving => 2,
            TestStep::Review { .. } => 3,
        };
        out.push(("TestStep", i, 4));
    }
    if let Phase::Question { prep, .. } = &st.session.phase {
        let i = match prep {
            Prep::Watching { .. } => 0,
            Prep::Counting { .. } => 1,
            Prep::Ready => 2,
            Prep::WaitingForSound => 3,
        };
        out.push(("Prep", i, 4));
    }
    if let Some(n) = st.session.notice {
        let i = match n {
            Notice::TestClipFailed => 0,
            Notice::AnswerInterrupted => 1,
            Notice::AnswerDidNotStart => 2,
            Notice::StaffCalled => 3,
            Notice::SubmitFailed => 4,
            Notice::NoSpace => 5,
            Notice::VideoFailed => 6,
            Notice::PracticeFailed => 7,
            Notice::DeviceLost(_) => 8,
            Notice::DevicesBack => 9,
        };
        out.push(("Notice", i, 10));
    }
    let op = match &st.operator.step {
        OperatorStep::Closed => 0,
        OperatorStep::Pin { .. } => 1,
        OperatorStep::Menu { .. } => 2,
        OperatorStep::Code { .. } => 3,
        OperatorStep::Page { .. } => 4,
    };
    out.push(("OperatorStep", op, 5));
    out
}

fn with_consent(st: &mut State) {
    Arc::make_mut(&mut st.session.interview).consent = Some(Consent::new(
        None,
        "This interview records video and sound of you while you answer. The recordings go to \
         the recruiting team only, to assess your application.\n\nThey are kept for 6 months \
         and then deleted. You can ask to see them or have them deleted sooner at any time."
            .into(),
    ));
}

fn playing(st: &mut State, position: u64, length: u64) {
    st.session.playback.frame = st.devices.preview.clone();
    st.session.playback.position = Duration::from_secs(position);
    st.session.playback.length = Duration::from_secs(length);
    st.session.playback.level = Some(Level {
        rms_dbfs: -30.0,
        peak_dbfs: -24.0,
        clipped: false,
    });
    st.session.playback.silent = true;
}

/// Every sample screen, in English (the callers switch the language).
pub(super) fn every_screen() -> crate::TestResult<Vec<Screen>> {
    let mut out = Vec::new();
    let mut add = |name: &str, st: State| {
        out.push(Screen {
            name: name.to_string(),
            state: st,
        })
    };
    arrival(&mut add)?;
    device_test(&mut add)?;
    answering(&mut add)?;
    departure(&mut add)?;
    practice(&mut add)?;
    overlays(&mut add)?;
    Ok(out)
}

type Add<'a> = dyn FnMut(&str, State) + 'a;

fn arrival(add: &mut Add<'_>) -> crate::TestResult {
    let st = base()?;
    add("welcome_any_key", st.clone());
    let mut codes = st.clone();
    codes.settings.codes = CodeMode::Required;
    codes.settings.roster = true;
    let problems = [
        CodeProblem::Empty,
        CodeProblem::TooShort { min: 6 },
        CodeProblem::TooLong { max: 24 },
        CodeProblem::BadCharacter,
        CodeProblem::Unknown,
        CodeProblem::NotYet,
        CodeProblem::Expired,
        CodeProblem::Used,
        CodeProblem::NoInterview,
        CodeProblem::NoRoster,
    ];
    for (i, problem) in problems.into_iter().enumerate() {
        codes.session.phase = Phase::Welcome(CodeEntry {
            typed: "XK7-44".into(),
            problem: Some(problem),
            checking: false,
        });
        add(&format!("welcome_code_problem_{i}"), codes.clone());
    }
    codes.settings.codes = CodeMode::Optional;
    codes.settings.roster = false;
    codes.session.phase = Phase::Welcome(CodeEntry {
        typed: "XK7-4410-QZ".into(),
        problem: None,
        checking: true,
    });
    add("welcome_code_optional_checking", codes);
    let mut st = st;
    with_consent(&mut st);
    st.session.phase = Phase::Consent;
    add("consent", st.clone());
    st.session.phase = Phase::Declined {
        ends: st.now + Duration::from_secs(20),
    };
    add("declined", st.clone());
    st.session.phase = Phase::Overview;
    add("overview", st);
    Ok(())
}

fn device_test(add: &mut Add<'_>) -> crate::TestResult {
    let mut st = base()?;
    st.session.progress.device_test_passed = false;
    st.session.phase = Phase::DeviceTest(TestStep::Ready);
    add("device_test_ready", st.clone());
    st.session.phase = Phase::DeviceTest(TestStep::Recording {
        started: st.now - Duration::from_secs(3),
    });
    add("device_test_recording", st.clone());
    st.session.phase = Phase::DeviceTest(TestStep::Saving);
    add("device_test_saving", st.clone());
    let verdicts = [
        (PictureVerdict::Ok, AudioVerdict::Ok),
        (PictureVerdict::NoPicture, AudioVerdict::NoSound),
        (PictureVerdict::Black, AudioVerdict::TooQuiet),
        (PictureVerdict::Frozen, AudioVerdict::Clipping),
    ];
    for (i, (picture, sound)) in verdicts.into_iter().enumerate() {
        st.session.phase = Phase::DeviceTest(TestStep::Review {
            checks: ClipChecks { picture, sound },
            playing: false,
        });
        add(&format!("device_test_review_{i}"), st.clone());
    }
    let mut play = st.clone();
    play.session.phase = Phase::DeviceTest(TestStep::Review {
        checks: ClipChecks {
            picture: PictureVerdict::Ok,
            sound: AudioVerdict::Ok,
        },
        playing: true,
    });
    playing(&mut play, 3, 8);
    add("device_test_review_playing", play);
    st.session.phase = Phase::DeviceTest(TestStep::Ready);
    st.devices.preview = None;
    let problems = [
        DeviceProblem::CameraBusy,
        DeviceProblem::Camera,
        DeviceProblem::Microphone,
        DeviceProblem::Devices,
    ];
    for (i, problem) in problems.into_iter().enumerate() {
        st.devices.status = DeviceStatus::Failed(problem);
        add(&format!("device_test_problem_{i}"), st.clone());
    }
    st.devices.status = DeviceStatus::Opening;
    st.devices.level = None;
    add("device_test_opening", st);
    Ok(())
}

fn answering(add: &mut Add<'_>) -> crate::TestResult {
    let mut st = base()?;
    take(&mut st, 0, TakeState::Submitted);
    st.session.progress.questions[0].delivery = Delivery::Queued;
    st.session.progress.questions[0].attempts_used = 1;
    take(&mut st, 2, TakeState::Saved);
    Arc::make_mut(&mut st.session.interview).questions[1].video = Some(PathBuf::from("/q.mp4"));
    for selected in 0..3 {
        st.session.phase = Phase::Questions { selected };
        add(&format!("questions_{selected}"), st.clone());
    }
    let mut watch = st.clone();
    watch.session.phase = Phase::Question {
        q: 1,
        prep: Prep::Watching { paused: false },
    };
    playing(&mut watch, 4, 11);
    add("question_watching", watch);
    let preps = [
        (
            "counting",
            1,
            Prep::Counting {
                ends: st.now + Duration::from_secs(21),
            },
        ),
        ("ready", 0, Prep::Ready),
        ("waiting_for_sound", 2, Prep::WaitingForSound),
    ];
    for (name, q, prep) in preps {
        let mut shown = st.clone();
        shown.session.phase = Phase::Question { q, prep };
        if prep == Prep::WaitingForSound {
            // Too quiet for the gate: the meter asks for a word.
            shown.devices.level = Some(Level {
                rms_dbfs: -70.0,
                peak_dbfs: -62.0,
                clipped: false,
            });
            shown.devices.last_sound = None;
        }
        add(&format!("question_{name}"), shown);
    }
    recording(add, st.clone())?;
    review(add, st)
}

fn recording(add: &mut Add<'_>, mut st: State) -> crate::TestResult {
    take(&mut st, 1, TakeState::Recording);
    st.session.phase = Phase::Recording {
        q: 1,
        take: 0,
        started: None,
        stopping: false,
    };
    add("recording_starting", st.clone());
    st.session.phase = Phase::Recording {
        q: 1,
        take: 0,
        started: Some(st.now - Duration::from_secs(12)),
        stopping: false,
    };
    st.devices.last_sound = Some(st.now - Duration::from_secs(11));
    add("recording_too_soon_to_stop_silent", st.clone());
    st.session.phase = Phase::Recording {
        q: 1,
        take: 0,
        started: Some(st.now - Duration::from_secs(42)),
        stopping: false,
    };
    st.devices.last_sound = Some(st.now);
    add("recording", st.clone());
    st.session.preview_hidden = true;
    add("recording_hidden", st);
    Ok(())
}

fn review(add: &mut Add<'_>, mut st: State) -> crate::TestResult {
    take(&mut st, 1, TakeState::Saved);
    st.session.progress.questions[1].attempts_used = 1;
    st.session.phase = Phase::Review {
        q: 1,
        take: 0,
        playing: false,
    };
    add("review", st.clone());
    let mut play = st.clone();
    play.session.phase = Phase::Review {
        q: 1,
        take: 0,
        playing: true,
    };
    playing(&mut play, 20, 47);
    add("review_playing", play);
    st.session.progress.questions[1].takes[0].state = TakeState::Interrupted;
    st.session.progress.questions[1].attempts_used = 3;
    add("review_interrupted_last_attempt", st.clone());
    st.session.phase = Phase::Submitting { q: 1, take: 0 };
    add("submitting", st);
    Ok(())
}

fn departure(add: &mut Add<'_>) -> crate::TestResult {
    let mut st = base()?;
    done_while_sending(&mut st);
    add("done_sending", st.clone());
    st.settings.keeps_copies = true;
    add("done_sending_kept", st.clone());
    st.settings.target = Target::Folder;
    for q in 0..3 {
        st.session.progress.questions[q].delivery = Delivery::Uploaded;
    }
    add("done_in_folder", st.clone());
    st.session.phase = Phase::Resetting;
    add("resetting", st.clone());
    st.session.phase = Phase::OutOfOrder;
    add("out_of_order", st);
    Ok(())
}

/// The practice question's steps and the 3-2-1 before a recording.
fn practice(add: &mut Add<'_>) -> crate::TestResult {
    let mut st = base()?;
    Arc::make_mut(&mut st.session.interview).practice = Some(Practice {
        text: "For practice: tell us what you had for breakfast today.".into(),
        answer_limit: Duration::from_secs(60),
    });
    st.session.phase = Phase::Practice(PracticeStep::Ready);
    add("practice_ready", st.clone());
    st.session.phase = Phase::Practice(PracticeStep::WaitingForSound);
    st.devices.last_sound = None;
    add("practice_waiting_for_sound", st.clone());
    st.session.phase = Phase::Practice(PracticeStep::Recording {
        started: Some(st.now - Duration::from_secs(7)),
        stopping: false,
    });
    st.devices.last_sound = Some(st.now);
    add("practice_recording", st.clone());
    st.session.phase = Phase::Practice(PracticeStep::Review {
        playing: false,
        seconds: 7.0,
    });
    add("practice_review", st.clone());
    for (name, slot) in [
        ("practice", Slot::Practice),
        ("question", Slot::Question(1)),
    ] {
        st.session.phase = Phase::Countdown {
            slot,
            ends: st.now + Duration::from_secs(2),
        };
        add(&format!("countdown_{name}"), st.clone());
    }
    let mut paused = base()?;
    Arc::make_mut(&mut paused.session.interview).questions[1].video = Some(PathBuf::from("/q.mp4"));
    paused.session.phase = Phase::Question {
        q: 1,
        prep: Prep::Watching { paused: true },
    };
    playing(&mut paused, 4, 11);
    add("question_watching_paused", paused);
    Ok(())
}

fn overlays(add: &mut Add<'_>) -> crate::TestResult {
    let mut st = base()?;
    st.session.phase = Phase::Questions { selected: 1 };
    let notices = [
        Notice::TestClipFailed,
        Notice::AnswerInterrupted,
        Notice::AnswerDidNotStart,
        Notice::StaffCalled,
        Notice::SubmitFailed,
        Notice::NoSpace,
        Notice::VideoFailed,
        Notice::PracticeFailed,
        Notice::DeviceLost(DeviceProblem::Camera),
        Notice::DevicesBack,
    ];
    for (i, notice) in notices.into_iter().enumerate() {
        st.session.notice = Some(notice);
        add(&format!("notice_{i}"), st.clone());
    }
    st.session.notice = None;
    st.session.help = true;
    add("help", st.clone());
    st.session.help_scroll = 99;
    add("help_scrolled_to_the_end", st.clone());
    st.session.help = false;
    st.session.help_scroll = 0;
    st.session.idle_ends = Some(st.now + Duration::from_secs(27));
    add("idle_countdown", st.clone());
    st.session.idle_ends = None;
    st.operator.step = OperatorStep::Pin {
        digits: "24".into(),
        checking: false,
    };
    st.operator.failures = 2;
    add("operator_pin", st.clone());
    operator_menu_after_a_grant(&mut st);
    add("operator_menu", st.clone());
    st.operator.step = OperatorStep::Code {
        typed: "WALK-IN-07".into(),
    };
    add("operator_code", st.clone());
    st.operator.step = OperatorStep::Page {
        page: OperatorPage::UploadQueue,
        lines: vec![
            "2 answers waiting: 14.2 MB".into(),
            "q-team take 1: sending 45%".into(),
        ],
    };
    add("operator_page", st);
    Ok(())
}

#[test]
fn every_variant_has_a_sample() -> crate::TestResult {
    let mut seen: std::collections::BTreeMap<&str, (Vec<bool>, usize)> = Default::default();
    for screen in every_screen()? {
        for (name, i, of) in variant(&screen.state) {
            let entry = seen.entry(name).or_insert_with(|| (vec![false; of], of));
            entry.0[i] = true;
        }
    }
    for (name, (covered, _)) in &seen {
        let missing: Vec<usize> = (0..covered.len()).filter(|i| !covered[*i]).collect();
        assert!(
            missing.is_empty(),
            "no sample screen shows {name} variant(s) {missing:?}"
        );
    }
    assert_eq!(seen.len(), 6, "{:?}", seen.keys());
    Ok(())
}
