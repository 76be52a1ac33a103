//! Language files on disk: where booth looks for them (the install's `share/booth/i18n/`, then
//! the station's `i18n/` folder beside its config), how one is read (a TOML table of texts,
//! each remembered with its line), and how they are laid over the built-in words: key by
//! key, a later file's text replacing an earlier one's, so a station can correct one sentence
//! with a two-line file or add a whole language. What a file gets wrong is an [`I18nError`]
//! naming file and line: a file that cannot be read or parsed is left out whole, a key that
//! booth does not know or whose `{placeholders}` differ from English's is left out alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::{Languages, Tables, builtin_tables};
use crate::tomlfile::line_column;

/// Where the install keeps its language files, relative to its prefix (`/usr`).
const INSTALL_SUBDIR: &str = "share/booth/i18n";
/// The station's folder of language files, beside its config file.
const STATION_SUBDIR: &str = "i18n";

/// What is wrong with a language file.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("{}: cannot read the language file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: '{key}' must be text in quotes, found {found}", path.display())]
    NotText {
        path: PathBuf,
        line: usize,
        key: String,
        found: &'static str,
    },
    #[error(
        "{}: the file name must be a language code like de.toml or pl.toml (two or three small letters)",
        path.display()
    )]
    BadName { path: PathBuf },
    #[error("{}:{line}: '{key}' is not a text booth shows (a typo?); it is left out", path.display())]
    UnknownKey {
        path: PathBuf,
        line: usize,
        key: String,
    },
    #[error(
        "{}:{line}: '{key}' must use the placeholders {expected} (as en.toml does), found {found}; it is left out",
        path.display()
    )]
    Placeholders {
        path: PathBuf,
        line: usize,
        key: String,
        expected: String,
        found: String,
    },
    #[error("{}: {code} lacks {} text(s), shown in English: {}", path.display(), keys.len(), keys.join(", "))]
    Missing {
        path: PathBuf,
        code: String,
        keys: Vec<String>,
    },
}

impl I18nError {
    /// Whether the whole file was left out (its words are not used at all).
    pub fn rejects_file(&self) -> bool {
        matches!(
            self,
            I18nError::Read { .. }
                | I18nError::Syntax { .. }
                | I18nError::NotText { .. }
                | I18nError::BadName { .. }
        )
    }

    pub fn path(&self) -> &Path {
        match self {
            I18nError::Read { path, .. }
            | I18nError::Syntax { path, .. }
            | I18nError::NotText { path, .. }
            | I18nError::BadName { path }
            | I18nError::UnknownKey { path, .. }
            | I18nError::Placeholders { path, .. }
            | I18nError::Missing { path, .. } => path,
        }
    }

