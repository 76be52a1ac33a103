//! `booth bench`'s upload figure: throughput of booth's tus upload (chunks as configured by
//! default: 8 MiB first, growing on a fast link; HEAD at the end) to the real test tus server
//! on loopback, against `curl` sending the same file to the same server in one PATCH — as a
//! ratio, with a floor.
//!
//! On a shared 2-core machine a single round swings by ±15% whoever sends, so the figure is
//! paired: each round runs booth and curl back to back (each going first in turn), the ratio
//! is taken within the round, and the median of those ratios is compared with the floor. One
//! unmeasured round of each first warms the server (node's JIT) and the page cache. A control,
//! curl sending the very chunks booth sent (read from the server's log), separates what the
//! server's per-request work costs from what booth's client costs.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::report::{median, paired_ratios};
use super::{BenchError, path_str, run};
use crate::config::{Config, Endpoint, Retention};
use crate::logging::console;
use crate::upload::{AnswerMeta, Tuning, UploadEvent, UploadService};

/// booth must reach this share of curl's throughput (one PATCH).
pub(super) const FLOOR: f64 = 0.9;
/// booth must reach this share of curl sending booth's own chunks (the client's cost alone).
pub(super) const CHUNKED_FLOOR: f64 = 0.95;
const ROUNDS: usize = 9;

#[derive(Debug, Serialize)]
pub(super) struct UploadFigure {
    pub file_mib: u32,
    /// booth's PATCH sizes in MiB, as the server received them in the warm-up round.
    pub booth_chunks_mib: Vec<f64>,
    pub rounds: usize,
    pub booth_median_mib_per_s: f64,
    pub curl_median_mib_per_s: f64,
    pub booth_best_mib_per_s: f64,
    pub curl_best_mib_per_s: f64,
    /// booth / curl within each round, in round order.
    pub round_ratios: Vec<f64>,
    /// The median of `round_ratios`: the figure held against the floor.
    pub booth_vs_curl: f64,
    /// Control: curl sending booth's chunks, one PATCH each, on one connection (median).
    pub curl_chunked_median_mib_per_s: f64,
    pub booth_vs_curl_chunked: f64,
    pub floor: f64,
    pub chunked_floor: f64,
}

impl UploadFigure {
    pub fn below_floor(&self) -> bool {
        self.booth_vs_curl < self.floor || self.booth_vs_curl_chunked < self.chunked_floor
    }
}

/// The test server; killed when the bench ends, however it ends.
pub(super) struct Server {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The body lengths of the PATCHes the server logged since the last call, waiting (up
    /// to 10 s) until they add up to `total`: the log reaches us through a reader thread, so
    /// the last lines may still be on their way when the upload is already done.
    fn patch_lengths(&self, total: u64) -> Result<Vec<u64>, BenchError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut lengths = Vec::new();
        while lengths.iter().sum::<u64>() < total {
            let wait = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(wait).map_err(|_| {
                fail(
                    "the test tus server",
                    format!("its log shows PATCHes of {lengths:?} bytes, not {total} in all"),
                )
            })?;
            if let Some(len) = line
                .strip_prefix("patch ")
                .and_then(|l| l.rsplit("length=").next()?.parse().ok())
            {
                lengths.push(len);
            }
        }
        Ok(lengths)
    }
}

fn fail(what: &str, detail: impl std::fmt::Display) -> BenchError {
    BenchError::Failed {
        program: what.to_string(),
        detail: detail.to_string(),
    }
}

pub(super) fn start_server(project: &Path, store: &Path) -> Result<(Server, String), BenchError> {
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(project)
        .env("TUS_PORT", "0")
        .env("TUS_DIR", store)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| BenchError::Spawn {
            program: format!("node {}/server.mjs", project.display()),
            source,
        })?;
    let stdout = child.stdout.take();
    let (tx, lines) = std::sync::mpsc::channel();
    let server = Server { child, lines };
    std::thread::spawn(move || {
        let Some(out) = stdout else { return };
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match server.lines.recv_timeout(wait) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("listening ") {
                    break url.to_string();
                }
            }
            Err(_) => {
                return Err(fail(
                    "the test tus server",
                    format!(
                        "it did not start (is {} installed? run `scripts/setup.sh bench`)",
                        project.join("node_modules").display()
                    ),
                ));
            }
        }
    };
    Ok((server, url))
}

