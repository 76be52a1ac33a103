//! The overview screen's facts about an interview: how many questions, and the ranges of
//! attempts, answer length and preparation time (the words are the UI's, per language).

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
}

fn min_max<T: Ord + Copy>(mut items: impl Iterator<Item = T>) -> Option<(T, T)> {
    let first = items.next()?;
    Some(items.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x))))
}
