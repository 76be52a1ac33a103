//! The doctor's checks of what an assessment centre adds to a station: every interview in the
//! `[interview]` folder (each file valid, ids unique across them) and the roster of codes
//! (well formed, or the failure with its file:line; codes naming an interview the station
//! lacks, or that no one could type under the station's code rules, are warnings).

use std::sync::Arc;

use serde_json::json;

use super::{Check, files};
use crate::codes::{CodeRules, Roster, RosterError};
use crate::config::Config;
use crate::interview::{Catalog, CatalogError, Interview};

/// The interview check: the one file as before, or the whole catalog when there is a folder.
/// Also the catalog, and the interview whose recordings need the most disk.
pub(super) fn interviews(config: &Config) -> (Check, Option<Catalog>, Option<Arc<Interview>>) {
    let Some(folder) = &config.interview.folder else {
        let (check, interview) = files::interview_check(&config.interview.file);
        let catalog = interview.map(Catalog::single);
        let largest = catalog.as_ref().map(Catalog::default_interview);
        return (check, catalog, largest);
    };
    match Catalog::load_checked(&config.interview, &crate::media::playable::PlayerCheck) {
        Ok(catalog) => {
            let ids = catalog.ids();
            let default = catalog.default_interview();
            let check = Check::ok(
                "interview",
                format!(
                    "{} interview(s) valid in {} ({}); the default is '{}'",
                    ids.len(),
                    folder.display(),
                    ids.join(", "),
                    default.id
                ),
            )
            .with(json!({
                "folder": folder,
                "file": config.interview.default_file(),
                "ids": ids,
                "default": default.id,
            }));
            let largest = catalog.iter().max_by_key(|i| answer_seconds(i)).cloned();
            (check, Some(catalog), largest)
        }
        Err(e) => {
            let fix = match &e {
                CatalogError::Interview(_) => {
                    "correct the file shown; assets/interview.toml is a complete example"
                }
                CatalogError::Folder { .. } => {
                    "set [interview] folder in the config to the folder of interview files"
                }
                CatalogError::EmptyFolder { .. } => {
                    "put the interview files (*.toml) in the folder, or set [interview] file"
                }
                CatalogError::DuplicateId { .. } => {
                    "give each interview file its own id: the roster and the platform know \
                     interviews by id"
                }
            };
            let check = Check::failure("interview", e.to_string(), fix).with(json!({
                "file": e.path(),
                "line": e.line(),
            }));
            (check, None, None)
        }
    }
}

fn answer_seconds(i: &Interview) -> u64 {
    i.questions
        .iter()
        .map(|q| q.answer_limit.as_secs() * u64::from(q.attempts))
        .sum()
}

/// The roster check, when the config names a roster.
pub(super) fn roster(config: &Config, catalog: Option<&Catalog>) -> Option<Check> {
    let path = config.interview.roster.as_ref()?;
    let roster = match Roster::load(path) {
        Ok(r) => r,
        Err(e) => return Some(broken(&e)),
    };
    let rules = CodeRules::from_config(&config.interview);
    let rows = roster.rows();
    let unknown: Vec<serde_json::Value> = match catalog {
        Some(c) => rows
            .iter()
            .filter(|r| c.get(&r.interview_id).is_none())
            .map(|r| json!({ "line": r.line, "interview": r.interview_id }))
            .collect(),
        None => Vec::new(),
    };
    let untypable: Vec<usize> = rows
        .iter()
        .filter(|r| r.length > rules.max || (!r.prefix && r.length < rules.min))
        .map(|r| r.line)
        .collect();
    let details = json!({
        "file": path,
        "codes": rows.len(),
        "unknown_interviews": unknown,
        "untypable_lines": untypable,
    });
    let p = path.display();
    let check = if let Some(first) = unknown.first() {
        Check::warning(
            "roster",
            format!(
                "{p}:{}: names interview {} which this station does not have ({} line(s) in all); \
                 those codes are refused",
                first["line"],
                first["interview"],
                unknown.len()
            ),
            "correct the interview id, or add that interview's file to the station",
        )
    } else if let Some(line) = untypable.first() {
        Check::warning(
            "roster",
            format!(
                "{p}:{line}: the code is not {}-{} characters long, as [interview] \
                 code_min_length and code_max_length ask ({} line(s) in all); no one can enter it",
                rules.min,
                rules.max,
                untypable.len()
            ),
            "correct the code, or the code length limits in the config",
        )
    } else if rows.is_empty() {
        Check::warning(
            "roster",
            format!("{p} lists no codes: every code will be refused"),
            "add the candidates' codes to the roster",
        )
    } else {
        Check::ok("roster", format!("{p} is valid: {} code(s)", rows.len()))
    };
    Some(check.with(details))
}