/// `mib` MiB of incompressible bytes (xorshift), written in 1 MiB blocks.
fn write_file(path: &Path, mib: u32) -> Result<(), BenchError> {
    let io = |e: std::io::Error| fail(&format!("writing {}", path.display()), e);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block).map_err(io)?;
    }
    f.flush().map_err(io)
}

/// Empties the server's store between rounds (the bench directory lives in RAM).
fn clear(store: &Path) {
    if let Ok(entries) = std::fs::read_dir(store) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn booth_once(
    rt: &tokio::runtime::Runtime,
    config: &Config,
    outbox: &Path,
    file: &Path,
) -> Result<Duration, BenchError> {
    rt.block_on(async {
        let (handle, mut events) = UploadService::start_with(config, outbox, Tuning::default())
            .map_err(|e| fail("booth upload", e))?;
        let id = uuid::Uuid::new_v4();
        let meta = AnswerMeta {
            interview_id: "bench".into(),
            candidate_id: "bench".into(),
            question_id: "q1".into(),
            attempt: 1,
            answer_id: id,
            filename: "answer.mp4".into(),
            candidate_ref: None,
        };
        handle
            .enqueue(file, meta)
            .await
            .map_err(|e| fail("booth upload", e))?;
        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(600), async {
            while let Some(event) = events.recv().await {
                match event {
                    UploadEvent::Delivered { .. } => return Ok(started.elapsed()),
                    UploadEvent::Refused { reason, .. } | UploadEvent::Waiting { reason, .. } => {
                        return Err(fail("booth upload", reason));
                    }
                    _ => {}
                }
            }
            Err(fail("booth upload", "the service stopped"))
        })
        .await
        .map_err(|_| fail("booth upload", "no delivery within 600 s"))?;
        handle.shutdown().await;
        outcome
    })
}

/// curl: a POST, then PATCHes of `parts` (file, offset) in one process and connection.
fn curl_once(url: &str, parts: &[(PathBuf, u64)], size: u64) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let auth = "Authorization: Bearer bench";
    let length = format!("Upload-Length: {size}");
    let out = run(
        "curl",
        &[
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-X",
            "POST",
            "-H",
            "Tus-Resumable: 1.0.0",
            "-H",
            &length,
            "-H",
            "Content-Length: 0",
            "-H",
            auth,
            url,
        ],
    )?;
    let headers = String::from_utf8_lossy(&out.stdout);
    let location = headers
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_string())
        })
        .ok_or_else(|| fail("curl POST", format!("no Location in:\n{headers}")))?;
    // -T streams the file (--data-binary would read it all into memory first); "Expect:" drops
    // the 100-continue round trip curl would add; --next keeps the connection for the next part.
    let mut args: Vec<String> = Vec::new();
    for (i, (part, offset)) in parts.iter().enumerate() {
        if i > 0 {
            args.push("--next".into());
        }
        args.extend(
            [
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}\n",
                "-X",
                "PATCH",
                "-H",
                "Expect:",
                "-H",
                "Tus-Resumable: 1.0.0",
                "-H",
                "Content-Type: application/offset+octet-stream",
                "-H",
                auth,
                "-T",
            ]
            .map(String::from),
        );
        args.push(path_str(part));
        args.push("-H".into());
        args.push(format!("Upload-Offset: {offset}"));
        args.push(location.clone());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run("curl", &refs)?;
    let elapsed = started.elapsed();
    let codes = String::from_utf8_lossy(&out.stdout);
    if codes.lines().count() != parts.len() || codes.lines().any(|c| c.trim() != "204") {
        return Err(fail("curl PATCH", format!("HTTP statuses {codes}")));
    }
    Ok(elapsed)
}

