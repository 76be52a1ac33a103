//! `booth run` (and plain `booth`): the candidate's kiosk. Loads the station config and the
//! interview, sends every diagnostic (and the C libraries' stderr) to the log before the
//! screen is taken, resumes an unfinished session, and runs the flow until it ends or a
//! signal asks it to (a recording in progress is finished first).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::{Exit, report_error};
use crate::app::effects::DeviceSettings;
use crate::app::msg::Msg;
use crate::app::start::Setup;
use crate::app::state::{CodeMode, Settings, Target};
use crate::config::{Config, TextSize, ThemeName};
use crate::interview::{Catalog, Interview};
use crate::logging::console;
use crate::media::source::{AudioSpec, Pace, VideoRequest, VideoSpec};
use crate::ui::theme::{ColorDepth, Theme};

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

const DEMO_INTERVIEW: &str = include_str!("../../assets/interview.toml");
const DEMO_VIDEO: &[u8] = include_bytes!("../../assets/question-2.mp4");

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
    let (setup, demo_dir, _log) = match prepare(&args) {
        Ok(s) => s,
        Err(exit) => return exit,
    };
    let theme = theme(&setup.config);
    let heartbeat =
        setup
            .config
            .kiosk
            .heartbeat_url
            .clone()
            .map(|url| crate::app::notify::Heartbeat {
                url,
                every: setup.config.kiosk.heartbeat_interval,
                station_id: setup.config.station.id.clone(),
                data_dir: setup.data_dir.clone(),
            });
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
        let graphics = crate::ui::graphics::Graphics::from_env();
        let input = futures::stream::select(
            futures::stream::select(crate::tui::input(), signals),
            crate::app::run::ticks(),
        );
        crate::app::run::run(
            crate::app::run::Screen {
                terminal: &mut guard.terminal,
                theme,
                graphics,
            },
            Some(crate::status::StatusFiles::of(
                &setup.config,
                setup.data_dir.clone(),
            )),
            state,
            input,
            workers,
        )
        .await
    });
    match result {
        Ok(state) => {
            tracing::info!(phase = ?state.phase, "booth run ended");
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

/// Loads the config and the interview, takes the log (and the C libraries' stderr) before
/// the screen is taken, and resolves what the station starts from. Returns the demo's data
/// directory too, to tell the user where it is, and the log's guard (held until booth ends,
/// so the last lines are written).
fn prepare(args: &RunArgs) -> Result<(Setup, Option<PathBuf>, crate::logging::LogGuard), Exit> {
    let mut config = Config::load(args.config.as_deref()).map_err(|e| {
        report_error(&e);
        Exit::BadInput
    })?;
    let data_dir = match (&args.data_dir, args.demo) {
        (Some(d), _) => d.clone(),
        (None, true) => std::env::temp_dir().join(format!("booth-demo-{}", std::process::id())),
        (None, false) => config.station.data_dir.clone(),
    };
    config = config.with_data_dir(&data_dir);
    if args.demo {
        config.devices.video = VideoSpec::Test;
        config.devices.audio = AudioSpec::Tone;
    }
    crate::fsutil::create_private_dir(&data_dir).map_err(|e| {
        report_error(&e);
        Exit::BadInput
    })?;
    let log_dir = data_dir.join("logs");
    let guard = crate::logging::init_rolling(
        &log_dir,
        config.logging.json,
        config.logging.keep_files,
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
    // The demo and --interview run one interview; the station config may name a folder of
    // them and a roster of codes.
    let single = if args.demo {
        Some(
            write_demo_interview(&data_dir.join("demo-interview")).map_err(|e| {
                console(&format!("booth: cannot write the demo interview: {e}"));
                Exit::Failed
            })?,
        )
    } else {
        args.interview.clone()
    };
    let (catalog, roster) = match single {
        Some(path) => {
            let interview = Interview::load(&path).map_err(|e| {
                report_error(&e);
                Exit::BadInput
            })?;
            (Catalog::single(interview), None)
        }
        None => {
            let catalog = Catalog::load(&config.interview).map_err(|e| {
                report_error(&e);
                Exit::BadInput
            })?;
            (catalog, config.interview.roster.clone())
        }
    };
    let mut settings = settings(&config, &data_dir, args.demo);
    settings.roster = roster.is_some();
    settings.codes = if roster.is_some() || config.interview.code_required() {
        CodeMode::Required
    } else {
        CodeMode::Optional
    };
    settings.code_rules = crate::codes::CodeRules::from_config(&config.interview);
    let devices = DeviceSettings {
        video: config.devices.video.clone(),
        audio: config.devices.audio.clone(),
        request: VideoRequest {
            width: config.devices.width,
            height: config.devices.height,
            fps: config.devices.fps,
        },
        pace: Pace::Realtime,
        video_kbps: config.recording.video_kbps,
        audio_kbps: config.recording.audio_kbps,
        sound_output: true,
        pin_hash: config.kiosk.operator_pin_hash.clone(),
        staff_bell: config.kiosk.call_staff_bell,
        staff_webhook: config.kiosk.call_staff_webhook.clone(),
        receipt_command: config.kiosk.receipt_command.clone(),
        outbox: data_dir.join("outbox"),
        station_id: config.station.id.clone(),
        doctor: Some(Arc::new(crate::app::effects::DoctorInput {
            config: config.clone(),
            file: args.config.clone(),
        })),
    };
    let demo_dir = args.demo.then(|| data_dir.clone());
    Ok((
        Setup {
            config,
            data_dir,
            catalog: Arc::new(catalog),
            roster,
            settings,
            devices,
            tuning: crate::upload::Tuning::default(),
        },
        demo_dir,
        guard,
    ))
}

/// The flow's settings from the station config (the session directory comes at start).
fn settings(config: &Config, data_dir: &Path, demo: bool) -> Settings {
    let mut settings = Settings::new(data_dir.join("sessions"));
    settings.noise_gate_dbfs = config.recording.noise_gate_dbfs as f32;
    settings.silence_warning = config.recording.silence_warning;
    settings.test_clip = config.recording.test_clip;
    let kiosk = &config.kiosk;
    // The demo is for trying booth out: Ctrl+C leaves it.
    settings.lockdown = kiosk.lockdown && !demo;
    settings.operator_pin = kiosk.operator_pin_hash.is_some();
    settings.idle_reset = kiosk.idle_reset;
    settings.idle_countdown = kiosk.idle_countdown;
    settings.grant_step = kiosk.grant;
    settings.done_wait = kiosk.done;
    settings.receipt = kiosk.receipt_command.is_some();
    settings.target = match config.upload.endpoint {
        crate::config::Endpoint::Dir(_) => Target::Folder,
        crate::config::Endpoint::Tus(_) => Target::Platform,
    };
    settings.keeps_copies = config.upload.retention == crate::config::Retention::Keep;
    settings
}

fn theme(config: &Config) -> Theme {
    let depth = ColorDepth::detect(
        std::env::var("COLORTERM").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    );
    let theme = match config.kiosk.theme {
        ThemeName::Standard => Theme::standard(depth),
        ThemeName::HighContrast => Theme::high_contrast(depth),
    };
    match config.kiosk.text_size {
        TextSize::Normal => theme,
        TextSize::Large => theme.large(),
    }
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
