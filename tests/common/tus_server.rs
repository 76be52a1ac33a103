//! A real tus server on loopback for upload tests: `tests/tus-server/server.mjs` (npm
//! `@tus/server` + `@tus/file-store`, installed by `scripts/setup.sh test` with `npm ci`), run
//! with node in a temporary store directory. Tests judge delivery by what the server stored
//! there (`<id>` and `<id>.json`), never by booth's own report, and what happened on the wire
//! by the server's log ([`Seen`]): where each PATCH started and where the server's answer left
//! the upload, which is how a fault is shown to have landed mid-transfer. Several servers can
//! share one store ([`TusServer::start_shared`]), locking uploads in a shared folder.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The node project of the test server.
pub fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tus-server")
}

/// How the server behaves (see server.mjs).
#[derive(Debug, Clone, Default)]
pub struct TusOptions {
    /// Bytes; 0 = unlimited.
    pub max_size: u64,
    /// Enforce `max_size` (413 on creation) without announcing it in OPTIONS.
    pub hide_max_size: bool,
    /// Unfinished uploads expire after this many milliseconds; 0 = never.
    pub expire_ms: u64,
    /// Announce and verify `Upload-Checksum: sha1`.
    pub checksum: bool,
    /// Bytes; a larger PATCH body gets 413 (0 = no limit).
    pub max_patch: u64,
    /// Require `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Announce new uploads on this origin instead of its own.
    pub location_origin: Option<String>,
    /// The first N PATCHes are answered 204 at the offset they came at; their bytes are dropped.
    pub ignore_patches: u32,
}

/// One line of the server's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Listening,
    Created {
        id: String,
        size: u64,
    },
    /// A PATCH as it arrived: booth's offset and the body's length.
    Patch {
        id: String,
        offset: u64,
        length: u64,
    },
    /// A PATCH as it was answered; `offset` is where the answer left the upload (for a PATCH
    /// cut short, what the server kept).
    Patched {
        id: String,
        from: u64,
        status: u16,
        offset: Option<u64>,
    },
    Head {
        id: String,
        status: u16,
        offset: Option<u64>,
        /// Milliseconds since the server started.
        at_ms: u64,
    },
    /// A PATCH answered 204 without keeping a byte (`ignore_patches`).
    Ignored {
        id: String,
        offset: u64,
        at_ms: u64,
    },
    ChecksumMismatch {
        id: String,
        offset: u64,
    },
    Finished {
        id: String,
    },
    Other(String),
}

impl Seen {
    fn parse(line: &str) -> Seen {
        let mut words = line.split(' ');
        let kind = words.next().unwrap_or_default();
        let id = words.next().unwrap_or_default().to_string();
        let fields: HashMap<&str, &str> = words.filter_map(|w| w.split_once('=')).collect();
        let num = |k: &str| fields.get(k).and_then(|v| v.parse::<u64>().ok());
        let seen = match kind {
            "listening" => Some(Seen::Listening),
            "created" => num("size").map(|size| Seen::Created { id, size }),
            "patch" => num("offset")
                .zip(num("length"))
                .map(|(offset, length)| Seen::Patch { id, offset, length }),
            "patched" => num("from")
                .zip(num("status"))
                .map(|(from, status)| Seen::Patched {
                    id,
                    from,
                    status: status as u16,
                    offset: num("offset"),
                }),
            "head" => num("status")
                .zip(num("at"))
                .map(|(status, at_ms)| Seen::Head {
                    id,
                    status: status as u16,
                    offset: num("offset"),
                    at_ms,
                }),
            "patch-ignored" => num("offset")
                .zip(num("at"))
                .map(|(offset, at_ms)| Seen::Ignored { id, offset, at_ms }),
            "checksum-mismatch" => {
                num("offset").map(|offset| Seen::ChecksumMismatch { id, offset })
            }
            "finished" => Some(Seen::Finished { id }),
            _ => None,
        };
        seen.unwrap_or_else(|| Seen::Other(line.to_string()))
    }

    /// The upload it is about, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            Seen::Created { id, .. }
            | Seen::Patch { id, .. }
            | Seen::Patched { id, .. }
            | Seen::Head { id, .. }
            | Seen::Ignored { id, .. }
            | Seen::ChecksumMismatch { id, .. }
            | Seen::Finished { id } => Some(id),
            Seen::Listening | Seen::Other(_) => None,
        }
    }
}

/// A PATCH the server answered at an offset strictly inside it: it was cut short mid-transfer
/// and the server kept `kept - from` of its `length` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialPatch {
    pub id: String,
    pub from: u64,
    pub length: u64,
    pub kept: u64,
    /// Its answer's place in [`TusServer::events`].
    pub index: usize,
}

/// One upload as the server stored it.
#[derive(Debug, Clone)]
pub struct StoredUpload {
    pub id: String,
    /// Upload-Length as declared at creation.
    pub size: Option<u64>,
    /// Bytes in the stored file.
    pub stored: u64,
    pub metadata: HashMap<String, String>,
    pub path: PathBuf,
}

