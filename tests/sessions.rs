//! `booth sessions` as operators script it: a prepared data directory with a session finished
//! today (its answers partly delivered, its manifest waiting), one from two days ago, a record
//! from before codes existed, and the session in progress; the real binary lists today's,
//! masks every code, and exits 1 (listing the rest) when a record cannot be read.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use booth::upload::{AnswerMeta, ItemId, ManifestRequest, Outbox, Payload, Record, State};
use serde_json::Value;
use uuid::Uuid;

const DAY_MS: u64 = 86_400_000;

struct Prepared {
    _dir: tempfile::TempDir,
    config: PathBuf,
    outbox: Outbox,
    data: PathBuf,
}

fn prepare() -> Prepared {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[station]\nid = \"hall-b\"\ndata_dir = \"{}\"\n[upload]\nendpoint = \"dir:{}\"\n",
            data.display(),
            dir.path().join("out").display()
        ),
    )
    .unwrap();
    let outbox = Outbox::open(&data.join("outbox")).unwrap();
    Prepared {
        _dir: dir,
        config,
        outbox,
        data,
    }
}

fn now_ms() -> u64 {
    booth::clock::unix_now() * 1000
}

/// `ago` milliseconds before now, but never before local midnight in the test's zone (UTC+3),
/// so that "today's" records stay today whenever the test runs.
fn today_ago(ago: u64) -> u64 {
    let now = now_ms();
    let midnight = now - (now + 3 * 3_600_000) % DAY_MS;
    now.saturating_sub(ago).max(midnight)
}

fn answer(p: &Prepared, session: &str, code: Option<&str>, state: State, queued_ms: u64) {
    let id = Uuid::new_v4();
    let meta = AnswerMeta {
        interview_id: "support-2026".into(),
        candidate_id: session.into(),
        question_id: "q1".into(),
        attempt: 1,
        answer_id: id,
        filename: format!("{session}--q1--1.mp4"),
        candidate_ref: code.map(str::to_string),
    };
    let mut rec = Record::new(
        ItemId(id),
        Payload::Answer(meta),
        "/x.mp4".into(),
        10,
        "ab".into(),
    );
    rec.state = state;
    rec.queued_at_ms = queued_ms;
    p.outbox.save(&rec).unwrap();
}

fn manifest(p: &Prepared, session: &str, code: &str, state: State, queued_ms: u64) {
    let req = ManifestRequest {
        station_id: "hall-b".into(),
        interview_id: "support-2026".into(),
        candidate_id: session.into(),
        session_id: Uuid::new_v4(),
        started_at_ms: queued_ms.saturating_sub(600_000),
        finished_at_ms: queued_ms,
        answers: Vec::new(),
        candidate_ref: Some(code.into()),
        consent: None,
        grants: Vec::new(),
    };
    let mut rec = Record::new(
        ItemId(req.session_id),
        Payload::Manifest(req),
        "/m.json".into(),
        0,
        String::new(),
    );
    rec.state = state;
    rec.queued_at_ms = queued_ms;
    p.outbox.save(&rec).unwrap();
}

/// The session in progress, as the kiosk leaves it on disk (fields this command does not read
/// included, as a newer kiosk might write them).
fn in_progress(data: &Path, session: &str, code: &str) {
    let dir = data.join("sessions").join(session);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("progress.json"),
        format!(
            r#"{{"session_id":"{session}","interview_id":"sales-2026","started_unix":{},
               "device_test_passed":true,"current":1,"finished_unix":null,
               "candidate_ref":"{code}","grants":[],
               "questions":[{{"question_id":"q1","attempts_used":1,"takes":[{{"file":"a","state":"submitted"}}],"delivery":"queued"}},
                            {{"question_id":"q2","attempts_used":0,"takes":[],"delivery":"not_submitted"}}]}}"#,
            today_ago(300_000) / 1000
        ),
    )
    .unwrap();
    std::fs::write(data.join("sessions/current"), session).unwrap();
}

