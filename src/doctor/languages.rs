//! The doctor's check of the language files booth reads at start (the install's and the
//! station's `i18n/` folder): a file it cannot read or parse is a failure naming file and
//! line (the kiosk would run with the built-in words instead), a text it leaves out (unknown
//! key, wrong placeholders) or a language that lacks texts is a warning.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::Check;
use crate::i18n::{I18nError, load, search_dirs};

/// Reads the language files as `booth run --config config_file` would.
pub(super) fn languages(config_file: Option<&Path>) -> Check {
    check(&search_dirs(config_file))
}

fn check(dirs: &[PathBuf]) -> Check {
    let loaded = load(dirs);
    let names: Vec<String> = loaded
        .languages
        .all()
        .iter()
        .map(|t| format!("{} ({})", t.name(), t.code))
        .collect();
    let details = json!({
        "folders": dirs,
        "files": loaded.files,
        "languages": loaded.languages.all().iter().map(|t| &t.code).collect::<Vec<_>>(),
        "problems": loaded.problems.iter().map(|p| json!({
            "file": p.path(),
            "line": p.line(),
            "rejects_file": p.rejects_file(),
            "message": p.to_string(),
        })).collect::<Vec<_>>(),
    });
    let Some(first) = loaded.problems.first() else {
        let files = if loaded.files.is_empty() {
            "no language files beside the built-in ones".to_string()
        } else {
            format!("{} language file(s) read", loaded.files.len())
        };
        return Check::ok("languages", format!("{}; {files}", names.join(", "))).with(details);
    };
    let more = match loaded.problems.len() {
        1 => String::new(),
        n => format!(" (and {} more problem(s), see --json)", n - 1),
    };
    let finding = format!("{first}{more}");
    let check = if loaded.problems.iter().any(I18nError::rejects_file) {
        Check::failure(
            "languages",
            finding,
            "correct the line shown: booth shows its built-in words instead of that file's \
             until it is fixed (assets/i18n/en.toml lists every text)",
        )
    } else {
        Check::warning(
            "languages",
            finding,
            "correct or remove the text shown; en.toml shipped with booth lists every key",
        )
    };
    check.with(details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    #[test]
    fn a_broken_language_file_fails_with_its_file_and_line() -> crate::TestResult {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("i18n");
        std::fs::create_dir_all(&dir)?;
        assert_eq!(check(std::slice::from_ref(&dir)).verdict, Verdict::Ok);
        std::fs::write(dir.join("de.toml"), "[review]\nsend = \"Senden\nx = 1\n")?;
        let c = check(std::slice::from_ref(&dir));
        assert_eq!(c.verdict, Verdict::Failure);
        let at = format!("{}:2:", dir.join("de.toml").display());
        assert!(c.finding.starts_with(&at), "{}", c.finding);
        assert_eq!(c.details["problems"][0]["line"], 2);
        std::fs::write(dir.join("de.toml"), "[review]\nsendd = \"Senden\"\n")?;
        let c = check(std::slice::from_ref(&dir));
        assert_eq!(c.verdict, Verdict::Warning, "{}", c.finding);
        assert!(c.finding.contains("'review.sendd'"), "{}", c.finding);
        Ok(())
    }
}