    /// 1-based line, for problems inside the file.
    pub fn line(&self) -> Option<usize> {
        match self {
            I18nError::Syntax { line, .. }
            | I18nError::NotText { line, .. }
            | I18nError::UnknownKey { line, .. }
            | I18nError::Placeholders { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// One file's texts, each with the line it is written on.
pub(super) struct Parsed {
    pub strings: BTreeMap<String, String>,
    pub lines: BTreeMap<String, usize>,
}

/// Reads one language file: nested tables of texts, flattened to dotted keys.
pub(super) fn parse(path: &Path, source: &str) -> Result<Parsed, I18nError> {
    let root = DeTable::parse(source).map_err(|e| {
        let (line, column) = line_column(source, e.span().map_or(0, |s| s.start));
        I18nError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut parsed = Parsed {
        strings: BTreeMap::new(),
        lines: BTreeMap::new(),
    };
    flatten(path, source, "", root.get_ref(), &mut parsed)?;
    Ok(parsed)
}

fn flatten(
    path: &Path,
    source: &str,
    prefix: &str,
    table: &DeTable<'_>,
    out: &mut Parsed,
) -> Result<(), I18nError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let line = line_column(source, k.span().start).0;
        match v.get_ref() {
            DeValue::String(s) => {
                out.strings.insert(key.clone(), s.to_string());
                out.lines.insert(key, line);
            }
            DeValue::Table(t) => flatten(path, source, &key, t, out)?,
            other => {
                return Err(I18nError::NotText {
                    path: path.to_path_buf(),
                    line,
                    key,
                    found: other.type_str(),
                });
            }
        }
    }
    Ok(())
}

/// The install's language folder: `<prefix>/share/booth/i18n` for `<prefix>/bin/booth`
/// (`/usr/share/booth/i18n` as the Debian package installs it).
pub fn install_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let prefix = exe.parent()?.parent()?;
    Some(prefix.join(INSTALL_SUBDIR))
}

/// The station's language folder: `i18n/` beside its config file (`/etc/booth/i18n`).
pub fn station_dir(config_file: &Path) -> PathBuf {
    crate::tomlfile::base_dir(config_file).join(STATION_SUBDIR)
}

/// The folders read at start, in order: the install's, then the station's (with a config).
pub fn search_dirs(config_file: Option<&Path>) -> Vec<PathBuf> {
    install_dir()
        .into_iter()
        .chain(config_file.map(station_dir))
        .collect()
}

/// The languages after reading the files, which files were used, and what was wrong.
#[derive(Debug)]
pub struct Loaded {
    pub languages: Languages,
    pub files: Vec<PathBuf>,
    pub problems: Vec<I18nError>,
}

/// The built-in words with every `*.toml` of `dirs` laid over them, in order (files of a
/// folder by name). A folder that does not exist has no files.
pub fn load(dirs: &[PathBuf]) -> Loaded {
    let mut tables = builtin_tables();
    let english = tables.get("en").cloned().unwrap_or_default();
    let mut problems = Vec::new();
    let paths: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| toml_files(d, &mut problems))
        .collect();
    let mut files = Vec::new();
    let mut added: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in paths {
        let (code, parsed) = match read(&path) {
            Ok(read) => read,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let table = tables.entry(code.clone()).or_default();
        lay_over(&english, table, &path, parsed, &mut problems);
        added.insert(code, path.clone());
        files.push(path);
    }
    problems.extend(missing(&tables, &english, added));
    Loaded {
        languages: Languages::from_tables(tables),
        files,
        problems,
    }
}

/// One file's language code and texts.
fn read(path: &Path) -> Result<(String, Parsed), I18nError> {
    let code = code_of(path).ok_or_else(|| I18nError::BadName {
        path: path.to_path_buf(),
    })?;
    let source = std::fs::read_to_string(path).map_err(|source| I18nError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((code, parse(path, &source)?))
}

/// A file's texts over its language's: each key English has, with English's placeholders.
fn lay_over(
    english: &BTreeMap<String, String>,
    table: &mut BTreeMap<String, String>,
    path: &Path,
    parsed: Parsed,
    problems: &mut Vec<I18nError>,
) {
    for (key, text) in parsed.strings {
        let line = parsed.lines.get(&key).copied().unwrap_or(1);
        match english_of(english, &key) {
            None => problems.push(I18nError::UnknownKey {
                path: path.to_path_buf(),
                line,
                key,
            }),
            Some(en) if placeholders(en) != placeholders(&text) => {
                problems.push(I18nError::Placeholders {
                    path: path.to_path_buf(),
                    line,
                    key,
                    expected: shown(&placeholders(en)),
                    found: shown(&placeholders(&text)),
                })
            }
            Some(_) => {
                table.insert(key, text);
            }
        }
    }
}

/// English's text for `key`; a Polish-style plural form (`x.few`, `x.many`) is known when
/// English has `x.other`.
fn english_of<'a>(text: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    if let Some(en) = text.get(key) {
        return Some(en);
    }
    let base = key
        .strip_suffix(".few")
        .or_else(|| key.strip_suffix(".many"))?;
    text.get(&format!("{base}.other")).map(String::as_str)
}

/// Languages a file added (not compiled in) that lack some of English's texts.
fn missing(
    tables: &Tables,
    english: &BTreeMap<String, String>,
    added: BTreeMap<String, PathBuf>,
) -> Vec<I18nError> {
    let mut out = Vec::new();
    for (code, path) in added {
        if super::BUILTIN.iter().any(|(c, _)| *c == code) {
            continue;
        }
        let Some(table) = tables.get(&code) else {
            continue;
        };
        let keys: Vec<String> = english
            .keys()
            .filter(|k| !table.contains_key(*k))
            .cloned()
            .collect();
        if !keys.is_empty() {
            out.push(I18nError::Missing { path, code, keys });
        }
    }
    out
}

/// The `*.toml` files of `dir` by name; none when it does not exist.
fn toml_files(dir: &Path, problems: &mut Vec<I18nError>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(source) => {
            problems.push(I18nError::Read {
                path: dir.to_path_buf(),
                source,
            });
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// "pl" of "pl.toml": two or three small letters, as the picker matches them.
fn code_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let ok = (2..=3).contains(&stem.len()) && stem.bytes().all(|b| b.is_ascii_lowercase());
    ok.then(|| stem.to_string())
}

/// The `{names}` a text fills in.
pub(super) fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.insert(rest[start + 1..start + len].to_string());
        rest = &rest[start + len..];
    }
    out
}

fn shown(names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}
