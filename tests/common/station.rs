//! A booth station for upload tests: a temporary data directory, a config pointing at an
//! endpoint, a token file, `booth upload` / `booth queue` runs, test files, and the check that
//! matters: every answer stored by the server exactly once, complete, with the local sha256.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use super::tus_server::{StoredUpload, TusServer, sha256_file};

pub struct Station {
    dir: tempfile::TempDir,
    pub config: PathBuf,
    pub token: String,
}

impl Station {
    /// A station delivering to `endpoint` in 1 MiB chunks; `extra` adds `[upload]` lines.
    pub fn new(endpoint: &str, extra: &str) -> Station {
        Station::with_id("test-station", endpoint, extra)
    }

    /// [`Station::new`] with its own station id (one of a fleet).
    pub fn with_id(id: &str, endpoint: &str, extra: &str) -> Station {
        let dir = tempfile::Builder::new()
            .prefix("booth-station-")
            .tempdir()
            .expect("station directory");
        let token = format!("tok-{:016x}", seed_from_clock());
        let token_file = dir.path().join("upload-token");
        std::fs::write(&token_file, format!("{token}\n")).expect("token file");
        let config = dir.path().join("config.toml");
        let text = format!(
            "[station]\nid = \"{id}\"\ndata_dir = \"{data}\"\n\n\
             [upload]\nendpoint = \"{endpoint}\"\ntoken_file = \"{token_file}\"\nchunk_mib = 1\n{extra}\n\n\
             [interview]\nfile = \"{dir}/no-interview.toml\"\n",
            data = dir.path().join("data").display(),
            token_file = token_file.display(),
            dir = dir.path().display(),
        );
        std::fs::write(&config, text).expect("config file");
        Station { dir, config, token }
    }

    /// Replaces the station's token (the token file).
    pub fn set_token(&mut self, token: &str) {
        std::fs::write(self.dir.path().join("upload-token"), format!("{token}\n"))
            .expect("token file");
        self.token = token.to_string();
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("data/outbox")
    }

    /// `booth upload` with short stall and retry times, interview "iv-test", and `args`.
    pub fn upload_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = super::booth();
        cmd.arg("upload")
            .arg("--config")
            .arg(&self.config)
            .args(["--interview", "iv-test", "--stall-timeout", "2"])
            .args([
                "--retry-min-ms",
                "50",
                "--retry-max-ms",
                "400",
                "--patience",
                "30",
            ])
            .args(args)
            .env_remove(booth::config::TOKEN_ENV)
            .stdin(Stdio::null());
        cmd
    }

    pub fn upload(&self, args: &[&str]) -> Output {
        self.upload_cmd(args)
            .output()
            .expect("running booth upload")
    }

    pub fn spawn_upload(&self, args: &[&str]) -> Child {
        self.upload_cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting booth upload")
    }

    /// `booth queue --json`, parsed.
    pub fn queue(&self) -> Vec<Value> {
        let out = super::booth()
            .arg("queue")
            .arg("--config")
            .arg(&self.config)
            .arg("--json")
            .output()
            .expect("running booth queue");
        assert!(out.status.success(), "booth queue: {}", text(&out));
        let v: Value = serde_json::from_slice(&out.stdout).expect("booth queue --json");
        v.as_array().expect("an array of items").clone()
    }

    /// Writes `size` pseudo-random bytes to `<station>/<name>`; returns the path and sha256.
    pub fn random_file(&self, name: &str, size: usize, seed: u64) -> (PathBuf, String) {
        let path = self.dir.path().join(name);
        std::fs::write(&path, random_bytes(size, seed)).expect("writing a test file");
        let sha = sha256_file(&path);
        (path, sha)
    }
}

/// Both output streams of a finished command, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// xorshift64*: reproducible test content without a random-number crate.
pub fn random_bytes(size: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(size);
    out
}

pub fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// Panics unless the server stored each of `shas` (whole-file sha256 of the local files) as
/// exactly one complete upload whose bytes hash to it, under the answer id booth derives from
/// it, and stored no other complete upload. Unfinished uploads (a creation whose reply was
/// lost, an expired upload) may exist; they hold no answer.
pub fn assert_each_delivered_once(server: &TusServer, shas: &[&str]) -> Vec<StoredUpload> {
    assert_each_stored_once(&server.uploads(), shas, &server.log())
}

/// [`assert_each_delivered_once`] over a store's `uploads`, with `log` (what the server or
/// servers printed) for the message.
pub fn assert_each_stored_once(
    uploads: &[StoredUpload],
    shas: &[&str],
    log: &str,
) -> Vec<StoredUpload> {
    let distinct: std::collections::HashSet<&&str> = shas.iter().collect();
    assert_eq!(distinct.len(), shas.len(), "the test files must differ");
    let listing = || {
        uploads
            .iter()
            .map(|u| {
                format!(
                    "  {} {}/{:?} answer_id={:?}",
                    u.id,
                    u.stored,
                    u.size,
                    u.metadata.get("answer_id")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let complete: Vec<&StoredUpload> = uploads.iter().filter(|u| u.complete()).collect();
    let mut found = Vec::new();
    for sha in shas {
        let id = booth::upload::answer_id_for(sha).to_string();
        let mine: Vec<&&StoredUpload> = complete
            .iter()
            .filter(|u| u.metadata.get("answer_id") == Some(&id))
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "answer {id} must be stored complete exactly once; the store has:\n{}\nserver log:\n{}",
            listing(),
            log
        );
        assert_eq!(mine[0].sha256(), *sha, "stored bytes of answer {id}");
        assert_eq!(
            mine[0].metadata.get("sha256").map(String::as_str),
            Some(*sha)
        );
        found.push((**mine[0]).clone());
    }
    assert_eq!(
        complete.len(),
        shas.len(),
        "complete uploads that are no expected answer:\n{}",
        listing()
    );
    found
}
