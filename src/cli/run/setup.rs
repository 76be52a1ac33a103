//! The resolve step of `booth run`: the station config and the command line become, once and
//! in one place, everything the kiosk runs on — the flow's settings, the executor's
//! configuration, the theme, the heartbeat, where the interviews come from. Nothing here reads
//! a file or takes the screen; `booth run` does that with what this decides.

use std::path::PathBuf;

use super::RunArgs;
use crate::app::effects::{DeviceSettings, Diagnostics, StationServices};
use crate::app::notify::{Heartbeat, StaffWebhook};
use crate::app::state::{CodeMode, Settings, Target};
use crate::codes::CodeRules;
use crate::config::{Config, Endpoint, Retention, TextSize, ThemeName};
use crate::media::source::{AudioSpec, Pace, VideoRequest, VideoSpec};
use crate::ui::theme::{ColorDepth, Theme};

/// Where the kiosk's interviews come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interviews {
    /// The bundled sample, written under the data directory.
    Demo,
    /// One interview file (`--interview`): no roster.
    Single(PathBuf),
    /// The config's interview file or folder, and its roster of codes if it has one.
    Station { roster: Option<PathBuf> },
}

impl Interviews {
    pub fn roster(&self) -> Option<&PathBuf> {
        match self {
            Interviews::Station { roster } => roster.as_ref(),
            Interviews::Demo | Interviews::Single(_) => None,
        }
    }
}

/// Everything `booth run` runs on, resolved from the config and the arguments.
#[derive(Debug)]
pub struct KioskSetup {
    /// The config with the data directory (and the demo's devices) applied.
    pub config: Config,
    pub data_dir: PathBuf,
    pub interviews: Interviews,
    /// The flow's settings, the same for every candidate.
    pub settings: Settings,
    /// The executor's configuration: devices, bitrates, PIN, staff calls, receipts.
    pub devices: DeviceSettings,
    pub theme: Theme,
    pub heartbeat: Option<Heartbeat>,
    /// The demo's temporary data directory, to tell the user where it is afterwards.
    pub demo_dir: Option<PathBuf>,
}

impl KioskSetup {
    /// Resolves the kiosk from `config` and `args`; the terminal's colours are read from the
    /// environment (`COLORTERM`, `TERM`).
    pub fn resolve(config: &Config, args: &RunArgs) -> KioskSetup {
        let depth = ColorDepth::detect(
            std::env::var("COLORTERM").ok().as_deref(),
            std::env::var("TERM").ok().as_deref(),
        );
        KioskSetup::resolve_with(config, args, depth)
    }

    /// [`KioskSetup::resolve`] for a known colour depth.
    pub fn resolve_with(config: &Config, args: &RunArgs, depth: ColorDepth) -> KioskSetup {
        let data_dir = match (&args.data_dir, args.demo) {
            (Some(d), _) => d.clone(),
            (None, true) => std::env::temp_dir().join(format!("booth-demo-{}", std::process::id())),
            (None, false) => config.station.data_dir.clone(),
        };
        let mut config = config.clone().with_data_dir(&data_dir);
        if args.demo {
            config.devices.video = VideoSpec::Test;
            config.devices.audio = AudioSpec::Tone;
        }
        // with_data_dir makes the directory absolute; the kiosk uses the same one throughout.
        let data_dir = config.station.data_dir.clone();
        let interviews = match (&args.interview, args.demo) {
            (_, true) => Interviews::Demo,
            (Some(file), false) => Interviews::Single(file.clone()),
            (None, false) => Interviews::Station {
                roster: config.interview.roster.clone(),
            },
        };
        KioskSetup {
            settings: settings(&config, &interviews, args.demo),
            devices: devices(&config, args.config.clone()),
            theme: theme(&config, depth),
            heartbeat: heartbeat(&config),
            demo_dir: args.demo.then(|| data_dir.clone()),
            interviews,
            data_dir,
            config,
        }
    }
}

/// The flow's settings: every field from the config (or the interviews' codes), apart from the
/// flow's own fixed times.
fn settings(config: &Config, interviews: &Interviews, demo: bool) -> Settings {
    let kiosk = &config.kiosk;
    let roster = interviews.roster().is_some();
    let fixed = Settings::default();
    Settings {
        noise_gate_dbfs: config.recording.noise_gate_dbfs as f32,
        silence_warning: config.recording.silence_warning,
        test_clip: config.recording.test_clip,
        test_clip_minimum: fixed.test_clip_minimum,
        gate_memory: fixed.gate_memory,
        // The demo is for trying booth out: Ctrl+C leaves it.
        lockdown: kiosk.lockdown && !demo,
        operator_pin: kiosk.operator_pin_hash.is_some(),
        idle_reset: kiosk.idle_reset,
        idle_countdown: kiosk.idle_countdown,
        grant_step: kiosk.grant,
        codes: if roster || config.interview.code_required() {
            CodeMode::Required
        } else {
            CodeMode::Optional
        },
        code_rules: CodeRules::from_config(&config.interview),
        roster,
        target: match config.upload.endpoint {
            Endpoint::Dir(_) => Target::Folder,
            Endpoint::Tus(_) => Target::Platform,
        },
        keeps_copies: config.upload.retention == Retention::Keep,
        done_wait: kiosk.done,
        declined_wait: fixed.declined_wait,
        receipt: kiosk.receipt_command.is_some(),
        staff_bell: kiosk.call_staff_bell,
        countdown: config.recording.countdown,
    }
}

/// The executor's configuration. `file`: the config file, re-read by the operator's
/// diagnostics to catch a broken edit.
fn devices(config: &Config, file: Option<PathBuf>) -> DeviceSettings {
    let kiosk = &config.kiosk;
    DeviceSettings {
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
        pin_hash: kiosk.operator_pin_hash.clone(),
        receipt_command: kiosk.receipt_command.clone(),
        outbox: config.station.data_dir.join("outbox"),
        station_id: config.station.id.clone(),
        services: services(config, file),
    }
}

