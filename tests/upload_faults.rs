//! `booth upload` against a real tus server (npm @tus/server + @tus/file-store) behind a
//! fault-injecting proxy: cut connections, stalls, lost replies, the network going down, a
//! server restart, corrupted bytes, expired uploads, SIGKILL of booth (with its connections,
//! as in a power cut) at moments chosen from what the server sees, and a server that answers
//! PATCH with success while keeping nothing.
//! After each, every answer must be stored by the server exactly once, complete and with the
//! local file's sha256 — judged from the server's store, not from booth's report — and the
//! server's log must show that the fault landed mid-transfer (the upload stood at an offset
//! between 0 and its size) and that booth resumed from the offset the server had.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::fault_proxy::{Fault, FaultProxy};
use common::station::{Station, assert_each_delivered_once, seed_from_clock, text};
use common::tus_server::{PartialPatch, Seen, TusOptions, TusServer};

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

/// Panics unless at least `n` PATCHes were cut short mid-transfer — the server kept part of
/// each (more than where it started, less than where it would have ended) — and booth resumed
/// each upload from exactly the offset the server kept, which the server accepted.
fn assert_resumed_mid_transfer(server: &TusServer, n: usize) -> Vec<PartialPatch> {
    let partial = server.partial_patches();
    assert!(
        partial.len() >= n,
        "expected {n} PATCH(es) cut short mid-transfer, found {partial:#?}\n{}",
        server.log()
    );
    for p in &partial {
        match server.next_patch(&p.id, p.index) {
            Some((offset, status)) => {
                assert_eq!(offset, p.kept, "{p:?} resumed elsewhere:\n{}", server.log());
                assert_ne!(status, Some(409), "{p:?}: the resumption was refused");
            }
            None => panic!("{p:?} was never resumed:\n{}", server.log()),
        }
    }
    partial
}

/// The first HEAD of upload `id` among `events`, and the offset it reported.
fn first_head(events: &[Seen], id: &str) -> Option<(usize, u64)> {
    events.iter().enumerate().find_map(|(i, e)| match e {
        Seen::Head {
            id: h,
            status: 200,
            offset: Some(o),
            ..
        } if h == id => Some((i, *o)),
        _ => None,
    })
}

/// Starts `booth upload` with its stderr captured.
fn spawn_upload(station: &Station, args: &[&str]) -> Child {
    station
        .upload_cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting booth upload")
}

#[test]
fn cut_connections_resume_from_the_servers_offset() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha_a) = station.random_file("c1--q1--1.mp4", 3_500_000, 1);
    let (b, sha_b) = station.random_file("c1--q2--1.mp4", 2_000_000, 2);
    // Each cut lands inside a PATCH body (the first connection also carries OPTIONS and POST,
    // the later ones OPTIONS and HEAD): the server's log proves it below.
    proxy.plan([
        Fault::Cut(700_000),
        Fault::Cut(400_000),
        Fault::Cut(900_000),
    ]);
    let out = station.upload(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_success(&out);
    assert_eq!(proxy.planned(), 0, "every planned cut happened");
    let cut = assert_resumed_mid_transfer(&server, 3);
    assert_eq!(cut.len(), 3, "{cut:#?}");
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
    // Inside the second PATCH: the first (1 MiB) has gone through.
    proxy.plan([Fault::Stall(1_500_000)]);
    let started = std::time::Instant::now();
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
    // The stalled PATCH ended (when booth's HEAD took the upload over) with what had arrived.
    let stalled = assert_resumed_mid_transfer(&server, 1);
    assert!(stalled[0].from > 0, "{stalled:?}");
    assert_each_delivered_once(&server, &[&sha]);
}

