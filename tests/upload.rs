//! Delivery targets and refusals, against a real tus server on loopback and a real directory:
//! real recordings with their metadata, the `dir:` target, a file over the server's maximum
//! size, a Location on another origin, the bearer token (sent, never logged), abandoning an
//! upload, one process per outbox, the session manifest through the library API the TUI
//! uses, chunks that grow on a fast link, and a proxy that refuses large PATCH bodies.
//! (An endpoint that refuses until its configuration is fixed: tests/upload_endpoint.rs.)

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use booth::names::receipt_code;
use booth::upload::{
    AnswerMeta, ItemId, ManifestAnswer, ManifestConsent, ManifestGrant, ManifestRequest, State,
    Tuning, UploadEvent, UploadService, answer_id_for,
};
use common::fault_proxy::FaultProxy;
use common::station::{Station, assert_each_delivered_once, text};
use common::tus_server::{TusOptions, TusServer, sha256_file};
use uuid::Uuid;

/// Records `seconds` of the synthetic camera and tone with `booth record`.
fn record(path: &Path, seconds: u32) -> String {
    let out = common::booth()
        .args([
            "record", "--video", "test", "--audio", "tone", "--size", "640x360",
        ])
        .args(["--duration", &seconds.to_string(), "--output"])
        .arg(path)
        .output()
        .expect("running booth record");
    assert!(out.status.success(), "booth record: {}", text(&out));
    sha256_file(path)
}

