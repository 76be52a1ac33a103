//! The station simulation's machinery: the seeded schedule (`schedule`), one life of the
//! station between crashes (`Life`), and what is checked after every step (`check`).

mod check;
mod schedule;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use booth::app::effects::{DeviceSettings, Executor};
use booth::app::msg::{Effect, Msg, Purpose};
use booth::app::start::Setup;
use booth::app::state::{DeviceStatus, OperatorStep, Phase, Settings, State, TestStep};
use booth::app::update::update;
use booth::config::Config;
use booth::fsutil::faults;
use booth::interview::Interview;
use booth::media::source::{AudioSpec, Pace, VideoRequest, VideoSpec};
use tokio::sync::mpsc;

pub use schedule::Rng;

/// Actions kept for a failure's report (`BOOTH_SIM_TRAIL` for more).
static TRAIL_LEN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// How long a worker may take to answer before the station counts as stuck.
const STUCK: Duration = Duration::from_secs(30);
/// The operator's PIN in the simulation (hashed with cheap argon2 parameters).
pub const PIN: &str = "2468";

static PANICKED: AtomicBool = AtomicBool::new(false);

/// Any panic anywhere in the process (a worker thread included) fails the run.
pub fn install_panic_watch() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, Ordering::SeqCst);
        default(info);
    }));
}

/// What a run did, for the report and the closing check that the schedule reached the joints.
#[derive(Debug, Default, Clone)]
pub struct SimReport {
    pub steps: u64,
    pub crashes: u64,
    pub sessions: u64,
    pub wipes: u64,
    pub sent: u64,
    pub delivered: u64,
    pub submit_failures: u64,
    pub recordings: u64,
    /// Of the recordings, practice takes (never sent).
    pub practice: u64,
    pub set_aside_sessions: u64,
    pub interview_edits: u64,
    pub fault_windows: u64,
    pub out_of_order: u64,
    pub seconds: f64,
}

impl SimReport {
    pub fn add(&mut self, r: &SimReport) {
        self.steps += r.steps;
        self.crashes += r.crashes;
        self.sessions += r.sessions;
        self.wipes += r.wipes;
        self.sent += r.sent;
        self.delivered += r.delivered;
        self.submit_failures += r.submit_failures;
        self.recordings += r.recordings;
        self.practice += r.practice;
        self.set_aside_sessions += r.set_aside_sessions;
        self.interview_edits += r.interview_edits;
        self.fault_windows += r.fault_windows;
        self.out_of_order += r.out_of_order;
        self.seconds += r.seconds;
    }
}

impl std::fmt::Display for SimReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} steps in {:.1} s: {} crashes, {} sessions ({} wiped, {} set aside), {} recordings \
             ({} practice), {} answers sent and {} delivered exactly once, {} failed submissions, \
             {} interview edits, {} fault windows, {} times out of order",
            self.steps,
            self.seconds,
            self.crashes,
            self.sessions,
            self.wipes,
            self.set_aside_sessions,
            self.recordings,
            self.practice,
            self.sent,
            self.delivered,
            self.submit_failures,
            self.interview_edits,
            self.fault_windows,
            self.out_of_order
        )
    }
}

/// A take the candidate sent whose sending failed: it must never be deleted.
#[derive(Debug, Clone)]
struct FailedTake {
    step: u64,
    file: PathBuf,
    session: String,
    sha256: String,
}

/// The station between two crashes.
struct Life {
    state: State,
    executor: Option<Executor>,
    reports: mpsc::UnboundedReceiver<Msg>,
}

/// A crash at an effect boundary, raised while effects run.
struct Crash;

pub struct Sim {
    seed: u64,
    rng: Rng,
    root: tempfile::TempDir,
    life: Option<Life>,
    /// The flow's clock: moves only by the schedule's ticks.
    clock: Instant,
    variant: usize,
    /// Chance that the station dies before an effect.
    crash_chance: f64,
    /// Answer ids the station ever reported as sent (and their content), checked every step.
    sent: BTreeMap<uuid::Uuid, String>,
    failed: Vec<FailedTake>,
    report: SimReport,
    /// The last actions, printed with a failure.
    trail: VecDeque<String>,
    /// Every candidate session the station showed.
    sessions: std::collections::BTreeSet<String>,
    step: u64,
}