/// Splits `file` into part files of `lengths` bytes (for curl's chunked control run).
fn split(file: &Path, dir: &Path, lengths: &[u64]) -> Result<Vec<(PathBuf, u64)>, BenchError> {
    use std::io::Read;
    let io = |e: std::io::Error| fail(&format!("splitting {}", file.display()), e);
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut src = std::fs::File::open(file).map_err(io)?;
    let mut parts = Vec::new();
    let mut offset = 0u64;
    for &len in lengths {
        let mut block = Vec::new();
        let n = Read::by_ref(&mut src)
            .take(len)
            .read_to_end(&mut block)
            .map_err(io)?;
        let part = dir.join(format!("part-{:05}", parts.len()));
        std::fs::write(&part, &block).map_err(io)?;
        parts.push((part, offset));
        offset += n as u64;
    }
    Ok(parts)
}

/// A test tus server, a file of incompressible bytes and booth's config for it: what every
/// round of booth or curl sends, directly or through the shaping proxy.
pub(super) struct Rig {
    dir: tempfile::TempDir,
    pub file: PathBuf,
    store: PathBuf,
    pub size: u64,
    mib: u32,
    server: Server,
    /// The server's tus URL (`http://127.0.0.1:PORT/files`).
    pub url: String,
    config: Config,
    rt: tokio::runtime::Runtime,
}

impl Rig {
    pub fn new(
        base: &Path,
        mib: u32,
        chunk_mib: Option<u32>,
        project: &Path,
    ) -> Result<Rig, BenchError> {
        let dir = super::work_dir(base, "booth-bench-upload-")?;
        let file = dir.path().join("answer.mp4");
        let store = dir.path().join("store");
        std::fs::create_dir(&store).map_err(|e| fail("creating the store", e))?;
        write_file(&file, mib)?;
        let (server, url) = start_server(project, &store)?;
        let token = dir.path().join("token");
        std::fs::write(&token, "bench").map_err(|e| fail("writing the token", e))?;
        let mut config = Config::load(None).map_err(|e| fail("the built-in config", e))?;
        config = config.with_data_dir(dir.path().join("data"));
        config.upload.endpoint = Endpoint::Tus(url.clone());
        config.upload.token_file = token;
        config.upload.retention = Retention::Keep;
        if let Some(c) = chunk_mib {
            // A fixed chunk size, for comparison with the default growth.
            config.upload.chunk_bytes = u64::from(c.max(1)) << 20;
            config.upload.max_chunk_bytes = config.upload.chunk_bytes;
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| fail("the tokio runtime", e))?;
        Ok(Rig {
            dir,
            file,
            store,
            size: u64::from(mib) << 20,
            mib,
            server,
            url,
            config,
            rt,
        })
    }

    fn mib_per_s(&self, d: Duration) -> f64 {
        f64::from(self.mib) / d.as_secs_f64().max(1e-9)
    }

    /// booth uploading the file to `url` (the server's, or the proxy's in front of it).
    pub fn booth_round(&self, url: &str, round: usize) -> Result<f64, BenchError> {
        let outbox: PathBuf = self.dir.path().join(format!("outbox-{round}"));
        let mut config = self.config.clone();
        config.upload.endpoint = Endpoint::Tus(url.to_string());
        let speed = self.mib_per_s(booth_once(&self.rt, &config, &outbox, &self.file)?);
        check_stored(&self.store, self.size)?;
        clear(&self.store);
        Ok(speed)
    }

    /// curl sending `parts` to `url`, one PATCH each.
    pub fn curl_round(&self, url: &str, parts: &[(PathBuf, u64)]) -> Result<f64, BenchError> {
        let speed = self.mib_per_s(curl_once(url, parts, self.size)?);
        check_stored(&self.store, self.size)?;
        clear(&self.store);
        Ok(speed)
    }
}

