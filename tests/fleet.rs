//! A room of stations against a platform that scales out: 20 stations (each its own data
//! directory, station id and token file) deliver their answers at the same time with
//! `booth upload FILES…` (how operators send recordings in bulk) through a round-robin balancer
//! to two tus server processes sharing one file store and one lock folder (@tus/server +
//! @tus/file-store, with tests/tus-server/shared-locker.mjs for locks across processes). One
//! server is killed (SIGKILL) while it holds a PATCH mid-transfer and started again later.
//!
//! @tus/file-store keeps nothing in memory between requests (an upload's offset is its data
//! file's size, its info is a JSON file beside it), so processes can share its folder, but
//! only with shared locks: @tus/server's default MemoryLocker locks within one process, and
//! two instances could then write one upload at once (a client resuming on B while its old
//! request still runs on A). The lock folder makes B wait for A's lock, and take over a lock
//! A left when it died once it is 3 s stale. The one thing the file store does not do safely
//! is create: it writes `<id>.json` in place, so a server killed then leaves an empty info
//! file (an upload whose creation was never answered: it holds no answer, booth creates
//! another).
//!
//! Judged from the store: every answer exactly once, complete, with its sha256 and its
//! metadata (station, candidate, question, attempt, file name); no other complete upload.
//! Reported (stdout, and `$CARGO_TARGET_TMPDIR/fleet-report.txt`): total time, answers per
//! second, retries (the stations' outbox records), and requests per server.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::balancer::Balancer;
use common::station::{Station, assert_each_stored_once, random_bytes};
use common::tus_server::{Seen, TusOptions, TusServer, sha256_file};

const STATIONS: usize = 20;
const ANSWERS: usize = 4;
/// The whole run, from the first upload to the last check, must end within this.
const DEADLINE: Duration = Duration::from_secs(150);

struct Answer {
    station: usize,
    path: PathBuf,
    sha: String,
    candidate: String,
    question: String,
}

/// Station `s`'s recordings: 1–3 MiB of distinct bytes each, named as the kiosk names them.
fn recordings(station: &Station, s: usize) -> Vec<Answer> {
    (0..ANSWERS)
        .map(|q| {
            let candidate = format!("cand-{s:02}");
            let question = format!("q{}", q + 1);
            let name = format!("{candidate}--{question}--1.mp4");
            let size = (1 << 20) + ((s * ANSWERS + q) * 37_331) % (2 << 20);
            let path = station.dir().join(&name);
            std::fs::write(&path, random_bytes(size, (s * 100 + q) as u64)).unwrap();
            Answer {
                station: s,
                sha: sha256_file(&path),
                path,
                candidate,
                question,
            }
        })
        .collect()
}

fn spawn_upload(station: &Station, answers: &[&Answer]) -> Child {
    let out = std::fs::File::create(station.dir().join("upload.out")).unwrap();
    let err = std::fs::File::create(station.dir().join("upload.err")).unwrap();
    station
        .upload_cmd(&[])
        .args(answers.iter().map(|a| &a.path))
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("starting booth upload")
}

/// Uploads finished across both servers' logs.
fn finished(servers: &[&TusServer]) -> usize {
    servers
        .iter()
        .map(|s| {
            s.events()
                .iter()
                .filter(|e| matches!(e, Seen::Finished { .. }))
                .count()
        })
        .sum()
}

/// A PATCH the server has received and not answered: one in the middle of its transfer.
fn patch_in_flight(events: &[Seen]) -> Option<String> {
    events.iter().enumerate().find_map(|(i, e)| {
        match e {
        Seen::Patch { id, offset, .. }
            if !events[i..].iter().any(|later| {
                matches!(later, Seen::Patched { id: p, from, .. } if p == id && from == offset)
            }) =>
        {
            Some(id.clone())
        }
        _ => None,
    }
    })
}