impl Sim {
    pub async fn new(seed: u64) -> Result<Sim, String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(root.path().join("interview")).map_err(|e| e.to_string())?;
        let mut sim = Sim {
            seed,
            rng: Rng::new(seed),
            root,
            life: None,
            clock: Instant::now(),
            variant: 0,
            crash_chance: 0.01,
            sent: BTreeMap::new(),
            failed: Vec::new(),
            report: SimReport::default(),
            trail: VecDeque::new(),
            sessions: Default::default(),
            step: 0,
        };
        schedule::write_interview(&sim.interview_file(), 0)?;
        sim.restart().await?;
        Ok(sim)
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn platform(&self) -> PathBuf {
        self.root.path().join("platform")
    }

    fn interview_file(&self) -> PathBuf {
        self.root.path().join("interview").join("interview.toml")
    }

    /// Runs `steps` steps, then drains the outbox and checks that every sent answer arrived.
    pub async fn run(mut self, steps: u64) -> Result<SimReport, String> {
        let started = Instant::now();
        for _ in 0..steps {
            self.step += 1;
            let result = self.one_step().await.and_then(|()| self.check());
            if let Some(s) = self.state() {
                let id = s.session.progress.session_id.clone();
                self.sessions.insert(id);
            }
            if let Err(why) = result {
                let failure = self.failure(&why);
                self.keep_if_asked();
                return Err(failure);
            }
        }
        faults::install(None);
        if let Err(why) = self.drain().await {
            return Err(self.failure(&why));
        }
        self.report.steps = self.step;
        self.report.seconds = started.elapsed().as_secs_f64();
        self.report.sent = self.sent.len() as u64;
        self.report.sessions = self.sessions.len() as u64;
        self.shutdown().await;
        Ok(self.report)
    }

    fn failure(&self, why: &str) -> String {
        faults::install(None);
        let trail: Vec<&str> = self.trail.iter().map(String::as_str).collect();
        let mut files = Vec::new();
        list_files(&self.data(), &self.data(), &mut files);
        format!(
            "seed {} failed at step {}: {why}\nlast actions:\n  {}\nstate: {}\nfiles:\n  {}",
            self.seed,
            self.step,
            trail.join("\n  "),
            self.life
                .as_ref()
                .map(|l| format!(
                    "{:?} / {:?}",
                    l.state.session.phase, l.state.session.progress
                ))
                .unwrap_or_default(),
            files.join("\n  ")
        )
    }

    /// `BOOTH_SIM_KEEP=1` keeps the failed station's folder for a look (its path is printed).
    fn keep_if_asked(&mut self) {
        if std::env::var_os("BOOTH_SIM_KEEP").is_none() {
            return;
        }
        if let Ok(spare) = tempfile::tempdir() {
            let root = std::mem::replace(&mut self.root, spare);
            println!(
                "the failed station's folder is kept at {}",
                root.keep().display()
            );
        }
    }

    fn note(&mut self, what: String) {
        if self.trail.len()
            >= *TRAIL_LEN.get_or_init(|| {
                std::env::var("BOOTH_SIM_TRAIL")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(40)
            })
        {
            self.trail.pop_front();
        }
        self.trail.push_back(format!("{}: {what}", self.step));
    }

    fn state(&self) -> Option<&State> {
        self.life.as_ref().map(|l| &l.state)
    }

    /// Feeds one message to the flow and carries out what it asks, in order; a crash may
    /// land before any effect.
    async fn send(&mut self, msg: Msg) -> Result<(), String> {
        match self.deliver(msg).await {
            Ok(()) => Ok(()),
            Err(Crash) => {
                self.report.crashes += 1;
                self.note("crash at an effect boundary".into());
                self.crash().await;
                self.restart().await
            }
        }
    }

