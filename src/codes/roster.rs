//! The roster: which invitation code (or code prefix, `ACME-*`) opens which interview, from
//! when, until when, and whether once only. Operators' scripts write it as CSV or TOML (the
//! extension says which; `from_csv` and `from_toml` read them); this module owns the model
//! both become, the checks they share, and [`Roster::lookup`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::CodeRefusal;
use super::dates::{self, Bound};
use super::format::{allowed, canonical, mask};
use super::{from_csv, from_toml};

/// One line of a roster, without its code (which only [`Roster::lookup`] compares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// 1-based line in the roster file.
    pub line: usize,
    pub interview_id: String,
    /// The code ends in `*`: every code starting with the rest matches.
    pub prefix: bool,
    /// Characters in the code (without a prefix's `*`), to check against the station's
    /// [`CodeRules`](super::CodeRules): a code no one can type is a mistake.
    pub length: usize,
    /// The first second the code is good.
    pub valid_from_unix: Option<u64>,
    /// The last second the code is good.
    pub valid_until_unix: Option<u64>,
    pub single_use: bool,
}

/// What a roster says about a code that is good now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub interview_id: String,
    pub single_use: bool,
    /// The roster line that matched, for the log.
    pub line: usize,
}

/// A validated roster.
#[derive(Debug, Clone)]
pub struct Roster {
    path: PathBuf,
    rows: Vec<RosterRow>,
    exact: HashMap<String, usize>,
    /// Longest first, so the first match is the longest.
    prefixes: Vec<(String, usize)>,
}

/// A row as read, with the code and where it was written (for duplicate complaints).
pub(super) struct Parsed {
    /// Canonical, without the prefix's `*`.
    pub code: String,
    pub column: usize,
    pub row: RosterRow,
}

/// Why a roster was not accepted. Messages never contain a code in full.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("{}: cannot read the roster: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: a roster is a .csv or a .toml file", path.display())]
    Format { path: PathBuf },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The column (CSV) or field (TOML) the problem is in.
        field: Option<String>,
        message: String,
    },
}

