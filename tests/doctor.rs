//! `booth doctor --json` as operators script it: the real binary against a broken config, a
//! camera that is not there, an endpoint nobody answers on, and a good station — a real tus
//! server asking for a token, a PulseAudio microphone playing a tone and a speaker to play
//! to, and an endpoint that refuses the configured chunk size, which only the upload service
//! can see. Each check's verdict and the exit code (0 ready, 1 warnings, 2 failures) are
//! asserted.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
/// The console's doors, checked under `--root`.
#[path = "doctor/console.rs"]
mod console;

use std::path::{Path, PathBuf};

use serde_json::Value;

use common::Pulse;
use common::tus_server::{TusOptions, TusServer};

/// A one-question interview (10 s, one attempt), so the disk check has a small budget.
fn interview(dir: &Path) -> PathBuf {
    let path = dir.join("interview.toml");
    std::fs::write(
        &path,
        "id = \"iv-doctor\"\ntitle = \"Doctor\"\nlanguage = \"en\"\nintro = \"Hello.\"\n\
         [support]\ncontact = \"Ask at the desk.\"\n\
         [[question]]\nid = \"q1\"\ntext = \"Who are you?\"\npreparation_seconds = 0\n\
         answer_seconds = 10\nattempts = 1\n",
    )
    .unwrap();
    path
}

/// A station config in `dir`; `devices` and `upload` are the bodies of those sections.
fn config(dir: &Path, devices: &str, upload: &str) -> PathBuf {
    let text = format!(
        "[station]\nid = \"doc-1\"\ndata_dir = \"{data}\"\n\
         [devices]\n{devices}\n\
         [upload]\n{upload}\n\
         [interview]\nfile = \"{interview}\"\n",
        data = dir.join("data").display(),
        interview = interview(dir).display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `booth doctor --json --config <config>`: the exit code and the report.
fn doctor(config: &Path, envs: &[(String, String)]) -> (i32, Value) {
    doctor_under(config, Path::new("/"), envs)
}

/// [`doctor`] with the console checks reading `root` as the station's `/`.
fn doctor_under(config: &Path, root: &Path, envs: &[(String, String)]) -> (i32, Value) {
    let out = common::run(
        common::booth()
            .args(["doctor", "--json", "--config"])
            .arg(config)
            .arg("--root")
            .arg(root)
            .envs(envs.iter().cloned()),
        "booth",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json printed no JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let code = out.status.code().expect("doctor ended by a signal");
    assert_eq!(report["exit_code"], code, "{report:#}");
    (code, report)
}

/// A folder standing in for `/` of a station set up as the README says: booth.service, the
/// console settings from assets/, ctrl-alt-del.target masked, SysRq limited to sync.
fn locked_down_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    for (asset, to) in [
        ("booth.service", "etc/systemd/system/booth.service"),
        ("logind-booth.conf", "etc/systemd/logind.conf.d/booth.conf"),
        ("system-booth.conf", "etc/systemd/system.conf.d/booth.conf"),
        ("sysctl-booth.conf", "etc/sysctl.d/90-booth.conf"),
    ] {
        let to = root.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(assets.join(asset), to).unwrap();
    }
    std::os::unix::fs::symlink(
        "/dev/null",
        root.join("etc/systemd/system/ctrl-alt-del.target"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("proc/sys/kernel")).unwrap();
    std::fs::write(root.join("proc/sys/kernel/sysrq"), "16\n").unwrap();
    std::fs::write(root.join("proc/sys/kernel/ctrl-alt-del"), "0\n").unwrap();
    root
}

/// The drop-in an operator writes when the station keeps its files outside /var/lib/booth:
/// here a test folder, which may be in /tmp (private under the unit) or /home (hidden).
fn let_the_unit_write(root: &Path, dir: &Path) {
    let dropins = root.join("etc/systemd/system/booth.service.d");
    std::fs::create_dir_all(&dropins).unwrap();
    std::fs::write(
        dropins.join("paths.conf"),
        format!(
            "[Service]\nPrivateTmp=no\nProtectHome=no\nReadWritePaths={}\n",
            dir.display()
        ),
    )
    .unwrap();
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report:#}"))
}

fn verdict(report: &Value, name: &str) -> String {
    check(report, name)["verdict"].as_str().unwrap().to_string()
}

#[test]
fn a_broken_config_fails_naming_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[station]\nid = \"doc-1\"\n\n[devices]\nfps = 999\n").unwrap();
    let (code, report) = doctor(&path, &[]);
    assert_eq!(code, 2);
    assert_eq!(report["verdict"], "failure");
    let c = check(&report, "config");
    assert_eq!(c["verdict"], "failure");
    let finding = c["finding"].as_str().unwrap();
    assert!(
        finding.starts_with(&format!("{}:5:1:", path.display())),
        "{finding}"
    );
    assert!(finding.contains("'fps'"), "{finding}");
    assert_eq!(c["details"]["line"], 5);
    assert!(c["fix"].as_str().unwrap().contains("line"));

    // A config that cannot be read at all is a failure too, not a crash.
    let (code, report) = doctor(&dir.path().join("missing.toml"), &[]);
    assert_eq!(code, 2);
    assert_eq!(verdict(&report, "config"), "failure");
}

#[test]
fn a_broken_language_file_beside_the_config_fails_naming_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = config(
        dir.path(),
        "video = \"test\"\naudio = \"tone\"",
        &format!("endpoint = \"dir:{}\"", out.display()),
    );
    let i18n = dir.path().join("i18n");
    std::fs::create_dir_all(&i18n).unwrap();
    std::fs::write(i18n.join("pl.toml"), "[review]\nsend = \"Wyślij\nx = 1\n").unwrap();
    let (_, report) = doctor(&cfg, &[]);
    let c = check(&report, "languages");
    assert_eq!(c["verdict"], "failure", "{c:#}");
    let finding = c["finding"].as_str().unwrap();
    let at = format!("{}:2:", i18n.join("pl.toml").display());
    assert!(finding.starts_with(&at), "{finding}");
    assert!(c["fix"].as_str().unwrap().contains("built-in"), "{c:#}");
}