    async fn deliver(&mut self, msg: Msg) -> Result<(), Crash> {
        let mut queue = VecDeque::from([msg]);
        while let Some(msg) = queue.pop_front() {
            self.observe(&msg);
            let Some(life) = self.life.as_mut() else {
                return Ok(());
            };
            let effects = update(&mut life.state, msg);
            for effect in effects {
                if self.rng.chance(self.crash_chance) {
                    return Err(Crash);
                }
                self.observe_effect(&effect);
                if effect == Effect::Quit {
                    return Err(Crash);
                }
                let Some(executor) = self.life.as_mut().and_then(|l| l.executor.as_mut()) else {
                    return Ok(());
                };
                executor.execute(effect).await;
            }
            // Reports that are already there are handled before the next step.
            if let Some(life) = self.life.as_mut() {
                while let Ok(m) = life.reports.try_recv() {
                    queue.push_back(m);
                }
            }
        }
        Ok(())
    }

    /// Keeps count of what the station reports, and remembers what was sent.
    fn observe(&mut self, msg: &Msg) {
        match msg {
            Msg::Submitted { answer_id, .. } => {
                if let Ok(id) = uuid::Uuid::parse_str(answer_id) {
                    let sha = check::record_sha(&self.data(), id).unwrap_or_default();
                    self.sent.insert(id, sha);
                }
            }
            Msg::SubmitFailed { take, .. } => {
                self.report.submit_failures += 1;
                if let Some(state) = self.state()
                    && state.is_current(&take.session)
                {
                    let file = state.take_path(take.question, take.take);
                    if let Ok((_, sha)) = booth::upload::hash_file(&file) {
                        self.failed.push(FailedTake {
                            step: self.step,
                            file,
                            session: take.session.clone(),
                            sha256: sha,
                        });
                    }
                }
            }
            Msg::SessionStarted { .. } => self.report.wipes += 1,
            Msg::SessionEndFailed { .. } => self.report.out_of_order += 1,
            Msg::RecordingSaved { purpose, .. } => {
                self.report.recordings += 1;
                if matches!(purpose, Purpose::Practice { .. }) {
                    self.report.practice += 1;
                }
            }
            _ => {}
        }
    }

    fn observe_effect(&mut self, effect: &Effect) {
        // The candidate recorded again instead of sending a take that failed to send: it is
        // theirs to replace, like any take.
        if let Effect::DeleteFile(path) = effect {
            self.failed.retain(|t| &t.file != path);
        }
        let name = match effect {
            Effect::SaveProgress { .. } => "save".to_string(),
            other => format!("{other:?}").chars().take(60).collect(),
        };
        self.note(format!("  effect {name}"));
    }

