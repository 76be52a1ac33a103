//! Files read in layers: the merge, and that every value and every complaint names its own
//! file and line.

use std::path::Path;

use serde::Deserialize;

use super::*;

fn no_words(_: Option<&str>, _: &str) -> Option<String> {
    None
}

fn layer<'i>(path: &'i str, text: &'i str) -> Layer<'i> {
    Layer {
        path: Path::new(path),
        text,
        dir: Path::new(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    }
}

const BASE: &str = "[a]\nx = 1\ny = \"base\"\nlist = [1, 2]\n\n[b]\nz = true\n";

#[derive(Deserialize)]
struct Raw {
    a: RawA,
    b: RawB,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawA {
    x: Spanned<i64>,
    y: Spanned<String>,
    list: Spanned<Vec<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawB {
    z: Spanned<bool>,
}

#[test]
fn later_files_replace_values_and_merge_tables() -> crate::TestResult {
    let doc = Document::layered(
        vec![
            layer("/base.toml", BASE),
            layer("/etc/one.toml", "# one\n[a]\ny = \"one\"\nlist = [3]\n"),
            layer("/etc/two.toml", "a.x = 7\n"),
        ],
        no_words,
    )?;
    let raw: Raw = doc.deserialize()?;
    assert_eq!(*raw.a.x.get_ref(), 7);
    assert_eq!(raw.a.y.get_ref(), "one");
    assert_eq!(
        raw.a.list.get_ref(),
        &[3],
        "a list is replaced, not appended to"
    );
    assert!(*raw.b.z.get_ref());

    let at = |span: &Span| {
        let o = doc.origin(span);
        (o.path.display().to_string(), o.line, o.column, o.layer)
    };
    assert_eq!(at(&raw.a.x.span()), ("/etc/two.toml".into(), 1, 7, 2));
    assert_eq!(at(&raw.a.y.span()), ("/etc/one.toml".into(), 3, 5, 1));
    assert_eq!(at(&raw.b.z.span()), ("/base.toml".into(), 7, 5, 0));
    assert_eq!(doc.dir_of(&raw.a.y.span()), Path::new("/etc"));
    assert_eq!(doc.layer_of(&raw.b.z.span()), 0);
    Ok(())
}

#[test]
fn settings_say_where_each_value_in_force_was_written_in_the_first_files_order() -> crate::TestResult
{
    let doc = Document::layered(
        vec![
            layer("/base.toml", BASE),
            layer("/etc/one.toml", "[b]\nz = false\n[a]\ny = 'one'\nw = 1\n"),
        ],
        no_words,
    )?;
    let got: Vec<(String, &str, String, usize)> = doc
        .settings()
        .iter()
        .map(|s| {
            (
                s.keys.join("."),
                s.written,
                s.origin.path.display().to_string(),
                s.origin.line,
            )
        })
        .collect();
    let want = [
        ("a.x", "1", "/base.toml", 2),
        ("a.y", "'one'", "/etc/one.toml", 4),
        ("a.list", "[1, 2]", "/base.toml", 4),
        // Unknown to the first file: after what it knows.
        ("a.w", "1", "/etc/one.toml", 5),
        ("b.z", "false", "/etc/one.toml", 2),
    ];
    let want: Vec<(String, &str, String, usize)> = want
        .iter()
        .map(|(k, w, p, l)| (k.to_string(), *w, p.to_string(), *l))
        .collect();
    assert_eq!(got, want);
    Ok(())
}

#[test]
fn every_complaint_names_the_file_that_made_it() -> crate::TestResult {
    let files = |upper: &'static str| {
        vec![
            layer("/base.toml", BASE),
            layer("/etc/config.toml", "[b]\nz = true\n"),
            layer("/etc/config.d/10-site.toml", upper),
        ]
    };
    let complaint = |upper: &'static str| -> String {
        match Document::layered(files(upper), no_words).and_then(|d| d.deserialize::<Raw>()) {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        }
    };
    assert_eq!(
        complaint("\n[a]\nx = \"seven\"\n"),
        "/etc/config.d/10-site.toml:3:1: [a]: field 'x' must be a whole number, found \"seven\""
    );
    assert_eq!(
        complaint("[a]\nq = 1\n"),
        "/etc/config.d/10-site.toml:2:1: [a]: unknown field 'q' (expected one of: x, y, list)"
    );
    assert_eq!(
        complaint("[a\n"),
        "/etc/config.d/10-site.toml:1:3: not valid TOML: unclosed table, expected `]`"
    );
    // A value where a table was: the whole table is replaced, and the complaint is here.
    assert_eq!(
        complaint("b = 5\n"),
        "/etc/config.d/10-site.toml:1:1: field 'b' must be a table, found 5"
    );
    // A field no file sets is missing from the table where it was first opened.
    let broken = Document::layered(
        vec![
            layer("/base.toml", "[a]\nx = 1\ny = ''\nlist = []\n\n[b]\n"),
            layer("/etc/config.toml", "[b]\n"),
        ],
        no_words,
    )?;
    assert_eq!(
        broken.deserialize::<Raw>().err().map(|e| e.to_string()),
        Some("/base.toml:6:1: [b]: missing required field 'z'".to_string())
    );
    // A complaint with no better place is at the top of the last file.
    let doc = Document::layered(files(""), no_words)?;
    assert_eq!(
        doc.error_at_top("empty").to_string(),
        "/etc/config.d/10-site.toml:1:1: empty"
    );
    Ok(())
}

#[test]
fn one_file_reads_as_before() -> crate::TestResult {
    let doc = Document::parse("[b]\nz = 1\n", Path::new("one.toml"), no_words)?;
    // The key 'z' is at offsets 4..5 of the file's own text.
    let e = doc.error(&(4..5), None, "here");
    assert_eq!(e.to_string(), "one.toml:2:1: [b]: here");
    assert_eq!(
        doc.dir_of(&(4..5)),
        std::path::absolute("one.toml")?.parent().ok_or("no dir")?
    );
    Ok(())
}
