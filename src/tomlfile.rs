//! Reading hand-written TOML files (the interview and the station config) so that every
//! complaint points at the spot: `file:line:column: table: what is wrong and what is allowed`.
//!
//! toml reports byte spans and serde's terse messages ("invalid type: string \"x\", expected
//! i64"). This module owns turning those into operator-facing [`Diagnostic`]s: it keeps the
//! spanned document next to the typed one, finds which key a span belongs to (so a message can
//! name the table and the field, and quote what was written), and rewords serde's messages.
//! The callers own the rules: which fields exist and what each accepts.
//!
//! A document may be read in layers ([`layers`]: the station config's built-in defaults, the
//! station's file, its drop-ins): each file is parsed on its own, then merged table by table,
//! a later file's value replacing an earlier one's. Every value keeps a span that says which
//! file it came from, so a complaint about it names that file and line, and
//! [`Document::settings`] can say where each value in force was written.

mod layers;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub use layers::Layer;

/// A byte range into the file's text.
pub type Span = Range<usize>;

/// Says what a field accepts, for messages about a value of the wrong type. Called with the
/// table the field is in (`None` at the top level, else e.g. `Some("question")`) and the field.
pub type Expectations = fn(Option<&str>, &str) -> Option<String>;

/// One problem in a file, with where it is. `Display` is the whole operator-facing line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    path: PathBuf,
    line: usize,
    column: usize,
    context: Option<String>,
    field: Option<String>,
    message: String,
}

