//! `booth sessions [--config FILE] [--json]`: today's candidate sessions at this station — each
//! with its code masked, its interview, its answers (sent, delivered, waiting, failed) and
//! whether its manifest was delivered — read from the outbox's records and the session in
//! progress, without disturbing a running kiosk.
//!
//! "Today" is the station's local day: from local midnight, as the system's `date` computes it
//! (the `TZ` variable, else `/etc/localtime`), to now. Where `date` cannot say, the day is
//! taken in UTC and the output says so. Times in `--json` are seconds since 1970 and RFC 3339
//! UTC; the table shows local clock times. Exit 1 if a record or the progress file cannot be
//! read (the rest is listed anyway), 2 for a bad config.

mod today;

use std::path::PathBuf;
use std::process::Command;

use clap::Args;
use serde::Serialize;

use super::queue::load_config;
use super::{Exit, report_error};
use crate::logging::console;
use crate::upload::{Outbox, outbox_dir};
use today::SessionRow;

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Station config (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// The start of the station's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// Local midnight (or UTC midnight, see `clock`), seconds since 1970.
    pub since_unix: u64,
    /// `local` or `utc`.
    pub clock: &'static str,
    /// The local offset from UTC in seconds, east positive.
    pub utc_offset_seconds: i64,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Listing<'a> {
    station_id: &'a str,
    since_unix: u64,
    since: String,
    clock: &'static str,
    utc_offset_seconds: i64,
    sessions: Vec<SessionRow>,
}

pub fn run(args: &SessionsArgs) -> Exit {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let data_dir = &config.station.data_dir;
    let (records, mut problems): (_, Vec<Box<dyn std::error::Error>>) = {
        let (records, problems) = Outbox::at(&outbox_dir(&config)).load_all();
        (records, problems.into_iter().map(|p| p.into()).collect())
    };
    let current = today::current(data_dir).unwrap_or_else(|e| {
        problems.push(e.into());
        None
    });
    for p in &problems {
        report_error(p.as_ref());
    }
    let day = local_day(crate::clock::unix_now());
    let sessions = today::collect(&records, current.as_ref(), day.since_unix);
    if args.json {
        let listing = Listing {
            station_id: &config.station.id,
            since_unix: day.since_unix,
            since: crate::clock::rfc3339(day.since_unix),
            clock: day.clock,
            utc_offset_seconds: day.utc_offset_seconds,
            sessions,
        };
        match serde_json::to_string_pretty(&listing) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                report_error(&e);
                return Exit::Failed;
            }
        }
    } else {
        print_table(&config.station.id, &day, &sessions);
    }
    if problems.is_empty() {
        Exit::Ok
    } else {
        Exit::Failed
    }
}

/// Today's start by the station's clock; UTC midnight when `date` cannot tell.
pub fn local_day(now_unix: u64) -> Day {
    let asked = Command::new("date")
        .args(["-d", "today 00:00", "+%s %z"])
        .env("LC_ALL", "C")
        .output();
    let parsed = asked
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| parse_date_output(&String::from_utf8_lossy(&out.stdout)))
        .filter(|(since, _)| *since <= now_unix);
    match parsed {
        Some((since_unix, utc_offset_seconds)) => Day {
            since_unix,
            clock: "local",
            utc_offset_seconds,
        },
        None => {
            tracing::warn!("cannot read the local time zone with `date`; the day is taken in UTC");
            Day {
                since_unix: now_unix - now_unix % 86_400,
                clock: "utc",
                utc_offset_seconds: 0,
            }
        }
    }
}

/// `1796511600 +0100` → (seconds, offset in seconds).
fn parse_date_output(text: &str) -> Option<(u64, i64)> {
    let (seconds, zone) = text.trim().split_once(' ')?;
    let seconds = seconds.parse().ok()?;
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    Some((seconds, sign * (hours * 3600 + minutes * 60)))
}

/// `09:14` in the station's local time.
fn clock_time(unix: u64, offset: i64) -> String {
    let local = i64::try_from(unix)
        .unwrap_or(i64::MAX)
        .saturating_add(offset)
        .rem_euclid(86_400);
    format!("{:02}:{:02}", local / 3600, local / 60 % 60)
}

fn offset_text(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    format!("UTC{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)
}

fn print_table(station: &str, day: &Day, sessions: &[SessionRow]) {
    let clock = match day.clock {
        "local" => format!("local time, {}", offset_text(day.utc_offset_seconds)),
        _ => "UTC: the local time zone is unknown".to_string(),
    };
    println!("sessions at station {station} since 00:00 today ({clock})");
    if sessions.is_empty() {
        console("sessions: none today");
        return;
    }
    println!(
        "{:<36}  {:>5}  {:<8}  {:<20}  {:>7}  {:>9}  {:>7}  {:>6}  manifest",
        "session", "start", "code", "interview", "answers", "delivered", "waiting", "failed"
    );
    for s in sessions {
        let manifest = if s.in_progress {
            format!("{} (in progress)", s.manifest)
        } else {
            s.manifest.clone()
        };
        println!(
            "{:<36}  {:>5}  {:<8}  {:<20}  {:>7}  {:>9}  {:>7}  {:>6}  {manifest}",
            s.session_id,
            clock_time(s.started_unix, day.utc_offset_seconds),
            s.code.as_deref().unwrap_or("-"),
            s.interview_id,
            s.answers,
            s.delivered,
            s.waiting,
            s.failed,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_output_and_clock_times_are_read() {
        assert_eq!(
            parse_date_output("1796511600 +0100\n"),
            Some((1_796_511_600, 3600))
        );
        assert_eq!(
            parse_date_output("1796530200 -0530"),
            Some((1_796_530_200, -19_800))
        );
        assert_eq!(parse_date_output("1796515200 UTC"), None);
        assert_eq!(parse_date_output(""), None);
        assert_eq!(
            clock_time(1_796_515_200 + 9 * 3600 + 14 * 60, 3600),
            "10:14"
        );
        assert_eq!(clock_time(1_796_515_200, -3600), "23:00");
        assert_eq!(offset_text(-19_800), "UTC-05:30");
    }

    #[test]
    fn the_day_starts_at_local_midnight_before_now() {
        let now = crate::clock::unix_now();
        let day = local_day(now);
        assert_eq!(day.clock, "local", "`date` (coreutils) answered: {day:?}");
        assert!(
            day.since_unix <= now && now - day.since_unix < 86_400 + 3600,
            "{day:?}"
        );
        // Midnight where the station is: the local clock reads 00:00 then.
        assert_eq!(clock_time(day.since_unix, day.utc_offset_seconds), "00:00");
    }
}
