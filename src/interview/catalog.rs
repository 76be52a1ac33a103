//! The interviews a station runs, by id: the config's `[interview] file`, every `*.toml`
//! directly in its `folder`, or both. Loading is all or nothing, like a single file: a station
//! must not discover a broken interview in front of the candidate whose code names it. Ids
//! must be unique across the files, since the roster and the platform know interviews by id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ExistsOnly, Interview, InterviewError, VideoCheck};
use crate::config::InterviewRef;

/// Every interview of a station, validated.
#[derive(Debug, Clone)]
pub struct Catalog {
    by_id: BTreeMap<String, Arc<Interview>>,
    default: Arc<Interview>,
}

/// Why the station's interviews were not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// One file is unreadable or invalid; its own message names file:line:column.
    #[error(transparent)]
    Interview(#[from] InterviewError),
    #[error("{}: cannot list the interview folder: {source}", folder.display())]
    Folder {
        folder: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: no interview files (*.toml) in the interview folder, and no [interview] file",
        folder.display()
    )]
    EmptyFolder { folder: PathBuf },
    #[error(
        "{}: interview id '{id}' is already used by {}; every interview needs its own id",
        second.display(),
        first.display()
    )]
    DuplicateId {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
}

impl CatalogError {
    /// The file (or folder) the problem is in.
    pub fn path(&self) -> &Path {
        match self {
            CatalogError::Interview(e) => e.path(),
            CatalogError::Folder { folder, .. } | CatalogError::EmptyFolder { folder } => folder,
            CatalogError::DuplicateId { second, .. } => second,
        }
    }

    /// 1-based line, for problems inside an interview file.
    pub fn line(&self) -> Option<usize> {
        match self {
            CatalogError::Interview(e) => e.line(),
            _ => None,
        }
    }
}

impl Catalog {
    /// Reads the interview file and every `*.toml` directly in the folder (hidden files, such
    /// as an editor's, are skipped). The file may also be in the folder; it counts once.
    pub fn load(config: &InterviewRef) -> Result<Catalog, CatalogError> {
        Catalog::load_checked(config, &ExistsOnly)
    }

    /// [`Catalog::load`], each question video also checked by `videos` (booth's player, so
    /// that a video it cannot play is refused at its line).
    pub fn load_checked(
        config: &InterviewRef,
        videos: &dyn VideoCheck,
    ) -> Result<Catalog, CatalogError> {
        let mut paths: Vec<PathBuf> = config
            .default_file()
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        if let Some(folder) = &config.folder {
            let listed = folder_files(folder)?;
            if listed.is_empty() && paths.is_empty() {
                return Err(CatalogError::EmptyFolder {
                    folder: folder.clone(),
                });
            }
            let default = paths.first().map(|p| same_file_key(p));
            paths.extend(
                listed
                    .into_iter()
                    .filter(|p| Some(same_file_key(p)) != default),
            );
        }
        let mut interviews = Vec::with_capacity(paths.len());
        for path in &paths {
            interviews.push(Interview::load_checked(path, videos)?);
        }
        if config.default_file().is_none() {
            // Stable, so that of two files with one id the first listed is named first.
            interviews.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let mut interviews = interviews.into_iter();
        match interviews.next() {
            Some(default) => Catalog::new(default, interviews.collect()),
            // Only a folder without files lists nothing, and that was refused above.
            None => Err(CatalogError::EmptyFolder {
                folder: config.folder.clone().unwrap_or_default(),
            }),
        }
    }

    /// A catalog of interviews already read: the default one and the others.
    pub fn new(default: Interview, others: Vec<Interview>) -> Result<Catalog, CatalogError> {
        let default = Arc::new(default);
        let mut by_id = BTreeMap::from([(default.id.clone(), default.clone())]);
        for interview in others {
            if let Some(first) = by_id.get(&interview.id) {
                return Err(CatalogError::DuplicateId {
                    id: interview.id.clone(),
                    first: first.source.clone(),
                    second: interview.source.clone(),
                });
            }
            by_id.insert(interview.id.clone(), Arc::new(interview));
        }
        Ok(Catalog { by_id, default })
    }

    /// A station with one interview (the `--interview` file, the demo, tests).
    pub fn single(interview: Interview) -> Catalog {
        let default = Arc::new(interview);
        Catalog {
            by_id: BTreeMap::from([(default.id.clone(), default.clone())]),
            default,
        }
    }

    /// The interview with this id.
    pub fn get(&self, id: &str) -> Option<Arc<Interview>> {
        self.by_id.get(id).cloned()
    }

    /// The config's `file` interview; with only a folder, the first by id.
    pub fn default_interview(&self) -> Arc<Interview> {
        self.default.clone()
    }

    /// Every id, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.by_id.keys().cloned().collect()
    }