/// The station's services the executor is handed: the call-staff webhook and the operator's
/// diagnostics (`booth doctor`'s station checks on the running config, and on its file, re-read
/// to catch a broken edit).
fn services(config: &Config, file: Option<PathBuf>) -> StationServices {
    let webhook = config
        .kiosk
        .call_staff_webhook
        .clone()
        .map(|url| StaffWebhook {
            url,
            station_id: config.station.id.clone(),
        });
    let checked = config.clone();
    let diagnostics =
        Diagnostics::new(move || crate::doctor::run_in_kiosk(&checked, file.as_deref()).lines());
    StationServices {
        webhook,
        diagnostics: Some(diagnostics),
    }
}

fn theme(config: &Config, depth: ColorDepth) -> Theme {
    let theme = match config.kiosk.theme {
        ThemeName::Standard => Theme::standard(depth),
        ThemeName::HighContrast => Theme::high_contrast(depth),
    };
    match config.kiosk.text_size {
        TextSize::Normal => theme,
        TextSize::Large => theme.large(),
    }
}

fn heartbeat(config: &Config) -> Option<Heartbeat> {
    config.kiosk.heartbeat_url.clone().map(|url| Heartbeat {
        url,
        every: config.kiosk.heartbeat_interval,
        station_id: config.station.id.clone(),
        data_dir: config.station.data_dir.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    fn config(text: &str) -> crate::TestResult<Config> {
        Ok(Config::parse(text, Path::new("/etc/booth/config.toml"))?)
    }

    #[test]
    fn the_settings_come_from_the_config() -> crate::TestResult {
        let config = config(
            "[station]\nid = \"b7\"\ndata_dir = \"/srv/booth\"\n\
             [recording]\nnoise_gate_dbfs = -50\nsilence_warning_seconds = 4\n\
             [kiosk]\nidle_reset_seconds = 0\ngrant_seconds = 90\ndone_seconds = 15\n\
             receipt_command = \"lp\"\nheartbeat_url = \"https://ops.example/beat\"\n\
             text_size = \"large\"\n\
             [upload]\nendpoint = \"dir:/mnt/share\"\nretention = \"keep\"\n",
        )?;
        let k = KioskSetup::resolve_with(&config, &RunArgs::default(), ColorDepth::Ansi16);
        let s = &k.settings;
        assert_eq!(s.noise_gate_dbfs, -50.0);
        assert_eq!(s.silence_warning, Duration::from_secs(4));
        assert_eq!(s.idle_reset, None);
        assert_eq!(s.grant_step, Duration::from_secs(90));
        assert_eq!(s.done_wait, Duration::from_secs(15));
        assert!(s.receipt && s.lockdown && s.keeps_copies && !s.operator_pin && !s.roster);
        assert_eq!((s.target, s.codes), (Target::Folder, CodeMode::Optional));
        assert_eq!(k.data_dir, Path::new("/srv/booth"));
        assert_eq!(k.devices.outbox, Path::new("/srv/booth/outbox"));
        assert_eq!(k.devices.station_id, "b7");
        assert_eq!(k.devices.receipt_command.as_deref(), Some("lp"));
        assert!(k.theme.large);
        let beat = k.heartbeat.ok_or("no heartbeat")?;
        assert_eq!(
            (beat.url.as_str(), beat.data_dir.as_path()),
            ("https://ops.example/beat", Path::new("/srv/booth"))
        );
        assert_eq!(k.interviews, Interviews::Station { roster: None });
        assert_eq!(k.demo_dir, None);
        Ok(())
    }

    #[test]
    fn the_demo_and_a_data_dir_override_the_config() -> crate::TestResult {
        let config = config("[station]\ndata_dir = \"/srv/booth\"\n")?;
        let args = RunArgs {
            demo: true,
            data_dir: Some(PathBuf::from("/tmp/try-booth")),
            ..RunArgs::default()
        };
        let k = KioskSetup::resolve_with(&config, &args, ColorDepth::Ansi16);
        assert_eq!(k.data_dir, Path::new("/tmp/try-booth"));
        assert_eq!(k.config.station.data_dir, k.data_dir);
        assert_eq!(k.demo_dir.as_deref(), Some(Path::new("/tmp/try-booth")));
        assert_eq!(k.devices.video, VideoSpec::Test);
        assert_eq!(k.devices.audio, AudioSpec::Tone);
        // Ctrl+C leaves a demo, whatever the config says.
        assert!(!k.settings.lockdown);
        assert_eq!(k.interviews, Interviews::Demo);
        assert!(k.heartbeat.is_none());
        Ok(())
    }

    #[test]
    fn one_interview_file_has_no_roster_even_when_the_station_has_one() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let roster = dir.path().join("roster.csv");
        std::fs::write(&roster, "code,interview\n")?;
        let config = config(&format!("[interview]\nroster = \"{}\"\n", roster.display()))?;
        let station = KioskSetup::resolve_with(&config, &RunArgs::default(), ColorDepth::Ansi16);
        assert_eq!(station.interviews.roster(), Some(&roster));
        assert!(station.settings.roster);
        assert_eq!(station.settings.codes, CodeMode::Required);
        let args = RunArgs {
            interview: Some(PathBuf::from("/srv/one.toml")),
            ..RunArgs::default()
        };
        let single = KioskSetup::resolve_with(&config, &args, ColorDepth::Ansi16);
        assert_eq!(single.interviews.roster(), None);
        assert!(!single.settings.roster);
        Ok(())
    }
}
