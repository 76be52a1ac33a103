//! A whole interview through the kiosk's real run loop (`app::run::run`: messages in, `update`,
//! effects to the real executor, drawing into a `TestBackend`), with the synthetic camera and
//! microphone recording for real and fake time for the flow's own clocks (preparation
//! countdowns pass in an instant). Every submitted answer must be a valid MP4 delivered with
//! the manifest, the device-test clip must be gone, and the candidate's Finish must wipe the
//! session and bring the next one to the welcome screen.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use booth::app::effects::{DeviceSettings, Executor};
use booth::app::msg::{Key, Msg};
use booth::app::run::{Screen, Watchers, Workers};
use booth::app::state::{DeviceStatus, Phase, Prep, Session, Settings, State, TestStep};
use booth::interview::Interview;
use booth::media::source::{AudioSpec, VideoRequest, VideoSpec};
use booth::session::{Delivery, Progress, TakeState};
use booth::ui::theme::{ColorDepth, Theme};
use futures::Stream;
use futures::channel::mpsc as input;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};

const INTERVIEW: &str = r#"
id = "flow"
title = "Flow test"
intro = "Three short questions."
language = "en"
[support]
contact = "Ask the desk."
[[question]]
id = "q-one"
text = "One?"
preparation_seconds = 20
answer_seconds = 30
attempts = 2
[[question]]
id = "q-two"
text = "Two?"
preparation_seconds = 0
answer_seconds = 30
attempts = 1
[[question]]
id = "q-three"
text = "Three?"
preparation_seconds = 10
answer_seconds = 10
attempts = 1
"#;

/// The candidate's side of the loop: keys in, the state as the loop publishes it after every
/// message, and the flow's clock, which runs `skew` ahead of real time.
struct Candidate {
    keys: input::UnboundedSender<Msg>,
    state: watch::Receiver<State>,
    skew: Arc<Mutex<Duration>>,
}

impl Candidate {
    fn now(&self) -> Instant {
        Instant::now() + *self.skew.lock().unwrap()
    }

    fn send(&self, msg: Msg) {
        self.keys.unbounded_send(msg).unwrap();
    }

    fn key(&self, k: Key) {
        self.send(Msg::Key(k));
    }

    /// Moves the flow's clock forward without waiting.
    fn jump(&self, d: Duration) {
        *self.skew.lock().unwrap() += d;
        self.send(Msg::Tick(self.now()));
    }

    /// Waits until the state the loop published satisfies `done`; returns that state.
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) -> State {
        let wait = self.state.wait_for(done);
        let found = match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(Ok(state)) => Some(state.clone()),
            Ok(Err(_)) => panic!("the loop ended while waiting for {what}"),
            Err(_) => None,
        };
        if let Some(state) = found {
            return state;
        }
        let s = self.state.borrow();
        panic!(
            "timed out waiting for {what}; phase {:?}, notice {:?}",
            s.session.phase, s.session.notice
        )
    }
}

/// Times the loop rang the bell (through the terminal's backend, as `tui::ring_bell` does).
static BELLS: AtomicUsize = AtomicUsize::new(0);

