//! A whole interview driven by scripted messages: the real `update`, the real effect executor
//! with the synthetic camera and microphone recording for real, and fake time for the flow's
//! own clocks (preparation countdowns pass in an instant). Every submitted answer must be a
//! valid MP4 in the outbox, and the device-test clip must be gone.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use booth::app::effects::{DeviceSettings, Executor};
use booth::app::msg::{Effect, Key, Msg};
use booth::app::state::{DeviceStatus, Phase, Prep, Settings, State, TestStep};
use booth::app::update::update;
use booth::interview::Interview;
use booth::media::source::{AudioSpec, VideoRequest, VideoSpec};
use booth::session::{Delivery, Progress, TakeState};
use tokio::sync::mpsc;

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

/// The flow with a fake clock: `skew` is how far the flow's time runs ahead of real time.
struct Harness {
    state: State,
    executor: Executor,
    reports: mpsc::UnboundedReceiver<Msg>,
    skew: Duration,
    effects: Vec<Effect>,
}

impl Harness {
    fn now(&self) -> Instant {
        Instant::now() + self.skew
    }

    async fn send(&mut self, msg: Msg) {
        let fx = update(&mut self.state, msg);
        for e in fx {
            self.effects.push(e.clone());
            match e {
                Effect::Quit => {}
                other => self.executor.execute(other).await,
            }
        }
    }

    async fn key(&mut self, k: Key) {
        self.send(Msg::Key(k)).await;
    }

    /// Moves the flow's clock forward without waiting.
    async fn jump(&mut self, d: Duration) {
        self.skew += d;
        let now = self.now();
        self.send(Msg::Tick(now)).await;
    }

