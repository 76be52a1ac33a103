//! A station's configuration in layers: drop-ins in name order over the station's file over
//! the built-in one, errors naming the file and line that made them, rules across files, and
//! where each value in force came from.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::{Endpoint, Retention};
use crate::media::source::{AudioSpec, VideoSpec};

/// A station folder with `config.toml` and the given drop-ins (name, text) in `config.d/`.
fn station(
    main: &str,
    dropins: &[(&str, &str)],
) -> crate::TestResult<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, main)?;
    let folder = dir.path().join(DROPIN_DIR);
    std::fs::create_dir(&folder)?;
    for (name, text) in dropins {
        std::fs::write(folder.join(name), text)?;
    }
    Ok((dir, config))
}

fn error(config: &Path) -> String {
    match Config::load(Some(config)) {
        Ok(c) => format!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn dropins_apply_in_name_order_over_the_station_file() -> crate::TestResult {
    let (dir, config) = station(
        "[station]\nid = \"hall-b-03\"\n[devices]\nfps = 25\n",
        &[
            ("20-later.toml", "[devices]\nfps = 15\n"),
            ("10-first.toml", "[devices]\nfps = 20\nvideo = \"test\"\n"),
            // Not drop-ins: hidden, another extension, an editor's backup.
            (".30-hidden.toml", "[devices]\nfps = 1\n"),
            ("40-notes.txt", "fps = 2\n"),
            ("50-old.toml~", "[devices]\nfps = 3\n"),
        ],
    )?;
    std::fs::create_dir(dir.path().join("config.d/60-folder.toml"))?;
    let names: Vec<String> = dropins(&config)?
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_str()?.to_string()))
        .collect();
    assert_eq!(names, ["10-first.toml", "20-later.toml"]);
    let c = Config::load(Some(&config))?;
    assert_eq!(c.station.id, "hall-b-03");
    assert_eq!(c.devices.fps, 15);
    assert_eq!(c.devices.video, VideoSpec::Test);
    // The built-in value where nobody set one.
    assert_eq!(c.devices.audio, AudioSpec::Default);
    // `parse` reads one text: no drop-ins.
    let text = std::fs::read_to_string(&config)?;
    assert_eq!(Config::parse(&text, &config)?.devices.fps, 25);
    // No config.d at all is fine.
    std::fs::remove_dir_all(dir.path().join(DROPIN_DIR))?;
    assert_eq!(Config::load(Some(&config))?.devices.fps, 25);
    Ok(())
}

