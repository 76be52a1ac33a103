//! Which files make a station's configuration, in the order they apply: the built-in
//! `config.toml`, the station's file, then its drop-ins (`config.d/*.toml` beside it, by
//! name); and, for `booth config`, where each value in force was written.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::fields::expectation;
use super::{Config, ConfigError, DEFAULT_CONFIG};
use crate::tomlfile::{self, Diagnostic, Document, Layer};

/// The folder of drop-ins beside the station's config file.
pub const DROPIN_DIR: &str = "config.d";

/// How the built-in file is named in messages and in `booth config`.
const BUILT_IN_NAME: &str = "config.toml (built in)";

/// One file as read.
struct File {
    path: PathBuf,
    text: String,
    /// Where its relative paths are read from.
    dir: PathBuf,
}

impl File {
    fn built_in() -> File {
        File {
            path: PathBuf::from(BUILT_IN_NAME),
            text: DEFAULT_CONFIG.to_string(),
            // It has only absolute paths; "/" keeps a slip from depending on the cwd.
            dir: PathBuf::from("/"),
        }
    }

    fn read(path: &Path) -> Result<File, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(File::new(text, path))
    }

    fn new(text: String, path: &Path) -> File {
        File {
            dir: tomlfile::base_dir(path),
            path: path.to_path_buf(),
            text,
        }
    }
}

/// The files of one configuration, the built-in one first.
pub(super) struct Files {
    files: Vec<File>,
}

impl Files {
    /// The built-in file, then `path` and its drop-ins; `None`: the built-in file alone.
    pub(super) fn read(path: Option<&Path>) -> Result<Files, ConfigError> {
        let mut files = vec![File::built_in()];
        if let Some(path) = path {
            let main = File::read(path)?;
            let dir = main.dir.clone();
            files.push(main);
            for dropin in dropins(path)? {
                // Relative paths in a drop-in mean what they mean in the file it adds to:
                // `folder = "interviews"` is /etc/booth/interviews, not in config.d/.
                let mut file = File::read(&dropin)?;
                file.dir.clone_from(&dir);
                files.push(file);
            }
        }
        Ok(Files { files })
    }

    /// The built-in file and one text, without drop-ins.
    pub(super) fn one(text: &str, path: &Path) -> Files {
        Files {
            files: vec![File::built_in(), File::new(text.to_string(), path)],
        }
    }

    fn document(&self) -> Result<Document<'_>, Diagnostic> {
        let layers = self
            .files
            .iter()
            .map(|f| Layer {
                path: &f.path,
                text: &f.text,
                dir: f.dir.clone(),
            })
            .collect();
        Document::layered(layers, expectation)
    }

    pub(super) fn config(&self) -> Result<Config, ConfigError> {
        Ok(super::validate(&self.document()?)?)
    }

    /// The settings in force, once the whole configuration is valid.
    pub(super) fn explain(&self) -> Result<Explained, ConfigError> {
        let doc = self.document()?;
        let config = super::validate(&doc)?;
        let mut settings: Vec<Setting> = doc
            .settings()
            .into_iter()
            .map(|s| {
                let built_in = s.origin.layer == 0;
                let (field, section) = s.keys.split_last().unwrap_or((&"", &[]));
                Setting {
                    section: section.join("."),
                    field: (*field).to_string(),
                    written: s.written.to_string(),
                    // A value toml has parsed always converts; what was written is the rest.
                    value: serde_json::Value::deserialize(toml::de::ValueDeserializer::from(
                        s.value.clone(),
                    ))
                    .unwrap_or_else(|_| s.written.into()),
                    file: (!built_in).then(|| s.origin.path.to_path_buf()),
                    line: (!built_in).then_some(s.origin.line),
                    note: None,
                }
            })
            .collect();
        // The one value whose meaning depends on another: a station given only a folder does
        // not run the built-in interview file. Shown as in force, so the text reads back.
        if config.interview.default_file().is_none()
            && let Some(file) = settings
                .iter_mut()
                .find(|s| s.section == "interview" && s.field == "file" && s.file.is_none())
        {
            file.written = "\"\"".into();
            file.value = "".into();
            file.note = Some("the built-in file gives way to the folder");
        }
        Ok(Explained {
            files: self.files.iter().map(|f| f.path.clone()).collect(),
            settings,
        })
    }
}

/// The drop-ins of the config file `main`: every `*.toml` in `config.d/` beside it, in name
/// order (byte order, as systemd sorts its drop-ins). Hidden files are skipped (editors and
/// configuration tools write their temporary copies so); a missing folder holds none.
pub fn dropins(main: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let dir = main
        .parent()
        .map_or_else(|| PathBuf::from(DROPIN_DIR), |p| p.join(DROPIN_DIR));
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ConfigError::Dropins { path: dir, source }),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConfigError::Dropins {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name();
        let Some(text) = name.to_str() else {
            continue;
        };
        // A directory named *.toml is not a drop-in; a link to a file is.
        if text.ends_with(".toml") && !text.starts_with('.') && entry.path().is_file() {
            found.push((name.clone(), entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// The configuration in force and where each value came from (`booth config`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    /// The files read, in the order they apply; the first is the built-in one.
    pub files: Vec<PathBuf>,
    /// Every value in force, in the built-in file's order.
    pub settings: Vec<Setting>,
}

/// One value in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// `station`, `upload`, …
    pub section: String,
    pub field: String,
    /// As its file writes it, in TOML.
    pub written: String,
    pub value: serde_json::Value,
    /// The file that set it; `None`: the built-in default.
    pub file: Option<PathBuf>,
    /// 1-based line of the field in that file.
    pub line: Option<usize>,
    /// Why the value in force is not the one written, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
