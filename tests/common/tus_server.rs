//! A real tus server on loopback for upload tests: `tests/tus-server/server.mjs` (npm
//! `@tus/server` + `@tus/file-store`, installed by `scripts/setup.sh test` with `npm ci`), run
//! with node in a temporary store directory. Tests judge delivery by what the server stored
//! there (`<id>` and `<id>.json`), never by booth's own report.

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

pub struct TusServer {
    store: tempfile::TempDir,
    options: TusOptions,
    port: u16,
    child: Option<Child>,
    watchdog: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl TusServer {
    pub fn start(options: TusOptions) -> TusServer {
        let modules = project_dir().join("node_modules/@tus/server");
        assert!(
            modules.is_dir(),
            "the test tus server is not installed ({} is missing): run `make test` or \
             `scripts/setup.sh test`, which runs `npm ci` in tests/tus-server",
            modules.display()
        );
        let store = tempfile::Builder::new()
            .prefix("booth-tus-store-")
            .tempdir()
            .expect("creating the tus store directory");
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

    /// Every upload in the store, from its `.json` info file and the data file beside it.
    pub fn uploads(&self) -> Vec<StoredUpload> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.store.path()).expect("listing the tus store") {
            let path = entry.expect("store entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("reading an upload's info file");
            let info: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()));
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