fn broken(e: &RosterError) -> Check {
    let fix = match e {
        RosterError::Read { .. } => {
            "check [interview] roster in the config, and that the booth user can read the file"
        }
        RosterError::Format { .. } => "name the roster .csv or .toml, as its format is",
        RosterError::Invalid { .. } => {
            "correct the line shown (the README shows both roster formats); meanwhile a running \
             kiosk keeps the last good version it read"
        }
    };
    Check::failure("roster", e.to_string(), fix).with(json!({
        "file": e.path(),
        "line": e.line(),
        "column": e.column(),
        "field": e.field(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn station(dir: &std::path::Path, interview: &str) -> crate::TestResult<Config> {
        let folder = dir.join("interviews");
        std::fs::create_dir_all(&folder)?;
        for (file, id, attempts) in [("a.toml", "support", 1), ("b.toml", "sales", 3)] {
            std::fs::write(
                folder.join(file),
                format!(
                    "id = \"{id}\"\ntitle = \"T\"\nintro = \"Hi.\"\nlanguage = \"en\"\n\
                     [support]\ncontact = \"Desk.\"\n\
                     [[question]]\nid = \"q1\"\ntext = \"Why?\"\npreparation_seconds = 0\n\
                     answer_seconds = 60\nattempts = {attempts}\n"
                ),
            )?;
        }
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!("[interview]\nfolder = \"interviews\"\nroster = \"roster.csv\"\n{interview}"),
        )?;
        Ok(Config::load(Some(&config))?)
    }

    #[test]
    fn a_folder_is_checked_as_a_whole_and_the_largest_interview_sizes_the_disk() -> crate::TestResult
    {
        let dir = tempfile::tempdir()?;
        let config = station(dir.path(), "")?;
        let (check, catalog, largest) = interviews(&config);
        assert_eq!(check.verdict, Verdict::Ok, "{}", check.finding);
        assert!(
            check.finding.starts_with("2 interview(s) valid in "),
            "{}",
            check.finding
        );
        assert_eq!(check.details["default"], "sales");
        assert_eq!(catalog.ok_or("no catalog")?.len(), 2);
        assert_eq!(largest.ok_or("no interview")?.id, "sales", "three attempts");

        std::fs::copy(
            dir.path().join("interviews/a.toml"),
            dir.path().join("interviews/c.toml"),
        )?;
        let (check, catalog, _) = interviews(&config);
        assert_eq!(check.verdict, Verdict::Failure);
        assert!(
            check
                .finding
                .contains("interview id 'support' is already used by"),
            "{}",
            check.finding
        );
        assert!(catalog.is_none());
        Ok(())
    }

    #[test]
    fn roster_findings() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let config = station(dir.path(), "code_min_length = 6\n")?;
        let (_, catalog, _) = interviews(&config);
        let roster = dir.path().join("roster.csv");
        let check = |text: &str| -> crate::TestResult<Check> {
            std::fs::write(&roster, text)?;
            roster_check(&config, catalog.as_ref())
        };

        let c = check("code,interview\nAB-1234,support\nAB-*,sales\n")?;
        assert_eq!(c.verdict, Verdict::Ok, "{}", c.finding);
        assert_eq!(c.details["codes"], 2);

        let c = check("code,interview\nAB-1234,support\nCD-5678,warehouse\n")?;
        assert_eq!(c.verdict, Verdict::Warning);
        assert_eq!(
            c.finding,
            format!(
                "{}:3: names interview \"warehouse\" which this station does not have (1 line(s) \
                 in all); those codes are refused",
                roster.display()
            )
        );

        let c = check("code,interview\nAB-12,support\n")?;
        assert_eq!(c.verdict, Verdict::Warning);
        assert!(
            c.finding
                .contains(":2: the code is not 6-32 characters long"),
            "{}",
            c.finding
        );

        let c = check("code,interview\nAB 1234,support\n")?;
        assert_eq!(c.verdict, Verdict::Failure);
        assert!(
            c.finding
                .starts_with(&format!("{}:2:1: ", roster.display())),
            "{}",
            c.finding
        );
        assert_eq!(c.details["line"], 2);
        assert_eq!(c.details["field"], "code");
        assert!(
            !c.finding.contains("AB 1234"),
            "the code is not quoted: {}",
            c.finding
        );

        let c = check("code,interview\n")?;
        assert_eq!(c.verdict, Verdict::Warning);

        let mut without = config.clone();
        without.interview.roster = None;
        assert!(super::roster(&without, catalog.as_ref()).is_none());
        Ok(())
    }

    fn roster_check(config: &Config, catalog: Option<&Catalog>) -> crate::TestResult<Check> {
        Ok(roster(config, catalog).ok_or("no roster check")?)
    }
}
