//! `booth upload` against a real tus server (npm @tus/server + @tus/file-store) behind a
//! fault-injecting proxy: cut connections, stalls, lost replies, refused connections, a server
//! restart, corrupted bytes, expired uploads and SIGKILL of booth at random moments. After
//! each, every answer must be stored by the server exactly once, complete and with the local
//! file's sha256 — judged from the server's store, not from booth's report.

mod common;

use std::time::{Duration, Instant};

use common::fault_proxy::{Fault, FaultProxy};
use common::station::{Station, assert_each_delivered_once, seed_from_clock, text};
use common::tus_server::{TusOptions, TusServer};

/// A server, a proxy in front of it and a station sending through the proxy.
fn setup(options: TusOptions) -> (TusServer, FaultProxy, Station) {
    let server = TusServer::start(options);
    let proxy = FaultProxy::start(server.addr());
    let station = Station::new(&proxy.url("/files"), "retention = \"keep\"");
    (server, proxy, station)
}

fn assert_success(out: &std::process::Output) {
    assert!(out.status.success(), "booth upload failed:\n{}", text(out));
}

#[test]
fn cut_connections_resume_from_the_servers_offset() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha_a) = station.random_file("c1--q1--1.mp4", 3_500_000, 1);
    let (b, sha_b) = station.random_file("c1--q2--1.mp4", 2_000_000, 2);
    // Each cut lands inside a PATCH (the first connection also carries OPTIONS and POST).
    proxy.plan([
        Fault::Cut(700_000),
        Fault::Cut(400_000),
        Fault::Cut(900_000),
    ]);
    let out = station.upload(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_success(&out);
    assert_eq!(proxy.planned(), 0, "every planned cut happened");
    assert_each_delivered_once(&server, &[&sha_a, &sha_b]);
    let items = station.queue();
    assert!(
        items.iter().all(|i| i["state"] == "delivered"),
        "{items:#?}"
    );
    assert!(
        items
            .iter()
            .map(|i| i["attempts"].as_u64().unwrap())
            .sum::<u64>()
            >= 3,
        "three failures were counted: {items:#?}"
    );
}

#[test]
fn a_stalled_connection_is_dropped_and_the_upload_resumed() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 3_000_000, 3);
    proxy.plan([Fault::Stall(1_500_000)]);
    let started = Instant::now();
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_success(&out);
    // The stall timeout is 2 s: noticed, not waited out for TCP's 30 s or more.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no progress for 2 s"),
        "{}",
        text(&out)
    );
    assert_each_delivered_once(&server, &[&sha]);
}

#[test]
fn lost_replies_are_settled_by_asking_the_server() {
    let (server, proxy, station) = setup(TusOptions::default());
    // The small file fits one PATCH whose reply is lost although the server has it all: a
    // blind resend would be a second copy or a 409; HEAD says it is complete.
    let (small, sha_small) = station.random_file("c1--q1--1.mp4", 600_000, 4);
    let (big, sha_big) = station.random_file("c1--q2--1.mp4", 3_000_000, 5);
    proxy.plan([Fault::NoReplyAfter(100_000), Fault::NoReplyAfter(100_000)]);
    let out = station.upload(&[small.to_str().unwrap(), big.to_str().unwrap()]);
    assert_success(&out);
    assert_eq!(proxy.planned(), 0);
    assert_each_delivered_once(&server, &[&sha_small, &sha_big]);
}

#[test]
fn refused_connections_wait_calmly_then_deliver() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 1_500_000, 6);
    proxy.refuse_for(Duration::from_secs(3));
    let started = Instant::now();
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_success(&out);
    assert!(started.elapsed() >= Duration::from_secs(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("saved on this station, retrying") && stderr.contains("refused"),
        "{}",
        text(&out)
    );
    assert_each_delivered_once(&server, &[&sha]);
}

#[test]
fn a_server_restart_mid_upload_is_survived() {
    let (mut server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 4_000_000, 7);
    proxy.set_rate(Some(2_000_000));
    let mut child = station.spawn_upload(&[a.to_str().unwrap()]);
    server.wait_for_log("created", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(700));
    server.restart();
    let status = child.wait().expect("waiting for booth upload");
    assert!(status.success(), "booth upload: {status}\n{}", server.log());
    assert_each_delivered_once(&server, &[&sha]);
}