#[test]
fn an_error_names_the_file_and_line_that_made_it() -> crate::TestResult {
    let (dir, config) = station(
        "[devices]\nfps = 25\n",
        &[("10-ok.toml", "[upload]\nretention = \"keep\"\n")],
    )?;
    let bad = dir.path().join("config.d/20-bad.toml");
    let cases = [
        (
            "# too slow\n\n[devices]\nfps = 0\n",
            "20-bad.toml:4:1: [devices]: field 'fps' must be between 1 and 60, found 0",
        ),
        (
            "[devices]\nfsp = 30\n",
            "20-bad.toml:2:1: [devices]: unknown field 'fsp' (expected one of: video, audio, \
             size, fps)",
        ),
        (
            "[devices\n",
            "20-bad.toml:1:9: not valid TOML: unclosed table, expected `]`",
        ),
        (
            "devices = 5\n",
            "20-bad.toml:1:1: field 'devices' must be a [devices] table, found 5",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(&bad, text)?;
        let got = error(&config);
        assert_eq!(
            got,
            format!("{}/config.d/{want}", dir.path().display()),
            "for {text:?}"
        );
    }
    // A drop-in that cannot be read is named too.
    std::fs::write(&bad, [0xff, 0xfe])?;
    let e = Config::load(Some(&config)).err().ok_or("accepted")?;
    assert!(
        matches!(&e, ConfigError::Read { path, .. } if *path == bad),
        "{e}"
    );
    Ok(())
}

#[test]
fn rules_across_fields_point_at_the_file_a_station_wrote() -> crate::TestResult {
    // max_chunk_mib in the station file, a larger chunk_mib in a drop-in.
    let (dir, config) = station(
        "[upload]\nmax_chunk_mib = 8\n",
        &[("10-chunks.toml", "[upload]\nchunk_mib = 16\n")],
    )?;
    assert_eq!(
        error(&config),
        format!(
            "{}:2:1: [upload]: field 'max_chunk_mib' must be at least chunk_mib (16), found 8",
            config.display()
        )
    );
    // Only a large chunk, anywhere: fixed chunks of that size.
    std::fs::write(&config, "")?;
    std::fs::write(
        dir.path().join("config.d/10-chunks.toml"),
        "[upload]\nchunk_mib = 128\n",
    )?;
    let c = Config::load(Some(&config))?;
    assert_eq!(
        (c.upload.chunk_bytes, c.upload.max_chunk_bytes),
        (128 << 20, 128 << 20)
    );

    // Plain http allowed in one file, used in another.
    std::fs::write(&config, "[upload]\nallow_plain_http = true\n")?;
    let endpoint = dir.path().join("config.d/20-endpoint.toml");
    std::fs::write(
        &endpoint,
        "\n[upload]\nendpoint = \"http://10.0.0.5/files/\"\n",
    )?;
    assert_eq!(
        Config::load(Some(&config))?.upload.endpoint,
        Endpoint::Tus("http://10.0.0.5/files/".into())
    );
    std::fs::write(&config, "")?;
    assert!(
        error(&config).starts_with(&format!(
            "{}:3:1: [upload]: field 'endpoint' must use https:// for 10.0.0.5",
            endpoint.display()
        )),
        "{}",
        error(&config)
    );

    // A code length in a drop-in below the station file's minimum.
    std::fs::remove_file(&endpoint)?;
    std::fs::write(&config, "[interview]\ncode_min_length = 8\n")?;
    std::fs::write(
        dir.path().join("config.d/10-chunks.toml"),
        "[interview]\ncode_max_length = 6\n",
    )?;
    assert_eq!(
        error(&config),
        format!(
            "{}/config.d/10-chunks.toml:2:1: [interview]: field 'code_max_length' must be at \
             least code_min_length (8), found 6",
            dir.path().display()
        )
    );
    Ok(())
}

#[test]
fn relative_paths_in_dropins_are_read_from_the_station_files_directory() -> crate::TestResult {
    let (dir, config) = station(
        "[upload]\nretention = \"keep\"\n",
        &[(
            "10-centre.toml",
            "[interview]\nfolder = \"interviews\"\nroster = \"codes.csv\"\n\
             [monitoring]\ntextfile = \"metrics/booth.prom\"\n",
        )],
    )?;
    let c = Config::load(Some(&config))?;
    let d = dir.path();
    assert_eq!(
        c.interview.folder.as_deref(),
        Some(d.join("interviews").as_path())
    );
    assert_eq!(
        c.interview.roster.as_deref(),
        Some(d.join("codes.csv").as_path())
    );
    assert_eq!(
        c.monitoring.textfile.as_deref(),
        Some(d.join("metrics/booth.prom").as_path())
    );
    // Only a folder, set in a drop-in: the built-in interview file is not run beside it.
    assert_eq!(c.interview.default_file(), None);
    assert_eq!(c.upload.retention, Retention::Keep);
    Ok(())
}

#[test]
fn explained_settings_say_where_each_value_came_from() -> crate::TestResult {
    let (dir, config) = station(
        "[station]\n\nid = \"hall-b-03\"\n",
        &[(
            "10-centre.toml",
            "[interview]\nfolder = \"/srv/interviews\"\n",
        )],
    )?;
    let e = Config::explain(Some(&config))?;
    let dropin = dir.path().join("config.d/10-centre.toml");
    assert_eq!(
        e.files,
        [PathBuf::from(BUILT_IN_NAME), config.clone(), dropin.clone()]
    );
    let find = |section: &str, field: &str| {
        e.settings
            .iter()
            .find(|s| s.section == section && s.field == field)
            .cloned()
            .ok_or(format!("no {section}.{field}"))
    };
    let id = find("station", "id")?;
    assert_eq!(
        (id.written.as_str(), id.file.as_deref(), id.line),
        ("\"hall-b-03\"", Some(config.as_path()), Some(3))
    );
    assert_eq!(id.value, "hall-b-03");
    let fps = find("devices", "fps")?;
    assert_eq!(
        (fps.value.clone(), fps.file, fps.line),
        (30.into(), None, None)
    );
    let folder = find("interview", "folder")?;
    assert_eq!(folder.file.as_deref(), Some(dropin.as_path()));
    // The built-in file gives way to the folder: shown as it is in force.
    let file = find("interview", "file")?;
    assert_eq!((file.written.as_str(), file.note.is_some()), ("\"\"", true));
    // In the built-in file's order, every field once.
    assert_eq!(e.settings.first().map(|s| s.field.as_str()), Some("id"));
    assert_eq!(
        e.settings.len(),
        DEFAULT_CONFIG.lines().filter(|l| l.contains(" = ")).count()
    );
    // An invalid configuration explains nothing.
    std::fs::write(&dropin, "[interview]\nfolder = 5\n")?;
    assert!(matches!(
        Config::explain(Some(&config)),
        Err(ConfigError::Invalid(d)) if d.path() == dropin && d.line() == 2
    ));
    Ok(())
}

#[test]
fn the_readmes_room_dropins_make_a_valid_station() -> crate::TestResult {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))?;
    // Every ```toml block that starts with the drop-in's path.
    let mut dropins = Vec::new();
    for block in readme.split("```toml\n").skip(1) {
        let body: String = block
            .split("```")
            .next()
            .unwrap_or_default()
            .lines()
            .map(|l| format!("{}\n", l.trim_start()))
            .collect();
        if let Some(name) = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# /etc/booth/config.d/"))
        {
            dropins.push((name.to_string(), body.clone()));
        }
    }
    let names: Vec<&str> = dropins.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["10-room.toml", "50-station.toml"]);
    let refs: Vec<(&str, &str)> = dropins
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_str()))
        .collect();
    let (_dir, config) = station(DEFAULT_CONFIG, &refs)?;
    let c = Config::load(Some(&config))?;
    assert_eq!(c.station.id, "hall-b-03");
    assert!(c.kiosk.operator_pin_hash.is_some());
    assert_eq!(
        c.monitoring.textfile.as_deref(),
        Some(Path::new("/var/lib/prometheus/node-exporter/booth.prom"))
    );
    assert_eq!(
        c.interview.default_file(),
        None,
        "the room runs its folder only"
    );
    Ok(())
}
