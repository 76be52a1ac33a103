//! Station config tests: the built-in file is the documented default, partial files fall back
//! to it, every kind of bad value is reported exactly, paths resolve, and the token stays
//! secret.

use super::*;

fn documented_defaults() -> Config {
    Config {
        station: Station {
            id: "booth-01".into(),
            data_dir: "/var/lib/booth".into(),
        },
        devices: Devices {
            video: VideoSpec::Default,
            audio: AudioSpec::Default,
            width: 1280,
            height: 720,
            fps: 30,
        },
        recording: Recording {
            video_kbps: 2500,
            audio_kbps: 128,
            noise_gate_dbfs: -45.0,
            silence_warning: Duration::from_secs(3),
            test_clip: Duration::from_secs(8),
            countdown: Duration::from_secs(3),
        },
        upload: Upload {
            endpoint: Endpoint::Dir("/var/lib/booth/delivered".into()),
            token_file: "/etc/booth/upload-token".into(),
            chunk_bytes: 8 * 1024 * 1024,
            max_chunk_bytes: 64 * 1024 * 1024,
            concurrency: 1,
            retention: Retention::Delete,
            allow_plain_http: false,
        },
        interview: InterviewRef {
            file: "/etc/booth/interview.toml".into(),
            folder: None,
            roster: None,
            require_code: false,
            code_min_length: 4,
            code_max_length: 32,
        },
        kiosk: Kiosk {
            lockdown: true,
            operator_pin_hash: None,
            idle_reset: Some(Duration::from_secs(300)),
            idle_countdown: Duration::from_secs(30),
            call_staff_bell: true,
            call_staff_webhook: None,
            theme: ThemeName::Standard,
            text_size: TextSize::Normal,
            heartbeat_url: None,
            heartbeat_interval: Duration::from_secs(60),
            grant: Duration::from_secs(60),
            done: Duration::from_secs(60),
            receipt_command: None,
        },
        logging: Logging {
            json: false,
            keep_files: 14,
        },
        monitoring: Monitoring { textfile: None },
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/booth/config.toml"))
}

fn err(text: &str) -> String {
    match Config::parse(text, Path::new("c.toml")) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_built_in_file_parses_and_is_the_documented_default() -> crate::TestResult {
    assert_eq!(Config::load(None)?, documented_defaults());
    Ok(())
}

#[test]
fn the_built_in_file_comments_every_field() {
    for line in DEFAULT_CONFIG.lines() {
        if line.contains('=') && !line.starts_with('#') {
            assert!(line.contains(" # "), "no comment on: {line}");
        }
    }
}

#[test]
fn left_out_fields_take_the_built_in_values() -> crate::TestResult {
    assert_eq!(parse("")?, documented_defaults());
    assert_eq!(parse("[devices]\n")?, documented_defaults());
    let c = parse("[devices]\nvideo = \"test\"\nfps = 25\n[upload]\nretention = \"keep\"\n")?;
    let mut want = documented_defaults();
    want.devices.video = VideoSpec::Test;
    want.devices.fps = 25;
    want.upload.retention = Retention::Keep;
    assert_eq!(c, want);
    Ok(())
}

#[test]
fn good_values_are_read() -> crate::TestResult {
    let c = parse(
        "[station]\nid = \"hall-b.3\"\n\
         [devices]\nvideo = \"v4l2:/dev/video2\"\naudio = \"alsa:hw:1,0\"\nsize = \"640x480\"\n\
         [recording]\nnoise_gate_dbfs = -60\nvideo_kbps = 1200\n\
         [upload]\nendpoint = \"https://uploads.example.com/files/\"\nchunk_mib = 16\n\
         concurrency = 2\n",
    )?;
    assert_eq!(c.station.id, "hall-b.3");
    assert_eq!(c.devices.video, VideoSpec::V4l2("/dev/video2".into()));
    assert_eq!(c.devices.audio, AudioSpec::Alsa("hw:1,0".into()));
    assert_eq!((c.devices.width, c.devices.height), (640, 480));
    assert_eq!(c.recording.noise_gate_dbfs, -60.0);
    assert_eq!(c.recording.video_bitrate(), 1_200_000);
    assert_eq!(
        c.upload.endpoint,
        Endpoint::Tus("https://uploads.example.com/files/".into())
    );
    assert_eq!(c.upload.chunk_bytes, 16 << 20);
    assert_eq!(c.upload.max_chunk_bytes, 64 << 20, "the built-in maximum");
    assert_eq!(c.upload.concurrency, 2);
    Ok(())
}

#[test]
fn a_chunk_above_the_built_in_maximum_alone_means_fixed_chunks() -> crate::TestResult {
    let c = parse("[upload]\nchunk_mib = 128\n")?;
    assert_eq!(c.upload.chunk_bytes, 128 << 20);
    assert_eq!(c.upload.max_chunk_bytes, 128 << 20);
    let c = parse("[upload]\nchunk_mib = 4\nmax_chunk_mib = 4\n")?;
    assert_eq!(
        (c.upload.chunk_bytes, c.upload.max_chunk_bytes),
        (4 << 20, 4 << 20)
    );
    Ok(())
}

#[test]
fn bad_inputs_are_reported_with_position_field_and_what_is_allowed() {
    let cases: &[(&str, &str)] = &[
        (
            "[stations]\nid = \"x\"\n",
            "c.toml:1:2: unknown field 'stations' (expected one of: station, devices, \
             recording, upload, interview, kiosk, logging, monitoring)",
        ),
        (
            "[devices]\nfsp = 30\n",
            "c.toml:2:1: [devices]: unknown field 'fsp' (expected one of: video, audio, size, \
             fps)",
        ),
        (
            "[devices]\nfps = \"30\"\n",
            "c.toml:2:1: [devices]: field 'fps' must be a whole number between 1 and 60, found \
             \"30\"",
        ),
        (
            "\n[devices]\nfps = 0\n",
            "c.toml:3:1: [devices]: field 'fps' must be between 1 and 60, found 0",
        ),
        (
            "[devices]\nvideo = \"webcam\"\n",
            "c.toml:2:1: [devices]: field 'video' must be 'default', 'v4l2:<path or index>', \
             'test', 'head' or 'file:<path.y4m>', found \"webcam\"",
        ),
        (
            "[devices]\naudio = \"mic\"\n",
            "c.toml:2:1: [devices]: field 'audio' must be 'default', 'alsa:<device>', 'tone' or \
             'file:<path.wav>', found \"mic\"",
        ),
        (
            "[devices]\nsize = \"1281x720\"\n",
            "c.toml:2:1: [devices]: field 'size' must be WIDTHxHEIGHT with even numbers, width \
             16-3840 and height 16-2160 (like \"1280x720\"), found \"1281x720\"",
        ),
        (
            "[recording]\nnoise_gate_dbfs = 5.0\n",
            "c.toml:2:1: [recording]: field 'noise_gate_dbfs' must be between -90 and 0, found 5",
        ),
        (
            "[recording]\nnoise_gate_dbfs = \"loud\"\n",
            "c.toml:2:1: [recording]: field 'noise_gate_dbfs' must be a number between -90 and \
             0, found \"loud\"",
        ),
        (
            "[recording]\nvideo_kbps = 10\n",
            "c.toml:2:1: [recording]: field 'video_kbps' must be between 250 and 20000, found 10",
        ),
        (
            "[recording]\ntest_clip_seconds = 20\n",
            "c.toml:2:1: [recording]: field 'test_clip_seconds' must be between 5 and 15, found \
             20",
        ),
        (
            "[upload]\nchunk_mib = 0\n",
            "c.toml:2:1: [upload]: field 'chunk_mib' must be between 1 and 1024, found 0",
        ),
        (
            "[upload]\nchunk_mib = 16\nmax_chunk_mib = 8\n",
            "c.toml:3:1: [upload]: field 'max_chunk_mib' must be at least chunk_mib (16), found 8",
        ),
        (
            "[upload]\nmax_chunk_mib = 2000\n",
            "c.toml:2:1: [upload]: field 'max_chunk_mib' must be between 1 and 1024, found 2000",
        ),
        (
            "[upload]\nconcurrency = 9\n",
            "c.toml:2:1: [upload]: field 'concurrency' must be between 1 and 8, found 9",
        ),
        (
            "[upload]\nretention = \"archive\"\n",
            "c.toml:2:1: [upload]: field 'retention' must be \"delete\" or \"keep\", found \
             \"archive\"",
        ),
        (
            "[upload]\nallow_plain_http = \"yes\"\n",
            "c.toml:2:1: [upload]: field 'allow_plain_http' must be true or false, found \"yes\"",
        ),
        (
            "[upload]\nendpoint = \"uploads.example.com\"\n",
            "c.toml:2:1: [upload]: field 'endpoint' must be \"dir:<path>\" or an http(s) tus \
             creation URL like \"https://uploads.example.com/files/\", found \
             \"uploads.example.com\"",
        ),
        (
            "[upload]\nendpoint = \"ftp://example.com/files/\"\n",
            "c.toml:2:1: [upload]: field 'endpoint' must be \"dir:<path>\" or an http(s) tus \
             creation URL like \"https://uploads.example.com/files/\", found \
             \"ftp://example.com/files/\" (the scheme 'ftp' is not http or https)",
        ),
        (
            "[upload]\nendpoint = \"https:///files/\"\n",
            "c.toml:2:1: [upload]: field 'endpoint' must be \"dir:<path>\" or an http(s) tus \
             creation URL like \"https://uploads.example.com/files/\", found \
             \"https:///files/\" (the URL has no host)",
        ),
        (
            "[upload]\nendpoint = \"dir:\"\n",
            "c.toml:2:1: [upload]: field 'endpoint' must be \"dir:<path>\" or an http(s) tus \
             creation URL like \"https://uploads.example.com/files/\", found \"dir:\" (the \
             directory is missing)",
        ),
        (
            "[upload]\nendpoint = \"http://uploads.example.com/files/\"\n",
            "c.toml:2:1: [upload]: field 'endpoint' must use https:// for uploads.example.com \
             (plain http:// is allowed only to 127.0.0.1, ::1 and localhost, unless [upload] \
             allow_plain_http = true)",
        ),
        (
            "[station]\nid = \"booth 1\"\n",
            "c.toml:2:1: [station]: field 'id' must be 1-64 letters, digits, '.', '_' and '-' \
             (like \"booth-01\"), found \"booth 1\"",
        ),
        (
            "[station]\ndata_dir = \"\"\n",
            "c.toml:2:1: [station]: field 'data_dir' must be a path, found \"\"",
        ),
        (
            "station = 5\n",
            "c.toml:1:1: field 'station' must be a [station] table, found 5",
        ),
        (
            "[devices]\nfps = 30\nfps = 25\n",
            "c.toml:3:1: 'fps' is set more than once",
        ),
        (
            "[devices\n",
            "c.toml:1:9: not valid TOML: unclosed table, expected `]`",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, expected)| err(text) != *expected)
        .map(|(text, expected)| format!("{text}\n  got: {}\n want: {expected}\n", err(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_expose_path_line_and_field() {
    let e = Config::parse("[devices]\nfps = 0\n", Path::new("c.toml")).unwrap_err();
    assert_eq!(e.path(), Path::new("c.toml"));
    assert_eq!((e.line(), e.column()), (Some(2), Some(1)));
    assert_eq!(e.field(), Some("fps"));

    let e = Config::load(Some(Path::new("/nonexistent/config.toml"))).unwrap_err();
    assert_eq!(e.line(), None);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/config.toml: cannot read the config file: "),
        "{e}"
    );
}

#[test]
fn plain_http_is_allowed_to_loopback_or_when_asked() -> crate::TestResult {
    for url in [
        "http://127.0.0.1:1080/files/",
        "http://[::1]:8080/files/",
        "http://localhost/files/",
        "HTTP://LOCALHOST/files/",
        "https://uploads.example.com:8443/files/",
    ] {
        let c = parse(&format!("[upload]\nendpoint = \"{url}\"\n"))?;
        assert_eq!(c.upload.endpoint, Endpoint::Tus(url.into()));
    }
    let c = parse("[upload]\nendpoint = \"http://10.0.0.5/files/\"\nallow_plain_http = true\n");
    assert!(c.is_ok());
    for bad in [
        "http://127.0.0.1.example.com/files/",
        "http://localhost:0/",
        "https://user:pw@example.com/files/",
        "https://[::1/files/",
        "https://exa mple.com/",
    ] {
        assert!(
            parse(&format!("[upload]\nendpoint = \"{bad}\"\n")).is_err(),
            "{bad}"
        );
    }
    Ok(())
}

#[test]
fn relative_paths_resolve_against_the_config_directory() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "[station]\ndata_dir = \"data\"\n\
         [devices]\nvideo = \"file:clips/clip.y4m\"\naudio = \"file:/abs/voice.wav\"\n\
         [upload]\nendpoint = \"dir:out\"\ntoken_file = \"secrets/token\"\n\
         [interview]\nfile = \"../shared/interview.toml\"\n",
    )?;
    let c = Config::load(Some(&file))?;
    let d = dir.path();
    assert_eq!(c.station.data_dir, d.join("data"));
    assert_eq!(c.devices.video, VideoSpec::File(d.join("clips/clip.y4m")));
    assert_eq!(c.devices.audio, AudioSpec::File("/abs/voice.wav".into()));
    assert_eq!(c.upload.endpoint, Endpoint::Dir(d.join("out")));
    assert_eq!(c.upload.token_file, d.join("secrets/token"));
    assert_eq!(c.interview.file, d.join("../shared/interview.toml"));
    Ok(())
}

#[test]
fn a_new_data_dir_takes_the_default_delivery_dir_along() -> crate::TestResult {
    let c = Config::load(None)?.with_data_dir("/tmp/scratch");
    assert_eq!(c.station.data_dir, Path::new("/tmp/scratch"));
    assert_eq!(
        c.upload.endpoint,
        Endpoint::Dir("/tmp/scratch/delivered".into())
    );

    let c = parse("[upload]\nendpoint = \"dir:/srv/out\"\n")?.with_data_dir("/tmp/scratch");
    assert_eq!(c.upload.endpoint, Endpoint::Dir("/srv/out".into()));
    Ok(())
}

#[test]
fn the_token_comes_from_the_environment_or_the_file_and_stays_secret() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let token_file = dir.path().join("token");
    let mut upload = documented_defaults().upload;
    upload.token_file = token_file.clone();

    std::fs::write(&token_file, "s3cret-from-file\n")?;
    let t = upload.token_from(None)?;
    assert_eq!(t.expose(), "s3cret-from-file");
    assert_eq!(format!("{t:?}"), "<redacted>");
    let t = upload.token_from(Some(" s3cret-env \n".into()))?;
    assert_eq!(t.expose(), "s3cret-env");
    let t = upload.token_from(Some("  ".into()))?;
    assert_eq!(
        t.expose(),
        "s3cret-from-file",
        "an empty variable counts as unset"
    );

    std::fs::write(&token_file, "two\nlines\n")?;
    let e = upload.token_from(None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "the upload token from {} contains characters that cannot be sent over HTTP",
            token_file.display()
        )
    );
    assert!(!format!("{e:?}").contains("lines"));

    std::fs::write(&token_file, " \n")?;
    let e = upload.token_from(None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "the upload token file {} is empty (or set BOOTH_UPLOAD_TOKEN)",
            token_file.display()
        )
    );

    upload.token_file = dir.path().join("missing");
    let e = upload.token_from(None).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "cannot read the upload token file {}/missing: ",
            dir.path().display()
        )),
        "{e}"
    );
    assert!(e.ends_with("(or set BOOTH_UPLOAD_TOKEN)"), "{e}");
    Ok(())
}

