//! The scripting front end. Operators script these exact forms, so names and exit codes are a
//! contract:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | failed while running (disk, encoder, a recording cut short); what was recorded is kept |
//! | 2 | bad command line or bad input file |
//! | 3 | a device is missing, busy or not permitted |
//! | 4 | the upload endpoint refuses: fix the configuration (`booth upload`: no token, a token the server refuses, no creation URL there, a chunk size the route refuses) |

mod bench;
mod config;
mod devices;
mod doctor;
mod hash_pin;
mod queue;
mod record;
mod recover;
mod run;
mod sessions;
mod status;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::logging;

#[derive(Debug, Parser)]
#[command(
    name = "booth",
    version,
    about = "Terminal kiosk recorder for one-way video interviews"
)]
pub struct Cli {
    /// Write diagnostics to this file instead of the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Log as JSON lines (with --log-file).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The candidate's kiosk (the default): the interview on this terminal.
    Run(run::RunArgs),
    /// Record camera and microphone to an MP4 (crash-safe while recording).
    Record(record::RecordArgs),
    /// Turn interrupted recordings (*.part) into playable MP4s.
    Recover(recover::RecoverArgs),
    /// List cameras with their formats, and microphones.
    Devices(devices::DevicesArgs),
    /// Measure encoding cost against ffmpeg/x264 on this machine, and live recording load.
    Bench(bench::BenchArgs),
    /// Make the argon2id hash of an operator PIN for config.toml.
    HashPin(hash_pin::HashPinArgs),
    /// What the station is doing: state, devices, outbox, disk, last error.
    Status(status::StatusArgs),
    /// The configuration in force (built-in defaults, the config file, its config.d drop-ins)
    /// with the file and line each value came from.
    Config(config::ConfigArgs),
    /// Check the station: config, interview, devices, disk, clock, upload endpoint, outbox.
    /// Exits 0 when all pass, 1 with warnings, 2 with failures.
    Doctor(doctor::DoctorArgs),
    /// Queue recordings, then deliver the station's outbox to the platform in the foreground.
    Upload(upload::UploadArgs),
    /// List the outbox: every item with its state, bytes sent and last error.
    Queue(queue::QueueArgs),
    /// Today's candidate sessions at this station: code (masked), interview, answers and
    /// their delivery, the manifest.
    Sessions(sessions::SessionsArgs),
}

/// Exit codes, see the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    BadInput = 2,
    Device = 3,
    /// The upload endpoint refuses every delivery until the configuration is fixed.
    Endpoint = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (log_file, json) = (cli.log_file, cli.log_json);
    let logged = |f: &dyn Fn() -> ExitCode| with_console_logging(log_file.as_deref(), json, f);
    let scripted = |f: &dyn Fn() -> Exit| logged(&|| f().into());
    match cli
        .command
        .unwrap_or_else(|| Command::Run(run::RunArgs::default()))
    {
        // The kiosk logs to its own data directory and owns the terminal.
        Command::Run(args) => run::run(args).into(),
        Command::Record(args) => scripted(&|| record::run(&args)),
        Command::Recover(args) => scripted(&|| recover::run(&args)),
        Command::Devices(args) => scripted(&|| devices::run(&args)),
        Command::Bench(args) => scripted(&|| bench::run_bench(&args)),
        Command::HashPin(args) => scripted(&|| hash_pin::run(&args)),
        Command::Status(args) => scripted(&|| status::run(&args)),
        Command::Config(args) => scripted(&|| config::run(&args)),
        // Its exit code is its verdict (0/1/2), not an `Exit`.
        Command::Doctor(args) => logged(&|| doctor::run(&args)),
        Command::Upload(args) => scripted(&|| upload::run(&args)),
        Command::Queue(args) => scripted(&|| queue::run(&args)),
        Command::Sessions(args) => scripted(&|| sessions::run(&args)),
    }
}

/// Logging for the scripting commands: to the console (or `--log-file`), with the C
/// libraries' own stderr chatter routed into the log so scripts see only booth's messages.
fn with_console_logging(
    log_file: Option<&std::path::Path>,
    json: bool,
    f: &dyn Fn() -> ExitCode,
) -> ExitCode {
    let _guard = match logging::init_cli(log_file, json) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("booth: cannot open the log file: {e}");
            return Exit::BadInput.into();
        }
    };
    if let Err(e) = logging::capture_native_stderr() {
        tracing::warn!(error = %e, "cannot capture native stderr");
    }
    f()
}

/// The runtime the long-running commands (the kiosk, uploads) share: two workers, one per
/// core of a station. A runtime that cannot start is reported, and the command fails.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            report_error(&e);
            Exit::Failed
        })
}

/// Prints an error and its causes on the console, one line, and logs the whole chain.
pub(crate) fn report_error(err: &(dyn std::error::Error + 'static)) {
    let mut line = format!("booth: {err}");
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = s.source();
    }
    if logging::logs_to_file() {
        tracing::error!("{line}");
    }
    logging::console(&line);
}