    /// Delivers worker reports and ticks (in the flow's time) until `done` holds.
    async fn pump_until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(&self.state) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; phase {:?}, notice {:?}",
                self.state.phase,
                self.state.notice
            );
            let msg = tokio::select! {
                Some(m) = self.reports.recv() => m,
                _ = tokio::time::sleep(Duration::from_millis(20)) => Msg::Tick(self.now()),
            };
            self.send(msg).await;
        }
    }

    /// Lets `d` of real time pass with the flow running.
    async fn run_for(&mut self, d: Duration) {
        let until = Instant::now() + d;
        self.pump_until("time to pass", |_| Instant::now() >= until)
            .await;
    }
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
async fn a_whole_interview_produces_one_mp4_per_answer_and_no_test_clip() {
    let data = tempfile::tempdir().unwrap();
    let session_dir = data.path().join("sessions/s1");
    let outbox = data.path().join("outbox");
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
    let mut settings = Settings::new(session_dir.clone());
    settings.test_clip = Duration::from_secs(4);
    settings.test_clip_minimum = Duration::from_secs(2);
    let (tx, reports) = mpsc::unbounded_channel();
    let executor = Executor::new(
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
            staff_bell: false,
            staff_webhook: None,
            receipt_command: None,
            outbox: outbox.clone(),
            station_id: "flow-station".into(),
            doctor: None,
        },
        booth::app::effects::StationFiles {
            data_dir: data.path().to_path_buf(),
            catalog: Arc::new(booth::interview::Catalog::single((*interview).clone())),
            roster: None,
        },
        tx,
        uploads,
    );
    let mut h = Harness {
        state: State::new(interview, settings, progress, Instant::now()),
        executor,
        reports,
        skew: Duration::ZERO,
        effects: Vec::new(),
    };

    // Welcome → overview → device test: the camera and microphone open.
    h.key(Key::Char('x')).await;
    h.key(Key::Enter).await;
    h.pump_until("the devices", |s| {
        matches!(s.devices.status, DeviceStatus::Ready { .. })
    })
    .await;
    h.pump_until("a picture and a level", |s| {
        s.devices.preview.is_some() && s.devices.level.is_some()
    })
    .await;

    // The test clip: record, stop after the minimum, automatic checks, play it back.
    h.key(Key::Char('r')).await;
    h.run_for(Duration::from_millis(2500)).await;
    h.key(Key::Char('s')).await;
    h.pump_until("the clip checks", |s| {
        matches!(s.phase, Phase::DeviceTest(TestStep::Review { .. }))
    })
    .await;
    let Phase::DeviceTest(TestStep::Review { checks, .. }) = h.state.phase else {
        unreachable!()
    };
    assert!(
        checks.all_good(),
        "synthetic devices failed the checks: {checks:?}"
    );
    let clip = h.state.test_clip_path();
    assert!(clip.exists());
    h.key(Key::Char('p')).await;
    h.pump_until("the clip to play", |s| s.playback.frame.is_some())
        .await;
    h.key(Key::Enter).await;
    assert_eq!(h.state.phase, Phase::Questions { selected: 0 });

    // Question 1: preparation runs out in flow time; the tone opens the gate; record 2 s,
    // re-record once, then send the second take.
    h.key(Key::Enter).await;
    assert!(matches!(
        h.state.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Counting { .. }
        }
    ));
    h.jump(Duration::from_secs(21)).await;
    h.pump_until("recording to start", |s| {
        matches!(
            s.phase,
            Phase::Recording {
                started: Some(_),
                ..
            }
        )
    })
    .await;
    h.run_for(Duration::from_secs(2)).await;
    h.key(Key::Char('s')).await;
    h.pump_until("the take", |s| matches!(s.phase, Phase::Review { .. }))
        .await;
    let first_take = h.state.take_path(0, 0);
    assert!(first_take.exists());
    h.key(Key::Char('r')).await;
    assert!(!first_take.exists(), "a replaced take must be deleted");
    h.key(Key::Enter).await;
    h.pump_until("recording again", |s| {
        matches!(
            s.phase,
            Phase::Recording {
                take: 1,
                started: Some(_),
                ..
            }
        )
    })
    .await;
    h.run_for(Duration::from_secs(2)).await;
    h.key(Key::Char('s')).await;
    h.pump_until("the second take", |s| {
        matches!(s.phase, Phase::Review { take: 1, .. })
    })
    .await;
    assert_eq!(h.state.progress.questions[0].attempts_used, 2);
    h.key(Key::Enter).await;
    h.pump_until("delivery", |s| {
        s.progress.questions[0].delivery == Delivery::Queued
    })
    .await;

    // Question 2: no preparation, the candidate starts; 2 s; sent.
    h.pump_until("the list", |s| s.phase == Phase::Questions { selected: 1 })
        .await;
    h.key(Key::Enter).await;
    h.key(Key::Enter).await;
    h.pump_until("recording", |s| {
        matches!(
            s.phase,
            Phase::Recording {
                started: Some(_),
                ..
            }
        )
    })
    .await;
    h.run_for(Duration::from_secs(2)).await;
    h.key(Key::Char('s')).await;
    h.pump_until("the take", |s| matches!(s.phase, Phase::Review { .. }))
        .await;
    h.key(Key::Enter).await;
    h.pump_until("the list", |s| s.phase == Phase::Questions { selected: 2 })
        .await;

    // Question 3: the 3 s limit stops the recording by itself.
    h.key(Key::Enter).await;
    h.jump(Duration::from_secs(11)).await;
    h.pump_until("the limit to stop it", |s| {
        matches!(s.phase, Phase::Review { .. })
    })
    .await;
    let seconds = h.state.progress.questions[2].takes[0].seconds.unwrap();
    assert!((seconds - 3.0).abs() < 0.2, "limit of 3 s gave {seconds} s");
    h.key(Key::Enter).await;
    h.pump_until("the last answer in the outbox", |s| {
        matches!(s.phase, Phase::Done { .. })
    })
    .await;
    // Every answer reaches the platform (here a directory) and the screen says so.
    h.pump_until("all deliveries", |s| {
        s.progress
            .questions
            .iter()
            .all(|q| q.delivery == Delivery::Uploaded)
    })
    .await;
    h.executor.shutdown().await;

    // One valid MP4 per answer delivered; the test clip nowhere.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&delivered)
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
    assert!(!clip.exists(), "the test clip was not deleted");
    assert!(!files.iter().any(
        |f| f.to_string_lossy().contains("take1.mp4") && f.to_string_lossy().contains("q-one")
    ));
    assert_eq!(
        h.state.progress.questions[0].takes[0].state,
        TakeState::Discarded
    );
    // The saved progress agrees with the screen.
    let saved = Progress::load(&session_dir).unwrap().unwrap();
    assert!(saved.all_submitted());
    assert!(saved.questions.iter().all(|q| q.answer_id.is_some()));
    // The session manifest follows the answers, naming each of them.
    let deadline = Instant::now() + Duration::from_secs(20);
    let manifest = loop {
        let found = std::fs::read_dir(&delivered)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.to_string_lossy();
                name.ends_with(".json") && !name.ends_with(".meta.json")
            });
        if let Some(m) = found {
            break m;
        }
        assert!(Instant::now() < deadline, "no manifest delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let text = std::fs::read_to_string(&manifest).unwrap();
    for q in &saved.questions {
        assert!(text.contains(q.answer_id.as_deref().unwrap()), "{text}");
    }
    assert!(
        text.contains(&saved.receipt_code()),
        "receipt not in the manifest: {text}"
    );
    assert!(
        h.effects
            .iter()
            .filter(|e| matches!(e, Effect::Submit(_)))
            .count()
            == 3
    );
}
