//! Durations and interview summaries in the candidate's language: "1 minute 30 seconds",
//! "1–3 attempts per question", "up to 45 seconds to prepare, depending on the question".

use std::time::Duration;

use crate::i18n::Text;
use crate::interview::Interview;

/// "90 seconds" reads better than "1 minute 30 seconds" below two minutes only when round;
/// whole minutes read as minutes, everything else as minutes and seconds.
pub fn duration(t: &Text, d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, sec) => t.plural("time.seconds", sec, &[]),
        (m, 0) => t.plural("time.minutes", m, &[]),
        (m, sec) => t.fmt(
            "time.minutes_seconds",
            &[
                ("minutes", &t.plural("time.minutes", m, &[])),
                ("seconds", &t.plural("time.seconds", sec, &[])),
            ],
        ),
    }
}

fn span(t: &Text, lo: Duration, hi: Duration) -> String {
    let (l, h) = (lo.as_secs(), hi.as_secs());
    if l == h {
        duration(t, lo)
    } else if l >= 60 && l.is_multiple_of(60) && h.is_multiple_of(60) {
        t.fmt(
            "time.minutes_range",
            &[("lo", &(l / 60)), ("hi", &(h / 60))],
        )
    } else {
        t.fmt("time.seconds_range", &[("lo", &l), ("hi", &h)])
    }
}

/// The four facts of the overview screen.
pub fn overview_facts(t: &Text, iv: &Interview) -> Vec<String> {
    let mut facts = vec![t.plural("overview.questions", iv.question_count() as u64, &[])];
    if let Some((lo, hi)) = iv.attempts_range() {
        facts.push(if lo == hi {
            t.plural("overview.attempts", lo as u64, &[])
        } else {
            t.fmt("overview.attempts_range", &[("lo", &lo), ("hi", &hi)])
        });
    }
    if let Some((lo, hi)) = iv.answer_limit_range() {
        facts.push(t.fmt("overview.answer_up_to", &[("span", &span(t, lo, hi))]));
    }
    if let Some((lo, hi)) = iv.preparation_range() {
        facts.push(if hi.is_zero() {
            t.get("overview.prep_none").to_string()
        } else if lo == hi {
            t.fmt("overview.prep_fixed", &[("span", &duration(t, hi))])
        } else if lo.is_zero() {
            t.fmt("overview.prep_up_to", &[("span", &duration(t, hi))])
        } else {
            t.fmt("overview.prep_range", &[("span", &span(t, lo, hi))])
        });
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::for_language;

    fn interview(questions: &[(u64, u64, u32)]) -> crate::TestResult<Interview> {
        let mut toml = String::from(
            "id = \"t\"\ntitle = \"T\"\nintro = \"I\"\nlanguage = \"en\"\n[support]\ncontact = \"d\"\n",
        );
        for (i, (prep, answer, attempts)) in questions.iter().enumerate() {
            toml.push_str(&format!(
                "[[question]]\nid = \"q{i}\"\ntext = \"Q\"\npreparation_seconds = {prep}\nanswer_seconds = {answer}\nattempts = {attempts}\n"
            ));
        }
        Ok(Interview::parse(&toml, std::path::Path::new("t.toml"))?)
    }

    #[test]
    fn overview_facts_in_english() -> crate::TestResult {
        let en = for_language("en");
        let same = interview(&[(30, 120, 2), (30, 120, 2)])?;
        assert_eq!(
            overview_facts(&en, &same),
            [
                "2 questions",
                "2 attempts per question",
                "up to 2 minutes per answer",
                "30 seconds to prepare for each question"
            ]
        );
        let mixed = interview(&[(0, 60, 1), (45, 120, 3)])?;
        assert_eq!(
            overview_facts(&en, &mixed)[1..],
            [
                "1–3 attempts per question",
                "up to 1–2 minutes per answer",
                "up to 45 seconds to prepare, depending on the question"
            ]
        );
        let odd = interview(&[(20, 60, 1), (60, 90, 1)])?;
        assert_eq!(
            overview_facts(&en, &odd)[1..],
            [
                "1 attempt per question",
                "up to 60–90 seconds per answer",
                "20–60 seconds to prepare, depending on the question"
            ]
        );
        let none = interview(&[(0, 90, 1)])?;
        assert_eq!(
            overview_facts(&en, &none),
            [
                "1 question",
                "1 attempt per question",
                "up to 1 minute 30 seconds per answer",
                "no preparation time"
            ]
        );
        let de = for_language("de");
        assert_eq!(overview_facts(&de, &none)[0], "1 Frage");
        Ok(())
    }

    #[test]
    fn durations_read_naturally_in_both_languages() {
        let en = for_language("en");
        assert_eq!(
            duration(&en, Duration::from_secs(90)),
            "1 minute 30 seconds"
        );
        assert_eq!(duration(&en, Duration::from_secs(120)), "2 minutes");
        assert_eq!(duration(&en, Duration::from_secs(1)), "1 second");
        let de = for_language("de");
        assert_eq!(duration(&de, Duration::from_secs(45)), "45 Sekunden");
        assert_eq!(
            span(&de, Duration::from_secs(60), Duration::from_secs(120)),
            "1–2 Minuten"
        );
    }
}