#[test]
fn the_kiosk_section_is_checked() -> crate::TestResult {
    let hash = crate::pin::hash_pin("2468")?;
    let c = parse(&format!(
        "[kiosk]\nlockdown = false\noperator_pin_hash = \"{hash}\"\nidle_reset_seconds = 0\n\
         theme = \"high-contrast\"\ntext_size = \"large\"\n\
         heartbeat_url = \"https://ops.example.com/beat\"\n"
    ))?;
    assert!(!c.kiosk.lockdown);
    assert_eq!(c.kiosk.operator_pin_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(c.kiosk.idle_reset, None);
    assert_eq!(c.kiosk.theme, ThemeName::HighContrast);
    assert_eq!(c.kiosk.text_size, TextSize::Large);
    let cases: &[(&str, &str)] = &[
        (
            "[kiosk]\ntheme = \"dark\"\n",
            "c.toml:2:1: [kiosk]: field 'theme' must be \"standard\" or \"high-contrast\", found \"dark\"",
        ),
        (
            "[kiosk]\noperator_pin_hash = \"1234\"\n",
            "c.toml:2:1: [kiosk]: field 'operator_pin_hash' must be an argon2id hash made by `booth hash-pin`",
        ),
        (
            "[kiosk]\nidle_countdown_seconds = 1\n",
            "c.toml:2:1: [kiosk]: field 'idle_countdown_seconds' must be between 5 and 300, found 1",
        ),
        (
            "[kiosk]\ncall_staff_webhook = \"ftp://x\"\n",
            "c.toml:2:1: [kiosk]: field 'call_staff_webhook' must be an http(s) URL",
        ),
        (
            "[kiosk]\n\nheartbeat_url = \"http://ops.example.com/beat\"\n",
            "c.toml:3:1: [kiosk]: field 'heartbeat_url' must use https:// for ops.example.com \
             (plain http:// is allowed only to 127.0.0.1, ::1 and localhost",
        ),
        (
            "[logging]\nkeep_files = 0\n",
            "c.toml:2:1: [logging]: field 'keep_files' must be between 1 and 366, found 0",
        ),
        (
            "[logging]\njson = \"yes\"\n",
            "c.toml:2:1: [logging]: field 'json' must be true or false",
        ),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(
            got.starts_with(want),
            "for {text:?}\n got: {got}\nwant: {want}"
        );
    }
    Ok(())
}

#[test]
fn kiosk_urls_follow_the_upload_policy_and_logging_is_read() -> crate::TestResult {
    let c = parse(
        "[upload]\nallow_plain_http = true\n\
         [kiosk]\nheartbeat_url = \"http://ops.lan/beat\"\n\
         call_staff_webhook = \"http://[::1]:8080/staff\"\n\
         [logging]\njson = true\nkeep_files = 30\n",
    )?;
    assert_eq!(
        c.kiosk.heartbeat_url.as_deref(),
        Some("http://ops.lan/beat")
    );
    assert_eq!(
        c.kiosk.call_staff_webhook.as_deref(),
        Some("http://[::1]:8080/staff")
    );
    assert_eq!(
        c.logging,
        Logging {
            json: true,
            keep_files: 30
        }
    );
    // Loopback needs no permission.
    let c = parse("[kiosk]\ncall_staff_webhook = \"http://127.0.0.1:9/x\"\n")?;
    assert_eq!(
        c.kiosk.call_staff_webhook.as_deref(),
        Some("http://127.0.0.1:9/x")
    );
    Ok(())
}

#[test]
fn the_monitoring_textfile_is_a_prom_file_read_from_the_config_directory() -> crate::TestResult {
    let c = parse("[monitoring]\ntextfile = \"metrics/booth.prom\"\n")?;
    assert_eq!(
        c.monitoring.textfile.as_deref(),
        Some(Path::new("/etc/booth/metrics/booth.prom"))
    );
    assert_eq!(
        parse("[monitoring]\ntextfile = \"\"\n")?
            .monitoring
            .textfile,
        None
    );
    assert_eq!(
        err("\n[monitoring]\ntextfile = \"/var/lib/node/booth.txt\"\n"),
        "c.toml:3:1: [monitoring]: field 'textfile' must be an absolute or relative path \
         ending in \".prom\" (node_exporter's textfile collector reads only those), or \"\" \
         for none, found \"/var/lib/node/booth.txt\""
    );
    Ok(())
}
