//! An upload endpoint that refuses until its configuration is fixed — no token file, a token
//! the server refuses, no creation URL at the configured path, a chunk size a proxy refuses —
//! ends `booth upload` at once with exit 4, naming the cause and the fix, keeps the answers
//! queued, and shows in `booth status` until a delivery works again; and the outbox is
//! counted from its records wherever the answers wait. Against the real tus server on
//! loopback.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use booth::upload::{AnswerMeta, ItemId, answer_id_for};
use common::station::{Station, text};
use common::tus_server::{TusOptions, TusServer};
use uuid::Uuid;

/// `booth status --json` of the station, parsed.
fn status_json(station: &Station) -> serde_json::Value {
    let out = common::booth()
        .args(["status", "--json", "--config"])
        .arg(&station.config)
        .output()
        .expect("running booth status");
    assert!(out.status.success(), "booth status: {}", text(&out));
    serde_json::from_slice(&out.stdout).expect("booth status --json")
}

/// Runs `booth upload` of one file that the endpoint cannot take: exit 4 at once (not after
/// the patience), the cause and its fix on stderr, the answer kept and still queued, and the
/// problem in `booth status`. Returns stderr and the status.
fn refused_by_the_endpoint(station: &Station, seed: u64) -> (String, serde_json::Value) {
    let (a, sha) = station.random_file("q1.mp4", 1_500_000, seed);
    let started = std::time::Instant::now();
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "booth waited for its patience (30 s) instead of stopping: {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("the upload endpoint refuses: "), "{stderr}");
    assert!(stderr.contains("upload: fix: "), "{stderr}");
    assert!(a.exists(), "the answer is kept");
    let items = station.queue();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert!(
        items[0]["state"] == "queued" || items[0]["state"] == "uploading",
        "waiting, not refused: {items:#?}"
    );
    assert_eq!(items[0]["id"], answer_id_for(&sha).to_string());
    let status = status_json(station);
    assert_eq!(status["outbox_items"], 1, "{status:#}");
    assert_eq!(status["outbox"]["waiting"], 1, "{status:#}");
    let message = status["outbox"]["health"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !message.is_empty() && stderr.contains(message),
        "{status:#}\n{stderr}"
    );
    (stderr, status)
}

#[test]
fn a_creation_url_that_is_not_there_ends_booth_upload_with_exit_4() {
    let server = TusServer::start(TusOptions::default());
    // A typo in the path: the front server routes only /files.
    let url = format!("http://127.0.0.1:{}/filez/", server.addr().port());
    let station = Station::new(&url, "");
    let (stderr, status) = refused_by_the_endpoint(&station, 50);
    assert!(
        stderr.contains(&format!("OPTIONS {url} answered 404"))
            && stderr.contains("there is no tus creation URL there")
            && stderr.contains("set [upload] endpoint"),
        "{stderr}"
    );
    assert!(
        server.log().contains("not-found OPTIONS /filez/"),
        "{}",
        server.log()
    );
    let problem = &status["outbox"]["health"]["problem"];
    assert_eq!(problem["kind"], "no_creation_url", "{status:#}");
    assert_eq!(
        (&problem["url"], &problem["status"]),
        (&url.clone().into(), &404.into())
    );
}

#[test]
fn a_missing_token_file_ends_booth_upload_with_exit_4_until_it_is_there() {
    let server = TusServer::start(TusOptions::default());
    let mut station = Station::new(&server.url(), "");
    let token_file = station.dir().join("upload-token");
    std::fs::remove_file(&token_file).unwrap();
    let (stderr, status) = refused_by_the_endpoint(&station, 51);
    assert!(
        stderr.contains(&format!(
            "the upload token file {} does not exist",
            token_file.display()
        )),
        "{stderr}"
    );
    let problem = &status["outbox"]["health"]["problem"];
    assert_eq!(problem["kind"], "token_missing", "{status:#}");
    assert_eq!(problem["path"], token_file.to_str().unwrap());
    assert!(!server.log().contains("created"), "nothing was sent");

    // The token is put in place: the next run delivers, and the problem is gone.
    let token = station.token.clone();
    station.set_token(&token);
    let out = station.upload(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let status = status_json(&station);
    assert!(
        status["outbox"]["health"]["problem"].is_null(),
        "{status:#}"
    );
    assert_eq!(status["outbox"]["waiting"], 0, "{status:#}");
    assert_eq!(status["outbox"]["delivered"], 1, "{status:#}");
}

#[test]
fn a_413_to_the_configured_chunk_ends_booth_upload_with_exit_4() {
    // A proxy in front of the server takes bodies up to 512 KiB; the station sends 1 MiB.
    let server = TusServer::start(TusOptions {
        max_patch: 512 * 1024,
        ..TusOptions::default()
    });
    let station = Station::new(&server.url(), "");
    let (stderr, status) = refused_by_the_endpoint(&station, 52);
    assert!(
        stderr.contains("answered 413 to a chunk of 1048576 bytes, the configured chunk_mib")
            && stderr.contains("lower [upload] chunk_mib"),
        "{stderr}"
    );
    let problem = &status["outbox"]["health"]["problem"];
    assert_eq!(problem["kind"], "chunk_too_large", "{status:#}");
    assert_eq!(problem["bytes"], 1_048_576);
}

#[test]
fn an_answer_waiting_in_outbox_answers_counts_in_booth_status() {
    // The kiosk puts submitted answers in outbox/answers/; no upload runs here.
    let share = tempfile::tempdir().unwrap();
    let station = Station::new(&format!("dir:{}", share.path().display()), "");
    let answers = station.outbox().join("answers");
    std::fs::create_dir_all(&answers).unwrap();
    let file = answers.join("sess--q1--1.mp4");
    std::fs::write(&file, vec![5u8; 123_456]).unwrap();
    let id = Uuid::new_v4();
    let meta = AnswerMeta {
        candidate_ref: None,
        interview_id: "iv".into(),
        candidate_id: "sess".into(),
        question_id: "q1".into(),
        attempt: 1,
        answer_id: id,
        filename: "sess--q1--1.mp4".into(),
    };
    let outbox = booth::upload::Outbox::open(&station.outbox()).unwrap();
    let rec = booth::upload::Record::new(
        ItemId(id),
        booth::upload::Payload::Answer(meta),
        file,
        123_456,
        "ab".into(),
    );
    outbox.save(&rec).unwrap();
    let status = status_json(&station);
    assert_eq!(status["outbox_items"], 1, "{status:#}");
    assert_eq!(status["outbox_bytes"], 123_456, "{status:#}");
    let outbox = &status["outbox"];
    assert_eq!(outbox["waiting"], 1, "{status:#}");
    assert_eq!(outbox["waiting_bytes"], 123_456, "{status:#}");
    assert_eq!(outbox["oldest_waiting_ms"], rec.queued_at_ms, "{status:#}");
    assert_eq!(outbox["refused"], 0, "{status:#}");
    // The people's version says the same.
    let out = common::booth()
        .args(["status", "--config"])
        .arg(&station.config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("outbox:      1 waiting (0.1 MB to send"),
        "{stdout}"
    );
}