#[test]
fn a_camera_that_is_not_there_fails() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "video = \"v4l2:/dev/video99\"\naudio = \"tone\"",
        &format!("endpoint = \"dir:{}\"", dir.path().join("out").display()),
    );
    let (code, report) = doctor(&cfg, &[]);
    assert_eq!(code, 2);
    let camera = check(&report, "camera");
    assert_eq!(camera["verdict"], "failure", "{camera:#}");
    assert!(
        camera["finding"].as_str().unwrap().contains("/dev/video99"),
        "{camera:#}"
    );
    assert!(camera["fix"].as_str().unwrap().contains("booth devices"));
    // The rest was still checked.
    assert_eq!(verdict(&report, "config"), "ok");
    assert_eq!(verdict(&report, "interview"), "ok");
    assert_eq!(verdict(&report, "microphone"), "ok");
    assert_eq!(verdict(&report, "upload"), "ok");
    assert_eq!(verdict(&report, "outbox"), "ok");
}

#[test]
fn an_endpoint_nobody_answers_on_fails() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "tok-unused\n").unwrap();
    let cfg = config(
        dir.path(),
        "video = \"test\"\naudio = \"tone\"",
        &format!(
            "endpoint = \"http://127.0.0.1:{port}/files/\"\ntoken_file = \"{}\"",
            dir.path().join("token").display()
        ),
    );
    let started = std::time::Instant::now();
    let (code, report) = doctor(&cfg, &[]);
    assert_eq!(code, 2);
    let upload = check(&report, "upload");
    assert_eq!(upload["verdict"], "failure", "{upload:#}");
    let finding = upload["finding"].as_str().unwrap();
    assert!(finding.contains("cannot reach"), "{finding}");
    assert!(finding.contains(&port.to_string()), "{finding}");
    assert!(!finding.contains("tok-unused"), "{finding}");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

