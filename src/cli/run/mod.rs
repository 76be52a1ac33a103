//! `booth run` (and plain `booth`): the candidate's kiosk. Loads the station config and the
//! interview, sends every diagnostic (and the C libraries' stderr) to the log before the
//! screen is taken, resumes an unfinished session, and runs the flow until it ends or a
//! signal asks it to (a recording in progress is finished first).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::{Exit, report_error};
use crate::app::msg::Msg;
use crate::app::start::Setup;
use crate::config::Config;
use crate::interview::{Catalog, Interview};
use crate::logging::console;
use crate::media::playable::PlayerCheck;
pub use setup::{Interviews, KioskSetup};

mod setup;

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Station config (default: the built-in one, see config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Interview file (default: [interview] file from the config).
    #[arg(long, value_name = "FILE")]
    pub interview: Option<PathBuf>,
    /// The bundled sample interview with a synthetic camera and microphone, under a
    /// temporary data directory.
    #[arg(long)]
    pub demo: bool,
    /// Keep recordings, sessions and logs here instead of the config's data_dir.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

const DEMO_INTERVIEW: &str = include_str!("../../../assets/interview.toml");
const DEMO_VIDEO: &[u8] = include_bytes!("../../../assets/question-2.mp4");

/// Writes the bundled sample interview (and its video) into `dir`.
fn write_demo_interview(dir: &Path) -> std::io::Result<PathBuf> {
    crate::fsutil::create_private_dir(dir).map_err(|e| std::io::Error::other(e.to_string()))?;
    std::fs::write(dir.join("question-2.mp4"), DEMO_VIDEO)?;
    let path = dir.join("interview.toml");
    std::fs::write(&path, DEMO_INTERVIEW)?;
    Ok(path)
}

pub fn run(args: RunArgs) -> Exit {
    // Signals are watched before any slow start-up work (reconciling the disk, opening the
    // outbox): a SIGTERM or a Ctrl+\ during it waits for the loop instead of killing booth
    // half-started.
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    let signals = runtime.block_on(async { signal_input() });
    crate::tui::install_panic_hook();
    let (kiosk, setup, _log) = match prepare(&args) {
        Ok(s) => s,
        Err(exit) => return exit,
    };
    let KioskSetup {
        theme,
        heartbeat,
        demo_dir,
        ..
    } = kiosk;
    let result = runtime.block_on(async move {
        // Stops with the runtime when the kiosk ends.
        if let Some(beat) = heartbeat {
            crate::app::notify::spawn_heartbeat(beat);
        }
        // Answers go to the outbox and on to the platform in the background, whatever the
        // candidate does meanwhile; a second booth on the same data directory is refused here.
        let (mut state, workers) = crate::app::start::start(&setup, Instant::now())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut guard = crate::tui::TerminalGuard::enter()?;
        if let Ok(size) = guard.terminal.size() {
            state.size = (size.width, size.height);
        }
        // The terminal's picture support comes from its environment, never from a query over
        // its input: the answer must not reach the key reader.
        let graphics = crate::ui::graphics::Graphics::from_env(crate::tui::cell_size());
        let input = futures::stream::select(
            futures::stream::select(crate::tui::input(), signals),
            crate::app::run::ticks(),
        );
        crate::app::run::run(
            crate::app::run::Screen {
                terminal: &mut guard.terminal,
                theme,
                graphics,
                bell: Some(crate::tui::ring_bell),
            },
            crate::app::run::Watchers {
                status: Some(crate::status::StatusFiles::of(
                    &setup.config,
                    setup.data_dir.clone(),
                )),
                state: None,
            },
            state,
            input,
            workers,
        )
        .await
    });
    match result {
        Ok(state) => {
            tracing::info!(phase = ?state.session.phase, "booth run ended");
            if let Some(dir) = demo_dir {
                console(&format!(
                    "booth: demo data (recordings, outbox, log) is in {}",
                    dir.display()
                ));
            }
            Exit::Ok
        }
        Err(e) => {
            report_error(&e);
            Exit::Failed
        }
    }
}

/// Loads the config, resolves the kiosk from it, takes the log (and the C libraries' stderr)
/// before the screen is taken, and loads the interviews: what the station starts from. Returns
/// the log's guard too (held until booth ends, so the last lines are written).
fn prepare(args: &RunArgs) -> Result<(KioskSetup, Setup, crate::logging::LogGuard), Exit> {
    let config = Config::load(args.config.as_deref()).map_err(|e| {
        report_error(&e);
        Exit::BadInput
    })?;
    let kiosk = KioskSetup::resolve(&config, args);
    crate::fsutil::create_private_dir(&kiosk.data_dir).map_err(|e| {
        report_error(&e);
        Exit::BadInput
    })?;
    let log_dir = kiosk.data_dir.join("logs");
    let logging = &kiosk.config.logging;
    let guard = crate::logging::init_rolling(
        &log_dir,
        logging.json,
        logging.keep_files,
        "info,native=debug",
    )
    .map_err(|e| {
        console(&format!(
            "booth: cannot open the log in {}: {e}",
            log_dir.display()
        ));
        Exit::BadInput
    })?;
    if let Err(e) = crate::logging::capture_native_stderr() {
        tracing::warn!(error = %e, "cannot capture native stderr");
    }
    load_languages(args.config.as_deref());
    let catalog = load_interviews(&kiosk)?;
    let setup = Setup {
        config: kiosk.config.clone(),
        data_dir: kiosk.data_dir.clone(),
        catalog: Arc::new(catalog),
        roster: kiosk.interviews.roster().cloned(),
        settings: kiosk.settings.clone(),
        devices: kiosk.devices.clone(),
        tuning: crate::upload::Tuning::default(),
    };
    Ok((kiosk, setup, guard))
}

/// The words on screen: the built-in ones with the install's and the station's language
/// files over them. A file that cannot be used is left out with a log line (its language
/// keeps the built-in words); `booth doctor` names its file and line.
fn load_languages(config_file: Option<&Path>) {
    let loaded = crate::i18n::load(&crate::i18n::search_dirs(config_file));
    for problem in &loaded.problems {
        if problem.rejects_file() {
            tracing::error!(error = %problem, "a language file is left out: its language keeps the built-in words");
        } else {
            tracing::warn!(problem = %problem, "a language file's text is left out");
        }
    }
    let codes: Vec<&str> = loaded
        .languages
        .all()
        .iter()
        .map(|t| t.code.as_str())
        .collect();
    tracing::info!(files = ?loaded.files, languages = ?codes, "languages read");
    if !crate::i18n::install(loaded.languages) {
        tracing::warn!(
            "the languages were fixed before the files were read: the built-in words are shown"
        );
    }
}

/// The interviews the kiosk offers: the demo's, one file, or the station's.
fn load_interviews(kiosk: &KioskSetup) -> Result<Catalog, Exit> {
    let single = match &kiosk.interviews {
        Interviews::Demo => {
            write_demo_interview(&kiosk.data_dir.join("demo-interview")).map_err(|e| {
                console(&format!("booth: cannot write the demo interview: {e}"));
                Exit::Failed
            })?
        }
        Interviews::Single(path) => path.clone(),
        Interviews::Station { .. } => {
            return Catalog::load_checked(&kiosk.config.interview, &PlayerCheck).map_err(|e| {
                report_error(&e);
                Exit::BadInput
            });
        }
    };
    let interview = Interview::load_checked(&single, &PlayerCheck).map_err(|e| {
        report_error(&e);
        Exit::BadInput
    })?;
    Ok(Catalog::single(interview))
}

/// SIGTERM and SIGHUP (systemd stopping the station, the terminal going away) finish the
/// recording and leave; SIGINT and SIGQUIT are interrupts a locked kiosk ignores; SIGTSTP is
/// caught so that nobody can suspend the kiosk from the keyboard. Registered when called:
/// from then on these signals no longer kill booth.
fn signal_input() -> impl futures::Stream<Item = Msg> + Unpin {
    use tokio::signal::unix::{SignalKind, signal};
    let listeners = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
        // SIGTSTP is 20 on Linux.
        signal(SignalKind::from_raw(20)),
    );
    Box::pin(futures::stream::unfold(listeners, |mut l| async move {
        let (Ok(term), Ok(hup), Ok(int), Ok(quit), Ok(tstp)) =
            (&mut l.0, &mut l.1, &mut l.2, &mut l.3, &mut l.4)
        else {
            tracing::error!("cannot watch signals");
            return None;
        };
        let msg = tokio::select! {
            _ = term.recv() => Msg::Terminate,
            _ = hup.recv() => Msg::Terminate,
            _ = int.recv() => Msg::Interrupt,
            _ = quit.recv() => Msg::Interrupt,
            _ = tstp.recv() => {
                tracing::info!("SIGTSTP ignored");
                Msg::Interrupt
            }
        };
        tracing::info!(?msg, "signal received");
        Some((msg, l))
    }))
}
