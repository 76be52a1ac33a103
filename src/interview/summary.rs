//! The overview screen's words for an interview: how many questions, how many attempts, how
//! long answers and preparation may be ("1–3 attempts per question").

use std::time::Duration;

use super::Interview;

impl Interview {
    pub fn question_count(&self) -> usize {
        self.questions.len()
    }

    /// Fewest and most attempts any question allows; `None` without questions.
    pub fn attempts_range(&self) -> Option<(u32, u32)> {
        min_max(self.questions.iter().map(|q| q.attempts))
    }

    /// Shortest and longest answer limit.
    pub fn answer_limit_range(&self) -> Option<(Duration, Duration)> {
        min_max(self.questions.iter().map(|q| q.answer_limit))
    }

    /// Shortest and longest preparation time.
    pub fn preparation_range(&self) -> Option<(Duration, Duration)> {
        min_max(self.questions.iter().map(|q| q.preparation))
    }

    /// "4 questions".
    pub fn questions_summary(&self) -> String {
        plural(self.questions.len() as u64, "question")
    }

    /// "2 attempts per question" or "1–3 attempts per question".
    pub fn attempts_summary(&self) -> String {
        match self.attempts_range() {
            None => "no questions".to_string(),
            Some((1, 1)) => "1 attempt per question".to_string(),
            Some((lo, hi)) if lo == hi => format!("{lo} attempts per question"),
            Some((lo, hi)) => format!("{lo}–{hi} attempts per question"),
        }
    }

    /// "up to 2 minutes per answer" or "up to 60–90 seconds per answer".
    pub fn answer_limit_summary(&self) -> String {
        match self.answer_limit_range() {
            None => "no questions".to_string(),
            Some((lo, hi)) => format!("up to {} per answer", span_words(lo, hi)),
        }
    }

    /// "no preparation time", "30 seconds to prepare for each question", or "up to 1 minute
    /// to prepare, depending on the question".
    pub fn preparation_summary(&self) -> String {
        match self.preparation_range() {
            None => "no questions".to_string(),
            Some((lo, hi)) if hi.is_zero() && lo.is_zero() => "no preparation time".to_string(),
            Some((lo, hi)) if lo == hi => format!("{} to prepare for each question", words(lo)),
            Some((lo, hi)) if lo.is_zero() => {
                format!("up to {} to prepare, depending on the question", words(hi))
            }
            Some((lo, hi)) => format!(
                "{} to prepare, depending on the question",
                span_words(lo, hi)
            ),
        }
    }
}

fn min_max<T: Ord + Copy>(mut items: impl Iterator<Item = T>) -> Option<(T, T)> {
    let first = items.next()?;
    Some(items.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x))))
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Whole minutes read as minutes, anything else as seconds ("90 seconds", not "1.5 minutes").
fn words(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        plural(s / 60, "minute")
    } else {
        plural(s, "second")
    }
}

fn span_words(lo: Duration, hi: Duration) -> String {
    let (lo, hi) = (lo.as_secs(), hi.as_secs());
    if lo == hi {
        words(Duration::from_secs(lo))
    } else if lo >= 60 && lo.is_multiple_of(60) && hi.is_multiple_of(60) {
        format!("{}–{} minutes", lo / 60, hi / 60)
    } else {
        format!("{lo}–{hi} seconds")
    }
}
