//! The doctor's checks of the station itself: free disk against what one interview records,
//! the clock (against booth's build time, the files it wrote and the upload server's `Date`),
//! and the outbox depth (answers waiting, refused or unreadable).

use std::path::Path;

use serde_json::json;

use super::{Check, gigabytes};
use crate::clock;
use crate::config::Config;
use crate::interview::Interview;
use crate::upload::OutboxSummary;

/// Interviews' worth of free disk below which the disk check warns: a station whose uploads
/// stall for a day fills up with candidates' answers.
const INTERVIEWS_SPARE: u64 = 10;
/// Assumed per interview when the interview file cannot be read.
const FALLBACK_BUDGET: u64 = 1_000_000_000;
/// Clock differences from the upload server: beyond the first, receipts and logs disagree with
/// the platform; beyond the second, TLS certificates start to look invalid.
const CLOCK_WARN_SECS: u64 = 120;
const CLOCK_FAIL_SECS: u64 = 86_400;
/// Waiting this long in the outbox means delivery is not happening by itself.
const OUTBOX_STALE_MS: u64 = 3_600_000;

/// Bytes one candidate's interview can take: every attempt at its longest, at the configured
/// bitrates, plus the device-test clip (containers add about 1 %, covered by rounding up).
pub(super) fn recording_budget(config: &Config, interview: &Interview) -> u64 {
    let r = &config.recording;
    let bytes_per_sec = u64::from(r.video_kbps + r.audio_kbps) * 1000 / 8;
    let seconds: u64 = interview
        .questions
        .iter()
        .map(|q| q.answer_limit.as_secs() * u64::from(q.attempts))
        .sum::<u64>()
        + r.test_clip.as_secs();
    (seconds * bytes_per_sec).saturating_mul(101) / 100
}

pub(super) fn disk(config: &Config, interview: Option<&Interview>) -> Check {
    const NAME: &str = "disk";
    let data_dir = &config.station.data_dir;
    let budget = interview.map_or(FALLBACK_BUDGET, |i| recording_budget(config, i));
    let Some(free) = crate::status::disk_free(data_dir) else {
        return Check::failure(
            NAME,
            format!("cannot measure free space for {}", data_dir.display()),
            "check that the data directory's disk is mounted",
        )
        .with(json!({ "data_dir": data_dir }));
    };
    let details = json!({
        "data_dir": data_dir,
        "free_bytes": free,
        "interview_budget_bytes": budget,
        "budget_from_interview": interview.is_some(),
    });
    let fix = format!(
        "free space on the disk holding {} (old logs, delivered answers kept by retention = \
         \"keep\"), or deliver the outbox with `booth upload`",
        data_dir.display()
    );
    let room = free / budget.max(1);
    let finding = format!(
        "{} free at {}, one interview records up to {} (room for {room})",
        gigabytes(free),
        data_dir.display(),
        gigabytes(budget)
    );
    if free < budget {
        Check::failure(NAME, format!("{finding}: not enough for one"), fix)
    } else if room < INTERVIEWS_SPARE {
        Check::warning(NAME, finding, fix)
    } else {
        Check::ok(NAME, finding)
    }
    .with(details)
}

/// What the clock is judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockFacts {
    /// This machine's time, seconds since 1970.
    pub now: u64,
    /// When booth was built: a lower bound on any true time.
    pub built: u64,
    /// The newest modification time among the data directory's files.
    pub newest_file: Option<u64>,
    /// The upload server's `Date`, when it was asked.
    pub server: Option<u64>,
}

impl ClockFacts {
    pub fn now(data_dir: Option<&Path>, server: Option<u64>) -> ClockFacts {
        ClockFacts {
            now: clock::unix_now(),
            built: clock::build_unix(),
            newest_file: data_dir.and_then(newest_mtime),
            server,
        }
    }
}

/// The newest mtime of the data directory and its outbox (where booth writes most).
fn newest_mtime(data_dir: &Path) -> Option<u64> {
    [data_dir.to_path_buf(), data_dir.join("outbox")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten())
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .filter_map(clock::unix_secs)
        .max()
}

pub fn judge_clock(f: &ClockFacts) -> Check {
    const NAME: &str = "clock";
    let details = json!({
        "now": clock::rfc3339(f.now),
        "built": clock::rfc3339(f.built),
        "newest_file": f.newest_file.map(clock::rfc3339),
        "server": f.server.map(clock::rfc3339),
        "offset_seconds": f.server.map(|s| f.now as i64 - s as i64),
    });
    let set_it = "turn on network time: sudo timedatectl set-ntp true (a clock that is wrong \
                  after every power cut needs a new RTC battery)";
    let now = clock::human(f.now);
    if f.now < f.built {
        return Check::failure(
            NAME,
            format!(
                "the clock says {now}, before this booth was built ({})",
                clock::human(f.built)
            ),
            set_it,
        )
        .with(details);
    }
    if let Some(server) = f.server {
        let off = f.now.abs_diff(server);
        let side = if f.now > server { "ahead of" } else { "behind" };
        let finding = format!("the clock says {now}, {off} s {side} the upload server");
        if off > CLOCK_FAIL_SECS {
            return Check::failure(NAME, finding, set_it).with(details);
        }
        if off > CLOCK_WARN_SECS {
            return Check::warning(NAME, finding, set_it).with(details);
        }
    }
    if let Some(newest) = f.newest_file
        && newest > f.now + CLOCK_WARN_SECS
    {
        return Check::warning(
            NAME,
            format!(
                "the clock says {now}, but booth wrote files at {}: the clock went back",
                clock::human(newest)
            ),
            set_it,
        )
        .with(details);
    }
    let compared = match f.server {
        Some(s) => format!("{} s from the upload server", f.now.abs_diff(s)),
        None => "after booth's build time (no server time to compare)".to_string(),
    };
    Check::ok(NAME, format!("{now}, {compared}")).with(details)
}