#[test]
fn a_good_station_passes_and_its_troubles_are_warnings_or_failures() {
    let token = "tok-doctor-7a6b5c";
    let server = TusServer::start(TusOptions {
        token: Some(token.into()),
        ..TusOptions::default()
    });
    let pulse = Pulse::start_sine(440);
    let envs = pulse.envs();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let cfg = config(
        dir.path(),
        "video = \"test\"\naudio = \"default\"",
        &format!(
            "endpoint = \"{}/\"\ntoken_file = \"{}\"",
            server.url(),
            token_file.display()
        ),
    );

    let root = locked_down_root(dir.path());
    let_the_unit_write(&root, dir.path());
    let (code, report) = doctor_under(&cfg, &root, &envs);
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["verdict"], "ok", "{c:#}\n{}", pulse.log());
    }
    assert_eq!(code, 0, "{report:#}");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "config",
            "languages",
            "interview",
            "camera",
            "microphone",
            "speaker",
            "disk",
            "clock",
            "upload",
            "outbox",
            "console",
            "vt-lock",
            "gettys",
            "ctrl-alt-del",
            "sysrq",
            "sandbox"
        ]
    );
    // The microphone was really listened to, for about three seconds, and heard the tone.
    let mic = &check(&report, "microphone")["details"];
    assert!(mic["seconds"].as_f64().unwrap() >= 2.9, "{mic:#}");
    assert!(mic["peak_dbfs"].as_f64().unwrap() > -30.0, "{mic:#}");
    let upload = check(&report, "upload");
    assert!(
        upload["finding"]
            .as_str()
            .unwrap()
            .contains("accepts the token"),
        "{upload:#}"
    );
    assert_eq!(upload["details"]["head_status"], 404, "{upload:#}");
    // The server's clock was compared.
    assert!(check(&report, "clock")["details"]["server"].is_string());
    // Nothing was uploaded.
    assert!(!server.log().contains("created"), "{}", server.log());

    // An unreadable outbox record: ready, but look (1).
    let outbox = dir.path().join("data/outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let broken = outbox.join("0b8a7c1e-2f3d-4e5a-9b6c-7d8e9f0a1b2c.json");
    std::fs::write(&broken, "{ half a record").unwrap();
    let (code, report) = doctor_under(&cfg, &root, &envs);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verdict"], "warning");
    assert_eq!(verdict(&report, "outbox"), "warning");
    assert_eq!(verdict(&report, "upload"), "ok");
    std::fs::remove_file(&broken).unwrap();

    // A token the server does not know: not ready (2), and the token is never printed.
    std::fs::write(&token_file, "tok-wrong-0000\n").unwrap();
    let (code, report) = doctor_under(&cfg, &root, &envs);
    assert_eq!(code, 2, "{report:#}");
    let upload = check(&report, "upload");
    assert_eq!(upload["verdict"], "failure", "{upload:#}");
    assert!(
        upload["finding"]
            .as_str()
            .unwrap()
            .contains("refused the upload token"),
        "{upload:#}"
    );
    assert!(!report.to_string().contains("tok-wrong"), "{report:#}");
    assert!(
        server.log().contains("unauthorized HEAD"),
        "{}",
        server.log()
    );
}

#[test]
fn human_output_is_one_line_per_check_with_the_fix_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "video = \"v4l2:/dev/video99\"\naudio = \"tone\"",
        &format!("endpoint = \"dir:{}\"", dir.path().join("out").display()),
    );
    let out = common::run(
        common::booth().args(["doctor", "--config"]).arg(&cfg),
        "booth",
    );
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let camera = lines
        .iter()
        .position(|l| l.starts_with("FAILURE camera: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        lines[camera + 1].trim_start().starts_with("fix: "),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("ok      config: ")),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("NOT READY: fix the failures above"),
        "{text}"
    );
}

