//! `booth status [--config FILE] [--json | --prometheus]`: what the station is doing right
//! now — version, station id, state (idle / in interview / recording / stopped), devices, the
//! outbox (what waits, for how long, what was refused, the last delivery, answers today) and
//! whether the upload endpoint refuses, free disk, last error. Reads what the running kiosk and
//! its upload service publish; never disturbs them. `--prometheus` prints the same facts in
//! Prometheus' text format (for a scrape script, or to see what the kiosk's text file holds).

use std::path::PathBuf;

use clap::Args;

use super::{Exit, report_error};
use crate::clock::now_ms;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Station config (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Look at this data directory instead of the config's.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long, conflicts_with = "prometheus")]
    pub json: bool,
    /// Prometheus' text exposition format on stdout.
    #[arg(long)]
    pub prometheus: bool,
}

pub fn run(args: &StatusArgs) -> Exit {
    let config = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            return Exit::BadInput;
        }
    };
    let data_dir = args.data_dir.clone().unwrap_or(config.station.data_dir);
    let s = crate::status::station_status(&config.station.id, &data_dir);
    if args.prometheus {
        print!("{}", crate::status::prometheus::render(&s, now_ms()));
        return Exit::Ok;
    }
    if args.json {
        match serde_json::to_string(&s) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                report_error(&e);
                return Exit::Failed;
            }
        }
        return Exit::Ok;
    }
    println!("booth {} on station {}", s.version, s.station_id);
    println!("state:       {}", s.state.name().replace('_', " "));
    if let Some(k) = &s.kiosk {
        println!("screen:      {} (session {})", k.phase, k.session);
        println!(
            "devices:     {}{}",
            k.devices.name(),
            match (&k.camera, &k.microphone) {
                (Some(c), Some(m)) => format!(" — {c}; {m}"),
                _ => String::new(),
            }
        );
    }
    println!("outbox:      {}", s.outbox.line(now_ms()));
    match s.outbox.problem_lines() {
        Some([what, fix]) => {
            println!("upload:      {what}");
            println!("             {fix}");
        }
        None if s.outbox.health.is_some() => println!("upload:      no problem known"),
        None => {}
    }
    if let Some(free) = s.disk_free_bytes {
        println!("disk free:   {:.1} GB", free as f64 / 1e9);
    }
    println!("today:       {} answers", s.outbox.answers_today);
    if let Some(e) = &s.last_error {
        println!("last error:  {e}");
    }
    if let Some(code) = s.last_error_code {
        println!("trouble:     {} (code {})", code.name(), code.number());
    }
    Exit::Ok
}
