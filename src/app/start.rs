//! Bringing a station up from what is on disk, the same way for `booth run` and for the station
//! simulation: the upload service first (it finishes interrupted submissions and owns the
//! outbox), then the reconciliation of sessions against the interview and the outbox's
//! records, then the flow's state on the right screen, the executor, and the first effects.
//! A station always starts: when even a new session cannot be made, it starts out of order,
//! staff are called, and the operator menu can try again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::effects::{DeviceSettings, Executor, StationFiles};
use super::msg::Effect;
use super::resume;
use super::run::Workers;
use super::state::{Phase, Session, Settings, State, WallClock};
use crate::config::Config;
use crate::interview::Catalog;
use crate::session::Progress;
use crate::upload::{Outbox, Tuning, UploadError, UploadService};

/// Everything a station is started from.
pub struct Setup {
    pub config: Config,
    pub data_dir: PathBuf,
    /// The station's interviews; a candidate without a code gets the default one.
    pub catalog: Arc<Catalog>,
    /// The roster of codes, when the station has one.
    pub roster: Option<PathBuf>,
    /// The flow's settings (the same for every candidate).
    pub settings: Settings,
    pub devices: DeviceSettings,
    pub tuning: Tuning,
}

/// Starts the station; must be called within a tokio runtime. Fails only when the outbox
/// cannot be taken (another booth has it, or its directory cannot be made), which no screen
/// could mend.
pub fn start(setup: &Setup, now: Instant) -> Result<(State, Workers), UploadError> {
    let outbox_dir = crate::upload::outbox_dir(&setup.config);
    let uploads = UploadService::start_with(&setup.config, &outbox_dir, setup.tuning.clone())?;
    // Read after the service started: it has finished any interrupted submission by now.
    let (records, problems) = Outbox::at(&outbox_dir).load_all();
    for p in problems {
        tracing::warn!(error = %p, "an outbox record cannot be read");
    }
    let opened = resume::open_session(
        &setup.data_dir,
        &setup.catalog,
        &records,
        crate::clock::unix_now(),
    );
    let default = setup.catalog.default_interview();
    let (progress, interview, dir, idle_for, resubmit, failure) = match opened {
        Ok(r) => (r.progress, r.interview, r.dir, r.idle_for, r.resubmit, None),
        Err(e) => {
            tracing::error!(error = %e, "no session can be opened; the station starts out of order");
            let placeholder = Progress::for_interview("unavailable", &default, 0);
            (
                placeholder,
                default,
                super::sessions::sessions_dir(&setup.data_dir).join("unavailable"),
                Duration::ZERO,
                Vec::new(),
                Some(e.to_string()),
            )
        }
    };
    tracing::info!(
        session = %progress.session_id,
        interview = %interview.id,
        dir = %dir.display(),
        idle_seconds = idle_for.as_secs(),
        "session"
    );
    let session = Session::new(interview, progress, dir, now);
    let mut state = State::new(setup.settings.clone(), session, now);
    state.wall = WallClock {
        at: now,
        unix: crate::clock::unix_now(),
    };
    // The time the station stood idle before it stopped counts towards the idle reset.
    state.session.last_input = now.checked_sub(idle_for).unwrap_or(now);
    state.session.phase = resume::resume_phase(&state);
    // Left alone past the idle reset before the stop: the countdown is the first thing
    // drawn, over a blank screen, not the walked-away candidate's last screen.
    if let Some(idle) = state.settings.idle_reset
        && idle_for >= idle
        && !matches!(state.session.phase, Phase::Welcome(_))
    {
        state.session.idle_ends = Some(now + state.settings.idle_countdown);
    }
    let mut first = Vec::new();
    if let Some(detail) = failure {
        first.extend(super::update::session_end_failed(&mut state, detail));
    } else if !matches!(state.session.phase, Phase::Welcome(_) | Phase::Done { .. }) {
        // A resumed candidate past the device test needs the camera straight away.
        first.push(state.devices.open());
    }
    first.extend(resubmit.into_iter().map(Effect::Submit));
    let (tx, reports) = mpsc::unbounded_channel();
    let files = StationFiles {
        data_dir: setup.data_dir.clone(),
        catalog: setup.catalog.clone(),
        roster: setup.roster.clone(),
    };
    let mut executor = Executor::new(setup.devices.clone(), files, tx, uploads);
    executor.follow(&state.session.progress);
    Ok((
        state,
        Workers {
            executor,
            reports,
            first,
        },
    ))
}