#[test]
fn a_chunk_size_the_route_refuses_is_reported_from_the_upload_service() {
    // Something in front of the server takes request bodies up to 1.5 MiB; the station sends
    // 2 MiB chunks. The doctor's own probe sends no body, so only the upload service sees it.
    let token = "tok-doctor-413";
    let server = TusServer::start(TusOptions {
        token: Some(token.into()),
        max_patch: 3 << 19,
        ..TusOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let cfg = config(
        dir.path(),
        "video = \"test\"\naudio = \"tone\"",
        &format!(
            "endpoint = \"{}\"\ntoken_file = \"{}\"\nchunk_mib = 2",
            server.url(),
            token_file.display()
        ),
    );
    let answer = dir.path().join("c1--q1--1.mp4");
    std::fs::write(
        &answer,
        (0..3_000_000u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let out = common::run(
        common::booth()
            .args(["upload", "--config"])
            .arg(&cfg)
            .args([
                "--interview",
                "iv",
                "--retry-min-ms",
                "50",
                "--retry-max-ms",
                "400",
            ])
            .arg(&answer),
        "booth",
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (code, report) = doctor(&cfg, &[]);
    assert_eq!(code, 2, "{report:#}");
    let upload = check(&report, "upload");
    assert_eq!(upload["verdict"], "failure", "{upload:#}");
    let finding = upload["finding"].as_str().unwrap();
    assert!(
        finding.contains("the upload service saw PATCH")
            && finding.contains("answered 413 to a chunk of 2097152 bytes"),
        "{finding}"
    );
    assert!(
        upload["fix"].as_str().unwrap().contains("chunk_mib"),
        "{upload:#}"
    );
    let seen = &upload["details"]["service_problem"];
    assert_eq!(seen["problem"]["kind"], "chunk_too_large", "{upload:#}");
    assert_eq!(upload["details"]["service_problem_current"], true);
    // The answer waits in the outbox, which the outbox check counts.
    let outbox = check(&report, "outbox");
    assert_eq!(outbox["details"]["waiting"], 1, "{outbox:#}");

    // With a chunk the route takes, what the service saw is no longer the doctor's finding.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("chunk_mib = 2", "chunk_mib = 1\nmax_chunk_mib = 1");
    std::fs::write(&cfg, text).unwrap();
    let (_, report) = doctor(&cfg, &[]);
    let upload = check(&report, "upload");
    assert_eq!(upload["verdict"], "ok", "{upload:#}");
    assert_eq!(
        upload["details"]["service_problem_current"], false,
        "{upload:#}"
    );
}

/// A station with a folder of interviews and a roster; the roster's body is `roster`.
fn centre(dir: &Path, roster: &str) -> PathBuf {
    let folder = dir.join("interviews");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(interview(dir), folder.join("support.toml")).unwrap();
    std::fs::write(
        folder.join("sales.toml"),
        std::fs::read_to_string(folder.join("support.toml"))
            .unwrap()
            .replace("iv-doctor", "iv-sales"),
    )
    .unwrap();
    std::fs::write(dir.join("roster.csv"), roster).unwrap();
    let text = format!(
        "[station]\nid = \"doc-1\"\ndata_dir = \"{data}\"\n\
         [devices]\nvideo = \"test\"\naudio = \"tone\"\n\
         [upload]\nendpoint = \"dir:{out}\"\n\
         [interview]\nfolder = \"interviews\"\nroster = \"roster.csv\"\n",
        data = dir.join("data").display(),
        out = dir.join("out").display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_interview_folder_and_the_roster_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    let cfg = centre(
        dir.path(),
        "code,interview,valid_until,single_use\nACME-*,iv-sales,,\nAB-1234,iv-doctor,2030-01-01,true\n",
    );
    let (_, report) = doctor(&cfg, &[]);
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..4],
        ["config", "languages", "interview", "roster"],
        "{report:#}"
    );
    let iv = check(&report, "interview");
    assert_eq!(iv["verdict"], "ok", "{iv:#}");
    assert_eq!(
        iv["details"]["ids"],
        serde_json::json!(["iv-doctor", "iv-sales"])
    );
    let r = check(&report, "roster");
    assert_eq!(r["verdict"], "ok", "{r:#}");
    assert_eq!(r["details"]["codes"], 2);

    // A code naming an interview the station lacks: ready, but look.
    std::fs::write(
        &roster,
        "code,interview\nACME-*,iv-sales\nZZ-0001,iv-gone\n",
    )
    .unwrap();
    let (_, report) = doctor(&cfg, &[]);
    let r = check(&report, "roster");
    assert_eq!(r["verdict"], "warning", "{r:#}");
    let finding = r["finding"].as_str().unwrap();
    assert!(
        finding.starts_with(&format!("{}:3: ", roster.display())),
        "{finding}"
    );
    assert!(finding.contains("iv-gone"), "{finding}");

    // Malformed: a failure naming file, line and column, the code itself never shown.
    std::fs::write(
        &roster,
        "code,interview\nACME-*,iv-sales\nZZ 0001,iv-sales\n",
    )
    .unwrap();
    let (code, report) = doctor(&cfg, &[]);
    assert_eq!(code, 2);
    let r = check(&report, "roster");
    assert_eq!(r["verdict"], "failure", "{r:#}");
    let finding = r["finding"].as_str().unwrap();
    assert!(
        finding.starts_with(&format!("{}:3:1: ", roster.display())),
        "{finding}"
    );
    assert!(!finding.contains("ZZ 0001"), "{finding}");
    assert_eq!(r["details"]["line"], 3);

    // Two interview files with one id: the interview check fails naming both.
    let folder = dir.path().join("interviews");
    std::fs::copy(folder.join("sales.toml"), folder.join("sales-copy.toml")).unwrap();
    let (code, report) = doctor(&cfg, &[]);
    assert_eq!(code, 2);
    let iv = check(&report, "interview");
    assert_eq!(iv["verdict"], "failure", "{iv:#}");
    let finding = iv["finding"].as_str().unwrap();
    assert!(
        finding.contains("sales.toml") && finding.contains("sales-copy.toml"),
        "{finding}"
    );
    assert!(finding.contains("'iv-sales'"), "{finding}");
}
