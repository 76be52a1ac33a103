//! The loop: messages in (terminal input, ticks, worker reports), `update`, every effect out
//! to the executor task (which carries them out in order), and a redraw at most ~15 times a
//! second. It touches no file and no device: the executor owns the effects, a small writer
//! task owns `status.json` (and `status::textfile` the monitoring text file). The loop ends
//! when the executor has carried out a quit (so a recording is finalized first). Generic over
//! the terminal backend and the input stream (which brings the ticks too), so whole flows run
//! headless, on fake time, in tests, which follow the state through [`Watchers::state`].

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::{mpsc, watch};

use super::effects::{Ended, Executor};
use super::msg::{Effect, Msg};
use super::state::State;
use super::update::update;
use crate::status::{KioskStatus, StatusFiles};
use crate::ui::graphics::Graphics;
use crate::ui::theme::Theme;

/// Time between ticks: fine enough for countdowns and the silence warning.
pub const TICK: Duration = Duration::from_millis(50);
/// At most this often a frame is drawn (the preview runs at up to 15 pictures a second).
const FRAME: Duration = Duration::from_millis(66);
/// The status file is rewritten at least this often, so its time stays fresh.
const STATUS_REFRESH: Duration = Duration::from_secs(30);

/// The background side of the loop: the executor that carries out effects, the channel its
/// reports come back on, and the effects to run before the first message.
pub struct Workers {
    pub executor: Executor,
    pub reports: mpsc::UnboundedReceiver<Msg>,
    pub first: Vec<Effect>,
}

/// What the loop draws on and how.
pub struct Screen<'a, B: Backend> {
    pub terminal: &'a mut Terminal<B>,
    pub theme: Theme,
    pub graphics: Option<Graphics>,
    /// Rings the terminal bell through the terminal's own writer (`tui::ring_bell`); the loop
    /// calls it between two frames, never while one is written. `None`: no bell.
    pub bell: Option<Bell<B>>,
}

/// How the terminal's owner rings its bell.
pub type Bell<B> = fn(&mut B) -> io::Result<()>;

/// Rings the bell, if the screen has one; a bell that fails is only logged.
fn ring<B: Backend>(terminal: &mut Terminal<B>, bell: Option<Bell<B>>) {
    if let Some(bell) = bell
        && let Err(e) = bell(terminal.backend_mut())
    {
        tracing::warn!(error = %e, "cannot ring the terminal bell");
    }
}

/// Who follows the state besides the screen.
#[derive(Default)]
pub struct Watchers {
    /// Where `status.json` (and the monitoring text file) are kept, if anywhere (their own
    /// tasks write them).
    pub status: Option<StatusFiles>,
    /// Gets the state after every message (tests wait on it; the kiosk has none).
    pub state: Option<watch::Sender<State>>,
}

/// Ticks on the real clock, for the kiosk's input.
pub fn ticks() -> impl Stream<Item = Msg> + Unpin {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    Box::pin(futures::stream::unfold(tick, |mut t| async move {
        t.tick().await;
        Some((Msg::Tick(Instant::now()), t))
    }))
}

