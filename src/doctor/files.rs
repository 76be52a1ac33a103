//! The doctor's file checks: the station config and the interview it names. A broken file is
//! reported with its own error message, verbatim (it already names file:line:column, the
//! field and what is allowed).

use std::path::Path;

use serde_json::json;

use super::Check;
use crate::config::{Config, ConfigError};
use crate::interview::{Interview, InterviewError};

/// Reads and validates the config; the check, and the config when it is usable.
pub(super) fn config_check(path: Option<&Path>) -> (Check, Option<Config>) {
    match Config::load(path) {
        Ok(config) => {
            let dropins = path
                .and_then(|p| crate::config::dropins(p).ok())
                .unwrap_or_default();
            let finding = match path {
                Some(p) if !dropins.is_empty() => format!(
                    "{} with {} drop-in(s) in {} is valid (station {})",
                    p.display(),
                    dropins.len(),
                    crate::config::DROPIN_DIR,
                    config.station.id
                ),
                Some(p) => format!("{} is valid (station {})", p.display(), config.station.id),
                None => format!(
                    "no --config given: the built-in defaults (station {}) are valid",
                    config.station.id
                ),
            };
            let check = Check::ok("config", finding).with(json!({
                "file": path,
                "dropins": dropins,
                "station_id": config.station.id,
                "data_dir": config.station.data_dir,
            }));
            (check, Some(config))
        }
        Err(e) => {
            let fix = match &e {
                ConfigError::Read { .. } => {
                    "check the path given to --config (the systemd unit uses /etc/booth/config.toml)"
                }
                ConfigError::Dropins { .. } => {
                    "let the booth user read the config.d folder beside the config file"
                }
                ConfigError::Invalid(_) => {
                    "correct the line shown; the config.toml shipped with booth documents every field"
                }
            };
            let check = Check::failure("config", e.to_string(), fix).with(json!({
                "file": e.path(),
                "line": e.line(),
                "column": e.column(),
                "field": e.field(),
            }));
            (check, None)
        }
    }
}

/// Reads and validates the interview; the check, and the interview when it is usable.
pub(super) fn interview_check(path: &Path) -> (Check, Option<Interview>) {
    match Interview::load_checked(path, &crate::media::playable::PlayerCheck) {
        Ok(interview) => {
            let answers: u64 = interview
                .questions
                .iter()
                .map(|q| q.answer_limit.as_secs() * u64::from(q.attempts))
                .sum();
            let check = Check::ok(
                "interview",
                format!(
                    "{} is valid: '{}', {} question(s), up to {} min of answers",
                    path.display(),
                    interview.id,
                    interview.questions.len(),
                    answers.div_ceil(60)
                ),
            )
            .with(json!({
                "file": path,
                "id": interview.id,
                "language": interview.language,
                "questions": interview.questions.len(),
                "answer_seconds_all_attempts": answers,
            }));
            (check, Some(interview))
        }
        Err(e) => {
            let fix = match &e {
                InterviewError::Read { .. } => {
                    "set [interview] file in the config to the interview this station runs"
                }
                InterviewError::Invalid(_) => {
                    "correct the line shown; assets/interview.toml is a complete example"
                }
            };
            let check = Check::failure("interview", e.to_string(), fix).with(json!({
                "file": e.path(),
                "line": e.line(),
                "column": e.column(),
                "field": e.field(),
            }));
            (check, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    #[test]
    fn a_broken_config_is_quoted_with_its_line() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[station]\nid = \"ok\"\n\n[devices]\nfps = 999\n")?;
        let (check, config) = config_check(Some(&path));
        assert!(config.is_none());
        assert_eq!(check.verdict, Verdict::Failure);
        let want = format!("{}:5:1: [devices]: field 'fps' must be", path.display());
        assert!(check.finding.starts_with(&want), "{}", check.finding);
        assert_eq!(check.details["line"], 5);
        assert_eq!(check.details["field"], "fps");

        let (check, _) = interview_check(&dir.path().join("missing.toml"));
        assert_eq!(check.verdict, Verdict::Failure);
        assert!(check.finding.contains("missing.toml"), "{}", check.finding);
        Ok(())
    }

    #[test]
    fn the_sample_interview_is_summed_up() -> crate::TestResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/interview.toml");
        let (check, interview) = interview_check(&path);
        assert_eq!(check.verdict, Verdict::Ok, "{}", check.finding);
        let interview = interview.ok_or("no interview")?;
        assert_eq!(check.details["questions"], interview.questions.len());
        assert!(
            check.details["answer_seconds_all_attempts"]
                .as_u64()
                .ok_or("not a number")?
                > 0
        );
        Ok(())
    }
}