pub(super) fn measure(
    base: &Path,
    mib: u32,
    chunk_mib: Option<u32>,
    project: &Path,
) -> Result<UploadFigure, BenchError> {
    console(&format!(
        "bench: upload, {mib} MiB to the test tus server (node) on loopback"
    ));
    let rig = Rig::new(base, mib, chunk_mib, project)?;
    let url = rig.url.as_str();
    // Warm-up, which also shows the chunks booth sends (the log holds nothing else yet).
    rig.booth_round(url, ROUNDS)?;
    let booth_chunks = rig.server.patch_lengths(rig.size)?;
    let single = vec![(rig.file.clone(), 0)];
    let parts = split(&rig.file, &rig.dir.path().join("parts"), &booth_chunks)?;
    rig.curl_round(url, &single)?;
    let (mut booth, mut curl, mut curl_chunked) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            booth.push(rig.booth_round(url, round)?);
            curl.push(rig.curl_round(url, &single)?);
            curl_chunked.push(rig.curl_round(url, &parts)?);
        } else {
            curl_chunked.push(rig.curl_round(url, &parts)?);
            curl.push(rig.curl_round(url, &single)?);
            booth.push(rig.booth_round(url, round)?);
        }
        console(&format!(
            "bench: upload round {}: booth {:.0} MiB/s, curl {:.0} MiB/s (ratio {:.2}), curl in booth's chunks {:.0} MiB/s",
            round + 1,
            booth[round],
            curl[round],
            booth[round] / curl[round].max(1e-9),
            curl_chunked[round]
        ));
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (ratios, chunked_ratios) = (
        paired_ratios(&booth, &curl),
        paired_ratios(&booth, &curl_chunked),
    );
    Ok(UploadFigure {
        file_mib: mib,
        booth_chunks_mib: booth_chunks
            .iter()
            .map(|&l| l as f64 / f64::from(1u32 << 20))
            .collect(),
        rounds: ROUNDS,
        booth_best_mib_per_s: best(&booth),
        curl_best_mib_per_s: best(&curl),
        booth_median_mib_per_s: median(booth),
        curl_median_mib_per_s: median(curl),
        booth_vs_curl: median(ratios.clone()),
        round_ratios: ratios,
        curl_chunked_median_mib_per_s: median(curl_chunked),
        booth_vs_curl_chunked: median(chunked_ratios),
        floor: FLOOR,
        chunked_floor: CHUNKED_FLOOR,
    })
}

/// The server stored exactly one upload of the whole size.
fn check_stored(store: &Path, size: u64) -> Result<(), BenchError> {
    let full = std::fs::read_dir(store)
        .map_err(|e| fail("reading the store", e))?
        .flatten()
        .filter(|e| e.path().extension().is_none())
        .filter(|e| e.metadata().is_ok_and(|m| m.len() == size))
        .count();
    if full == 1 {
        Ok(())
    } else {
        Err(fail(
            "the upload",
            format!("{full} complete uploads stored, expected 1"),
        ))
    }
}

pub(super) fn print(u: &UploadFigure, load: &str) {
    let below_floor = u.booth_vs_curl < u.floor;
    let chunks: Vec<String> = u
        .booth_chunks_mib
        .iter()
        .map(|c| format!("{c:.0}"))
        .collect();
    println!(
        "Upload ({} MiB to the loopback tus server; booth's PATCHes in MiB: {}; {load}): median of {} paired rounds booth / curl (one PATCH) {:.2} (floor {:.2}){}",
        u.file_mib,
        chunks.join(" "),
        u.rounds,
        u.booth_vs_curl,
        u.floor,
        if below_floor { "  BELOW THE FLOOR" } else { "" }
    );
    println!(
        "  medians: booth {:.0} MiB/s, curl {:.0} MiB/s; best: booth {:.0}, curl {:.0}; control, curl in booth's chunks: {:.0} MiB/s (booth / that {:.2}, floor {:.2}{})",
        u.booth_median_mib_per_s,
        u.curl_median_mib_per_s,
        u.booth_best_mib_per_s,
        u.curl_best_mib_per_s,
        u.curl_chunked_median_mib_per_s,
        u.booth_vs_curl_chunked,
        u.chunked_floor,
        if u.booth_vs_curl_chunked < u.chunked_floor {
            ", BELOW"
        } else {
            ""
        }
    );
}
