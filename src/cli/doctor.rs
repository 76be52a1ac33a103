//! `booth doctor [--config FILE] [--json]`: is this station ready for a candidate? Prints one
//! line per check (verdict, what was found) and the fix under anything that is not ok, or one
//! JSON object with every check. Its exit code is the worst verdict's, not the module table's:
//! 0 all ok, 1 warnings only, 2 at least one failure. The hidden `--root DIR` makes the console
//! checks read DIR as the station's `/`, so that tests can judge a prepared folder.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::doctor;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Station config (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One JSON object on stdout: {"verdict", "exit_code", "checks": [...]}.
    #[arg(long)]
    pub json: bool,
    /// The folder the console checks read as the station's `/` (for tests).
    #[arg(long, value_name = "DIR", default_value = "/", hide = true)]
    pub root: PathBuf,
}

pub fn run(args: &DoctorArgs) -> ExitCode {
    let report = doctor::run_under(args.config.as_deref(), &args.root);
    if args.json {
        match serde_json::to_string(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                super::report_error(&e);
                return ExitCode::from(2);
            }
        }
    } else {
        let station = report
            .station_id
            .as_deref()
            .map(|s| format!(" on station {s}"))
            .unwrap_or_default();
        println!("booth {} doctor{station}", report.version);
        for line in report.lines() {
            println!("{line}");
        }
        println!(
            "{}",
            match report.exit_code {
                0 => "all checks passed",
                1 => "ready, with warnings",
                _ => "NOT READY: fix the failures above",
            }
        );
    }
    ExitCode::from(report.exit_code)
}