#[test]
fn lost_replies_are_settled_by_asking_the_server() {
    let (server, proxy, station) = setup(TusOptions::default());
    // The small file fits one PATCH whose reply is lost although the server has it all: a
    // blind resend would be a second copy or a 409; HEAD says it is complete. The big one
    // loses the reply to its first PATCH, when the server stands at 1 MiB of 3 MB.
    let (small, sha_small) = station.random_file("c1--q1--1.mp4", 600_000, 4);
    let (big, sha_big) = station.random_file("c1--q2--1.mp4", 3_000_000, 5);
    proxy.plan([Fault::NoReplyAfter(100_000), Fault::NoReplyAfter(100_000)]);
    let out = station.upload(&[small.to_str().unwrap(), big.to_str().unwrap()]);
    assert_success(&out);
    assert_eq!(proxy.planned(), 0);
    let stored = assert_each_delivered_once(&server, &[&sha_small, &sha_big]);
    let events = server.events();
    let of = |id: &str| -> Vec<Seen> {
        events
            .iter()
            .filter(|e| e.id() == Some(id))
            .cloned()
            .collect()
    };
    // The small one: one PATCH, answered with the whole file, then a HEAD instead of a resend.
    let small_events = of(&stored[0].id);
    let patches = small_events
        .iter()
        .filter(|e| matches!(e, Seen::Patch { .. }))
        .count();
    assert_eq!(patches, 1, "{small_events:#?}");
    let answered = small_events
        .iter()
        .position(|e| {
            matches!(
                e,
                Seen::Patched {
                    status: 204,
                    offset: Some(600_000),
                    ..
                }
            )
        })
        .unwrap_or_else(|| panic!("{small_events:#?}"));
    assert_eq!(
        first_head(&small_events[answered..], &stored[0].id).map(|(_, o)| o),
        Some(600_000),
        "{small_events:#?}"
    );
    // The big one: its first PATCH was answered at a partial offset; booth asked, and went on
    // from exactly there.
    let big_events = of(&stored[1].id);
    let (answered, at) = big_events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match e {
            Seen::Patched {
                from: 0,
                status: 204,
                offset: Some(o),
                ..
            } => Some((i, *o)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{big_events:#?}"));
    assert!(0 < at && at < 3_000_000, "{big_events:#?}");
    let (head, asked) = first_head(&big_events[answered..], &stored[1].id)
        .unwrap_or_else(|| panic!("no HEAD after the lost reply: {big_events:#?}"));
    assert_eq!(asked, at, "{big_events:#?}");
    let next = big_events[answered + head..].iter().find_map(|e| match e {
        Seen::Patch { offset, .. } => Some(*offset),
        _ => None,
    });
    assert_eq!(next, Some(at), "no blind resend: {big_events:#?}");
}

#[test]
fn the_network_going_down_mid_transfer_is_waited_out_calmly() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 3_000_000, 6);
    proxy.set_rate(Some(1_000_000));
    let child = spawn_upload(&station, &[a.to_str().unwrap()]);
    let before = server.wait_for_partial_offset(None, 3_000_000);
    let mark = server.mark();
    proxy.go_down_for(Duration::from_secs(3));
    proxy.set_rate(None);
    let out = child.wait_with_output().expect("waiting for booth upload");
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("saved on this station, retrying") && stderr.contains("refused"),
        "{}",
        text(&out)
    );
    let stored = assert_each_delivered_once(&server, &[&sha]);
    // After the outage booth asked where the server stood, and went on from there.
    let after = &server.events()[mark..];
    let (head, offset) = first_head(after, &stored[0].id)
        .unwrap_or_else(|| panic!("no HEAD after the outage:\n{}", server.log()));
    assert!(before <= offset && offset < 3_000_000, "{before} {offset}");
    let next = after[head..].iter().find_map(|e| match e {
        Seen::Patch { offset, .. } => Some(*offset),
        _ => None,
    });
    assert_eq!(next, Some(offset), "{}", server.log());
}

#[test]
fn a_server_restart_mid_upload_is_survived() {
    let (mut server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 4_000_000, 7);
    proxy.set_rate(Some(2_000_000));
    let mut child = station.spawn_upload(&[a.to_str().unwrap()]);
    // The server holds part of the upload (the first chunk) and is receiving the next.
    let before = server.wait_for_partial_offset(None, 4_000_000);
    let mark = server.mark();
    server.restart();
    let status = child.wait().expect("waiting for booth upload");
    assert!(status.success(), "booth upload: {status}\n{}", server.log());
    let stored = assert_each_delivered_once(&server, &[&sha]);
    // The restarted server was asked, and the upload went on from what it had kept.
    let after = &server.events()[mark..];
    let (head, offset) = first_head(after, &stored[0].id)
        .unwrap_or_else(|| panic!("no HEAD after the restart:\n{}", server.log()));
    assert!(before <= offset && offset < 4_000_000, "{before} {offset}");
    let next = after[head..].iter().find_map(|e| match e {
        Seen::Patch { offset, .. } => Some(*offset),
        _ => None,
    });
    assert_eq!(next, Some(offset), "{}", server.log());
}

