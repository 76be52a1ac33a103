//! The scripting front end. Operators script these exact forms, so names and exit codes are a
//! contract:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | failed while running (disk, encoder, a recording cut short); what was recorded is kept |
//! | 2 | bad command line or bad input file |
//! | 3 | a device is missing, busy or not permitted |

mod bench;
mod devices;
mod queue;
mod record;
mod recover;
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
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record camera and microphone to an MP4 (crash-safe while recording).
    Record(record::RecordArgs),
    /// Turn interrupted recordings (*.part) into playable MP4s.
    Recover(recover::RecoverArgs),
    /// List cameras with their formats, and microphones.
    Devices(devices::DevicesArgs),
    /// Measure encoding cost against ffmpeg/x264 on this machine, and live recording load.
    Bench(bench::BenchArgs),
    /// Queue recordings, then deliver the station's outbox to the platform in the foreground.
    Upload(upload::UploadArgs),
    /// List the outbox: every item with its state, bytes sent and last error.
    Queue(queue::QueueArgs),
}

/// Exit codes, see the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    BadInput = 2,
    Device = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _guard = match logging::init_cli(cli.log_file.as_deref(), cli.log_json) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("booth: cannot open the log file: {e}");
            return Exit::BadInput.into();
        }
    };
    // OpenH264 and ALSA print to fd 2 on their own; route that into the log so scripts see
    // only booth's messages.
    if let Err(e) = logging::capture_native_stderr() {
        tracing::warn!(error = %e, "cannot capture native stderr");
    }
    let exit = match cli.command {
        Command::Record(args) => record::run(args),
        Command::Recover(args) => recover::run(args),
        Command::Devices(args) => devices::run(args),
        Command::Bench(args) => bench::run_bench(args),
        Command::Upload(args) => upload::run(args),
        Command::Queue(args) => queue::run(args),
    };
    exit.into()
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