impl Diagnostic {
    /// The file, as the caller named it.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }
    /// 1-based column, in characters.
    pub fn column(&self) -> usize {
        self.column
    }
    /// The table the problem is in, as shown: `[support]`, `question 2 ("q-teamwork")`.
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }
    /// The field the problem is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
    /// The message without the location prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.path.display(), self.line, self.column)?;
        if let Some(context) = &self.context {
            write!(f, "{context}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// One step from the document root towards a value.
#[derive(Debug, Clone)]
enum Seg<'a> {
    Key { name: &'a str, span: Span },
    Index(usize),
}

/// What a span was found to be.
enum Hit<'a, 'i> {
    Key,
    Value(&'a DeValue<'i>),
}

/// A parsed file (or files read in layers): the texts, the spanned tree, and how to word
/// messages about it.
pub struct Document<'i> {
    /// In order, each at its own range of offsets (see [`layers`]).
    layers: Vec<layers::Placed<'i>>,
    root: Spanned<DeTable<'i>>,
    /// Where each key path was first written, to list settings in the files' order.
    first: std::collections::HashMap<Vec<String>, usize>,
    expect: Expectations,
}

impl<'i> Document<'i> {
    /// Parses one file; a syntax error becomes a diagnostic at its position. Relative paths
    /// in it are read from its directory.
    pub fn parse(text: &'i str, path: &'i Path, expect: Expectations) -> Result<Self, Diagnostic> {
        let dir = base_dir(path);
        Document::layered(vec![Layer { path, text, dir }], expect)
    }

    /// Parses each file, then merges them in order: tables key by key, anything else (a
    /// value, a list) replaced whole by the later file's. The first syntax error is reported
    /// in its own file.
    pub fn layered(files: Vec<Layer<'i>>, expect: Expectations) -> Result<Self, Diagnostic> {
        let (layers, root, first) = layers::merge(files)?;
        Ok(Document {
            layers,
            root,
            first,
            expect,
        })
    }

    /// Deserializes into the caller's raw (spanned) structs, rewording serde's errors.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        T::deserialize(toml::de::Deserializer::from(self.root.clone()))
            .map_err(|e| self.reword(e.message(), e.span().unwrap_or(0..0)))
    }

    /// 1-based line of a span in its file, for messages that mention a second place ("also
    /// at line 6").
    pub fn line_of(&self, span: &Span) -> usize {
        self.origin(span).line
    }

    /// A problem found after parsing, at a value's span (from a `Spanned` field) or a table's
    /// header span. The position shown is the field's key, so it reads like the examples in
    /// the docs (`14:1` for `attempts = 0`). `field` overrides the field name the span implies
    /// (needed for "missing" messages, which point at the table).
    pub fn error(
        &self,
        span: &Span,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let segs = self.find(span).map(|(segs, _)| segs).unwrap_or_default();
        let (context, implied, anchor) = self.split(&segs, span.start);
        self.diagnostic(
            anchor,
            context,
            field.map(str::to_string).or(implied),
            message.into(),
        )
    }

    /// A problem at the top of the (last) file with no better place (an empty interview).
    pub fn error_at_top(&self, message: impl Into<String>) -> Diagnostic {
        let top = self.layers.last().map_or(0, |l| l.start);
        self.diagnostic(top, None, None, message.into())
    }

    fn diagnostic(
        &self,
        anchor: usize,
        context: Option<String>,
        field: Option<String>,
        message: String,
    ) -> Diagnostic {
        let at = self.origin(&(anchor..anchor));
        Diagnostic {
            path: at.path.to_path_buf(),
            line: at.line,
            column: at.column,
            context,
            field,
            message,
        }
    }

    /// Turns serde's message into ours, using the span to find the table and field.
    fn reword(&self, msg: &str, span: Span) -> Diagnostic {
        let quoted = backticked(msg);
        if msg.starts_with("missing field `") {
            // The span is the table's own (its header, or 0..0 for the document).
            let name = quoted.first().copied().unwrap_or("?");
            let segs = if span == self.root.span() {
                Vec::new()
            } else {
                self.find(&span).map(|(segs, _)| segs).unwrap_or_default()
            };
            let anchor = if segs.is_empty() { 0 } else { span.start };
            let context = self.context_of(&segs);
            let section = section_of(&segs, segs.len());
            let top = if context.is_none() { "top-level " } else { "" };
            let what = match (self.expect)(section, name) {
                Some(allowed) => format!("missing required {top}field '{name}' ({allowed})"),
                None => format!("missing required {top}field '{name}'"),
            };
            return self.diagnostic(anchor, context, Some(name.to_string()), what);
        }
        let Some((segs, hit)) = self.find(&span) else {
            return self.diagnostic(span.start, None, None, msg.to_string());
        };
        let (context, field, anchor) = self.split(&segs, span.start);
        let name = field.clone().unwrap_or_default();
        let message = if msg.starts_with("unknown field `") {
            let expected = quoted.get(1..).unwrap_or_default();
            if expected.is_empty() {
                format!("unknown field '{name}' (this table takes no fields)")
            } else {
                format!(
                    "unknown field '{name}' (expected one of: {})",
                    expected.join(", ")
                )
            }
        } else if msg.starts_with("invalid type: ") || msg.starts_with("invalid value: ") {
            let key_index = segs.iter().rposition(|s| matches!(s, Seg::Key { .. }));
            let section = section_of(&segs, key_index.unwrap_or(0));
            let allowed =
                (self.expect)(section, &name).unwrap_or_else(|| serde_expected(msg).to_string());
            match hit {
                Hit::Value(value) => {
                    format!("field '{name}' must be {allowed}, found {}", found(value))
                }
                Hit::Key => format!("field '{name}' must be {allowed}"),
            }
        } else {
            msg.to_string()
        };
        self.diagnostic(anchor, context, field, message)
    }

    /// Splits a path into (table context, field name, position to show). A path ending in a
    /// key is a field of the table before it; one ending in an array index is a table itself.
    fn split(&self, segs: &[Seg<'_>], fallback: usize) -> (Option<String>, Option<String>, usize) {
        match segs.last() {
            // The key usually comes first (`attempts = 0`); a `[table]` header starts before it.
            Some(Seg::Key { name, span }) => (
                self.context_of(&segs[..segs.len() - 1]),
                Some((*name).to_string()),
                span.start.min(fallback),
            ),
            Some(Seg::Index(_)) => (self.context_of(segs), None, fallback),
            None => (None, None, fallback),
        }
    }

    /// How a table is named in messages: `[support]`, `question 2 ("q-teamwork")`.
    fn context_of(&self, segs: &[Seg<'_>]) -> Option<String> {
        match segs {
            [] => None,
            [Seg::Key { name, .. }] => Some(format!("[{name}]")),
            [Seg::Key { name, .. }, Seg::Index(i)] => {
                let id = self
                    .element(name, *i)
                    .and_then(|t| get(t, "id"))
                    .and_then(|v| v.get_ref().as_str())
                    .map(|id| format!(" ({id:?})"))
                    .unwrap_or_default();
                Some(format!("{name} {}{id}", i + 1))
            }
            deeper => {
                let parts: Vec<String> = deeper
                    .iter()
                    .map(|s| match s {
                        Seg::Key { name, .. } => (*name).to_string(),
                        Seg::Index(i) => (i + 1).to_string(),
                    })
                    .collect();
                Some(format!("[{}]", parts.join(".")))
            }
        }
    }

    /// The `index`th table of the top-level array `name`.
    fn element(&self, name: &str, index: usize) -> Option<&DeTable<'i>> {
        get(self.root.get_ref(), name)?
            .get_ref()
            .as_array()?
            .get(index)?
            .get_ref()
            .as_table()
    }

    /// Finds the key or value with exactly this span. Children are searched before their
    /// parent, because an array of tables can share its span with its first element's header.
    fn find(&self, span: &Span) -> Option<(Vec<Seg<'_>>, Hit<'_, 'i>)> {
        let mut segs = Vec::new();
        let hit = find_in_table(self.root.get_ref(), span, &mut segs)?;
        Some((segs, hit))
    }
}

fn find_in_table<'a, 'i>(
    table: &'a DeTable<'i>,
    span: &Span,
    segs: &mut Vec<Seg<'a>>,
) -> Option<Hit<'a, 'i>> {
    for (key, value) in table {
        segs.push(Seg::Key {
            name: key.get_ref().as_ref(),
            span: key.span(),
        });
        if key.span() == *span {
            return Some(Hit::Key);
        }
        if let Some(hit) = find_in_value(value, span, segs) {
            return Some(hit);
        }
        segs.pop();
    }
    None
}

fn find_in_value<'a, 'i>(
    value: &'a Spanned<DeValue<'i>>,
    span: &Span,
    segs: &mut Vec<Seg<'a>>,
) -> Option<Hit<'a, 'i>> {
    let inner = match value.get_ref() {
        DeValue::Table(table) => find_in_table(table, span, segs),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            segs.push(Seg::Index(i));
            let hit = find_in_value(item, span, segs);
            if hit.is_none() {
                segs.pop();
            }
            hit
        }),
        _ => None,
    };
    inner.or_else(|| (value.span() == *span).then_some(Hit::Value(value.get_ref())))
}