fn ring(_: &mut TestBackend) -> std::io::Result<()> {
    BELLS.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// The flow's ticks: every 20 ms of real time, stamped with the flow's (skewed) clock.
fn ticks(skew: Arc<Mutex<Duration>>) -> impl Stream<Item = Msg> + Unpin {
    let every = tokio::time::interval(Duration::from_millis(20));
    Box::pin(futures::stream::unfold(
        (every, skew),
        |(mut every, skew)| async move {
            every.tick().await;
            let now = Instant::now() + *skew.lock().unwrap();
            Some((Msg::Tick(now), (every, skew)))
        },
    ))
}

/// Waits (up to 20 s) for something on disk, checking every 50 ms.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real executor on the synthetic camera and microphone.
fn executor(
    data: &Path,
    interview: &Interview,
    tx: mpsc::UnboundedSender<Msg>,
    uploads: (
        booth::upload::UploadHandle,
        mpsc::UnboundedReceiver<booth::upload::UploadEvent>,
    ),
) -> Executor {
    Executor::new(
        DeviceSettings {
            video: VideoSpec::Test,
            audio: AudioSpec::Tone,
            request: VideoRequest {
                width: 320,
                height: 240,
                fps: 30,
            },
            pace: booth::media::source::Pace::Realtime,
            video_kbps: 400,
            audio_kbps: 64,
            sound_output: false,
            pin_hash: None,
            receipt_command: None,
            outbox: data.join("outbox"),
            station_id: "flow-station".into(),
            services: Default::default(),
        },
        booth::app::effects::StationFiles {
            data_dir: data.to_path_buf(),
            catalog: Arc::new(booth::interview::Catalog::single(interview.clone())),
            roster: None,
        },
        tx,
        uploads,
    )
}

fn valid_answer(path: &Path, at_least: f64) {
    common::assert_decodes_cleanly(path);
    let p = common::probe(path);
    assert_eq!(p.video().codec_name, "h264");
    assert_eq!(p.audio().codec_name, "aac");
    let d = p.video().duration.unwrap();
    assert!(d >= at_least, "{} lasts {d} s", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_interview_through_the_real_loop() {
    let data = tempfile::tempdir().unwrap();
    let session_dir = data.path().join("sessions/s1");
    let delivered = data.path().join("delivered");
    // The real upload service, delivering to a directory (the platform stand-in).
    let config = booth::config::Config::parse(
        &format!(
            "[station]\ndata_dir = \"{}\"\n[upload]\nendpoint = \"dir:{}\"\n",
            data.path().display(),
            delivered.display()
        ),
        Path::new("/flow/config.toml"),
    )
    .unwrap();
    let uploads =
        booth::upload::UploadService::start(&config, &booth::upload::outbox_dir(&config)).unwrap();
    let mut interview = Interview::parse(INTERVIEW, Path::new("flow.toml")).unwrap();
    // Shorter than an interview file may ask for, to keep the test quick.
    interview.questions[2].answer_limit = Duration::from_secs(3);
    let interview = Arc::new(interview);
    let progress = Progress::for_interview("s1", &interview, 0);
    let settings = Settings {
        test_clip: Duration::from_secs(4),
        test_clip_minimum: Duration::from_secs(2),
        staff_bell: true,
        ..Settings::default()
    };
    let (tx, reports) = mpsc::unbounded_channel();
    let executor = executor(data.path(), &interview, tx, uploads);
    let now = Instant::now();
    let session = Session::new(interview, progress, session_dir.clone(), now);
    let state = State::new(settings, session, now);
    let (watch_tx, watch_rx) = watch::channel(state.clone());
    let (keys, keys_rx) = input::unbounded();
    let skew = Arc::new(Mutex::new(Duration::ZERO));
    let candidate = Candidate {
        keys,
        state: watch_rx,
        skew: skew.clone(),
    };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let kiosk = booth::app::run::run(
        Screen {
            terminal: &mut terminal,
            theme: Theme::standard(ColorDepth::Ansi16),
            graphics: None,
            bell: Some(ring),
        },
        Watchers {
            status: Some(booth::status::StatusFiles {
                data_dir: data.path().to_path_buf(),
                station_id: "flow".into(),
                textfile: None,
            }),
            state: Some(watch_tx),
        },
        state,
        futures::stream::select(keys_rx, ticks(skew)),
        Workers {
            executor,
            reports,
            first: Vec::new(),
        },
    );
    let (ended, ()) = tokio::join!(kiosk, interview_script(candidate, &session_dir, &delivered));
    let ended = ended.unwrap();

    // The loop ended on the next candidate's welcome, having drawn the screens (the last one
    // drawn may be the done screen: a quit is not drawn) and kept the station's status.
    assert!(
        matches!(ended.session.phase, Phase::Welcome(_)),
        "{:?}",
        ended.session.phase
    );
    assert_ne!(ended.session.progress.session_id, "s1");
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("Flow test"), "{screen}");
    let status = booth::status::KioskStatus::read(data.path()).unwrap();
    assert_eq!(status.interview, "flow");
}

/// The candidate's interview, key by key, with what each step must have done.
async fn interview_script(mut c: Candidate, session_dir: &Path, delivered: &Path) {
    device_test(&mut c).await;
    first_question(&mut c).await;
    other_questions(&mut c).await;
    delivered_and_finished(c, session_dir, delivered).await;
}

/// Welcome → overview → device test, with its clip recorded, checked and played back.
async fn device_test(c: &mut Candidate) {
    // Welcome → overview; there the candidate calls staff from the help, and the loop rings
    // the bell.
    c.key(Key::Char('x'));
    c.until("the overview", |s| s.session.phase == Phase::Overview)
        .await;
    c.key(Key::Help);
    c.key(Key::Char('c'));
    c.until("staff called", |s| {
        s.session.notice == Some(booth::app::state::Notice::StaffCalled)
    })
    .await;
    assert_eq!(BELLS.load(Ordering::SeqCst), 1);
    // Device test: the camera and microphone open.
    c.key(Key::Enter);
    c.until("the devices", |s| {
        matches!(s.devices.status, DeviceStatus::Ready { .. })
    })
    .await;
    c.until("a picture and a level", |s| {
        s.devices.preview.is_some() && s.devices.level.is_some()
    })
    .await;

    // The test clip: record, stop after the minimum, automatic checks, play it back.
    c.key(Key::Char('r'));
    c.until("the test clip to record", |s| {
        matches!(
            s.session.phase,
            Phase::DeviceTest(TestStep::Recording { .. })
        )
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    c.key(Key::Char('s'));
    let st = c
        .until("the clip checks", |s| {
            matches!(s.session.phase, Phase::DeviceTest(TestStep::Review { .. }))
        })
        .await;
    let Phase::DeviceTest(TestStep::Review { checks, .. }) = st.session.phase else {
        unreachable!()
    };
    assert!(
        checks.all_good(),
        "synthetic devices failed the checks: {checks:?}"
    );
    let clip = st.test_clip_path();
    assert!(clip.exists());
    c.key(Key::Char('p'));
    c.until("the clip to play", |s| s.session.playback.frame.is_some())
        .await;
    c.key(Key::Enter);
    c.until("the question list", |s| {
        s.session.phase == Phase::Questions { selected: 0 }
    })
    .await;
    eventually("the test clip to be deleted", || !clip.exists()).await;
}

/// Question 1: preparation runs out in flow time; the tone opens the gate; record 2 s,
/// re-record once, then send the second take.
async fn first_question(c: &mut Candidate) {
    c.key(Key::Enter);
    c.until("the preparation countdown", |s| {
        matches!(
            s.session.phase,
            Phase::Question {
                q: 0,
                prep: Prep::Counting { .. }
            }
        )
    })
    .await;
    c.jump(Duration::from_secs(21));
    c.until("recording to start", |s| {
        matches!(
            s.session.phase,
            Phase::Recording {
                started: Some(_),
                ..
            }
        )
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.key(Key::Char('s'));
    let st = c
        .until("the take", |s| {
            matches!(s.session.phase, Phase::Review { .. })
        })
        .await;
    let first_take = st.take_path(0, 0);
    assert!(first_take.exists());
    c.key(Key::Char('r'));
    c.key(Key::Enter);
    c.until("recording again", |s| {
        matches!(
            s.session.phase,
            Phase::Recording {
                take: 1,
                started: Some(_),
                ..
            }
        )
    })
    .await;
    eventually("the replaced take to be deleted", || !first_take.exists()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.key(Key::Char('s'));
    let st = c
        .until("the second take", |s| {
            matches!(s.session.phase, Phase::Review { take: 1, .. })
        })
        .await;
    assert_eq!(st.session.progress.questions[0].attempts_used, 2);
    c.key(Key::Enter);
    c.until("the answer in the outbox", |s| {
        s.session.progress.questions[0].delivery != Delivery::NotSubmitted
    })
    .await;
}

/// Questions 2 (started by the candidate) and 3 (stopped by its limit).
async fn other_questions(c: &mut Candidate) {
    // Question 2: no preparation, the candidate starts; 2 s; sent.
    c.until("the list", |s| {
        s.session.phase == Phase::Questions { selected: 1 }
    })
    .await;
    c.key(Key::Enter);
    c.key(Key::Enter);
    c.until("recording", |s| {
        matches!(
            s.session.phase,
            Phase::Recording {
                q: 1,
                started: Some(_),
                ..
            }
        )
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.key(Key::Char('s'));
    c.until("the take", |s| {
        matches!(s.session.phase, Phase::Review { q: 1, .. })
    })
    .await;
    c.key(Key::Enter);
    c.until("the list", |s| {
        s.session.phase == Phase::Questions { selected: 2 }
    })
    .await;

    // Question 3: the 3 s limit stops the recording by itself.
    c.key(Key::Enter);
    c.until("the preparation countdown", |s| {
        matches!(s.session.phase, Phase::Question { q: 2, .. })
    })
    .await;
    c.jump(Duration::from_secs(11));
    let st = c
        .until("the limit to stop it", |s| {
            matches!(s.session.phase, Phase::Review { q: 2, .. })
        })
        .await;
    let seconds = st.session.progress.questions[2].takes[0].seconds.unwrap();
    assert!((seconds - 3.0).abs() < 0.2, "limit of 3 s gave {seconds} s");
    c.key(Key::Enter);
    c.until("the last answer in the outbox", |s| {
        matches!(s.session.phase, Phase::Done { .. })
    })
    .await;
}

/// Everything delivered with the manifest; Finish wipes the session for the next candidate.
async fn delivered_and_finished(mut c: Candidate, session_dir: &Path, delivered: &Path) {
    // Every answer reaches the platform (here a directory) and the screen says so.
    let st = c
        .until("all deliveries", |s| {
            s.session
                .progress
                .questions
                .iter()
                .all(|q| q.delivery == Delivery::Uploaded)
        })
        .await;
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Discarded
    );
    // The saved progress agrees with the screen.
    eventually("the progress saved with every answer", || {
        Progress::load(session_dir)
            .ok()
            .flatten()
            .is_some_and(|p| p.all_submitted() && p.questions.iter().all(|q| q.answer_id.is_some()))
    })
    .await;
    let saved = Progress::load(session_dir).unwrap().unwrap();
    // The session manifest follows the answers, naming each of them.
    let manifest = || {
        std::fs::read_dir(delivered)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.to_string_lossy();
                name.ends_with(".json") && !name.ends_with(".meta.json")
            })
    };
    eventually("the manifest", || manifest().is_some()).await;
    let text = std::fs::read_to_string(manifest().unwrap()).unwrap();
    for q in &saved.questions {
        assert!(text.contains(q.answer_id.as_deref().unwrap()), "{text}");
    }
    assert!(
        text.contains(&saved.receipt_code()),
        "receipt not in the manifest: {text}"
    );

    // One valid MP4 per answer delivered (the second take of question 1); no test clip.
    let mut files: Vec<PathBuf> = std::fs::read_dir(delivered)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        valid_answer(f, 1.5);
        assert!(!f.to_string_lossy().contains("device-test"));
    }

    // Finish: the loop's executor wipes the session and the next candidate is welcomed.
    c.key(Key::Enter);
    c.until("the next candidate", |s| {
        matches!(s.session.phase, Phase::Welcome(_)) && s.session.progress.session_id != "s1"
    })
    .await;
    assert!(!session_dir.exists(), "the finished session was not wiped");
    assert_eq!(booth_mp4s(delivered), 3, "a wipe touched delivered answers");
    c.send(Msg::Terminate);
}

fn booth_mp4s(dir: &Path) -> usize {
    common::mp4s_in(dir).len()
}