pub(super) fn outbox(data_dir: &Path) -> Check {
    const NAME: &str = "outbox";
    let dir = data_dir.join("outbox");
    let summary = OutboxSummary::read(&dir);
    let details = json!({
        "dir": dir,
        "waiting": summary.waiting,
        "waiting_bytes": summary.waiting_bytes,
        "oldest_waiting_seconds": summary.oldest_waiting_seconds,
        "refused": summary.refused,
        "delivered": summary.delivered,
        "last_delivered_ms": summary.last_delivered_ms,
        "unreadable": summary.unreadable,
    });
    let depth = if summary.waiting == 0 {
        "nothing waiting".to_string()
    } else {
        format!(
            "{} item(s) waiting, {} left to send",
            summary.waiting,
            gigabytes(summary.waiting_bytes)
        )
    };
    if let Some(first) = summary.unreadable.first() {
        return Check::warning(
            NAME,
            format!(
                "{depth}; {} record(s) unreadable: {first}",
                summary.unreadable.len()
            ),
            format!(
                "move the unreadable record out of {} (booth queue lists the rest)",
                dir.display()
            ),
        )
        .with(details);
    }
    if summary.refused > 0 {
        return Check::warning(
            NAME,
            format!(
                "{depth}; {} item(s) refused by the platform for good",
                summary.refused
            ),
            "`booth queue` shows why; the files are kept in the outbox for the operator",
        )
        .with(details);
    }
    if let Some(age) = summary.oldest_waiting_seconds
        && age * 1000 > OUTBOX_STALE_MS
    {
        return Check::warning(
            NAME,
            format!("{depth}, the oldest for {} min", age / 60),
            "see the upload check; `booth upload` delivers in the foreground and says what fails",
        )
        .with(details);
    }
    Check::ok(NAME, depth).with(details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn facts(now: u64) -> ClockFacts {
        ClockFacts {
            now,
            built: 1_700_000_000,
            newest_file: None,
            server: None,
        }
    }

    #[test]
    fn the_clock_is_judged_against_build_time_server_and_files() -> crate::TestResult {
        let c = judge_clock(&facts(1_000));
        assert_eq!(c.verdict, Verdict::Failure);
        assert!(
            c.finding.contains("before this booth was built"),
            "{}",
            c.finding
        );
        assert!(c.fix.ok_or("no fix")?.contains("timedatectl"));

        assert_eq!(judge_clock(&facts(1_800_000_000)).verdict, Verdict::Ok);
        let off = |delta: i64| ClockFacts {
            server: Some((1_800_000_000i64 + delta) as u64),
            ..facts(1_800_000_000)
        };
        assert_eq!(judge_clock(&off(30)).verdict, Verdict::Ok);
        let c = judge_clock(&off(600));
        assert_eq!(c.verdict, Verdict::Warning);
        assert!(
            c.finding.contains("600 s behind the upload server"),
            "{}",
            c.finding
        );
        assert_eq!(c.details["offset_seconds"], -600);
        assert_eq!(judge_clock(&off(-200_000)).verdict, Verdict::Failure);

        let c = judge_clock(&ClockFacts {
            newest_file: Some(1_800_086_400),
            ..facts(1_800_000_000)
        });
        assert_eq!(c.verdict, Verdict::Warning);
        assert!(c.finding.contains("went back"), "{}", c.finding);
        Ok(())
    }

    #[test]
    fn the_budget_covers_every_attempt_at_the_bitrates() -> crate::TestResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/interview.toml");
        let interview = Interview::load(&path)?;
        let config = Config::parse(
            "[recording]\nvideo_kbps = 1000\naudio_kbps = 200\ntest_clip_seconds = 10\n",
            Path::new("/etc/booth/config.toml"),
        )?;
        let secs: u64 = interview
            .questions
            .iter()
            .map(|q| q.answer_limit.as_secs() * u64::from(q.attempts))
            .sum::<u64>()
            + 10;
        let budget = recording_budget(&config, &interview);
        assert!(budget >= secs * 150_000, "{budget} for {secs} s");
        assert!(budget <= secs * 152_000, "{budget} for {secs} s");
        Ok(())
    }

    #[test]
    fn the_outbox_depth_and_its_trouble_are_reported() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let c = outbox(dir.path());
        assert_eq!(c.verdict, Verdict::Ok);
        assert_eq!(c.finding, "nothing waiting");
        std::fs::create_dir_all(dir.path().join("outbox"))?;
        std::fs::write(
            dir.path()
                .join("outbox/6f1c1b7e-4c8a-4d2e-9a55-3d1f0b6a2c11.json"),
            "{not json",
        )?;
        let c = outbox(dir.path());
        assert_eq!(c.verdict, Verdict::Warning);
        assert!(
            c.finding.contains("1 record(s) unreadable"),
            "{}",
            c.finding
        );
        assert_eq!(
            c.details["unreadable"]
                .as_array()
                .ok_or("not a list")?
                .len(),
            1
        );
        Ok(())
    }
}