#[test]
fn corrupted_bytes_are_caught_by_the_checksum_and_resent() {
    // This server announces `checksum` (sha1) and verifies it; the proxy flips one byte of the
    // second PATCH body (the first, 1 MiB, is stored by then). Without a correct
    // Upload-Checksum the flipped byte would be stored.
    let (server, proxy, station) = setup(TusOptions {
        checksum: true,
        ..TusOptions::default()
    });
    let (a, sha) = station.random_file("q1.mp4", 2_500_000, 8);
    proxy.plan([Fault::Corrupt(1_500_000)]);
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_success(&out);
    let stored = assert_each_delivered_once(&server, &[&sha]);
    let events = server.events();
    let (at, offset) = events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match e {
            Seen::ChecksumMismatch { offset, .. } => Some((i, *offset)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no checksum mismatch:\n{}", server.log()));
    assert!(0 < offset && offset < 2_500_000, "{}", server.log());
    let (head, asked) = first_head(&events[at..], &stored[0].id)
        .unwrap_or_else(|| panic!("no HEAD after the mismatch:\n{}", server.log()));
    assert_eq!(asked, offset, "nothing of the bad chunk was kept");
    assert_eq!(
        server.next_patch(&stored[0].id, at + head),
        Some((offset, Some(204))),
        "{}",
        server.log()
    );
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
    server.wait_for_partial_offset(None, 3_000_000);
    child.kill().expect("SIGKILL booth");
    proxy.cut_all();
    child.wait().expect("reaping booth");
    let first = server.uploads()[0].id.clone();
    server.wait_until_gone(&first);
    proxy.set_rate(None);
    let out = station.upload(&[]);
    assert_success(&out);
    let stored = assert_each_delivered_once(&server, &[&sha]);
    assert_ne!(stored[0].id, first);
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
    assert!(retired[0].as_str().unwrap().ends_with(&first));
    assert!(server.uploads().len() <= 2);
}

#[test]
fn an_upload_the_server_forgot_is_started_anew() {
    let (server, proxy, station) = setup(TusOptions::default());
    let (a, sha) = station.random_file("q1.mp4", 3_000_000, 10);
    proxy.set_rate(Some(1_000_000));
    let mut child = station.spawn_upload(&[a.to_str().unwrap()]);
    server.wait_for_partial_offset(None, 3_000_000);
    child.kill().expect("SIGKILL booth");
    proxy.cut_all();
    child.wait().expect("reaping booth");
    // The platform cleaned the partial upload away: HEAD now says 404.
    let first = server.uploads()[0].id.clone();
    for entry in std::fs::read_dir(server.store()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    proxy.set_rate(None);
    let out = station.upload(&[]);
    assert_success(&out);
    let stored = assert_each_delivered_once(&server, &[&sha]);
    assert_ne!(stored[0].id, first);
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

/// Where in a delivery a SIGKILL lands, judged from what the server and the outbox show.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// Once this many answers are queued (records on disk).
    Queued(usize),
    /// Right after the server answered this many creations or HEADs in this run.
    Asked(usize),
    /// Once the server holds bytes of this run's n-th PATCH: the upload stands between 0 and
    /// its size, and booth is sending.
    MidPatch(usize),
}

/// What came of waiting for a [`Moment`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reached {
    /// booth delivered everything first.
    Finished,
    Moment,
    /// The moment, in the middle of a PATCH of this upload.
    MidPatch(String),
}

/// Waits for `moment`, or for booth to finish first.
fn wait_for_moment(
    server: &TusServer,
    station: &Station,
    child: &mut Child,
    moment: Moment,
) -> Reached {
    let mark = server.mark();
    server.wait_for_event(Duration::from_secs(60), |events| {
        if child.try_wait().ok().flatten().is_some() {
            return Some(Reached::Finished);
        }
        let run = &events[mark.min(events.len())..];
        match moment {
            Moment::Queued(n) => (records(station) >= n).then_some(Reached::Moment),
            Moment::Asked(n) => {
                let asked = run
                    .iter()
                    .filter(|e| matches!(e, Seen::Created { .. } | Seen::Head { .. }))
                    .count();
                (asked >= n).then_some(Reached::Moment)
            }
            Moment::MidPatch(n) => {
                let (id, offset) = run
                    .iter()
                    .filter_map(|e| match e {
                        Seen::Patch { id, offset, .. } => Some((id, *offset)),
                        _ => None,
                    })
                    .nth(n - 1)?;
                let storing = server
                    .uploads()
                    .iter()
                    .any(|u| &u.id == id && u.stored > offset && !u.complete());
                storing.then(|| Reached::MidPatch(id.clone()))
            }
        }
    })
}

fn records(station: &Station) -> usize {
    std::fs::read_dir(station.outbox())
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".json") && name != "health.json"
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn sigkill_at_chosen_moments_loses_nothing_and_duplicates_nothing() {
    let (server, proxy, station) = setup(TusOptions::default());
    let files: Vec<_> = (0..3)
        .map(|i| station.random_file(&format!("c1--q{i}--1.mp4"), 2_500_000, 20 + i))
        .collect();
    let args: Vec<&str> = files.iter().map(|(p, _)| p.to_str().unwrap()).collect();
    // ~1.5 s for everything, so a kill can land in every phase: queueing, creating, sending.
    proxy.set_rate(Some(5_000_000));
    let seed = seed_from_clock();
    eprintln!("kill schedule seed: {seed}");
    let mut x = seed | 1;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n) as usize + 1
    };
    let schedule = [
        Moment::MidPatch(next(2)),
        Moment::Queued(next(3)),
        Moment::Asked(next(2)),
        Moment::MidPatch(next(2)),
        Moment::Asked(next(3)),
        Moment::MidPatch(1),
    ];
    let mut mid_patch = Vec::new();
    for moment in schedule {
        let mut child = station.spawn_upload(&args);
        let reached = wait_for_moment(&server, &station, &mut child, moment);
        child.kill().expect("SIGKILL booth");
        // What booth had written but the proxy not yet forwarded dies with it, as in a power
        // cut: otherwise the kernel would still deliver it, and a chunk would end whole.
        proxy.cut_all();
        child.wait().expect("reaping booth");
        eprintln!("{moment:?}: {reached:?}");
        if let Reached::MidPatch(id) = reached {
            mid_patch.push(id);
        }
    }
    proxy.set_rate(None);
    let out = station.upload(&args);
    assert_success(&out);
    let shas: Vec<&str> = files.iter().map(|(_, s)| s.as_str()).collect();
    assert_each_delivered_once(&server, &shas);
    // Kills landed while the server held part of an upload and was taking more: the PATCH
    // ended with part of its bytes kept, and a later run went on from exactly there.
    assert!(!mid_patch.is_empty(), "no kill landed mid-PATCH");
    let partial = assert_resumed_mid_transfer(&server, 1);
    assert!(
        partial.iter().any(|p| mid_patch.contains(&p.id)),
        "{partial:?} {mid_patch:?}"
    );
    let items = station.queue();
    assert_eq!(items.len(), 3, "{items:#?}");
}