#[test]
fn corrupted_bytes_are_caught_by_the_checksum_and_resent() {
    // This server announces `checksum` (sha1) and verifies it; the proxy flips one byte of the
    // first PATCH body. Without a correct Upload-Checksum the flipped byte would be stored.
    let (server, proxy, station) = setup(TusOptions {
        checksum: true,
        ..TusOptions::default()
    });
    let (a, sha) = station.random_file("q1.mp4", 2_500_000, 8);
    proxy.plan([Fault::Corrupt(300_000)]);
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_success(&out);
    assert!(
        server.log().contains("checksum-mismatch"),
        "{}",
        server.log()
    );
    assert_each_delivered_once(&server, &[&sha]);
}

#[test]
fn an_expired_upload_is_replaced_and_never_completed() {
    let (server, proxy, station) = setup(TusOptions {
        expire_ms: 1500,
        ..TusOptions::default()
    });
    let (a, sha) = station.random_file("q1.mp4", 3_000_000, 9);
    proxy.set_rate(Some(1_000_000));
    let mut child = station.spawn_upload(&[a.to_str().unwrap()]);
    server.wait_for_log("created", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1200));
    child.kill().expect("SIGKILL booth");
    child.wait().expect("reaping booth");
    std::thread::sleep(Duration::from_millis(1500)); // the partial upload expires
    proxy.set_rate(None);
    let out = station.upload(&[]);
    assert_success(&out);
    let stored = assert_each_delivered_once(&server, &[&sha]);
    let item = &station.queue()[0];
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            station
                .outbox()
                .join(format!("{}.json", item["id"].as_str().unwrap())),
        )
        .unwrap(),
    )
    .unwrap();
    let retired = record["retired_urls"].as_array().expect("retired_urls");
    assert_eq!(retired.len(), 1, "{record:#}");
    assert!(!retired[0].as_str().unwrap().ends_with(&stored[0].id));
    assert!(server.uploads().len() <= 2);
}

#[test]
fn an_upload_the_server_forgot_is_started_anew() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 3_000_000, 10);
    proxy.set_rate(Some(1_000_000));
    let mut child = station.spawn_upload(&[a.to_str().unwrap()]);
    server.wait_for_log("created", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(800));
    child.kill().expect("SIGKILL booth");
    child.wait().expect("reaping booth");
    // The platform cleaned the partial upload away: HEAD now says 404.
    for entry in std::fs::read_dir(server.store()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    proxy.set_rate(None);
    let out = station.upload(&[]);
    assert_success(&out);
    assert_each_delivered_once(&server, &[&sha]);
    let id = station.queue()[0]["id"].as_str().unwrap().to_string();
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(station.outbox().join(format!("{id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["retired_urls"].as_array().map(Vec::len),
        Some(1),
        "{record:#}"
    );
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_duplicates_nothing() {
    let (server, proxy, station) = setup(TusOptions::default());
    let files: Vec<_> = (0..3)
        .map(|i| station.random_file(&format!("c1--q{i}--1.mp4"), 2_500_000, 20 + i))
        .collect();
    let args: Vec<&str> = files.iter().map(|(p, _)| p.to_str().unwrap()).collect();
    // ~1.5 s for everything, so kills land in every phase: queueing, creating, sending.
    proxy.set_rate(Some(5_000_000));
    let seed = seed_from_clock();
    eprintln!("kill schedule seed: {seed}");
    let mut x = seed | 1;
    for _ in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut child = station.spawn_upload(&args);
        std::thread::sleep(Duration::from_millis(30 + x % 500));
        child.kill().expect("SIGKILL booth");
        child.wait().expect("reaping booth");
    }
    proxy.set_rate(None);
    let out = station.upload(&args);
    assert_success(&out);
    let shas: Vec<&str> = files.iter().map(|(_, s)| s.as_str()).collect();
    assert_each_delivered_once(&server, &shas);
    let items = station.queue();
    assert_eq!(items.len(), 3, "{items:#?}");
}
