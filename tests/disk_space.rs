//! `booth record` on a real, nearly full filesystem: a tmpfs of a few MiB mounted in a user
//! and mount namespace of the test's own (`unshare -rm`, util-linux), so no root is needed.
//! An answer that cannot fit is refused up front; an answer whose rewritten copy finds no room
//! is delivered as recorded, whole and playable, with no half-written copy left behind.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// Runs `script` under `sh` in a new user and mount namespace where `$DISK` is a fresh tmpfs
/// of `size`; `$BOOTH` is the binary. Everything on the tmpfs is copied to the returned
/// directory before the namespace, and the tmpfs with it, goes away.
fn on_a_small_disk(size: &str, script: &str) -> (Output, PathBuf, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let disk = root.path().join("disk");
    let copy = root.path().join("copy");
    std::fs::create_dir_all(&disk).unwrap();
    std::fs::create_dir_all(&copy).unwrap();
    let wrapped = format!(
        "mount -t tmpfs -o size={size} tmpfs \"$DISK\" || exit 90\n\
         ( {script} )\n\
         rc=$?\n\
         cp -a \"$DISK/.\" \"$COPY/\"\n\
         exit $rc\n"
    );
    let out = run(
        Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", &wrapped])
            .env("BOOTH", env!("CARGO_BIN_EXE_booth"))
            .env("DISK", &disk)
            .env("COPY", &copy),
        "util-linux",
    );
    assert_ne!(
        out.status.code(),
        Some(90),
        "cannot mount a tmpfs in a user namespace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, copy, root)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_answer_that_cannot_fit_is_refused_before_recording() {
    // 40 MiB free; ten minutes at 2.5 Mb/s need about 250 MB.
    let (out, copy, _root) = on_a_small_disk(
        "40m",
        "\"$BOOTH\" record --video test --audio tone --size 320x240 --duration 600 \
         --video-kbps 2500 --output \"$DISK/answer.mp4\"",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not enough free disk space")
            && stderr.contains("answer.mp4")
            && stderr.contains("MB are free"),
        "{stderr}"
    );
    assert!(files_in(&copy).is_empty(), "{:?}", files_in(&copy));
}

#[test]
fn without_room_for_the_rewrite_the_answer_is_delivered_as_recorded() {
    // Once the first fragment is on disk, everything but 1 MiB is taken: the rest of the
    // recording fits, the rewritten copy (and the space finalizing keeps free) does not.
    let (out, copy, _root) = on_a_small_disk(
        "48m",
        "\"$BOOTH\" record --video test --audio tone --size 320x240 --duration 3 \
           --video-kbps 300 --audio-kbps 64 --json --output \"$DISK/answer.mp4\" \
           > \"$COPY/stdout\" 2> \"$COPY/stderr\" &
         pid=$!
         until [ \"$(stat -c %s \"$DISK/answer.mp4.part\" 2>/dev/null || echo 0)\" -gt 2000 ]; do
           sleep 0.05
         done
         free=$(df --output=avail -B1 \"$DISK\" | tail -n 1)
         fallocate -l $((free - 1048576)) \"$DISK/filler\" || exit 91
         wait $pid
         rc=$?
         rm \"$DISK/filler\"
         exit $rc",
    );
    let stderr = std::fs::read_to_string(copy.join("stderr")).unwrap_or_default();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join("stdout")).unwrap()).unwrap();
    assert_eq!(summary["finalized"], false, "{summary}");
    assert!(stderr.contains("kept as recorded"), "{stderr}");
    // The answer and nothing else: no partial file, no half-written copy.
    assert_eq!(
        files_in(&copy),
        ["answer.mp4", "stderr", "stdout"],
        "{stderr}"
    );
    let answer = copy.join("answer.mp4");
    assert_eq!(
        std::fs::metadata(&answer).unwrap().len(),
        summary["bytes"].as_u64().unwrap()
    );
    assert_decodes_cleanly(&answer);
    let p = probe(&answer);
    let vd = p.video().duration.expect("video duration");
    let ad = p.audio().duration.expect("audio duration");
    assert!((vd - 3.0).abs() < 0.1, "video lasts {vd} s");
    assert!((ad - 3.0).abs() < 0.15, "audio lasts {ad} s");

    // With room again, `booth recover` rewrites it in place.
    let o = run(booth().args(["recover", "--json"]).arg(&answer), "booth");
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(said.trim()).unwrap();
    assert_eq!(report["status"], "recovered", "{report}");
    assert_eq!(report["finalized"], true, "{report}");
    assert!(booth::media::mux::scan::scan(&answer).unwrap().finished);
    assert_decodes_cleanly(&answer);
    let vd = probe(&answer).video().duration.expect("video duration");
    assert!(
        (vd - 3.0).abs() < 0.1,
        "video lasts {vd} s after the rewrite"
    );
}
