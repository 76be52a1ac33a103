//! Several files read as one document: where each file's text sits, the deep merge, and
//! which file and line every value in force came from.
//!
//! toml reports byte spans into the one text it parsed. To keep one span per value across
//! files, each file is given its own range of offsets (the first at 0, the next after the end
//! of the first, and so on) and its spans are moved into that range before the merge; a span
//! then names its file by the range it falls in, and its line by the offset inside it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Diagnostic, Document, Span, line_column};

/// One file of a document read in layers.
#[derive(Debug, Clone)]
pub struct Layer<'i> {
    /// As named in messages.
    pub path: &'i Path,
    pub text: &'i str,
    /// Where relative paths written in this file are read from.
    pub dir: PathBuf,
}

/// A file and where its offsets start.
pub(super) struct Placed<'i> {
    pub(super) layer: Layer<'i>,
    pub(super) start: usize,
}

/// Where a value (or a key) was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'d> {
    /// Which file, counted from 0 in the order they were given.
    pub layer: usize,
    pub path: &'d Path,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

/// One value in force: a key path that leads to no further table, and what it holds.
#[derive(Debug)]
pub struct Setting<'d, 'i> {
    /// The tables, then the key: `["upload", "endpoint"]`.
    pub keys: Vec<&'d str>,
    pub value: &'d Spanned<DeValue<'i>>,
    /// The value as its file writes it (quotes, escapes and all).
    pub written: &'d str,
    /// Where its key was written.
    pub origin: Origin<'d>,
}

type Merged<'i> = (
    Vec<Placed<'i>>,
    Spanned<DeTable<'i>>,
    HashMap<Vec<String>, usize>,
);

/// Parses every file, moves its spans into its range and merges it over the ones before.
pub(super) fn merge<'i>(files: Vec<Layer<'i>>) -> Result<Merged<'i>, Diagnostic> {
    let mut placed = Vec::with_capacity(files.len());
    let mut root: Option<Spanned<DeTable<'i>>> = None;
    let mut first = HashMap::new();
    let mut start = 0;
    for layer in files {
        let table = parse(&layer)?;
        let span = moved(&table.span(), start);
        let table = shift_table(table.into_inner(), start);
        note_first(&table, &mut Vec::new(), &mut first);
        root = Some(match root {
            None => Spanned::new(span, table),
            Some(mut below) => {
                over(below.get_mut(), table);
                below
            }
        });
        // One past the end, so that the end of one file is not the start of the next.
        let next = start + layer.text.len() + 1;
        placed.push(Placed { layer, start });
        start = next;
    }
    let root = root.unwrap_or_else(|| Spanned::new(0..0, DeTable::default()));
    Ok((placed, root, first))
}

/// One file's syntax; an error becomes a diagnostic at its position in that file.
fn parse<'i>(layer: &Layer<'i>) -> Result<Spanned<DeTable<'i>>, Diagnostic> {
    DeTable::parse(layer.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let (line, column) = line_column(layer.text, span.start);
        let written = layer.text.get(span).unwrap_or("");
        let (field, message) = if e.message() == "duplicate key" {
            (
                Some(written.to_string()),
                format!("'{written}' is set more than once"),
            )
        } else {
            (None, format!("not valid TOML: {}", e.message()))
        };
        Diagnostic {
            path: layer.path.to_path_buf(),
            line,
            column,
            context: None,
            field,
            message,
        }
    })
}

fn moved(span: &Span, by: usize) -> Span {
    span.start + by..span.end + by
}

fn shift_table(table: DeTable<'_>, by: usize) -> DeTable<'_> {
    table
        .into_iter()
        .map(|(key, value)| {
            let span = moved(&key.span(), by);
            (Spanned::new(span, key.into_inner()), shift(value, by))
        })
        .collect()
}

fn shift(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = moved(&value.span(), by);
    let inner = match value.into_inner() {
        DeValue::Table(table) => DeValue::Table(shift_table(table, by)),
        DeValue::Array(items) => {
            DeValue::Array(items.into_iter().map(|item| shift(item, by)).collect())
        }
        other => other,
    };
    Spanned::new(span, inner)
}

/// Records where each key path first appears (files are noted in order).
fn note_first(
    table: &DeTable<'_>,
    path: &mut Vec<String>,
    first: &mut HashMap<Vec<String>, usize>,
) {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        first.entry(path.clone()).or_insert(key.span().start);
        if let DeValue::Table(inner) = value.get_ref() {
            note_first(inner, path, first);
        }
        path.pop();
    }
}

