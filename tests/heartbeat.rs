//! The running kiosk talks to the outside world without the candidate noticing: the heartbeat
//! POSTs the `booth status --json` object at the configured interval, and calling staff POSTs
//! the webhook naming the station, session and screen. Both are received by a small HTTP
//! listener in this test; the kiosk runs in a real terminal (tmux). Its log file shows the
//! session span. The heartbeat counts the answer waiting in `outbox/answers/` from its record,
//! and shows that the upload endpoint refuses (here: no token file). The kiosk's Prometheus
//! text file (`[monitoring] textfile`) says the same.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::tmux::Tmux;

/// One request the listener received: "POST /beat" and the body as JSON.
struct Received {
    line: String,
    body: Value,
    at: Instant,
}

/// An HTTP listener answering 204 to everything, handing each request over.
fn listen() -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = reader.into_inner();
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            let method_and_path = line.split(' ').take(2).collect::<Vec<_>>().join(" ");
            let body = serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!(
                    "{method_and_path}: the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&body)
                )
            });
            let _ = tx.send(Received {
                line: method_and_path,
                body,
                at: Instant::now(),
            });
        }
    });
    (port, rx)
}

/// The next request for `path`, waiting at most `secs`.
fn next_to(rx: &mpsc::Receiver<Received>, path: &str, secs: u64) -> Received {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(r) if r.line == format!("POST {path}") => return r,
            Ok(_) => continue,
            Err(_) => panic!("no POST {path} within {secs} s"),
        }
    }
}

fn config(dir: &Path, port: u16) -> PathBuf {
    common::kiosk_config(
        dir,
        "id = \"beat-1\"",
        &format!(
            "[kiosk]\nidle_reset_seconds = 0\ncall_staff_bell = false\n\
             heartbeat_url = \"http://127.0.0.1:{port}/beat\"\nheartbeat_seconds = 10\n\
             call_staff_webhook = \"http://127.0.0.1:{port}/staff?key=hook-s3cret\"\n\
             [upload]\nendpoint = \"http://127.0.0.1:9/files/\"\n\
             token_file = \"{token}\"\n\
             [logging]\njson = true\n\
             [monitoring]\ntextfile = \"{textfile}\"",
            // No token: the answer seeded below waits instead of being delivered.
            token = dir.join("no-such-token").display(),
            textfile = textfile(dir).display(),
        ),
    )
}

/// Where the kiosk keeps its text file for node_exporter.
fn textfile(dir: &Path) -> PathBuf {
    dir.join("node-exporter/booth.prom")
}

/// The text file's samples once `ready` accepts them, waiting at most `secs` for the kiosk to
/// rewrite it (it does on every change of its status, and every 15 s).
fn textfile_when(
    dir: &Path,
    secs: u64,
    ready: impl Fn(&[common::prometheus::Sample]) -> bool,
) -> Vec<common::prometheus::Sample> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(textfile(dir)) {
            let samples =
                common::prometheus::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            if ready(&samples) {
                return samples;
            }
            last = text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the text file never showed what the test waited for; last seen:\n{last}")
}

/// An answer a previous candidate submitted, waiting in `<data>/outbox/answers/` with its
/// record, as the kiosk leaves it.
fn seed_answer(dir: &Path) -> u64 {
    let outbox = dir.join("data/outbox");
    let answers = outbox.join("answers");
    std::fs::create_dir_all(&answers).unwrap();
    let file = answers.join("sess-0--q1--1.mp4");
    std::fs::write(&file, vec![3u8; 54_321]).unwrap();
    let id = uuid::Uuid::new_v4();
    let meta = booth::upload::AnswerMeta {
        candidate_ref: None,
        interview_id: "iv".into(),
        candidate_id: "sess-0".into(),
        question_id: "q1".into(),
        attempt: 1,
        answer_id: id,
        filename: "sess-0--q1--1.mp4".into(),
    };
    let record = booth::upload::Record::new(
        booth::upload::ItemId(id),
        booth::upload::Payload::Answer(meta),
        file,
        54_321,
        "ab".into(),
    );
    booth::upload::Outbox::open(&outbox)
        .unwrap()
        .save(&record)
        .unwrap();
    54_321
}

