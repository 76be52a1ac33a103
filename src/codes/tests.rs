//! Roster tests: both formats read to the same rows, every kind of complaint names
//! file:line:column, lookups follow exact-before-prefix and the validity window, and
//! `check_code` refuses, accepts and marks as the welcome screen needs.

use std::path::Path;

use super::*;
use crate::interview::Interview;

const DAY: u64 = 1_796_515_200; // 2026-12-06T00:00:00Z

fn csv(text: &str) -> Result<Roster, RosterError> {
    Roster::parse_csv(text, Path::new("roster.csv"))
}

fn toml(text: &str) -> Result<Roster, RosterError> {
    Roster::parse_toml(text, Path::new("roster.toml"))
}

fn csv_err(text: &str) -> String {
    match csv(text) {
        Ok(r) => panic!("accepted: {:?}", r.rows()),
        Err(e) => e.to_string(),
    }
}

fn toml_err(text: &str) -> String {
    match toml(text) {
        Ok(r) => panic!("accepted: {:?}", r.rows()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn both_formats_read_the_same_rows() -> crate::TestResult {
    let from_csv = csv("\u{feff}code,interview,valid_from,valid_until,single_use\n\
         # staff codes\n\
         ab-1234,support-2026,2026-12-06,2026-12-06,true\n\
         \n\
         ACME-*,sales.v2,,,\n")?;
    let from_toml = toml(
        "[[code]]\ncode = \"ab-1234\"\ninterview = \"support-2026\"\n\
         valid_from = 2026-12-06\nvalid_until = \"2026-12-06\"\nsingle_use = true\n\n\
         [[code]]\ncode = \"ACME-*\"\ninterview = \"sales.v2\"\n",
    )?;
    let want = |first_line, second_line| {
        vec![
            RosterRow {
                line: first_line,
                interview_id: "support-2026".into(),
                prefix: false,
                length: 7,
                valid_from_unix: Some(DAY),
                valid_until_unix: Some(DAY + 86_399),
                single_use: true,
            },
            RosterRow {
                line: second_line,
                interview_id: "sales.v2".into(),
                prefix: true,
                length: 5,
                valid_from_unix: None,
                valid_until_unix: None,
                single_use: false,
            },
        ]
    };
    assert_eq!(from_csv.rows(), want(3, 5));
    assert_eq!(from_toml.rows(), want(2, 9));
    // Semicolons, quotes, columns in another order, spreadsheet booleans.
    let r = csv("interview;code;single_use\n\"support-2026\";\"AB-1234\";YES\n")?;
    assert_eq!(r.lookup("ab-1234", 0)?.interview_id, "support-2026");
    assert!(r.lookup("ab-1234", 0)?.single_use);
    assert!(csv("")?.rows().is_empty());
    assert!(toml("")?.rows().is_empty());
    Ok(())
}

#[test]
fn csv_problems_name_line_column_and_field() {
    let head = "code,interview,valid_from,valid_until,single_use\n";
    let cases = [
        (
            "code,role\n".to_string(),
            "roster.csv:1:6: unknown column \"role\" in the header (expected: code, interview, \
             valid_from, valid_until, single_use)",
        ),
        (
            "code\nAB-1234\n".to_string(),
            "roster.csv:1:1: the header must name the column 'interview' (the first line reads \
             like: code,interview,valid_from,valid_until,single_use)",
        ),
        (
            format!("{head}AB 1234,iv\n"),
            "roster.csv:2:1: field 'code' must be letters, digits, '-' and '_', with a final '*' \
             for a prefix (like \"ACME-*\"); character 3 is ' '",
        ),
        (
            format!("{head}*,iv\n"),
            "roster.csv:2:1: field 'code' must have at least one character before '*'",
        ),
        (
            format!("{head}AB-1234\n"),
            "roster.csv:2:8: missing required field 'interview'",
        ),
        (
            format!("{head}AB-1234,support 2026\n"),
            "roster.csv:2:9: field 'interview' must be an interview id: letters, digits, '.', \
             '_' and '-' (like \"support-2026\"), found \"support 2026\"",
        ),
        (
            format!("{head}AB-1234,iv,06.12.2026\n"),
            "roster.csv:2:12: field 'valid_from' must be a date like 2026-12-06 (a whole day, \
             UTC) or an RFC 3339 time like 2026-12-06T09:00:00+01:00, found \"06.12.2026\" \
             (the date is not YYYY-MM-DD)",
        ),
        (
            format!("{head}AB-1234,iv,2026-12-06,2026-12-05\n"),
            "roster.csv:2:23: field 'valid_until' (2026-12-05T23:59:59Z) must not be before \
             valid_from (2026-12-06T00:00:00Z)",
        ),
        (
            format!("{head}AB-1234,iv,,,maybe\n"),
            "roster.csv:2:14: field 'single_use' must be true or false, found \"maybe\"",
        ),
        (
            format!("{head}AB-1234,iv,,,,extra\n"),
            "roster.csv:2:15: this line has 6 fields, but the header (line 1) names 5 columns",
        ),
        (
            format!("{head}AB-1234,iv\n# a comment\nab-1234,iv2\n"),
            "roster.csv:4:1: code AB…34 is also on line 2; each code may be listed once",
        ),
        (
            format!("{head}\"AB-1234,iv\n"),
            "roster.csv:2:1: a quoted field is not closed on its line",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, want)| csv_err(text) != *want)
        .map(|(text, want)| format!("{text}\n  got: {}\n want: {want}\n", csv_err(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn toml_problems_name_line_column_and_field() {
    let row = "[[code]]\ncode = \"AB-1234\"\ninterview = \"iv\"\n";
    let cases = [
        (
            format!("{row}valid_from = 5\n"),
            "roster.toml:4:1: code 1: field 'valid_from' must be a date like 2026-12-06 (a whole \
             day, UTC) or an RFC 3339 time like 2026-12-06T09:00:00+01:00, found \"5\" (the \
             date is not YYYY-MM-DD)",
        ),
        (
            format!("{row}single_use = \"yes\"\n"),
            "roster.toml:4:1: code 1: field 'single_use' must be true or false, found \"yes\"",
        ),
        (
            format!("{row}role = \"x\"\n"),
            "roster.toml:4:1: code 1: unknown field 'role' (expected one of: code, interview, \
             valid_from, valid_until, single_use)",
        ),
        (
            "[[code]]\ncode = \"AB-1234\"\n".to_string(),
            "roster.toml:1:1: code 1: missing required field 'interview' (an interview id: \
             letters, digits, '.', '_' and '-' (like \"support-2026\"))",
        ),
        (
            format!("{row}\n{row}"),
            "roster.toml:6:1: code AB…34 is also on line 2; each code may be listed once",
        ),
        (
            "[[codes]]\n".to_string(),
            "roster.toml:1:3: unknown field 'codes' (expected one of: code)",
        ),
        (
            format!("{row}valid_until = 2026-02-30\n"),
            "roster.toml:4:15: not valid TOML: invalid date, expected day between 01 and 28",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, want)| toml_err(text) != *want)
        .map(|(text, want)| format!("{text}\n  got: {}\n want: {want}\n", toml_err(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_expose_their_place() -> crate::TestResult {
    let e = csv("code,interview\nAB-1234,iv,\n")
        .err()
        .ok_or("accepted")?;
    assert_eq!((e.line(), e.column()), (Some(2), Some(12)));
    assert_eq!(e.path(), Path::new("roster.csv"));
    let e = Roster::load(Path::new("/nonexistent/roster.csv"))
        .err()
        .ok_or("accepted")?;
    assert!(matches!(e, RosterError::Read { .. }), "{e}");
    let e = Roster::load(Path::new("/etc/hostname"))
        .err()
        .ok_or("accepted")?;
    assert!(matches!(e, RosterError::Format { .. }), "{e}");
    let dir = tempfile::tempdir()?;
    let latin1 = dir.path().join("r.csv");
    std::fs::write(&latin1, b"code,interview\nJOS\xc9-1,iv\n")?;
    let e = Roster::load(&latin1).err().ok_or("accepted")?;
    assert_eq!((e.line(), e.column()), (Some(2), Some(4)), "{e}");
    Ok(())
}

#[test]
fn exact_codes_beat_prefixes_and_the_longest_prefix_wins() -> crate::TestResult {
    let r = csv("code,interview\nACME-*,general\nACME-SALES-*,sales\nACME-SALES-0001,ceo\nZ*,z\n")?;
    assert_eq!(r.lookup("acme-0042", 0)?.interview_id, "general");
    assert_eq!(r.lookup("ACME-SALES-0042", 0)?.interview_id, "sales");
    assert_eq!(r.lookup("ACME-SALES-0001", 0)?.interview_id, "ceo");
    assert_eq!(r.lookup("ACME-SALES-0001", 0)?.line, 4);
    assert_eq!(r.lookup("ACME", 0), Err(CodeRefusal::Unknown));
    assert_eq!(r.lookup("BCME-1", 0), Err(CodeRefusal::Unknown));
    Ok(())
}

#[test]
fn codes_are_good_only_inside_their_window() -> crate::TestResult {
    let r = csv("code,interview,valid_from,valid_until\n\
         DAY-1,iv,2026-12-06,2026-12-06\n\
         TIMED-1,iv,2026-12-06T09:00:00+01:00,2026-12-06T10:00:00+01:00\n\
         OPEN-1,iv,,2026-12-06\n")?;
    assert_eq!(
        r.lookup("DAY-1", DAY - 1),
        Err(CodeRefusal::NotYet { from_unix: DAY })
    );
    assert!(r.lookup("DAY-1", DAY).is_ok());
    assert!(r.lookup("DAY-1", DAY + 86_399).is_ok());
    assert_eq!(
        r.lookup("DAY-1", DAY + 86_400),
        Err(CodeRefusal::Expired {
            until_unix: DAY + 86_399
        })
    );
    let nine = DAY + 8 * 3600;
    assert!(matches!(
        r.lookup("TIMED-1", nine - 1),
        Err(CodeRefusal::NotYet { .. })
    ));
    assert!(r.lookup("TIMED-1", nine + 3600).is_ok());
    assert!(matches!(
        r.lookup("TIMED-1", nine + 3601),
        Err(CodeRefusal::Expired { .. })
    ));
    assert!(r.lookup("OPEN-1", 0).is_ok());
    Ok(())
}

fn interview(id: &str) -> crate::TestResult<Interview> {
    let text = format!(
        "id = \"{id}\"\ntitle = \"T\"\nintro = \"Hi.\"\nlanguage = \"en\"\n\
         [support]\ncontact = \"Desk.\"\n\
         [[question]]\nid = \"q1\"\ntext = \"Why?\"\npreparation_seconds = 0\n\
         answer_seconds = 60\nattempts = 1\n"
    );
    Ok(Interview::parse(&text, Path::new(&format!("{id}.toml")))?)
}

#[test]
fn check_code_refuses_accepts_and_uses_up_single_use_codes() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "code,interview,valid_from,single_use\n\
         ONCE-0001,support,,true\n\
         MANY-*,support,,false\n\
         LATER-0001,support,2027-01-01,\n\
         GHOST-0001,no-such-role,,true\n",
    )?;
    let catalog = Catalog::new(interview("support")?, vec![interview("sales")?])?;
    let mut watch = RosterWatch::new(&roster);
    let mut used = UsedCodes::open(dir.path())?;
    let mut check = |code: &str| check_code(&mut watch, &mut used, &catalog, code, DAY);

    assert_eq!(check("ONCE-0001")?.id, "support");
    assert_eq!(check("ONCE-0001").err(), Some(CodeRefusal::Used));
    assert_eq!(check("MANY-7")?.id, "support");
    assert_eq!(check("MANY-7")?.id, "support", "not single use");
    assert_eq!(check("NOPE-0001").err(), Some(CodeRefusal::Unknown));
    assert!(matches!(
        check("LATER-0001"),
        Err(CodeRefusal::NotYet { .. })
    ));
    assert_eq!(
        check("GHOST-0001").err(),
        Some(CodeRefusal::NoSuchInterview {
            id: "no-such-role".into()
        })
    );
    // A code the station could not use is not used up.
    assert!(!UsedCodes::open(dir.path())?.contains("GHOST-0001"));
    assert!(
        UsedCodes::open(dir.path())?.contains("ONCE-0001"),
        "durable"
    );

    // No good roster ever: nothing can be checked.
    let mut none = RosterWatch::new(dir.path().join("missing.csv"));
    assert_eq!(
        check_code(&mut none, &mut used, &catalog, "MANY-7", DAY).err(),
        Some(CodeRefusal::NoRoster)
    );
    Ok(())
}

#[test]
fn the_readme_rosters_are_valid_and_agree() -> crate::TestResult {
    let readme = include_str!("../../README.md");
    let block = |start: &str| -> crate::TestResult<&str> {
        let from = readme.find(start).ok_or("no such block")? + start.len();
        let len = readme[from..].find("```").ok_or("unclosed block")?;
        Ok(&readme[from..from + len])
    };
    let from_csv = csv(block("```csv\n")?)?;
    let from_toml = toml(&format!("[[code]]{}", block("```toml\n[[code]]")?))?;
    let now = DAY + 12 * 3600;
    for (code, interview) in [
        ("ACME-7Q2K", "support-2026"),
        ("ACME-SALES-0042", "sales-2026"),
    ] {
        assert_eq!(from_csv.lookup(code, now)?.interview_id, interview);
        assert_eq!(from_toml.lookup(code, now)?.interview_id, interview);
    }
    assert!(from_csv.lookup("ACME-7Q2K", now)?.single_use);
    assert!(from_csv.lookup("WALKIN-17", now).is_ok());
    Ok(())
}
