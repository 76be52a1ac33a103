//! A roster's `valid_from` and `valid_until`: a whole day (`2026-12-06`) or an RFC 3339 time
//! (`2026-12-06T09:00:00+01:00`). Days, and times written without an offset, are read as
//! UTC: a station's local time zone is not consulted, so a roster means the same everywhere.
//! A day as `valid_until` lasts to its end (23:59:59).

use crate::clock::days_from_civil;

/// Which end of a validity window a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// The first second the code is good.
    From,
    /// The last second the code is good.
    Until,
}

/// How a date is written, for messages.
pub(crate) const DATE_RULE: &str = "a date like 2026-12-06 (a whole day, UTC) or an RFC 3339 \
                                    time like 2026-12-06T09:00:00+01:00";

/// Seconds since 1970 for `text`, or why it is not a date.
pub(crate) fn parse(text: &str, bound: Bound) -> Result<u64, &'static str> {
    let text = text.trim();
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let day_start = day(date)?;
    match time {
        None => Ok(match bound {
            Bound::From => day_start,
            Bound::Until => day_start + 86_399,
        }),
        Some(time) => {
            let (clock, offset) = split_offset(time)?;
            let seconds = time_of_day(clock)?;
            let local = i64::try_from(day_start + seconds).map_err(|_| "the year is too large")?;
            u64::try_from(local - offset).map_err(|_| "the time is before 1970")
        }
    }
}

/// `YYYY-MM-DD` → the day's first second.
fn day(date: &str) -> Result<u64, &'static str> {
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err("the date is not YYYY-MM-DD");
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err("the date is not YYYY-MM-DD");
    }
    let year: i64 = digits(y).ok_or("the year is not a number")?;
    let month: u32 = digits(m).ok_or("the month is not a number")?;
    let dom: u32 = digits(d).ok_or("the day is not a number")?;
    if !(1..=12).contains(&month) {
        return Err("there is no such month");
    }
    if dom == 0 || dom > days_in_month(year, month) {
        return Err("there is no such day in that month");
    }
    let days = days_from_civil(year, month, dom);
    u64::try_from(days)
        .map(|d| d * 86_400)
        .map_err(|_| "the date is before 1970")
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Splits `09:00:00+01:00` into the clock and the offset east of UTC in seconds.
fn split_offset(time: &str) -> Result<(&str, i64), &'static str> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Ok((clock, 0));
    }
    let Some(i) = time.rfind(['+', '-']) else {
        return Ok((time, 0));
    };
    let (clock, offset) = (&time[..i], &time[i + 1..]);
    let (h, m) = offset.split_once(':').ok_or("the offset is not +HH:MM")?;
    let (h, m): (i64, i64) = match (digits(h), digits(m)) {
        (Some(h), Some(m)) if h <= 23 && m <= 59 && offset.len() == 5 => (h, m),
        _ => return Err("the offset is not +HH:MM"),
    };
    let sign = if time[i..].starts_with('-') { -1 } else { 1 };
    Ok((clock, sign * (h * 3600 + m * 60)))
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff` → seconds into the day (fractions dropped).
fn time_of_day(clock: &str) -> Result<u64, &'static str> {
    let clock = clock.split_once('.').map_or(clock, |(whole, _)| whole);
    let parts: Vec<&str> = clock.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, "00"),
        [h, m, s] => (*h, *m, *s),
        _ => return Err("the time is not HH:MM:SS"),
    };
    let two = |p: &str| if p.len() == 2 { digits::<u64>(p) } else { None };
    match (two(h), two(m), two(s)) {
        (Some(h), Some(m), Some(s)) if h <= 23 && m <= 59 && s <= 60 => Ok(h * 3600 + m * 60 + s),
        _ => Err("the time is not HH:MM:SS"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_are_read_as_utc_unless_they_say_otherwise() {
        let day = 1_796_515_200; // 2026-12-06T00:00:00Z
        assert_eq!(crate::clock::rfc3339(day), "2026-12-06T00:00:00Z");
        let cases = [
            ("2026-12-06", Bound::From, day),
            ("2026-12-06", Bound::Until, day + 86_399),
            (" 2026-12-06 ", Bound::From, day),
            ("2026-12-06T09:30:00Z", Bound::From, day + 9 * 3600 + 1800),
            ("2026-12-06T09:30:00", Bound::Until, day + 9 * 3600 + 1800),
            ("2026-12-06 09:30", Bound::From, day + 9 * 3600 + 1800),
            (
                "2026-12-06T09:30:00.750+01:00",
                Bound::From,
                day + 8 * 3600 + 1800,
            ),
            ("2026-12-06T09:30:00-05:30", Bound::From, day + 15 * 3600),
            ("2024-02-29", Bound::From, 1_709_164_800),
        ];
        for (text, bound, want) in cases {
            assert_eq!(parse(text, bound), Ok(want), "{text}");
        }
    }

    #[test]
    fn impossible_dates_say_why() {
        let cases = [
            ("06.12.2026", "the date is not YYYY-MM-DD"),
            ("2026-12-6", "the date is not YYYY-MM-DD"),
            ("2026-13-01", "there is no such month"),
            ("2025-02-29", "there is no such day in that month"),
            ("2026-04-31", "there is no such day in that month"),
            ("1969-12-31", "the date is before 1970"),
            ("2026-12-06T25:00:00Z", "the time is not HH:MM:SS"),
            ("2026-12-06T9:00", "the time is not HH:MM:SS"),
            ("2026-12-06T09:00:00+1", "the offset is not +HH:MM"),
            ("tomorrow", "the date is not YYYY-MM-DD"),
            ("", "the date is not YYYY-MM-DD"),
        ];
        for (text, why) in cases {
            assert_eq!(parse(text, Bound::From), Err(why), "{text}");
        }
    }
}
