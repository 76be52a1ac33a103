//! `booth config [--config FILE] [--json]`: the station's configuration in force — the
//! built-in defaults, the station's file and its drop-ins (`config.d/*.toml`) merged — with
//! the file and line each value came from. The text form is TOML that reads back to the same
//! settings; `--json` gives the files read and every setting for configuration tools. An
//! invalid configuration prints its error (file and line) and exits 2.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{Exit, report_error};
use crate::config::{Config, Explained};

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Station config (default: the built-in one); its config.d/*.toml drop-ins are read too.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One JSON object on stdout: the files read and every setting with its origin.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ConfigArgs) -> Exit {
    let explained = match Config::explain(args.config.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            report_error(&e);
            return Exit::BadInput;
        }
    };
    if args.json {
        match serde_json::to_string(&explained) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                report_error(&e);
                return Exit::Failed;
            }
        }
        return Exit::Ok;
    }
    print!("{}", text(&explained));
    Exit::Ok
}

/// Where a value's comment says it came from.
fn origin(file: Option<&Path>, line: Option<usize>, note: Option<&str>) -> String {
    let from = match (file, line) {
        (Some(f), Some(l)) => format!("{}:{l}", f.display()),
        (Some(f), None) => f.display().to_string(),
        _ => "built in".to_string(),
    };
    match note {
        Some(note) => format!("{from} ({note})"),
        None => from,
    }
}

/// The settings as TOML, each line commented with its origin, the comments lined up.
fn text(explained: &Explained) -> String {
    let mut out = String::from("# booth's configuration in force, read from (later files win):\n");
    for file in &explained.files {
        out.push_str(&format!("#   {}\n", file.display()));
    }
    let lines: Vec<(String, String)> = explained
        .settings
        .iter()
        .map(|s| {
            (
                format!("{} = {}", s.field, s.written),
                origin(s.file.as_deref(), s.line, s.note),
            )
        })
        .collect();
    // Long values (a URL, a hash) do not push every other comment out.
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .filter(|n| *n <= 40)
        .max()
        .unwrap_or(0);
    let mut section = None;
    for (setting, (line, from)) in explained.settings.iter().zip(lines) {
        if section != Some(&setting.section) {
            out.push_str(&format!("\n[{}]\n", setting.section));
            section = Some(&setting.section);
        }
        out.push_str(&format!("{line:width$}  # {from}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_toml_that_reads_back_to_the_same_settings() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let main = dir.path().join("config.toml");
        std::fs::write(&main, "[station]\nid = \"hall-b-03\"\n")?;
        std::fs::create_dir(dir.path().join("config.d"))?;
        std::fs::write(
            dir.path().join("config.d/50-upload.toml"),
            "# the platform\n[upload]\nendpoint = \"https://up.example/files/\"\n",
        )?;
        let explained = Config::explain(Some(&main))?;
        let printed = text(&explained);
        let ends = |start: &str, end: String| {
            printed
                .lines()
                .any(|l| l.starts_with(start) && l.ends_with(&end))
        };
        assert!(
            ends("id = \"hall-b-03\" ", format!("  # {}:2", main.display())),
            "{printed}"
        );
        let dropin = dir.path().join("config.d/50-upload.toml");
        assert!(
            ends(
                "endpoint = \"https://up.example/files/\"",
                format!("  # {}:3", dropin.display())
            ),
            "{printed}"
        );
        assert!(
            ends("data_dir = \"/var/lib/booth\" ", "  # built in".into()),
            "{printed}"
        );
        assert!(printed.contains(&format!("#   {}\n", dropin.display())));
        // Read back as one station file, it is the same configuration.
        let again = dir.path().join("again/config.toml");
        std::fs::create_dir_all(again.parent().ok_or("no parent")?)?;
        std::fs::write(&again, &printed)?;
        assert_eq!(Config::load(Some(&again))?, Config::load(Some(&main))?);
        Ok(())
    }
}