impl RosterError {
    pub fn path(&self) -> &Path {
        match self {
            RosterError::Read { path, .. }
            | RosterError::Format { path }
            | RosterError::Invalid { path, .. } => path,
        }
    }
    /// 1-based line, for problems inside the file.
    pub fn line(&self) -> Option<usize> {
        match self {
            RosterError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }
    /// 1-based column, in characters.
    pub fn column(&self) -> Option<usize> {
        match self {
            RosterError::Invalid { column, .. } => Some(*column),
            _ => None,
        }
    }
    pub fn field(&self) -> Option<&str> {
        match self {
            RosterError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

impl Roster {
    /// Reads and validates a roster; `.csv` or `.toml` by its extension.
    pub fn load(path: &Path) -> Result<Roster, RosterError> {
        let bytes = std::fs::read(path).map_err(|source| RosterError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Roster::from_bytes(&bytes, path)
    }

    /// Validates a roster's bytes; `path` says the format and is named in messages.
    pub(super) fn from_bytes(bytes: &[u8], path: &Path) -> Result<Roster, RosterError> {
        let csv = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => true,
            Some(e) if e.eq_ignore_ascii_case("toml") => false,
            _ => {
                return Err(RosterError::Format {
                    path: path.to_path_buf(),
                });
            }
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let (line, column) =
                crate::tomlfile::line_column(&String::from_utf8_lossy(bytes), e.valid_up_to());
            RosterError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                field: None,
                message: "the file is not UTF-8 text (save it as CSV UTF-8)".into(),
            }
        })?;
        if csv {
            Roster::parse_csv(text, path)
        } else {
            Roster::parse_toml(text, path)
        }
    }

    /// Validates CSV text; `path` is named in messages.
    pub fn parse_csv(text: &str, path: &Path) -> Result<Roster, RosterError> {
        Roster::from_rows(path, from_csv::parse(text, path)?)
    }

    /// Validates TOML text; `path` is named in messages.
    pub fn parse_toml(text: &str, path: &Path) -> Result<Roster, RosterError> {
        Roster::from_rows(path, from_toml::parse(text, path)?)
    }

    fn from_rows(path: &Path, parsed: Vec<Parsed>) -> Result<Roster, RosterError> {
        let mut exact = HashMap::new();
        let mut prefix_at: HashMap<String, usize> = HashMap::new();
        let mut rows = Vec::with_capacity(parsed.len());
        for (index, p) in parsed.into_iter().enumerate() {
            let seen = if p.row.prefix {
                &mut prefix_at
            } else {
                &mut exact
            };
            if let Some(first) = seen.get(&p.code).and_then(|&i| rows.get(i)) {
                let first: &RosterRow = first;
                let star = if p.row.prefix { "*" } else { "" };
                return Err(RosterError::Invalid {
                    path: path.to_path_buf(),
                    line: p.row.line,
                    column: p.column,
                    field: Some("code".into()),
                    message: format!(
                        "code {}{star} is also on line {}; each code may be listed once",
                        mask(&p.code),
                        first.line
                    ),
                });
            }
            seen.insert(p.code, index);
            rows.push(p.row);
        }
        let mut prefixes: Vec<(String, usize)> = prefix_at.into_iter().collect();
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(Roster {
            path: path.to_path_buf(),
            rows,
            exact,
            prefixes,
        })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[RosterRow] {
        &self.rows
    }

    /// What the roster says about `code` at `now_unix`: an exact code first, else the longest
    /// matching prefix. A code outside its window is refused, whatever a prefix would say.
    pub fn lookup(&self, code: &str, now_unix: u64) -> Result<Entry, CodeRefusal> {
        let code = canonical(code);
        let index = self.exact.get(&code).copied().or_else(|| {
            self.prefixes
                .iter()
                .find(|(prefix, _)| code.starts_with(prefix.as_str()))
                .map(|(_, i)| *i)
        });
        let row = index
            .and_then(|i| self.rows.get(i))
            .ok_or(CodeRefusal::Unknown)?;
        if let Some(from_unix) = row.valid_from_unix
            && now_unix < from_unix
        {
            return Err(CodeRefusal::NotYet { from_unix });
        }
        if let Some(until_unix) = row.valid_until_unix
            && now_unix > until_unix
        {
            return Err(CodeRefusal::Expired { until_unix });
        }
        Ok(Entry {
            interview_id: row.interview_id.clone(),
            single_use: row.single_use,
            line: row.line,
        })
    }
}

// ---- the checks both formats share; each returns what is wrong, the caller says where ----

pub(super) const CODE_RULE: &str =
    "letters, digits, '-' and '_', with a final '*' for a prefix (like \"ACME-*\")";
pub(super) const INTERVIEW_RULE: &str =
    "an interview id: letters, digits, '.', '_' and '-' (like \"support-2026\")";
pub(super) const SINGLE_USE_RULE: &str = "true or false";

/// A code as written → (canonical code without `*`, whether it is a prefix).
pub(super) fn code_field(written: &str) -> Result<(String, bool), String> {
    let code = written.trim();
    let (body, prefix) = match code.strip_suffix('*') {
        Some(body) => (body, true),
        None => (code, false),
    };
    if body.is_empty() {
        return Err(if prefix {
            "field 'code' must have at least one character before '*'".to_string()
        } else {
            "field 'code' must not be empty".to_string()
        });
    }
    if let Some((i, c)) = body.chars().enumerate().find(|&(_, c)| !allowed(c)) {
        return Err(format!(
            "field 'code' must be {CODE_RULE}; character {} is {c:?}",
            i + 1
        ));
    }
    Ok((canonical(body), prefix))
}

pub(super) fn interview_field(written: &str) -> Result<String, String> {
    let id = written.trim();
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(id.to_string())
    } else {
        Err(format!(
            "field 'interview' must be {INTERVIEW_RULE}, found {written:?}"
        ))
    }
}

pub(super) fn date_field(field: &str, written: &str, bound: Bound) -> Result<u64, String> {
    dates::parse(written, bound).map_err(|why| {
        format!(
            "field '{field}' must be {}, found {written:?} ({why})",
            dates::DATE_RULE
        )
    })
}

/// `valid_until` before `valid_from` would make a code that is never good.
pub(super) fn window(from: Option<u64>, until: Option<u64>) -> Result<(), String> {
    match (from, until) {
        (Some(from), Some(until)) if until < from => Err(format!(
            "field 'valid_until' ({}) must not be before valid_from ({})",
            crate::clock::rfc3339(until),
            crate::clock::rfc3339(from)
        )),
        _ => Ok(()),
    }
}
