//! Small interview files for other modules' unit tests, written from the few fields those
//! tests vary, so that each test says what matters to it and the rest stays in one place.

use std::path::Path;

use super::{Interview, InterviewError};

/// One question of a test interview.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q {
    pub id: &'static str,
    pub preparation_seconds: u32,
    pub answer_seconds: u32,
    pub attempts: u32,
}

impl Q {
    /// No preparation, a 30 s answer, and `attempts`.
    pub(crate) const fn quick(id: &'static str, attempts: u32) -> Q {
        Q {
            id,
            preparation_seconds: 0,
            answer_seconds: 30,
            attempts,
        }
    }
}

/// The text of an English interview `id` with a support contact and `questions` (each asks
/// "<its id>?").
pub(crate) fn toml(id: &str, questions: &[Q]) -> String {
    let mut text = format!(
        "id = \"{id}\"\ntitle = \"T\"\nintro = \"I\"\nlanguage = \"en\"\n[support]\ncontact = \"desk\"\n"
    );
    for q in questions {
        text.push_str(&format!(
            "[[question]]\nid = \"{}\"\ntext = \"{}?\"\npreparation_seconds = {}\nanswer_seconds = {}\nattempts = {}\n",
            q.id, q.id, q.preparation_seconds, q.answer_seconds, q.attempts
        ));
    }
    text
}

/// [`toml`], parsed as the file `<id>.toml`.
pub(crate) fn interview(id: &str, questions: &[Q]) -> Result<Interview, InterviewError> {
    Interview::parse(&toml(id, questions), Path::new(&format!("{id}.toml")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_is_a_valid_interview_with_its_questions() -> crate::TestResult {
        let iv = interview("iv", &[Q::quick("q1", 2), Q::quick("q2", 1)])?;
        assert_eq!(iv.id, "iv");
        let ids: Vec<_> = iv.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["q1", "q2"]);
        assert_eq!(iv.questions[0].attempts, 2);
        Ok(())
    }
}