impl StoredUpload {
    pub fn complete(&self) -> bool {
        self.size == Some(self.stored)
    }

    pub fn sha256(&self) -> String {
        sha256_file(&self.path)
    }
}

/// Lowercase hex sha256 of a file.
pub fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a server keeps its uploads: a store of its own, or one it shares with other servers.
enum Store {
    Own(tempfile::TempDir),
    Shared { dir: PathBuf, locks: PathBuf },
}

impl Store {
    fn path(&self) -> &Path {
        match self {
            Store::Own(dir) => dir.path(),
            Store::Shared { dir, .. } => dir,
        }
    }
}

pub struct TusServer {
    store: Store,
    options: TusOptions,
    port: u16,
    child: Option<Child>,
    watchdog: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl TusServer {
    pub fn start(options: TusOptions) -> TusServer {
        let store = tempfile::Builder::new()
            .prefix("booth-tus-store-")
            .tempdir()
            .expect("creating the tus store directory");
        TusServer::start_in(options, Store::Own(store))
    }

    /// One of several servers on one store (`dir`), locking uploads in `locks` (a folder they
    /// all use), as instances of a platform scaled out behind a load balancer.
    pub fn start_shared(options: TusOptions, dir: &Path, locks: &Path) -> TusServer {
        let store = Store::Shared {
            dir: dir.to_path_buf(),
            locks: locks.to_path_buf(),
        };
        TusServer::start_in(options, store)
    }

    fn start_in(options: TusOptions, store: Store) -> TusServer {
        for package in ["@tus/server", "@tus/file-store", "proper-lockfile"] {
            let modules = project_dir().join("node_modules").join(package);
            assert!(
                modules.is_dir(),
                "the test tus server is not installed ({} is missing): run `make test` or \
                 `scripts/setup.sh test`, which runs `npm ci` in tests/tus-server",
                modules.display()
            );
        }
        let mut server = TusServer {
            store,
            options,
            port: 0,
            child: None,
            watchdog: None,
            log: Arc::new(Mutex::new(String::new())),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(project_dir())
            .env("TUS_HOST", "127.0.0.1")
            .env("TUS_PORT", self.port.to_string())
            .env("TUS_DIR", self.store.path())
            .env(
                "TUS_LOCK_DIR",
                match &self.store {
                    Store::Shared { locks, .. } => locks.as_os_str(),
                    Store::Own(_) => std::ffi::OsStr::new(""),
                },
            )
            .env("TUS_EXPIRE_MS", self.options.expire_ms.to_string())
            .env("TUS_MAX_SIZE", self.options.max_size.to_string())
            .env(
                "TUS_HIDE_MAX_SIZE",
                if self.options.hide_max_size { "1" } else { "0" },
            )
            .env(
                "TUS_CHECKSUM",
                if self.options.checksum { "1" } else { "0" },
            )
            .env("TUS_MAX_PATCH", self.options.max_patch.to_string())
            .env("TUS_TOKEN", self.options.token.clone().unwrap_or_default())
            .env(
                "TUS_LOCATION_ORIGIN",
                self.options.location_origin.clone().unwrap_or_default(),
            )
            .env(
                "TUS_IGNORE_PATCHES",
                self.options.ignore_patches.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run node (Debian package `nodejs`; run `make test`): {e}")
        });
        // Kills the server if this test process dies without dropping it.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#"cat >/dev/null; kill -KILL "$0" 2>/dev/null"#)
            .arg(child.id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the watchdog for the tus server");
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("server stdout");
        let stderr = child.stderr.take().expect("server stderr");
        for (stream, tx) in [
            (Box::new(stdout) as Box<dyn std::io::Read + Send>, Some(tx)),
            (Box::new(stderr), None),
        ] {
            let log = self.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let (Some(tx), Some(url)) = (&tx, line.strip_prefix("listening ")) {
                        let _ = tx.send(url.to_string());
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let url = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("the tus server did not start within 20 s:\n{}", self.log())
            });
        let port = url
            .rsplit(':')
            .next()
            .and_then(|s| s.split('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url}"));
        self.port = port;
        self.child = Some(child);
        self.watchdog = Some(watchdog);
    }

    /// `http://127.0.0.1:<port>/files`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/files", self.port)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Kills the server (as a crash would) and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Everything the server printed.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the server's output contains `needle` (panics after `timeout`).
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "the tus server never printed {needle:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line of the log so far, parsed.
    pub fn events(&self) -> Vec<Seen> {
        self.log().lines().map(Seen::parse).collect()
    }

    /// How many lines the log has: events from here on are [`TusServer::events`]`[mark..]`.
    pub fn mark(&self) -> usize {
        self.log().lines().count()
    }

    /// Waits until `found` finds something in the events (panics after `timeout`).
    pub fn wait_for_event<T>(
        &self,
        timeout: Duration,
        mut found: impl FnMut(&[Seen]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(t) = found(&self.events()) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "the tus server's log never showed what the test waited for:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a PATCH of `id` (any upload when `None`) is answered 204 at an offset
    /// between 0 and `size` (both excluded): the server holds part of the upload. Returns it.
    pub fn wait_for_partial_offset(&self, id: Option<&str>, size: u64) -> u64 {
        self.wait_for_event(Duration::from_secs(30), |events| {
            events.iter().find_map(|e| match e {
                Seen::Patched {
                    id: i,
                    status: 204,
                    offset: Some(o),
                    ..
                } if id.is_none_or(|id| id == i) && 0 < *o && *o < size => Some(*o),
                _ => None,
            })
        })
    }

    /// Every PATCH the server answered at an offset strictly inside it (cut short
    /// mid-transfer), with where it started and how long it was.
    pub fn partial_patches(&self) -> Vec<PartialPatch> {
        let events = self.events();
        let mut out = Vec::new();
        for (index, e) in events.iter().enumerate() {
            let Seen::Patched {
                id,
                from,
                offset: Some(kept),
                ..
            } = e
            else {
                continue;
            };
            let length = events[..index].iter().rev().find_map(|p| match p {
                Seen::Patch {
                    id: i,
                    offset,
                    length,
                } if i == id && offset == from => Some(*length),
                _ => None,
            });
            if let Some(length) = length
                && *from < *kept
                && *kept < from + length
            {
                out.push(PartialPatch {
                    id: id.clone(),
                    from: *from,
                    length,
                    kept: *kept,
                    index,
                });
            }
        }
        out
    }

    /// The next PATCH of `id` after event `index`: its offset, and its answer's status (`None`
    /// if it was never answered).
    pub fn next_patch(&self, id: &str, index: usize) -> Option<(u64, Option<u16>)> {
        let events = self.events();
        let (at, offset) =
            events
                .iter()
                .enumerate()
                .skip(index + 1)
                .find_map(|(i, e)| match e {
                    Seen::Patch { id: p, offset, .. } if p == id => Some((i, *offset)),
                    _ => None,
                })?;
        let status = events[at + 1..].iter().find_map(|e| match e {
            Seen::Patched {
                id: p,
                from,
                status,
                ..
            } if p == id && *from == offset => Some(*status),
            _ => None,
        });
        Some((offset, status))
    }

    /// The status the server answers a HEAD of upload `id` with (no token is sent).
    pub fn head_status(&self, id: &str) -> u16 {
        use std::io::{Read, Write};
        let mut s =
            std::net::TcpStream::connect(self.addr()).expect("connecting to the tus server");
        write!(
            s,
            "HEAD /files/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n\
             Connection: close\r\n\r\n"
        )
        .expect("sending a HEAD to the tus server");
        let mut reply = String::new();
        s.read_to_string(&mut reply)
            .expect("reading the tus server's answer");
        reply
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status in the tus server's answer: {reply:?}"))
    }

    /// Waits until the server says upload `id` is gone (404 or 410: expired or deleted).
    pub fn wait_until_gone(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(self.head_status(id), 404 | 410) {
            assert!(
                Instant::now() < deadline,
                "upload {id} never went away:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The body length of every PATCH the server received, in order.
    pub fn patch_lengths(&self) -> Vec<u64> {
        self.log()
            .lines()
            .filter(|l| l.starts_with("patch "))
            .filter_map(|l| l.rsplit("length=").next()?.parse().ok())
            .collect()
    }

    pub fn store(&self) -> &Path {
        self.store.path()
    }

    /// Whether the server process is running (not killed, or restarted since).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Every upload in the store, from its `.json` info file and the data file beside it.
    pub fn uploads(&self) -> Vec<StoredUpload> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.store.path()).expect("listing the tus store") {
            let path = entry.expect("store entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            // The server rewrites an info file in place: a read can catch it half-written,
            // so read again until it parses. One that stays empty was being created when its
            // server was killed (@tus/file-store writes it in place, not atomically): an
            // upload nobody was told about, holding no answer.
            let mut tries = 0;
            let info: serde_json::Value = loop {
                let text = std::fs::read_to_string(&path).expect("reading an upload's info file");
                match serde_json::from_str(&text) {
                    Ok(v) => break v,
                    Err(_) if tries > 1000 && text.is_empty() => {
                        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                        break serde_json::json!({ "id": stem });
                    }
                    Err(e) if tries > 1000 => panic!("{}: {e}: {text}", path.display()),
                    Err(_) => {
                        tries += 1;
                        std::thread::yield_now();
                    }
                }
            };
            let id = info["id"].as_str().expect("upload id").to_string();
            let data = self.store.path().join(&id);
            let metadata = info["metadata"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(StoredUpload {
                id,
                size: info["size"].as_u64(),
                stored: std::fs::metadata(&data).map(|m| m.len()).unwrap_or(0),
                metadata,
                path: data,
            });
        }
        out
    }
}

impl Drop for TusServer {
    fn drop(&mut self) {
        self.kill();
    }
}