/// Lays `upper` over `below`: a table over a table merges key by key (the lower table keeps
/// its own span: it was opened first); anything else replaces what was there, key and all,
/// so that both point into the file that set it.
fn over<'i>(below: &mut DeTable<'i>, upper: DeTable<'i>) {
    for (key, value) in upper {
        let span = value.span();
        let value = match value.into_inner() {
            DeValue::Table(table) => {
                let name: &str = key.get_ref();
                if let Some(DeValue::Table(lower)) = below.get_mut(name).map(Spanned::get_mut) {
                    over(lower, table);
                    continue;
                }
                DeValue::Table(table)
            }
            other => other,
        };
        below.remove(key.get_ref().as_ref());
        below.insert(key, Spanned::new(span, value));
    }
}

impl<'i> Document<'i> {
    /// The file a span is in and the offset inside it.
    fn locate(&self, offset: usize) -> Option<(usize, &Placed<'i>, usize)> {
        self.layers
            .iter()
            .enumerate()
            .rev()
            .find(|(_, p)| offset >= p.start)
            .map(|(i, p)| (i, p, offset - p.start))
    }

    /// Where a span starts: which file, line and column.
    pub fn origin(&self, span: &Span) -> Origin<'_> {
        match self.locate(span.start) {
            Some((layer, placed, local)) => {
                let (line, column) = line_column(placed.layer.text, local);
                Origin {
                    layer,
                    path: placed.layer.path,
                    line,
                    column,
                }
            }
            // Only an empty list of files has no place at all.
            None => Origin {
                layer: 0,
                path: Path::new(""),
                line: 1,
                column: 1,
            },
        }
    }

    /// The directory relative paths written at `span` are read from: its own file's.
    pub fn dir_of(&self, span: &Span) -> &Path {
        self.locate(span.start)
            .map_or(Path::new("/"), |(_, p, _)| p.layer.dir.as_path())
    }

    /// A path as written at a value, resolved against its own file's directory.
    pub fn resolve(&self, value: &Spanned<String>) -> PathBuf {
        super::resolve(self.dir_of(&value.span()), value.get_ref())
    }

    /// Which file (counted from 0) set the value at `span`.
    pub fn layer_of(&self, span: &Span) -> usize {
        self.locate(span.start).map_or(0, |(i, _, _)| i)
    }

    /// The text a span covers, in its own file.
    fn written(&self, span: &Span) -> &str {
        self.locate(span.start)
            .and_then(|(_, p, local)| p.layer.text.get(local..local + span.len()))
            .unwrap_or("")
    }

    /// Every value in force, with the file and line that set it, in the order the keys were
    /// first written (the first file's order, then what later files add).
    pub fn settings(&self) -> Vec<Setting<'_, 'i>> {
        let mut out = Vec::new();
        self.collect(self.root.get_ref(), &mut Vec::new(), &mut out);
        let rank = |s: &Setting<'_, '_>| -> Vec<usize> {
            (1..=s.keys.len())
                .map(|n| {
                    let path: Vec<String> = s.keys[..n].iter().map(|k| k.to_string()).collect();
                    self.first.get(&path).copied().unwrap_or(usize::MAX)
                })
                .collect()
        };
        out.sort_by_cached_key(rank);
        out
    }

    fn collect<'d>(
        &'d self,
        table: &'d DeTable<'i>,
        keys: &mut Vec<&'d str>,
        out: &mut Vec<Setting<'d, 'i>>,
    ) {
        for (key, value) in table {
            keys.push(key.get_ref());
            match value.get_ref() {
                DeValue::Table(inner) => self.collect(inner, keys, out),
                _ => out.push(Setting {
                    keys: keys.clone(),
                    value,
                    written: self.written(&value.span()),
                    origin: self.origin(&key.span()),
                }),
            }
            keys.pop();
        }
    }
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
