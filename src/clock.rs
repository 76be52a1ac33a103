//! Wall-clock time as booth reports it, without a date crate: seconds (and milliseconds)
//! since 1970, now and of a file's time; RFC 3339 in UTC for JSON (`2025-03-01T09:30:00Z`,
//! or with milliseconds in the session manifest); HTTP dates (`Sun, 06 Nov 1994 08:49:37
//! GMT`, the only form servers may send today) read back; and when this binary was built.
//! The one place booth reads the wall clock or formats a date: everything else calls here.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since 1970 (0 if the clock is before it, which the doctor reports).
pub fn unix_now() -> u64 {
    unix_secs(SystemTime::now()).unwrap_or(0)
}

/// Milliseconds since 1970 (0 if the clock is before it): the outbox's and the manifest's
/// timestamps.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A time (a file's modification time) as seconds since 1970; `None` before 1970.
pub fn unix_secs(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// When this binary was built (see build.rs), seconds since 1970.
pub fn build_unix() -> u64 {
    // build.rs always sets it to digits; 0 would only make the lower bound useless.
    env!("BOOTH_BUILD_UNIX").parse().unwrap_or(0)
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01; the inverse of [`civil_from_days`].
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2025-03-01T09:30:00Z`.
pub fn rfc3339(unix: u64) -> String {
    format!("{}Z", date_time(unix))
}

/// `2026-11-26T04:54:49.124Z` for milliseconds since 1970.
pub fn rfc3339_ms(ms: u64) -> String {
    format!("{}.{:03}Z", date_time(ms / 1000), ms % 1000)
}

/// `2025-03-01T09:30:00`, UTC, without the zone.
fn date_time(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `2025-03-01 09:30 UTC`, for people.
pub fn human(unix: u64) -> String {
    let s = rfc3339(unix);
    format!("{} {} UTC", &s[..10], &s[11..16])
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Reads an HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7) as seconds since 1970.
pub fn parse_http_date(s: &str) -> Option<u64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let (_, rest) = s.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let year: i64 = year.parse().ok().filter(|y| *y >= 1970)?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    if *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_reads_dates() -> crate::TestResult {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(784_111_777), "1994-11-06T08:49:37Z");
        // A leap day.
        assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(human(1_709_210_096), "2024-02-29 12:34 UTC");
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_ms(1_795_668_889_124), "2026-11-26T04:54:49.124Z");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 12:34:56 GMT"),
            Some(1_709_210_096)
        );
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        for unix in [0, 951_782_400, 4_102_444_800, 1_700_000_000] {
            let s = rfc3339(unix);
            let (y, m, d) = (&s[0..4], &s[5..7], &s[8..10]);
            let days = days_from_civil(y.parse()?, m.parse()?, d.parse()?);
            assert_eq!(days as u64, unix / 86_400, "{s}");
        }
        Ok(())
    }

    #[test]
    fn the_build_time_is_known_and_past() {
        let built = build_unix();
        assert!(built > 1_700_000_000, "{built}");
        assert!(built <= unix_now() + 60, "{built}");
    }

    #[test]
    fn now_and_file_times_agree_in_their_units() {
        let (secs, ms) = (unix_now(), now_ms());
        assert!(ms / 1000 >= secs && ms / 1000 <= secs + 60, "{secs} {ms}");
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_709_210_096_999);
        assert_eq!(unix_secs(at), Some(1_709_210_096));
        assert_eq!(
            unix_secs(UNIX_EPOCH - std::time::Duration::from_secs(1)),
            None
        );
    }
}
