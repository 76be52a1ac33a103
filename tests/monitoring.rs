//! `booth status --prometheus` from outside a station: the outbox's records, the upload
//! endpoint's health and the disk become samples a strict reader of the text format accepts,
//! with the same numbers `booth status --json` gives. (The running kiosk's text file is
//! checked in tests/heartbeat.rs, beside its heartbeats.)

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use booth::upload::{
    AnswerMeta, EndpointProblem, ItemId, Outbox, Payload, Record, State, UploadHealth,
};
use common::prometheus::{parse, value};
use serde_json::Value;

/// An answer record in the station's outbox; `delivered_at_ms` marks it delivered.
fn record(outbox: &Outbox, name: &str, size: u64, delivered_at_ms: Option<u64>) -> Record {
    let answers = outbox.dir().join("answers");
    std::fs::create_dir_all(&answers).unwrap();
    let file = answers.join(name);
    std::fs::write(&file, vec![5u8; size as usize]).unwrap();
    let id = uuid::Uuid::new_v4();
    let meta = AnswerMeta {
        candidate_ref: None,
        interview_id: "iv".into(),
        candidate_id: "c1".into(),
        question_id: name.into(),
        attempt: 1,
        answer_id: id,
        filename: name.into(),
    };
    let mut r = Record::new(ItemId(id), Payload::Answer(meta), file, size, "ab".into());
    if let Some(at) = delivered_at_ms {
        r.state = State::Delivered;
        r.confirmed = size;
        r.delivered_at_ms = Some(at);
    }
    outbox.save(&r).unwrap();
    r
}

fn status(config: &Path, format: &str) -> std::process::Output {
    common::run(
        common::booth().args(["status", format, "--config", config.to_str().unwrap()]),
        "booth",
    )
}

#[test]
fn booth_status_prints_the_station_in_prometheus_text_format() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::kiosk_config(dir.path(), "id = \"mon-1\"", "");
    let outbox = Outbox::open(&dir.path().join("data/outbox")).unwrap();
    let waiting = record(&outbox, "q1.mp4", 7_654, None);
    let delivered = record(&outbox, "q2.mp4", 99, Some(1_700_000_000_250));
    // The upload service found no token file: every delivery waits for the operator.
    let mut health = UploadHealth::fresh("https://up.example/files/");
    health.problem = Some(EndpointProblem::TokenMissing {
        path: dir.path().join("upload-token"),
    });
    std::fs::write(
        outbox.dir().join(booth::upload::health::HEALTH_FILE),
        serde_json::to_vec(&health).unwrap(),
    )
    .unwrap();

    let out = status(&cfg, "--prometheus");
    assert!(out.status.success(), "{}", common::station::text(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let v = |name: &str| {
        value(&samples, name, &[("station", "mon-1")]).unwrap_or_else(|e| panic!("{e}\n{text}"))
    };
    assert_eq!(v("booth_kiosk_running"), 0.0);
    assert_eq!(
        value(&samples, "booth_state", &[("state", "stopped")]).unwrap(),
        1.0
    );
    assert_eq!(v("booth_outbox_waiting"), 1.0);
    assert_eq!(v("booth_outbox_waiting_bytes"), 7_654.0);
    assert!(v("booth_outbox_oldest_waiting_seconds") < 60.0, "{text}");
    assert_eq!(v("booth_last_delivery_timestamp_seconds"), 1_700_000_000.25);
    assert_eq!(v("booth_answers_today"), 2.0, "both were queued just now");
    assert_eq!(v("booth_upload_endpoint_refusing"), 1.0);
    assert_eq!(v("booth_last_error_code"), 40.0, "token_missing: {text}");
    assert!(v("booth_disk_free_bytes") > 0.0);
    assert!(
        text.contains("40=token_missing"),
        "the codes are listed: {text}"
    );

    // The JSON says the same.
    let out = status(&cfg, "--json");
    assert!(out.status.success(), "{}", common::station::text(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["last_error_code"], "token_missing", "{json:#}");
    assert_eq!(json["outbox"]["answers_today"], 2, "{json:#}");
    assert_eq!(
        json["outbox"]["oldest_waiting_ms"], waiting.queued_at_ms,
        "{json:#}"
    );
    assert_eq!(
        json["outbox"]["last_delivered_ms"],
        delivered.delivered_at_ms.unwrap()
    );

    // One format at a time.
    let both = common::run(
        common::booth().args([
            "status",
            "--json",
            "--prometheus",
            "--config",
            cfg.to_str().unwrap(),
        ]),
        "booth",
    );
    assert_eq!(
        both.status.code(),
        Some(2),
        "{}",
        common::station::text(&both)
    );
}