/// Runs the flow until the executor has carried out a quit (or stopped for good). Returns the
/// final state.
pub async fn run<B, S>(
    screen: Screen<'_, B>,
    watchers: Watchers,
    mut state: State,
    mut input: S,
    workers: Workers,
) -> io::Result<State>
where
    B: Backend,
    // crossterm's io::Error, and `Infallible` for the TestBackend of headless flows.
    B::Error: std::error::Error + Send + Sync + 'static,
    S: Stream<Item = Msg> + Unpin,
{
    let Screen {
        terminal,
        theme,
        mut graphics,
        bell,
    } = screen;
    let Workers {
        executor,
        mut reports,
        first,
    } = workers;
    // Each effect travels with the span of the session that asked for it, so the executor's
    // log lines name the candidate session too.
    let (effects, effects_rx) = mpsc::unbounded_channel::<(Effect, tracing::Span)>();
    let mut worker = tokio::spawn(executor.run(effects_rx));
    let followers = Followers::start(watchers, &state);
    let mut pending = first;
    let mut last_draw = Instant::now() - FRAME;
    let mut dirty = true;
    let mut input_open = true;
    let mut span = SessionSpan::of(&state);
    let ended = loop {
        for effect in pending.drain(..) {
            if effect == Effect::RingBell {
                ring(terminal, bell);
                continue;
            }
            // A closed channel means the executor is gone; the select below sees it end.
            let _ = effects.send((effect, span.span.clone()));
        }
        followers.publish(&state);
        if dirty && last_draw.elapsed() >= FRAME {
            terminal
                .draw(|f| crate::ui::view_with(&state, &theme, &mut graphics, f))
                .map_err(io::Error::other)?;
            last_draw = Instant::now();
            dirty = false;
        }
        let msg = tokio::select! {
            m = input.next(), if input_open => match m {
                Some(m) => m,
                None => { input_open = false; continue; }
            },
            Some(m) = reports.recv() => m,
            done = &mut worker => break done,
        };
        log_message(&span.span, &msg);
        pending = span.span.in_scope(|| update(&mut state, msg));
        span.follow(&state);
        dirty = true;
    };
    match ended {
        Ok(Ended::Quit) => {}
        Ok(Ended::Closed) => tracing::error!("the executor stopped without a quit"),
        Err(e) => tracing::error!(error = %e, "executor task failed"),
    }
    Ok(state)
}

/// Worker reports in the log; keys are left out (at the operator menu they are the PIN), and
/// so are the many pictures, levels and ticks.
fn log_message(span: &tracing::Span, msg: &Msg) {
    if !matches!(
        msg,
        Msg::Tick(_)
            | Msg::Key(_)
            | Msg::Preview(_)
            | Msg::Level(_)
            | Msg::PlaybackFrame(_)
            | Msg::PlaybackLevel(_)
            | Msg::PlaybackPosition { .. }
    ) {
        span.in_scope(|| tracing::debug!(?msg, "message"));
    }
}

/// The span every log line of one candidate session is inside (`session{id=…}`).
struct SessionSpan {
    span: tracing::Span,
    session: String,
}

impl SessionSpan {
    fn of(state: &State) -> SessionSpan {
        let session = state.session.progress.session_id.clone();
        SessionSpan {
            span: tracing::info_span!("session", id = %session),
            session,
        }
    }

    /// A new span when the next candidate's session has started.
    fn follow(&mut self, state: &State) {
        if self.session != state.session.progress.session_id {
            *self = SessionSpan::of(state);
            let interview = &state.session.interview.id;
            self.span
                .in_scope(|| tracing::info!(%interview, "session started"));
        }
    }
}

/// The state's followers while the loop runs: a test's watch, and the status writer.
struct Followers {
    state: Option<watch::Sender<State>>,
    status: Option<watch::Sender<KioskStatus>>,
}

impl Followers {
    fn start(watchers: Watchers, state: &State) -> Followers {
        Followers {
            status: watchers.status.map(|files| {
                let tx = spawn_status_writer(files.data_dir.clone(), KioskStatus::of(state, 0));
                crate::status::textfile::spawn(files, tx.subscribe());
                tx
            }),
            state: watchers.state,
        }
    }

    /// The state after a message: to the watch as it is, to the status writer when the status
    /// changed.
    fn publish(&self, state: &State) {
        if let Some(watch) = &self.state {
            watch.send_replace(state.clone());
        }
        if let Some(status) = &self.status {
            status.send_if_modified(|old| {
                let now = KioskStatus::of(state, crate::clock::unix_now());
                let changed = !old.same_as(&now);
                if changed {
                    *old = now;
                }
                changed
            });
        }
    }
}

/// The owner of `status.json`: writes the latest status when it changes (and every half
/// minute, so its time stays fresh), off the UI task.
fn spawn_status_writer(dir: PathBuf, first: KioskStatus) -> watch::Sender<KioskStatus> {
    let (tx, mut rx) = watch::channel(first);
    tokio::spawn(async move {
        loop {
            let current = rx.borrow_and_update().clone();
            let dir = dir.clone();
            let written = tokio::task::spawn_blocking(move || {
                let mut current = current;
                current.updated_unix = crate::clock::unix_now();
                current.write(&dir)
            })
            .await;
            if let Ok(Err(e)) = written {
                tracing::warn!(error = %e, "cannot write the station status");
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep(STATUS_REFRESH) => {}
            }
        }
    });
    tx
}