#[test]
fn a_server_that_keeps_nothing_gets_the_backoff_not_a_tight_loop() {
    // The first four PATCHes are answered 204 at the offset they came at, their bytes dropped.
    let server = TusServer::start(TusOptions {
        ignore_patches: 4,
        ..TusOptions::default()
    });
    let station = Station::new(&server.url(), "retention = \"keep\"");
    let (a, sha) = station.random_file("q1.mp4", 2_000_000, 40);
    let out = station.upload(&[a.to_str().unwrap()]);
    assert_success(&out);
    let stored = assert_each_delivered_once(&server, &[&sha]);
    let events = server.events();
    let ignored: Vec<(usize, u64)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Seen::Ignored { at_ms, .. } => Some((i, *at_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(ignored.len(), 4, "{}", server.log());
    // booth's retry delays: 50 ms doubling up to 400 ms (plus jitter). After each PATCH that
    // moved nothing: HEAD at once, then the delay, then the next try.
    for (k, pair) in ignored.windows(2).enumerate() {
        let ((i, t0), (j, t1)) = (pair[0], pair[1]);
        let least = (50u64 << k).min(400);
        let head = events[i..j].iter().find_map(|e| match e {
            Seen::Head { at_ms, .. } => Some(*at_ms),
            _ => None,
        });
        let head = head.unwrap_or_else(|| {
            panic!("no HEAD after a PATCH that kept nothing:\n{}", server.log())
        });
        assert!(
            t1.saturating_sub(head) + 2 >= least,
            "try {k}: HEAD at {head} ms, next PATCH at {t1} ms (after {t0} ms); expected a wait of \
             at least {least} ms:\n{}",
            server.log()
        );
    }
    // booth said why it waited, and counted the tries.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the server kept nothing"),
        "{}",
        text(&out)
    );
    assert!(stored[0].complete());
    let attempts = station.queue()[0]["attempts"].as_u64().unwrap();
    assert!(attempts >= 4, "{attempts}");
}