/// Waits (on the servers' logs) until `ready` holds, failing the test at `deadline`.
fn wait_until(deadline: Instant, what: &str, servers: &[&TusServer], ready: impl Fn() -> bool) {
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "the fleet never reached: {what}\n{}",
            servers
                .iter()
                .map(|s| s.log())
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_room_of_stations_delivers_every_answer_once_through_two_servers_one_killed() {
    let store = tempfile::Builder::new()
        .prefix("booth-fleet-store-")
        .tempdir()
        .unwrap();
    let locks = store.path().join(".locks");
    let files = store.path().join("uploads");
    let mut a = TusServer::start_shared(TusOptions::default(), &files, &locks);
    let b = TusServer::start_shared(TusOptions::default(), &files, &locks);
    let balancer = Balancer::start(vec![a.addr(), b.addr()]);
    let endpoint = balancer.url("/files");

    let stations: Vec<Station> = (0..STATIONS)
        .map(|s| Station::with_id(&format!("fleet-{s:02}"), &endpoint, ""))
        .collect();
    let answers: Vec<Answer> = stations
        .iter()
        .enumerate()
        .flat_map(|(s, station)| recordings(station, s))
        .collect();
    let total_bytes: u64 = answers
        .iter()
        .map(|a| std::fs::metadata(&a.path).unwrap().len())
        .sum();

    let started = Instant::now();
    let deadline = started + DEADLINE;
    let mut children: Vec<Child> = stations
        .iter()
        .enumerate()
        .map(|(s, station)| {
            let mine: Vec<&Answer> = answers.iter().filter(|a| a.station == s).collect();
            spawn_upload(station, &mine)
        })
        .collect();

    // A quarter in, server A dies in the middle of a transfer.
    let quarter = STATIONS * ANSWERS / 4;
    wait_until(
        deadline,
        "a quarter delivered and a PATCH in flight at A",
        &[&a, &b],
        || finished(&[&a, &b]) >= quarter && patch_in_flight(&a.events()).is_some(),
    );
    let cut = patch_in_flight(&a.events()).unwrap();
    a.kill();
    let killed_at = started.elapsed();
    let b_mark = b.mark();
    // B carries the fleet alone for a while, including the answers A was taking.
    wait_until(deadline, "B finishing 8 uploads alone", &[&a, &b], || {
        b.events()[b_mark..]
            .iter()
            .filter(|e| matches!(e, Seen::Finished { .. }))
            .count()
            >= 8
    });
    let a_mark = a.mark();
    a.restart();
    let restarted_at = started.elapsed();

    for (s, child) in children.iter_mut().enumerate() {
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("station {s} did not finish within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let dir = stations[s].dir();
        assert!(
            status.success(),
            "booth upload on station {s} ended {status}:\n{}\n{}",
            std::fs::read_to_string(dir.join("upload.out")).unwrap_or_default(),
            std::fs::read_to_string(dir.join("upload.err")).unwrap_or_default()
        );
    }
    let took = started.elapsed();

    // The store: each answer once, whole, with its sha256 and who and what it answers.
    let shas: Vec<&str> = answers.iter().map(|a| a.sha.as_str()).collect();
    let logs = format!("A:\n{}\nB:\n{}", a.log(), b.log());
    let stored = assert_each_stored_once(&b.uploads(), &shas, &logs);
    for (answer, upload) in answers.iter().zip(&stored) {
        let m = &upload.metadata;
        let station_id = format!("fleet-{:02}", answer.station);
        let filename = answer.path.file_name().unwrap().to_str().unwrap();
        for (key, want) in [
            ("station_id", station_id.as_str()),
            ("candidate_id", answer.candidate.as_str()),
            ("question_id", answer.question.as_str()),
            ("attempt", "1"),
            ("interview_id", "iv-test"),
            ("filename", filename),
            ("sha256", answer.sha.as_str()),
        ] {
            assert_eq!(m.get(key).map(String::as_str), Some(want), "{key} of {m:?}");
        }
    }

    // The kill cost something and was survived: retries in the stations' records, the cut
    // upload delivered, and A took requests again once back.
    let retries: u64 = stations
        .iter()
        .flat_map(|s| s.queue())
        .map(|item| {
            assert_eq!(item["state"], "delivered", "{item:#}");
            item["attempts"].as_u64().unwrap()
        })
        .sum();
    assert!(
        retries >= 1,
        "killing A mid-transfer cost no station a retry"
    );
    assert!(
        stored.iter().any(|u| u.id == cut),
        "the upload A was receiving when it died ({cut}) is not among the answers"
    );
    let after_restart = a.events()[a_mark..]
        .iter()
        .filter(|e| matches!(e, Seen::Patch { .. } | Seen::Head { .. }))
        .count();
    assert!(after_restart > 0, "A took no request after its restart");
    let counts = balancer.counts();
    assert!(took < DEADLINE, "{took:?}");
    let lock_waits = b
        .log()
        .lines()
        .chain(a.log().lines())
        .filter(|l| l.starts_with("lock-waited "))
        .count();

    let report = format!(
        "fleet: {STATIONS} stations x {ANSWERS} answers = {n} answers, {mib:.1} MiB, in \
         {secs:.2} s: {rate:.1} answers/s, {mbps:.1} MiB/s\n\
         fleet: retries (outbox attempts) {retries}; server A killed at {killed:.2} s while \
         receiving {cut}, restarted at {restarted:.2} s\n\
         fleet: requests to A {ra}, to B {rb}; connections A refused {skipped}; unserved \
         {unserved}; requests that waited for a lock held by the other server {lock_waits}\n",
        n = answers.len(),
        mib = total_bytes as f64 / (1 << 20) as f64,
        secs = took.as_secs_f64(),
        rate = answers.len() as f64 / took.as_secs_f64(),
        mbps = total_bytes as f64 / (1 << 20) as f64 / took.as_secs_f64(),
        killed = killed_at.as_secs_f64(),
        restarted = restarted_at.as_secs_f64(),
        ra = counts.requests[0],
        rb = counts.requests[1],
        skipped = counts.skipped,
        unserved = counts.unserved,
    );
    print!("{report}");
    std::fs::write(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fleet-report.txt"),
        report,
    )
    .unwrap();
}