fn sessions(config: &Path, json: bool) -> (i32, String, String) {
    let mut cmd = common::booth();
    cmd.arg("sessions").arg("--config").arg(config);
    if json {
        cmd.arg("--json");
    }
    // A zone far from UTC: the day is the station's local one.
    let out = common::run(cmd.env("TZ", "Etc/GMT-3"), "booth");
    (
        out.status.code().expect("ended by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn todays_sessions_are_listed_with_codes_masked() {
    let p = prepare();
    let now = now_ms();
    let finished = "8c5a2f1e-0000-4000-8000-000000000001";
    answer(
        &p,
        finished,
        Some("ACME-7Q2K"),
        State::Delivered,
        today_ago(1_200_000),
    );
    answer(
        &p,
        finished,
        Some("ACME-7Q2K"),
        State::Uploading,
        today_ago(1_100_000),
    );
    manifest(
        &p,
        finished,
        "ACME-7Q2K",
        State::Queued,
        today_ago(1_000_000),
    );
    let old = "8c5a2f1e-0000-4000-8000-000000000002";
    answer(
        &p,
        old,
        Some("OLD-CODE-1"),
        State::Delivered,
        now - 2 * DAY_MS,
    );
    manifest(&p, old, "OLD-CODE-1", State::Delivered, now - 2 * DAY_MS);
    let anonymous = "8c5a2f1e-0000-4000-8000-000000000003";
    answer(&p, anonymous, None, State::Refused, today_ago(900_000));
    let current = "8c5a2f1e-0000-4000-8000-000000000004";
    answer(
        &p,
        current,
        Some("ZED-0042"),
        State::Queued,
        today_ago(60_000),
    );
    in_progress(&p.data, current, "ZED-0042");

    let (code, stdout, stderr) = sessions(&p.config, true);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["station_id"], "hall-b");
    assert_eq!(listing["clock"], "local");
    assert_eq!(listing["utc_offset_seconds"], 3 * 3600);
    // Local midnight in UTC+3 is 21:00 UTC the day before.
    assert!(
        listing["since"].as_str().unwrap().ends_with("T21:00:00Z"),
        "{listing:#}"
    );
    let rows = listing["sessions"].as_array().unwrap();
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [finished, anonymous, current], "{listing:#}");

    let f = &rows[0];
    assert_eq!(f["code"], "AC…2K");
    assert_eq!(f["interview_id"], "support-2026");
    assert_eq!(
        (
            f["answers"].as_u64(),
            f["delivered"].as_u64(),
            f["waiting"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(f["manifest"], "waiting");
    assert_eq!(f["in_progress"], false);
    assert_eq!(rows[1]["code"], Value::Null);
    assert_eq!(rows[1]["failed"], 1);
    let c = &rows[2];
    assert_eq!(c["code"], "ZE…42");
    assert_eq!(c["interview_id"], "sales-2026");
    assert_eq!(c["in_progress"], true);
    assert_eq!(c["questions"], 2);
    assert_eq!(
        (c["answers"].as_u64(), c["manifest"].as_str()),
        (Some(1), Some("none"))
    );

    let (code, table, _) = sessions(&p.config, false);
    assert_eq!(code, 0);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0]
            .starts_with("sessions at station hall-b since 00:00 today (local time, UTC+03:00)"),
        "{table}"
    );
    assert!(lines[1].starts_with("session"), "{table}");
    assert_eq!(lines.len(), 5, "{table}");
    assert!(
        lines[2].starts_with(finished) && lines[2].contains("AC…2K"),
        "{table}"
    );
    assert!(lines[4].ends_with("none (in progress)"), "{table}");
    for output in [&stdout, &table] {
        for code in ["ACME-7Q2K", "ZED-0042", "OLD-CODE-1"] {
            assert!(!output.contains(code), "a code in full: {output}");
        }
    }
}

#[test]
fn an_unreadable_record_is_reported_and_the_rest_listed() {
    let p = prepare();
    let session = "8c5a2f1e-0000-4000-8000-000000000005";
    answer(&p, session, Some("ACME-7Q2K"), State::Delivered, now_ms());
    let broken = p.outbox.record_path(ItemId(Uuid::new_v4()));
    std::fs::write(&broken, "{ half a record").unwrap();
    let (code, stdout, stderr) = sessions(&p.config, true);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains(&broken.display().to_string()), "{stderr}");
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["sessions"][0]["session_id"], session);

    // No sessions at all is not a failure.
    let empty = prepare();
    let (code, table, stderr) = sessions(&empty.config, false);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("sessions: none today") || table.contains("none today"),
        "{table}{stderr}"
    );
}
