//! The loop: messages in (terminal input, worker reports, ticks), `update`, effects out (to the
//! executor task, in order), and a redraw at most ~15 times a second. Generic over the
//! terminal backend and the input stream, so whole flows run headless in tests.

use std::io;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::effects::Executor;
use super::msg::{Effect, Msg};
use super::state::State;
use super::update::update;
use crate::ui::graphics::Graphics;
use crate::ui::theme::Theme;

/// Time between ticks: fine enough for countdowns and the silence warning.
const TICK: Duration = Duration::from_millis(50);
/// At most this often a frame is drawn (the preview runs at up to 15 pictures a second).
const FRAME: Duration = Duration::from_millis(66);

/// The background side of the loop: the executor that carries out effects, the channel its
/// reports come back on, and the effects to run before the first message.
pub struct Workers {
    pub executor: Executor,
    pub reports: mpsc::UnboundedReceiver<Msg>,
    pub first: Vec<Effect>,
}

/// Runs the flow until it asks to quit or the input ends. Returns the final state.
pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    data_dir: &std::path::Path,
    mut state: State,
    theme: Theme,
    mut graphics: Option<Graphics>,
    mut input: S,
    workers: Workers,
) -> io::Result<State>
where
    B: Backend,
    B::Error: Into<io::Error>,
    S: Stream<Item = Msg> + Unpin,
{
    let Workers {
        mut executor,
        mut reports,
        first,
    } = workers;
    // Each effect travels with the span of the session that asked for it, so the executor's
    // log lines name the candidate session too.
    let (effects_tx, mut effects_rx) = mpsc::unbounded_channel::<(Effect, tracing::Span)>();
    // The executor takes effects one at a time, in order, off the UI task.
    let worker = tokio::spawn(async move {
        while let Some((effect, span)) = effects_rx.recv().await {
            executor.execute(effect).instrument(span).await;
        }
        // Stop in order: media first (a recording is finalized), then the uploads.
        let executor = tokio::task::spawn_blocking(move || {
            executor.shutdown();
            executor
        })
        .await?;
        executor.shutdown_uploads().await;
        Ok::<(), tokio::task::JoinError>(())
    });

    let mut quit = false;
    let mut pending = first;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw = Instant::now() - FRAME;
    let mut dirty = true;
    let mut input_open = true;
    let mut pending_after = Vec::new();
    let mut status: Option<(crate::status::KioskStatus, Instant)> = None;
    let mut span = session_span(&state);
    let mut span_for = state.progress.session_id.clone();
    loop {
        pending.append(&mut pending_after);
        // Not held across an await: the loop below is synchronous.
        let entered = span.enter();
        for effect in pending.drain(..) {
            match effect {
                Effect::SaveProgress => {
                    if let Err(e) = state.progress.save(&state.settings.session_dir) {
                        tracing::error!(error = %e, "cannot save progress");
                    }
                }
                Effect::Quit => quit = true,
                Effect::EndSession { dir } => {
                    let next = super::resume::end_session(data_dir, &dir, &state.interview);
                    match next {
                        Ok((progress, dir)) => {
                            let more = update(&mut state, Msg::SessionStarted { progress, dir });
                            pending_after.extend(more);
                        }
                        Err(e) => tracing::error!(error = %e, "cannot start a new session"),
                    }
                }
                other => {
                    tracing::debug!(effect = ?other, "effect");
                    let _ = effects_tx.send((other, span.clone()));
                }
            }
        }
        drop(entered);
        if quit {
            break;
        }
        publish_status(&state, data_dir, &mut status);
        if dirty && last_draw.elapsed() >= FRAME {
            terminal
                .draw(|f| crate::ui::view_with(&state, &theme, graphics.as_mut(), f))
                .map_err(Into::into)?;
            last_draw = Instant::now();
            dirty = false;
        }
        let msg = tokio::select! {
            m = input.next(), if input_open => match m {
                Some(m) => m,
                None => { input_open = false; continue; }
            },
            Some(m) = reports.recv() => m,
            _ = tick.tick() => Msg::Tick(Instant::now()),
        };
        // Keys are left out: at the operator menu they are the PIN.
        if !matches!(
            msg,
            Msg::Tick(_)
                | Msg::Key(_)
                | Msg::Preview(_)
                | Msg::Level(_)
                | Msg::PlaybackFrame(_)
                | Msg::PlaybackLevel(_)
        ) {
            span.in_scope(|| tracing::debug!(?msg, "message"));
        }
        pending = span.in_scope(|| update(&mut state, msg));
        if span_for != state.progress.session_id {
            span = session_span(&state);
            span_for = state.progress.session_id.clone();
            span.in_scope(|| tracing::info!(interview = %state.interview.id, "session started"));
        }
        dirty = true;
    }
    drop(effects_tx);
    match worker.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) | Err(e) => tracing::error!(error = %e, "executor task failed"),
    }
    Ok(state)
}

/// The span every log line of one candidate session is inside (`session{id=…}`).
fn session_span(state: &State) -> tracing::Span {
    tracing::info_span!("session", id = %state.progress.session_id)
}

/// Writes the station status when it changed (or every half minute, so its time stays fresh).
fn publish_status(
    state: &State,
    data_dir: &std::path::Path,
    last: &mut Option<(crate::status::KioskStatus, Instant)>,
) {
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let current = crate::status::KioskStatus::of(state, now_unix);
    let fresh = last
        .as_ref()
        .is_some_and(|(s, at)| s.same_as(&current) && at.elapsed() < Duration::from_secs(30));
    if fresh {
        return;
    }
    if let Err(e) = current.write(data_dir) {
        tracing::warn!(error = %e, "cannot write the station status");
    }
    *last = Some((current, Instant::now()));
}