    /// Handles the workers' reports until none is pending and the screen waits on nobody.
    async fn settle(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STUCK;
        loop {
            let Some(life) = self.life.as_mut() else {
                return Ok(());
            };
            let next = match life.reports.try_recv() {
                Ok(m) => Some(m),
                Err(_) if waits_on_a_worker(&life.state) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, life.reports.recv()).await {
                        Ok(Some(m)) => Some(m),
                        _ => {
                            return Err(format!(
                                "stuck for {} s in {:?} (devices {:?})",
                                STUCK.as_secs(),
                                life.state.session.phase,
                                life.state.devices.status
                            ));
                        }
                    }
                }
                Err(_) => None,
            };
            match next {
                Some(m) => self.send(m).await?,
                None => return Ok(()),
            }
        }
    }

    /// Lets real time pass with the station running (a take records, uploads move).
    async fn let_time_pass(&mut self, d: Duration) -> Result<(), String> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            let Some(life) = self.life.as_mut() else {
                return Ok(());
            };
            let left = until.saturating_duration_since(Instant::now());
            if let Ok(Some(m)) = tokio::time::timeout(left, life.reports.recv()).await {
                self.send(m).await?;
            }
        }
        Ok(())
    }

    /// The station dies: nothing after this point of the flow happens. Media and uploads
    /// are stopped (a take being recorded is closed as a crash would leave it to be found),
    /// and every report still on its way is lost.
    async fn crash(&mut self) {
        if let Some(mut life) = self.life.take()
            && let Some(executor) = life.executor.take()
        {
            executor.shutdown().await;
        }
    }

    async fn shutdown(&mut self) {
        self.crash().await;
    }

    /// Starts the station again from what is on disk, as `booth run` does.
    async fn restart(&mut self) -> Result<(), String> {
        let interview = Interview::load(&self.interview_file()).map_err(|e| e.to_string())?;
        let setup = self.setup(Arc::new(interview))?;
        let (state, workers) = booth::app::start::start(&setup, self.clock)
            .map_err(|e| format!("the station did not start: {e}"))?;
        self.report.set_aside_sessions = check::set_aside_sessions(&self.data());
        self.life = Some(Life {
            state,
            executor: Some(workers.executor),
            reports: workers.reports,
        });
        self.note(format!(
            "restart: {:?}",
            self.state().map(|s| s.session.phase.clone())
        ));
        for effect in workers.first {
            if let Some(ex) = self.life.as_mut().and_then(|l| l.executor.as_mut()) {
                ex.execute(effect).await;
            }
        }
        Ok(())
    }

    fn setup(&self, interview: Arc<Interview>) -> Result<Setup, String> {
        let text = format!(
            "[station]\nid = \"sim\"\ndata_dir = \"{}\"\n[upload]\nendpoint = \"dir:{}\"\n",
            self.data().display(),
            self.platform().display()
        );
        let config =
            Config::parse(&text, Path::new("/sim/config.toml")).map_err(|e| e.to_string())?;
        let settings = Settings {
            noise_gate_dbfs: -120.0,
            test_clip_minimum: Duration::from_secs(1),
            operator_pin: true,
            idle_reset: Some(Duration::from_secs(90)),
            idle_countdown: Duration::from_secs(20),
            ..Settings::default()
        };
        let devices = DeviceSettings {
            video: VideoSpec::Test,
            audio: AudioSpec::Tone,
            request: VideoRequest {
                width: 64,
                height: 48,
                fps: 30,
            },
            pace: Pace::Realtime,
            video_kbps: 100,
            audio_kbps: 32,
            sound_output: false,
            pin_hash: Some(schedule::cheap_pin_hash(PIN)?),
            receipt_command: None,
            outbox: self.data().join("outbox"),
            station_id: "sim".into(),
            services: Default::default(),
        };
        let tuning = booth::upload::Tuning {
            stall_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            retry_min: Duration::from_millis(10),
            retry_max: Duration::from_millis(200),
        };
        Ok(Setup {
            config,
            data_dir: self.data(),
            catalog: Arc::new(booth::interview::Catalog::single((*interview).clone())),
            roster: None,
            settings,
            devices,
            tuning,
        })
    }

    /// With the disks well again, lets the station deliver everything it holds.
    async fn drain(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.let_time_pass(Duration::from_millis(100)).await?;
            let undelivered = check::undelivered(&self.data());
            if undelivered == 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{undelivered} answer(s) still undelivered after 60 s"
                ));
            }
        }
        self.check()?;
        self.report.delivered = check::delivered_exactly_once(&self.platform(), &self.sent)?;
        Ok(())
    }
}

/// Whether the screen is waiting for a worker's report (the schedule must not move on).
fn waits_on_a_worker(state: &State) -> bool {
    matches!(
        state.session.phase,
        Phase::Submitting { .. }
            | Phase::Resetting
            | Phase::DeviceTest(TestStep::Saving)
            | Phase::Recording { started: None, .. }
            | Phase::Recording { stopping: true, .. }
    ) || state.devices.status == DeviceStatus::Opening
        || matches!(
            state.operator.step,
            OperatorStep::Pin { checking: true, .. }
        )
}

/// Every file under `dir` (relative to `base`) with its size, for a failure's report.
fn list_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            list_files(base, &path, out);
        } else {
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            let name = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push(format!("{name} ({size} bytes)"));
        }
    }
}