fn record_two(station: &Station, names: [&str; 2]) -> Vec<(PathBuf, String)> {
    let handles: Vec<_> = names
        .iter()
        .map(|n| {
            let path = station.dir().join(n);
            std::thread::spawn(move || {
                let sha = record(&path, 2);
                (path, sha)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn real_recordings_arrive_with_their_metadata_and_local_copies_go() {
    let server = TusServer::start(TusOptions::default());
    let station = Station::new(&server.url(), "");
    let files = record_two(
        &station,
        ["cand-7--q-intro--1.mp4", "cand-7--q-team--2.mp4"],
    );
    let args: Vec<&str> = files.iter().map(|(p, _)| p.to_str().unwrap()).collect();
    let out = station.upload(&args);
    assert!(out.status.success(), "{}", text(&out));
    let shas: Vec<&str> = files.iter().map(|(_, s)| s.as_str()).collect();
    let stored = assert_each_delivered_once(&server, &shas);
    for ((path, _), up) in files.iter().zip(&stored) {
        let m = &up.metadata;
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(m["filename"], name);
        assert_eq!(m["interview_id"], "iv-test");
        assert_eq!(m["candidate_id"], "cand-7");
        assert_eq!(m["station_id"], "test-station");
        assert_eq!(m["filetype"], "video/mp4");
        assert_eq!(m["content_type"], "video/mp4");
        let (question, attempt) = if name.contains("intro") {
            ("q-intro", "1")
        } else {
            ("q-team", "2")
        };
        assert_eq!(
            (m["question_id"].as_str(), m["attempt"].as_str()),
            (question, attempt)
        );
        common::assert_decodes_cleanly(&up.path);
        assert!(
            !path.exists(),
            "retention = delete removes {}",
            path.display()
        );
    }
    let items = station.queue();
    for item in &items {
        assert_eq!(item["state"], "delivered");
        let url = item["url"].as_str().unwrap();
        assert!(stored.iter().any(|u| url.ends_with(&u.id)), "{url}");
    }
    // Nothing left: a second run sends nothing and succeeds.
    let again = station.upload(&[]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(server.uploads().len(), 2);
}

#[test]
fn the_dir_target_copies_atomically_and_checks_the_sha256() {
    let root = tempfile::tempdir().unwrap();
    let share = root.path().join("share");
    let station = Station::new(&format!("dir:{}", share.display()), "");
    let mp4 = station.dir().join("q1.mp4");
    let sha_mp4 = record(&mp4, 2);
    let (other, sha_other) = station.random_file("q2.mp4", 1_234_567, 11);
    let out = station.upload(&[
        "--candidate-ref",
        "ACME-7Q2K",
        mp4.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let mut names: Vec<String> = std::fs::read_dir(&share)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        4,
        "two files and two .meta.json, no temporaries: {names:?}"
    );
    for sha in [&sha_mp4, &sha_other] {
        let id = answer_id_for(sha);
        let copy = share.join(format!("{id}.mp4"));
        assert_eq!(&sha256_file(&copy), sha);
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(share.join(format!("{id}.meta.json"))).unwrap())
                .unwrap();
        assert_eq!(meta["sha256"], sha.as_str());
        assert_eq!(meta["answer_id"], id.to_string());
        assert_eq!(meta["candidate_ref"], "ACME-7Q2K");
    }
    common::assert_decodes_cleanly(&share.join(format!("{}.mp4", answer_id_for(&sha_mp4))));
    assert!(
        !mp4.exists() && !other.exists(),
        "local copies are deleted after delivery"
    );
    assert!(station.queue().iter().all(|i| i["state"] == "delivered"));
}

/// Refused for good and kept, whether booth learns the limit from OPTIONS (Tus-Max-Size) or
/// only from the server's 413 to the creation request.
fn over_the_maximum(hide_max_size: bool, expected: &str) {
    let server = TusServer::start(TusOptions {
        max_size: 1_000_000,
        hide_max_size,
        ..TusOptions::default()
    });
    let station = Station::new(&server.url(), "");
    let (big, _) = station.random_file("q1.mp4", 2_000_000, 12);
    let out = station.upload(&[big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(expected), "{stderr}");
    assert!(big.exists(), "a refused file is kept");
    let items = station.queue();
    assert_eq!(items[0]["state"], "refused");
    assert!(items[0]["last_error"].as_str().unwrap().contains(expected));
    assert!(server.uploads().is_empty(), "nothing was created");
}

#[test]
fn a_file_over_the_announced_maximum_is_refused_and_kept() {
    over_the_maximum(false, "more than the server accepts (1000000 bytes)");
}

#[test]
fn a_413_to_the_creation_is_refused_and_kept() {
    over_the_maximum(true, "answered 413");
}

#[test]
fn a_location_on_another_origin_is_refused() {
    let elsewhere = "http://127.0.0.1:9";
    let server = TusServer::start(TusOptions {
        location_origin: Some(elsewhere.into()),
        ..TusOptions::default()
    });
    let station = Station::new(&server.url(), "");
    let (a, _) = station.random_file("q1.mp4", 500_000, 13);
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another origin") && stderr.contains(&format!("{elsewhere}/files/")),
        "{stderr}"
    );
    let items = station.queue();
    assert_eq!(items[0]["state"], "refused");
    assert!(items[0]["url"].is_null(), "the foreign URL is never stored");
    assert!(a.exists());
    assert!(
        server.uploads().iter().all(|u| u.stored == 0),
        "no byte was sent"
    );
}

#[test]
fn the_token_is_sent_but_never_logged() {
    let token = format!("tok-{:016x}", common::station::seed_from_clock());
    let server = TusServer::start(TusOptions {
        token: Some(token.clone()),
        ..TusOptions::default()
    });
    let mut station = Station::new(&server.url(), "");
    station.set_token(&token);
    let (a, sha) = station.random_file("q1.mp4", 800_000, 14);
    let log = station.dir().join("booth.log");
    let out = station
        .upload_cmd(&[a.to_str().unwrap()])
        .arg("--log-file")
        .arg(&log)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_each_delivered_once(&server, &[&sha]);

    // A wrong token from the environment: 401; only the configuration can fix that, so booth
    // stops at once (exit 4) saying so, and the item waits in the outbox.
    let wrong = "wrong-secret-7f3a9c";
    let (b, _) = station.random_file("q2.mp4", 300_000, 15);
    let out2 = station
        .upload_cmd(&[b.to_str().unwrap()])
        .arg("--log-file")
        .arg(&log)
        .env(booth::config::TOKEN_ENV, wrong)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(4), "{}", text(&out2));
    assert!(server.log().contains("unauthorized"), "{}", server.log());
    let stderr = String::from_utf8_lossy(&out2.stderr);
    assert!(
        stderr.contains(&format!("{} answered 401", server.url()))
            && stderr.contains("refuses this station's token")
            && stderr.contains("fix: put the platform's current token"),
        "{stderr}"
    );
    let waiting: Vec<_> = station
        .queue()
        .into_iter()
        .filter(|i| i["state"] != "delivered")
        .collect();
    assert_eq!(waiting.len(), 1, "{waiting:#?}");
    assert_ne!(waiting[0]["state"], "refused", "the item is not at fault");
    // The station shows as misconfigured (booth status reads this file).
    let health: serde_json::Value =
        serde_json::from_slice(&std::fs::read(station.outbox().join("health.json")).unwrap())
            .unwrap();
    assert_eq!(health["problem"]["kind"], "unauthorized", "{health:#}");
    assert_eq!(health["problem"]["status"], 401, "{health:#}");

    let mut everything = vec![
        text(&out),
        text(&out2),
        std::fs::read_to_string(&log).unwrap(),
    ];
    for entry in std::fs::read_dir(station.outbox()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            everything.push(std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    everything.push(serde_json::to_string(&station.queue()).unwrap());
    assert!(everything[2].len() > 1000, "the trace log has content");
    for secret in [token.as_str(), wrong] {
        for (i, t) in everything.iter().enumerate() {
            assert!(
                !t.contains(secret),
                "the token {secret} leaked into output {i}:\n{t}"
            );
        }
    }
}

#[test]
fn an_abandoned_upload_is_terminated_and_its_file_kept() {
    let server = TusServer::start(TusOptions::default());
    let proxy = FaultProxy::start(server.addr());
    let station = Station::new(&proxy.url("/files"), "");
    let (a, sha) = station.random_file("q1.mp4", 3_000_000, 16);
    proxy.set_rate(Some(500_000));
    let mut child = station.spawn_upload(&[a.to_str().unwrap()]);
    // Killed once the server holds part of the upload, its connection with it (what the proxy
    // had not forwarded yet would otherwise still arrive, and hold the upload for a while).
    server.wait_for_event(Duration::from_secs(20), |_| {
        server.uploads().iter().any(|u| u.stored > 0).then_some(())
    });
    child.kill().unwrap();
    proxy.cut_all();
    child.wait().unwrap();
    assert_eq!(server.uploads().len(), 1);
    let id = answer_id_for(&sha).to_string();
    let out = station.upload(&["--abandon", &id]);
    assert!(out.status.success(), "{}", text(&out));
    server.wait_for_log("terminated", Duration::from_secs(5));
    assert!(
        server.uploads().is_empty(),
        "the partial upload is gone from the server"
    );
    assert!(a.exists());
    assert_eq!(station.queue()[0]["state"], "abandoned");
    let drain = station.upload(&[]);
    assert!(
        drain.status.success(),
        "abandoned items do not fail a drain: {}",
        text(&drain)
    );
}

const MIB: u64 = 1 << 20;

#[test]
fn chunks_grow_on_a_fast_link_up_to_the_maximum() {
    let server = TusServer::start(TusOptions::default());
    let station = Station::new(&server.url(), "max_chunk_mib = 8");
    let (file, sha) = station.random_file("q1.mp4", 40 << 20, 31);
    let out = station.upload(&[file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_each_delivered_once(&server, &[&sha]);
    let lengths = server.patch_lengths();
    assert_eq!(lengths.iter().sum::<u64>(), 40 * MIB, "{lengths:?}");
    // Loopback moves 1 MiB in far less than half a second, so chunks grow (up to four times
    // the one before: 1, 4, 8, 8, …) until the maximum; how fast depends on the machine's load.
    assert_eq!(lengths[0], MIB, "{lengths:?}");
    assert!(lengths[1] > MIB, "{lengths:?}");
    assert!(lengths.iter().all(|&l| l <= 8 * MIB), "{lengths:?}");
    assert!(lengths.contains(&(8 * MIB)), "{lengths:?}");
    // Each PATCH costs a round trip on a distant link: a small tail goes with the chunk
    // before it, and the last PATCH's answer (offset == length) is the server's word, with
    // no HEAD after it.
    if let [.., before, last] = lengths[..] {
        assert!(last > before / 4, "{lengths:?}");
    }
    let log = server.log();
    assert!(!log.contains("head "), "{log}");
}

#[test]
fn a_proxy_refusing_large_bodies_gets_the_configured_chunk_from_then_on() {
    // Any chunk grown past the configured 1 MiB is too large for this proxy.
    let server = TusServer::start(TusOptions {
        max_patch: MIB + 1,
        ..TusOptions::default()
    });
    let station = Station::new(&server.url(), "");
    let (file, sha) = station.random_file("q1.mp4", 12 << 20, 32);
    let out = station.upload(&[file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_each_delivered_once(&server, &[&sha]);
    let log = server.log();
    // The proxy answers 413 and closes at once, as nginx does: the client sees the answer, or
    // (when the close wins the race) a dropped connection, which halves the largest chunk.
    // Either way it settles on the configured chunk after at most two refusals.
    let refused = log.matches("patch-too-large").count();
    assert!((1..=2).contains(&refused), "{log}");
    let lengths = server.patch_lengths();
    assert_eq!(lengths[0], MIB, "{lengths:?}");
    assert!(lengths[1] > MIB, "{lengths:?}");
    let last_refused = lengths.iter().rposition(|&l| l > MIB).unwrap_or(0);
    assert!(
        lengths[last_refused + 1..].iter().all(|&l| l == MIB),
        "{lengths:?}"
    );
    let accepted: u64 = lengths.iter().filter(|&&l| l == MIB).sum();
    assert_eq!(accepted, 12 * MIB, "{lengths:?}");
    assert!(station.queue().iter().all(|i| i["state"] == "delivered"));
}

#[test]
fn one_process_at_a_time_drains_an_outbox() {
    let server = TusServer::start(TusOptions::default());
    let proxy = FaultProxy::start(server.addr());
    let station = Station::new(&proxy.url("/files"), "");
    let (a, _) = station.random_file("q1.mp4", 100_000, 17);
    proxy.refuse_for(Duration::from_secs(30));
    let mut first = station.spawn_upload(&[a.to_str().unwrap()]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while station.queue().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never queued the file"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = station.upload(&[]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use by another booth process (pid"),
        "{}",
        text(&second)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_follows_its_answers_with_their_urls() {
    let server = TusServer::start(TusOptions::default());
    let station = Station::new(&server.url(), "concurrency = 2");
    let config = booth::config::Config::load(Some(&station.config)).unwrap();
    let tuning = Tuning {
        stall_timeout: Duration::from_secs(5),
        ..Tuning::default()
    };
    let (handle, mut events) =
        UploadService::start_with(&config, &station.outbox(), tuning).unwrap();
    let session = Uuid::new_v4();
    let mut answers = Vec::new();
    for (i, q) in ["q1", "q2"].into_iter().enumerate() {
        let (path, _) = station.random_file(&format!("{q}.mp4"), 1_500_000 + i, 30 + i as u64);
        let meta = AnswerMeta {
            interview_id: "iv".into(),
            candidate_id: "c9".into(),
            question_id: q.into(),
            attempt: 1,
            answer_id: Uuid::new_v4(),
            filename: format!("{q}.mp4"),
            candidate_ref: Some("ACME-7Q2K".into()),
        };
        let id = handle.enqueue(&path, meta.clone()).await.unwrap();
        assert_eq!(id, ItemId(meta.answer_id));
        answers.push(ManifestAnswer {
            answer_id: meta.answer_id,
            question_id: q.into(),
            attempt: 1,
            duration_seconds: 30.0,
        });
    }
    let request = ManifestRequest {
        station_id: "test-station".into(),
        interview_id: "iv".into(),
        candidate_id: "c9".into(),
        session_id: session,
        started_at_ms: 1_700_000_000_000,
        finished_at_ms: 1_700_000_600_000,
        answers,
        candidate_ref: Some("ACME-7Q2K".into()),
        consent: Some(ManifestConsent {
            sha256: "5e".repeat(32),
            accepted_at_ms: 1_700_000_010_000,
        }),
        grants: vec![ManifestGrant {
            kind: "extra_attempt".into(),
            question_id: Some("q2".into()),
            amount: 1,
            at_ms: 1_700_000_300_000,
        }],
    };
    let manifest = handle.enqueue_manifest(request).await.unwrap();
    let mut order = Vec::new();
    let wait = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.recv().await {
            if let UploadEvent::Delivered { id, .. } = event {
                order.push(id);
                if id == manifest {
                    break;
                }
            }
        }
    });
    wait.await
        .expect("the manifest was not delivered within 60 s");
    assert_eq!(
        order.len(),
        3,
        "both answers before the manifest: {order:?}"
    );
    assert!(
        handle
            .snapshot()
            .iter()
            .all(|v| v.state == State::Delivered)
    );
    handle.shutdown().await;

    let uploads = server.uploads();
    let stored = uploads
        .iter()
        .find(|u| u.metadata.get("kind").map(String::as_str) == Some("manifest"))
        .expect("a stored manifest");
    assert!(stored.complete());
    assert_eq!(stored.metadata["session_id"], session.to_string());
    assert_eq!(stored.metadata["candidate_ref"], "ACME-7Q2K");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stored.path).unwrap()).unwrap();
    assert_eq!(doc["receipt_code"], receipt_code(session));
    assert_eq!(doc["started_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(doc["candidate_ref"], "ACME-7Q2K");
    assert_eq!(doc["consent"]["sha256"], "5e".repeat(32));
    assert_eq!(doc["consent"]["accepted_at"], "2023-11-14T22:13:30.000Z");
    assert_eq!(doc["grants"][0]["kind"], "extra_attempt");
    assert_eq!(doc["grants"][0]["at"], "2023-11-14T22:18:20.000Z");
    for entry in doc["answers"].as_array().unwrap() {
        assert_eq!(entry["state"], "delivered");
        let url = entry["upload_url"].as_str().unwrap();
        let answer = uploads
            .iter()
            .find(|u| url.ends_with(&u.id))
            .unwrap_or_else(|| panic!("{url} is not a stored upload"));
        assert_eq!(
            answer.metadata["answer_id"],
            entry["answer_id"].as_str().unwrap()
        );
        assert_eq!(answer.sha256(), entry["sha256"].as_str().unwrap());
        assert_eq!(answer.metadata["candidate_ref"], "ACME-7Q2K");
    }
}