    /// Every interview, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Interview>> {
        self.by_id.values()
    }

    /// How many interviews (at least one).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Never true; here because `len` is.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// `*.toml` files directly in `folder`, sorted by name so that errors come in a stable order.
fn folder_files(folder: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let listing_error = |source| CatalogError::Folder {
        folder: folder.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(listing_error)? {
        let entry = entry.map_err(listing_error)?;
        let path = entry.path();
        let name = entry.file_name();
        let visible = !name.to_string_lossy().starts_with('.');
        let toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if visible && toml && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// What decides whether two paths are one file: the resolved path when it resolves.
fn same_file_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, id: &str) -> std::io::Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "id = \"{id}\"\ntitle = \"T\"\nintro = \"Hi.\"\nlanguage = \"en\"\n\
                 [support]\ncontact = \"Desk.\"\n\
                 [[question]]\nid = \"q1\"\ntext = \"Why?\"\npreparation_seconds = 0\n\
                 answer_seconds = 60\nattempts = 1\n"
            ),
        )?;
        Ok(path)
    }

    fn places(file: Option<&Path>, folder: Option<&Path>) -> InterviewRef {
        InterviewRef {
            file: file.map(Path::to_path_buf).unwrap_or_default(),
            folder: folder.map(Path::to_path_buf),
            roster: None,
            require_code: false,
            code_min_length: 4,
            code_max_length: 32,
        }
    }

    #[test]
    fn a_single_file_is_a_catalog_of_one() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let file = write(dir.path(), "interview.toml", "only")?;
        let c = Catalog::load(&places(Some(&file), None))?;
        assert_eq!(c.ids(), ["only"]);
        assert_eq!(c.default_interview().id, "only");
        assert_eq!(c.get("only").ok_or("missing")?.source, file);
        assert!(c.get("other").is_none());
        Ok(())
    }

    #[test]
    fn a_folder_adds_every_toml_file_and_the_file_stays_the_default() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let folder = dir.path().join("interviews");
        std::fs::create_dir(&folder)?;
        write(&folder, "b.toml", "sales")?;
        write(&folder, "a.toml", "support")?;
        write(&folder, ".a.toml.swp.toml", "editor-junk")?;
        std::fs::write(folder.join("notes.txt"), "not an interview")?;
        std::fs::create_dir(folder.join("videos.toml"))?;
        // The default file also sits in the folder: it counts once.
        let default = write(&folder, "c.toml", "warehouse")?;

        let c = Catalog::load(&places(Some(&default), Some(&folder)))?;
        assert_eq!(c.ids(), ["sales", "support", "warehouse"]);
        assert_eq!(c.default_interview().id, "warehouse");
        assert_eq!(c.len(), 3);

        // With only the folder, the default is the first by id (not by file name).
        let c = Catalog::load(&places(None, Some(&folder)))?;
        assert_eq!(c.default_interview().id, "sales");
        Ok(())
    }

    #[test]
    fn duplicate_ids_bad_files_and_empty_folders_are_refused() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let a = write(dir.path(), "a.toml", "same")?;
        let b = write(dir.path(), "b.toml", "same")?;
        let e = Catalog::load(&places(None, Some(dir.path())))
            .err()
            .ok_or("accepted")?;
        assert_eq!(
            e.to_string(),
            format!(
                "{}: interview id 'same' is already used by {}; every interview needs its own id",
                b.display(),
                a.display()
            )
        );
        assert_eq!(e.path(), b);

        std::fs::write(&b, "id = \"x\"\ntitle = 5\n")?;
        let e = Catalog::load(&places(None, Some(dir.path())))
            .err()
            .ok_or("accepted")?;
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(
            e.to_string().starts_with(&format!("{}:2:1: ", b.display())),
            "{e}"
        );

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty)?;
        let e = Catalog::load(&places(None, Some(&empty)))
            .err()
            .ok_or("accepted")?;
        assert!(matches!(e, CatalogError::EmptyFolder { .. }), "{e}");
        let e = Catalog::load(&places(None, Some(&dir.path().join("gone"))))
            .err()
            .ok_or("accepted")?;
        assert!(matches!(e, CatalogError::Folder { .. }), "{e}");
        Ok(())
    }

    #[test]
    fn catalogs_are_made_from_interviews_already_read() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let one = Interview::load(&write(dir.path(), "a.toml", "a")?)?;
        let two = Interview::load(&write(dir.path(), "b.toml", "b")?)?;
        let c = Catalog::new(two.clone(), vec![one.clone()])?;
        assert_eq!(c.default_interview().id, "b");
        assert_eq!(c.ids(), ["a", "b"]);
        assert!(matches!(
            Catalog::new(one.clone(), vec![one.clone()]),
            Err(CatalogError::DuplicateId { .. })
        ));
        assert_eq!(Catalog::single(one).ids(), ["a"]);
        Ok(())
    }
}
