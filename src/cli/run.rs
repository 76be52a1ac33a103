//! `booth run` (and plain `booth`): the candidate's kiosk. Loads the station config and the
//! interview, sends every diagnostic (and the C libraries' stderr) to the log before the
//! screen is taken, resumes an unfinished session, and runs the flow until it ends or a
//! signal asks it to (a recording in progress is finished first).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use clap::Args;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::{Exit, report_error};
use crate::app::effects::{DeviceSettings, Executor};
use crate::app::msg::{Effect, Msg};
use crate::app::resume;
use crate::app::state::{Phase, Settings, State};
use crate::config::{Config, TextSize, ThemeName};
use crate::interview::Interview;
use crate::logging::console;
use crate::media::source::{AudioSpec, VideoRequest, VideoSpec};
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn run(args: RunArgs) -> Exit {
    let mut config = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            return Exit::BadInput;
        }
    };
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
    if let Err(e) = crate::fsutil::create_private_dir(&data_dir) {
        report_error(&e);
        return Exit::BadInput;
    }
    // The log takes everything before the screen does: booth's own messages and the C
    // libraries' stderr.
    let log_dir = data_dir.join("logs");
    let _guard = match crate::logging::init_rolling(
        &log_dir,
        config.logging.json,
        config.logging.keep_files,
        "info,native=debug",
    ) {
        Ok(g) => g,
        Err(e) => {
            console(&format!(
                "booth: cannot open the log in {}: {e}",
                log_dir.display()
            ));
            return Exit::BadInput;
        }
    };
    if let Err(e) = crate::logging::capture_native_stderr() {
        tracing::warn!(error = %e, "cannot capture native stderr");
    }
    let interview_path = if args.demo {
        match write_demo_interview(&data_dir.join("demo-interview")) {
            Ok(p) => p,
            Err(e) => {
                console(&format!("booth: cannot write the demo interview: {e}"));
                return Exit::Failed;
            }
        }
    } else {
        args.interview
            .clone()
            .unwrap_or(config.interview.file.clone())
    };
    let interview = match Interview::load(&interview_path) {
        Ok(i) => Arc::new(i),
        Err(e) => {
            report_error(&e);
            return Exit::BadInput;
        }
    };
    let (progress, session_dir) = match resume::open_session(&data_dir, &interview, unix_now()) {
        Ok(s) => s,
        Err(e) => {
            report_error(&e);
            return Exit::Failed;
        }
    };
    tracing::info!(
        session = %progress.session_id,
        interview = %interview.id,
        dir = %session_dir.display(),
        "session"
    );
    let mut settings = Settings::new(session_dir.clone());
    settings.noise_gate_dbfs = config.recording.noise_gate_dbfs as f32;
    settings.silence_warning = config.recording.silence_warning;
    settings.test_clip = config.recording.test_clip;
    let kiosk = &config.kiosk;
    // The demo is for trying booth out: Ctrl+C leaves it.
    settings.lockdown = kiosk.lockdown && !args.demo;
    settings.operator_pin = kiosk.operator_pin_hash.is_some();
    settings.idle_reset = kiosk.idle_reset;
    settings.idle_countdown = kiosk.idle_countdown;
    settings.grant_step = kiosk.grant;
    let mut state = State::new(interview, settings, progress, Instant::now());
    state.phase = resume::resume_phase(&state);
    // A resumed candidate past the device test needs the camera straight away.
    let mut first = Vec::new();
    if !matches!(state.phase, Phase::Welcome | Phase::Done) {
        state.devices.status = crate::app::state::DeviceStatus::Opening;
        first.push(Effect::OpenDevices);
    }

    let devices = DeviceSettings {
        video: config.devices.video.clone(),
        audio: config.devices.audio.clone(),
        request: VideoRequest {
            width: config.devices.width,
            height: config.devices.height,
            fps: config.devices.fps,
        },
        video_kbps: config.recording.video_kbps,
        audio_kbps: config.recording.audio_kbps,
        sound_output: true,
        pin_hash: config.kiosk.operator_pin_hash.clone(),
        staff_bell: config.kiosk.call_staff_bell,
        staff_webhook: config.kiosk.call_staff_webhook.clone(),
        outbox: data_dir.join("outbox"),
        station_id: config.station.id.clone(),
        doctor: Some(std::sync::Arc::new(crate::app::effects::DoctorInput {
            config: config.clone(),
            file: args.config.clone(),
        })),
    };
    let depth = ColorDepth::detect(
        std::env::var("COLORTERM").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    );
    let theme = match config.kiosk.theme {
        ThemeName::Standard => Theme::standard(depth),
        ThemeName::HighContrast => Theme::high_contrast(depth),
    };
    let theme = match config.kiosk.text_size {
        TextSize::Normal => theme,
        TextSize::Large => theme.large(),
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    let loop_data_dir = data_dir.clone();
    let heartbeat = config
        .kiosk
        .heartbeat_url
        .clone()
        .map(|url| crate::app::notify::Heartbeat {
            url,
            every: config.kiosk.heartbeat_interval,
            station_id: config.station.id.clone(),
            data_dir: data_dir.clone(),
        });
    let result = runtime.block_on(async move {
        // Stops with the runtime when the kiosk ends.
        if let Some(beat) = heartbeat {
            crate::app::notify::spawn_heartbeat(beat);
        }
        let (tx, reports) = mpsc::unbounded_channel();
        // Answers go to the outbox and on to the platform in the background, whatever the
        // candidate does meanwhile; a second booth on the same data directory is refused here.
        let uploads =
            crate::upload::UploadService::start(&config, &crate::upload::outbox_dir(&config))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut executor = Executor::new(devices, tx, uploads);
        executor.resume_uploads(&state).await;
        let mut guard = crate::tui::TerminalGuard::enter()?;
        if let Ok(size) = guard.terminal.size() {
            state.size = (size.width, size.height);
        }
        // The terminal is asked what pictures it can show before anything else reads its input:
        // its answer must not reach the key reader.
        let graphics = crate::ui::graphics::Graphics::from_env();
        let input = terminal_input();
        crate::app::run::run(
            &mut guard.terminal,
            &loop_data_dir,
            state,
            theme,
            graphics,
            input,
            crate::app::run::Workers {
                executor,
                reports,
                first,
            },
        )
        .await
    });
    match result {
        Ok(state) => {
            tracing::info!(phase = ?state.phase, "booth run ended");
            if args.demo {
                console(&format!(
                    "booth: demo data (recordings, outbox, log) is in {}",
                    data_dir.display()
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

/// Keys and resizes from the terminal, plus SIGTERM / SIGHUP / SIGINT (and Ctrl+C typed as a
/// key) as a request to finish cleanly.
fn terminal_input() -> impl futures::Stream<Item = Msg> + Unpin {
    let keys = crossterm::event::EventStream::new().filter_map(|e| async move {
        match e {
            Ok(ev) if crate::tui::is_interrupt(&ev) => Some(Msg::Interrupt),
            Ok(ev) => crate::tui::translate(ev),
            Err(e) => {
                tracing::error!(error = %e, "terminal input failed");
                None
            }
        }
    });
    // SIGTERM and SIGHUP (systemd stopping the station, the terminal going away) finish the
    // recording and leave; SIGINT is an interrupt a locked kiosk ignores; SIGTSTP is caught so
    // that nobody can suspend the kiosk from the keyboard.
    use tokio::signal::unix::{SignalKind, signal};
    let listeners = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
        // SIGTSTP is 20 on Linux.
        signal(SignalKind::from_raw(20)),
    );
    let signals = futures::stream::unfold(listeners, |mut l| async move {
        let (Ok(term), Ok(hup), Ok(int), Ok(tstp)) = (&mut l.0, &mut l.1, &mut l.2, &mut l.3)
        else {
            tracing::error!("cannot watch signals");
            return None;
        };
        let msg = tokio::select! {
            _ = term.recv() => Msg::Terminate,
            _ = hup.recv() => Msg::Terminate,
            _ = int.recv() => Msg::Interrupt,
            _ = tstp.recv() => {
                tracing::info!("SIGTSTP ignored");
                Msg::Interrupt
            }
        };
        tracing::info!(?msg, "signal received");
        Some((msg, l))
    });
    Box::pin(futures::stream::select(keys, signals))
}
