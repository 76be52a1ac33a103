//! A roster as CSV, the form a spreadsheet or a script writes:
//!
//! ```csv
//! code,interview,valid_from,valid_until,single_use
//! ACME-7Q2K,support-2026,2026-12-01,2026-12-06,true
//! ACME-*,support-2026,,,
//! ```
//!
//! A header line names the columns (`code` and `interview` required, the others optional and
//! in any order). Fields may be quoted (`"…"`, `""` for a quote). A spreadsheet's
//! byte-order mark is skipped, a header with `;` and no `,` means `;`-separated (as some
//! spreadsheets save), and blank lines and lines starting with `#` are ignored.

use std::path::Path;

use super::dates::Bound;
use super::roster::{
    Parsed, RosterError, RosterRow, SINGLE_USE_RULE, code_field, date_field, interview_field,
    window,
};

const COLUMNS: [&str; 5] = [
    "code",
    "interview",
    "valid_from",
    "valid_until",
    "single_use",
];

/// One field: its 1-based starting column (characters) and its unquoted, trimmed text.
type Field = (usize, String);

struct Problem<'a> {
    path: &'a Path,
}

impl Problem<'_> {
    fn at(&self, line: usize, column: usize, field: Option<&str>, message: String) -> RosterError {
        RosterError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            field: field.map(str::to_string),
            message,
        }
    }
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Vec<Parsed>, RosterError> {
    let problem = Problem { path };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let delimiter = if !header.contains(',') && header.contains(';') {
        ';'
    } else {
        ','
    };
    let columns = header_columns(&problem, header_line, header, delimiter)?;
    let mut rows = Vec::new();
    for (line, text) in lines {
        let fields = split(text, delimiter)
            .map_err(|(column, message)| problem.at(line, column, None, message))?;
        if let Some((column, _)) = fields.get(columns.len()) {
            return Err(problem.at(
                line,
                *column,
                None,
                format!(
                    "this line has {} fields, but the header (line {header_line}) names {} \
                     columns",
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        rows.push(row(&problem, line, &columns, &fields)?);
    }
    Ok(rows)
}

/// The header's column names, in order; `code` and `interview` must be among them.
fn header_columns(
    problem: &Problem<'_>,
    line: usize,
    header: &str,
    delimiter: char,
) -> Result<Vec<&'static str>, RosterError> {
    let fields = split(header, delimiter).map_err(|(c, m)| problem.at(line, c, None, m))?;
    let mut columns = Vec::with_capacity(fields.len());
    for (column, name) in &fields {
        let lower = name.to_ascii_lowercase();
        let Some(known) = COLUMNS.iter().find(|c| **c == lower) else {
            return Err(problem.at(
                line,
                *column,
                Some(name),
                format!(
                    "unknown column {name:?} in the header (expected: {})",
                    COLUMNS.join(", ")
                ),
            ));
        };
        if columns.contains(known) {
            return Err(problem.at(
                line,
                *column,
                Some(known),
                format!("column '{known}' is named twice in the header"),
            ));
        }
        columns.push(*known);
    }
    for required in ["code", "interview"] {
        if !columns.contains(&required) {
            return Err(problem.at(
                line,
                1,
                Some(required),
                format!(
                    "the header must name the column '{required}' (the first line reads \
                     like: {})",
                    COLUMNS.join(",")
                ),
            ));
        }
    }
    Ok(columns)
}

/// One data line → a row, every field checked where it stands.
fn row(
    problem: &Problem<'_>,
    line: usize,
    columns: &[&'static str],
    fields: &[Field],
) -> Result<Parsed, RosterError> {
    let value = |name: &str| -> Option<&Field> {
        let i = columns.iter().position(|c| *c == name)?;
        fields.get(i).filter(|(_, text)| !text.is_empty())
    };
    // Where a missing required field would have been: after the last field of the line.
    let end = fields.last().map_or(1, |(c, t)| c + t.chars().count());
    let required = |name: &'static str| {
        value(name).ok_or_else(|| {
            problem.at(
                line,
                end,
                Some(name),
                format!("missing required field '{name}'"),
            )
        })
    };
    let (code_column, code) = required("code")?;
    let (code, prefix) =
        code_field(code).map_err(|m| problem.at(line, *code_column, Some("code"), m))?;
    let (column, interview) = required("interview")?;
    let interview_id =
        interview_field(interview).map_err(|m| problem.at(line, *column, Some("interview"), m))?;
    let date = |name: &'static str, bound| {
        value(name)
            .map(|(column, text)| {
                date_field(name, text, bound).map_err(|m| problem.at(line, *column, Some(name), m))
            })
            .transpose()
    };
    let valid_from_unix = date("valid_from", Bound::From)?;
    let valid_until_unix = date("valid_until", Bound::Until)?;
    window(valid_from_unix, valid_until_unix).map_err(|m| {
        let column = value("valid_until").map_or(end, |(c, _)| *c);
        problem.at(line, column, Some("valid_until"), m)
    })?;
    let single_use = match value("single_use") {
        None => false,
        Some((column, text)) => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => {
                return Err(problem.at(
                    line,
                    *column,
                    Some("single_use"),
                    format!("field 'single_use' must be {SINGLE_USE_RULE}, found {text:?}"),
                ));
            }
        },
    };
    // Only ASCII is allowed in codes, so bytes are characters.
    let length = code.len();
    Ok(Parsed {
        code,
        column: *code_column,
        row: RosterRow {
            line,
            interview_id,
            prefix,
            length,
            valid_from_unix,
            valid_until_unix,
            single_use,
        },
    })
}

/// Splits one line into trimmed fields, unquoting `"…"` fields; an error is (column, why).
fn split(line: &str, delimiter: char) -> Result<Vec<Field>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
            i += 1;
        }
        let start = i + 1;
        let mut text = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('"'), Some('"')) => {
                        text.push('"');
                        i += 2;
                    }
                    (Some('"'), _) => {
                        i += 1;
                        break;
                    }
                    (Some(c), _) => {
                        text.push(*c);
                        i += 1;
                    }
                    (None, _) => {
                        return Err((start, "a quoted field is not closed on its line".into()));
                    }
                }
            }
            while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
                i += 1;
            }
            if chars.get(i).is_some_and(|c| *c != delimiter) {
                return Err((
                    i + 1,
                    format!("expected {delimiter:?} after a quoted field"),
                ));
            }
        } else {
            while let Some(c) = chars.get(i).filter(|c| **c != delimiter) {
                text.push(*c);
                i += 1;
            }
        }
        fields.push((start, text.trim().to_string()));
        if chars.get(i).is_none() {
            return Ok(fields);
        }
        i += 1; // the delimiter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_split_unquoted_and_located() {
        assert_eq!(
            split("a, \"b,c\" ,\"say \"\"hi\"\"\",", ','),
            Ok(vec![
                (1, "a".to_string()),
                (4, "b,c".to_string()),
                (11, "say \"hi\"".to_string()),
                (24, String::new()),
            ])
        );
        assert_eq!(
            split("x;y", ';'),
            Ok(vec![(1, "x".to_string()), (3, "y".to_string())])
        );
        assert_eq!(
            split("a,\"open", ','),
            Err((3, "a quoted field is not closed on its line".to_string()))
        );
        assert_eq!(
            split("\"a\"b,c", ','),
            Err((4, "expected ',' after a quoted field".to_string()))
        );
    }
}
