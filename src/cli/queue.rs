//! `booth queue [--config FILE] [--json]`: every outbox item with its state, bytes sent and
//! last error, read straight from the records on disk (it works while another process is
//! uploading), then the outbox summed up ([`OutboxSummary`]) and the upload endpoint's
//! problem, if the upload service saw one. `--json` prints an array of items for scripts.
//! Exit 1 if a record cannot be read.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{Exit, report_error};
use crate::clock::now_ms;
use crate::config::Config;
use crate::logging::console;
use crate::upload::{self, ItemView, OutboxSummary};

#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Station config (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print a JSON array of items instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Loads the station config, reporting a bad one (exit 2).
pub(super) fn load_config(path: Option<&Path>) -> Result<Config, Exit> {
    Config::load(path).map_err(|e| {
        report_error(&e);
        Exit::BadInput
    })
}

/// `12.3 MiB`.
pub(super) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn run(args: &QueueArgs) -> Exit {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let dir = upload::outbox_dir(&config);
    let (items, problems) = upload::list(&dir);
    for p in &problems {
        report_error(p);
    }
    if args.json {
        match serde_json::to_string_pretty(&items) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                report_error(&e);
                return Exit::Failed;
            }
        }
    } else {
        print_table(&items);
        let summary = OutboxSummary::read(&dir);
        console(&format!("queue: {}", summary.line(now_ms())));
        for line in summary.problem_lines().into_iter().flatten() {
            console(&format!("queue: {line}"));
        }
    }
    if problems.is_empty() {
        Exit::Ok
    } else {
        Exit::Failed
    }
}

fn print_table(items: &[ItemView]) {
    if items.is_empty() {
        console("queue: the outbox is empty");
        return;
    }
    println!(
        "{:<36}  {:<10}  {:>21}  {:<24}  last error",
        "id", "state", "sent", "file"
    );
    for v in items {
        let sent = format!("{} / {}", human_bytes(v.sent), human_bytes(v.total));
        let what = match (&v.question_id, v.attempt) {
            (Some(q), Some(a)) => format!("{} ({q} #{a})", v.filename),
            _ => v.filename.clone(),
        };
        println!(
            "{:<36}  {:<10}  {:>21}  {:<24}  {}",
            v.id.to_string(),
            v.state.to_string(),
            sent,
            what,
            v.last_error.as_deref().unwrap_or("-")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_person_writes_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(8 << 20), "8.0 MiB");
    }
}