fn get<'a, 'i>(table: &'a DeTable<'i>, name: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == name)
        .map(|(_, v)| v)
}

/// The table a field at `segs[key_index]` belongs to, named as [`Expectations`] wants it.
fn section_of<'a>(segs: &[Seg<'a>], key_index: usize) -> Option<&'a str> {
    if key_index == 0 {
        return None;
    }
    match segs.first() {
        Some(Seg::Key { name, .. }) => Some(name),
        _ => None,
    }
}

/// The names serde quotes in backticks, in order (`unknown field `x`, expected one of `a`, …`).
fn backticked(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

/// serde's "expected …" part, made readable; only used when the caller has no wording.
fn serde_expected(msg: &str) -> &str {
    match msg.rsplit_once(", expected ").map(|(_, e)| e) {
        Some("i64" | "u32" | "u64" | "i32") => "a whole number",
        Some("f64" | "f32") => "a number",
        Some("a string") => "text in quotes",
        Some("a boolean") => "true or false",
        Some("a sequence") => "a list",
        Some(e) if e.starts_with("struct ") => "a table",
        Some(e) => e,
        None => "something else",
    }
}

/// What was written, for "found …": strings quoted, numbers as written, containers named.
fn found(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("{:?}", s.as_ref()),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(_) => "a list".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// 1-based (line, column) of a byte offset; columns count characters, not bytes.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Resolves a path written in a file against that file's directory.
pub fn resolve(dir: &Path, written: &str) -> PathBuf {
    let path = Path::new(written);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// The absolute directory a file's relative paths are read from. `std::path::absolute` only
/// fails without a current directory; the path as given is the best left to do then.
pub fn base_dir(file: &Path) -> PathBuf {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // After the two-byte 'é', the space is the third character.
        assert_eq!(line_column(text, 9), (2, 3));
        assert_eq!(
            line_column(text, 8),
            (2, 2),
            "mid-character offsets round down"
        );
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn backticks_are_extracted_in_order() {
        assert_eq!(
            backticked("unknown field `x`, expected one of `a`, `b`"),
            ["x", "a", "b"]
        );
        assert!(backticked("duplicate key").is_empty());
    }
}