#[test]
fn the_kiosk_sends_heartbeats_and_calls_staff() {
    let (port, rx) = listen();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), port);
    std::fs::create_dir(dir.path().join("node-exporter")).unwrap();
    let waiting_bytes = seed_answer(dir.path());
    let t = Tmux::start("beat", &["--config", cfg.to_str().unwrap()]);
    t.wait_for("press Enter if you have none", 15);
    let pid = t.booth_pid();

    // The first beat comes soon after start, and is the status object.
    let first = next_to(&rx, "/beat", 10);
    let beat = &first.body;
    assert_eq!(beat["station_id"], "beat-1", "{beat:#}");
    assert_eq!(beat["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(beat["running"], true, "{beat:#}");
    assert_eq!(beat["state"], "idle", "{beat:#}");
    assert_eq!(beat["kiosk"]["pid"], pid, "{beat:#}");
    assert_eq!(beat["kiosk"]["phase"], "welcome", "{beat:#}");
    // The answer waiting in outbox/answers/ is counted, from its record.
    assert_eq!(beat["outbox_items"], 1, "{beat:#}");
    assert_eq!(beat["outbox"]["waiting"], 1, "{beat:#}");
    assert_eq!(beat["outbox"]["waiting_bytes"], waiting_bytes, "{beat:#}");
    assert!(beat["disk_free_bytes"].as_u64().unwrap() > 0);
    let session = beat["kiosk"]["session"].as_str().unwrap().to_string();
    // It has the same fields as `booth status --json` run from outside.
    let out = common::run_ok(
        common::booth().args(["status", "--json", "--config", cfg.to_str().unwrap()]),
        "booth",
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(beat), keys(&status));
    assert_eq!(status["kiosk"]["session"], session.as_str());

    // The candidate calls staff from the help screen.
    t.keys(&["F1"]);
    t.keys(&["c"]);
    let call = next_to(&rx, "/staff?key=hook-s3cret", 10);
    assert_eq!(call.body["station_id"], "beat-1", "{:#}", call.body);
    assert_eq!(call.body["session_id"], session.as_str(), "{:#}", call.body);
    assert_eq!(call.body["phase"], "welcome", "{:#}", call.body);
    assert!(call.body["time"].as_str().unwrap().ends_with('Z'));

    // The next beat follows at the interval (10 s), not sooner.
    let second = next_to(&rx, "/beat", 20);
    let gap = second.at - first.at;
    assert!(gap >= Duration::from_secs(8), "{gap:?}");
    assert_eq!(t.booth_pid(), pid, "booth restarted or ended");

    // The upload service tried the answer at start and found no token: the station shows as
    // misconfigured (the first beat may have left before that; a later one cannot miss it).
    let mut beat = second.body;
    for _ in 0..2 {
        if !beat["outbox"]["health"]["problem"].is_null() {
            break;
        }
        beat = next_to(&rx, "/beat", 20).body;
    }
    let problem = &beat["outbox"]["health"]["problem"];
    assert_eq!(problem["kind"], "token_missing", "{beat:#}");
    assert_eq!(
        problem["path"],
        dir.path().join("no-such-token").to_str().unwrap(),
        "{beat:#}"
    );
    assert_eq!(beat["outbox"]["waiting"], 1, "the answer waits: {beat:#}");

    // The text file for node_exporter: the running kiosk, the waiting answer, and the missing
    // token as a code (40), readable by node_exporter's own user.
    let station = [("station", "beat-1")];
    let samples = textfile_when(dir.path(), 20, |s| {
        common::prometheus::value(s, "booth_last_error_code", &station) == Ok(40.0)
    });
    let v = |name: &str| common::prometheus::value(&samples, name, &station).unwrap();
    assert_eq!(v("booth_kiosk_running"), 1.0);
    assert_eq!(v("booth_outbox_waiting"), 1.0);
    assert_eq!(v("booth_outbox_waiting_bytes"), waiting_bytes as f64);
    assert_eq!(v("booth_upload_endpoint_refusing"), 1.0);
    let idle = [("station", "beat-1"), ("state", "idle")];
    assert_eq!(
        common::prometheus::value(&samples, "booth_state", &idle),
        Ok(1.0)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(textfile(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);

    // The log: JSON lines, the session span on the flow's lines, the webhook logged by origin.
    let log = std::fs::read_to_string(dir.path().join("data/logs/booth.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "candidate called staff"
                && l["span"]["id"] == session.as_str()),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "call-staff webhook sent"),
        "{log}"
    );
    assert!(!log.contains("hook-s3cret"), "{log}");
}
