//! `booth config` as configuration tools use it: a station file with drop-ins in
//! `config.d/`, the configuration in force with where each value came from (text and JSON),
//! and a broken drop-in named with its line by every command that reads the configuration.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use serde_json::Value;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn booth_config_shows_the_merged_configuration_and_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    write(
        &config,
        "[station]\nid = \"hall-b-03\"\n[devices]\nfps = 25\n",
    );
    let site = dir.path().join("config.d/10-site.toml");
    write(&site, "[devices]\nfps = 15\n");
    let upload = dir.path().join("config.d/20-upload.toml");
    write(
        &upload,
        "# from the platform team\n[upload]\nendpoint = \"https://up.example/files/\"\n",
    );

    let out = common::run_ok(
        common::booth()
            .args(["config", "--json", "--config"])
            .arg(&config),
        "booth",
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "config.toml (built in)",
            config.to_str().unwrap(),
            site.to_str().unwrap(),
            upload.to_str().unwrap()
        ]
    );
    let setting = |section: &str, field: &str| -> Value {
        json["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["section"] == section && s["field"] == field)
            .unwrap_or_else(|| panic!("no {section}.{field} in {json:#}"))
            .clone()
    };
    let fps = setting("devices", "fps");
    assert_eq!(
        (&fps["value"], &fps["file"], &fps["line"]),
        (
            &Value::from(15),
            &Value::from(site.to_str().unwrap()),
            &Value::from(2)
        )
    );
    let endpoint = setting("upload", "endpoint");
    assert_eq!(endpoint["value"], "https://up.example/files/");
    assert_eq!(endpoint["line"], 3);
    let id = setting("station", "id");
    assert_eq!(id["file"], config.to_str().unwrap());
    let gate = setting("recording", "noise_gate_dbfs");
    assert_eq!(
        (&gate["value"], &gate["file"]),
        (&Value::from(-45.0), &Value::Null)
    );

    // The text form: TOML with the origin of each value.
    let out = common::run_ok(
        common::booth().args(["config", "--config"]).arg(&config),
        "booth",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start} in:\n{text}"))
    };
    assert!(
        line("fps = 15 ").ends_with(&format!("# {}:2", site.display())),
        "{text}"
    );
    assert!(
        line("audio = \"default\" ").ends_with("# built in"),
        "{text}"
    );
}

#[test]
fn a_broken_dropin_is_named_with_its_line_and_stops_the_commands_that_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    write(&config, "[station]\nid = \"hall-b-03\"\n");
    let bad = dir.path().join("config.d/30-bad.toml");
    write(&bad, "[upload]\n\nconcurrency = 0\n");
    for command in ["config", "status"] {
        let out = common::run(
            common::booth().args([command, "--config"]).arg(&config),
            "booth",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{}:3:1: [upload]: field 'concurrency' must be between 1 and 8, found 0",
                bad.display()
            )),
            "{command}: {stderr}"
        );
    }
}
