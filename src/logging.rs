//! Where messages go. booth's own diagnostics go through `tracing`, to a log file or to the
//! console; the C libraries it links (OpenH264, ALSA) print straight to file descriptor 2, so
//! that descriptor is replaced by a pipe whose lines become `native` log events. The console
//! itself stays reachable through a duplicate of the original stderr, and a TUI that owns the
//! terminal is never scribbled on.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::sync::lock;

/// The terminal's original stderr, kept after fd 2 is redirected.
static CONSOLE: OnceLock<Arc<Mutex<File>>> = OnceLock::new();

/// Set once logging goes to a file rather than the console.
static TO_FILE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `tracing` output lands in a file (so console messages are not duplicates).
pub fn logs_to_file() -> bool {
    TO_FILE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes a line to the original stderr (or fd 2 before redirection).
pub fn console(line: &str) {
    match CONSOLE.get() {
        Some(c) => {
            let mut f = lock(c);
            let _ = writeln!(f, "{line}");
        }
        None => eprintln!("{line}"),
    }
}

/// Whether the console (the original stderr) is a terminal, where a progress line can be
/// redrawn in place.
pub fn console_is_terminal() -> bool {
    use std::io::IsTerminal;
    match CONSOLE.get() {
        Some(c) => lock(c).is_terminal(),
        None => io::stderr().is_terminal(),
    }
}

/// Redraws one status line in place on a terminal console (`\r`, text, clear to the end of
/// the line); the next [`console`] line should start with a newline via [`console_end_line`].
pub fn console_status(line: &str) {
    let text = format!("\r{line}\x1b[K");
    match CONSOLE.get() {
        Some(c) => {
            let mut f = lock(c);
            let _ = f.write_all(text.as_bytes());
        }
        None => {
            let _ = io::stderr().write_all(text.as_bytes());
        }
    }
}

/// Clears a status line drawn with [`console_status`].
pub fn console_end_line() {
    console_status("");
}

#[derive(Clone)]
struct ConsoleWriter;

impl Write for ConsoleWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match CONSOLE.get() {
            Some(c) => lock(c).write(buf),
            None => io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ConsoleWriter {
    type Writer = ConsoleWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Moves fd 2 onto a pipe drained into `tracing` (target `native`), keeping a handle on the
/// original stderr for [`console`]. Safe to call once; later calls do nothing.
pub fn capture_native_stderr() -> io::Result<()> {
    if CONSOLE.get().is_some() {
        return Ok(());
    }
    let original = rustix::io::dup(io::stderr().as_fd())?;
    let (read, write) = rustix::pipe::pipe()?;
    rustix::stdio::dup2_stderr(&write)?;
    drop(write);
    let _ = CONSOLE.set(Arc::new(Mutex::new(File::from(original))));
    std::thread::Builder::new()
        .name("booth-native-stderr".into())
        .spawn(move || {
            for line in BufReader::new(File::from(read)).lines() {
                match line {
                    Ok(l) if !l.trim().is_empty() => tracing::debug!(target: "native", "{l}"),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        })?;
    Ok(())
}

/// Logging for the command line: to `log_file` when given, else to the console at `warn`
/// (overridable with `RUST_LOG`). Returns a guard to keep for the life of the program.
pub fn init_cli(log_file: Option<&Path>, json: bool) -> io::Result<Option<LogGuard>> {
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,native=off"));
    match log_file {
        Some(path) => {
            let guard = init_file(path, json, "info,native=debug")?;
            Ok(Some(guard))
        }
        None => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_writer(ConsoleWriter)
                .with_target(false)
                .without_time()
                .try_init();
            Ok(None)
        }
    }
}

/// Keeps the non-blocking file writer flushing until dropped.
pub struct LogGuard {
    _guard: tracing_appender::non_blocking::WorkerGuard,
}

/// Logging to a file (appended, 0600), for `--log-file`.
pub fn init_file(path: &Path, json: bool, default_filter: &str) -> io::Result<LogGuard> {
    crate::fsutil::create_parent_dir(path).map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode_private()
        .open(path)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    install(writer, json, default_filter);
    Ok(LogGuard { _guard: guard })
}

/// The name of the link to the current day's kiosk log, for `tail -f`.
pub const CURRENT_LOG: &str = "booth.log";

/// The kiosk's log: one file a day (UTC) under `dir`, `booth.YYYY-MM-DD.log`, at most
/// `keep_files` of them (the oldest are deleted at start and at each rollover), with
/// [`CURRENT_LOG`] pointing at today's. The directory is created 0700, which is what keeps the
/// files private: the appender creates them with the default mode.
pub fn init_rolling(
    dir: &Path,
    json: bool,
    keep_files: u32,
    default_filter: &str,
) -> io::Result<LogGuard> {
    let appender = rolling_appender(dir, keep_files)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    install(writer, json, default_filter);
    Ok(LogGuard { _guard: guard })
}

/// The daily appender behind [`init_rolling`].
pub fn rolling_appender(
    dir: &Path,
    keep_files: u32,
) -> io::Result<tracing_appender::rolling::RollingFileAppender> {
    use tracing_appender::rolling::{RollingFileAppender, Rotation};
    crate::fsutil::create_private_dir(dir).map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
    // Earlier versions wrote one growing booth.log; the link would delete it. It is kept
    // under a dated-looking name, so it ages out with the daily files.
    let current = dir.join(CURRENT_LOG);
    if std::fs::symlink_metadata(&current).is_ok_and(|m| m.is_file()) {
        std::fs::rename(&current, dir.join("booth.before-daily.log"))?;
    }
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("booth")
        .filename_suffix("log")
        .max_log_files(keep_files.max(1) as usize)
        .latest_symlink(CURRENT_LOG)
        .build(dir)
        .map_err(io::Error::other)
}

/// The subscriber the log files use: text or JSON lines, no colours, spans included (the
/// kiosk's `session` span names the candidate session each line belongs to).
pub fn file_subscriber<W>(
    writer: W,
    json: bool,
    filter: EnvFilter,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    if json {
        Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        )
    } else {
        Box::new(builder.finish())
    }
}

fn install<W>(writer: W, json: bool, default_filter: &str)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::util::SubscriberInitExt;
    TO_FILE.store(true, std::sync::atomic::Ordering::Relaxed);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // A second call (tests running several front ends in one process) keeps the first.
    let _ = file_subscriber(writer, json, filter).try_init();
}

trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for std::fs::OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(crate::fsutil::FILE_MODE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_log_has_spans_keeps_few_files_and_links_today() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs)?;
        // An old single log and older daily files than we keep.
        std::fs::write(logs.join(CURRENT_LOG), "old log\n")?;
        for day in ["2001-01-01", "2001-01-02", "2001-01-03"] {
            std::fs::write(logs.join(format!("booth.{day}.log")), "x\n")?;
        }
        for json in [false, true] {
            let appender = rolling_appender(&logs, 2)?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let sub = file_subscriber(writer, json, EnvFilter::new("info"));
            tracing::subscriber::with_default(sub, || {
                let span = tracing::info_span!("session", id = "sess-42");
                span.in_scope(|| tracing::info!(json, "inside the session"));
            });
            drop(guard);
        }
        let text = std::fs::read_to_string(logs.join(CURRENT_LOG))?;
        assert!(
            text.contains("session{id=\"sess-42\"}: booth::logging::tests: inside the session"),
            "{text}"
        );
        let json_line = text
            .lines()
            .find(|l| l.starts_with('{'))
            .ok_or("no JSON line in the log")?;
        let v: serde_json::Value = serde_json::from_str(json_line)?;
        assert_eq!(v["span"]["id"], "sess-42", "{v}");
        assert_eq!(v["fields"]["message"], "inside the session");
        assert!(
            std::fs::symlink_metadata(logs.join(CURRENT_LOG))?
                .file_type()
                .is_symlink()
        );
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&logs)? {
            files.push(
                entry?
                    .file_name()
                    .into_string()
                    .map_err(|n| format!("{n:?}"))?,
            );
        }
        files.retain(|n| n != CURRENT_LOG);
        files.sort();
        // At most two files, today's among them; the oldest went.
        assert!(files.len() <= 2, "{files:?}");
        let today = crate::clock::rfc3339(crate::clock::unix_now())[..10].to_string();
        assert!(files.contains(&format!("booth.{today}.log")), "{files:?}");
        assert!(
            !files.iter().any(|f| f.starts_with("booth.2001-01-01")),
            "{files:?}"
        );
        Ok(())
    }

    /// A writer into memory, to read back what a subscriber wrote.
    #[derive(Clone, Default)]
    struct Memory(Arc<Mutex<Vec<u8>>>);

    impl Write for Memory {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| panic!("the memory log: {e}"))
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Memory {
        type Writer = Memory;
        fn make_writer(&'a self) -> Memory {
            self.clone()
        }
    }

    #[test]
    fn tokens_and_pins_never_reach_the_log() -> crate::TestResult {
        use crate::config::Config;
        let dir = tempfile::tempdir()?;
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "tok-5ecret-9f8e7d\n")?;
        let config = Config::parse(
            &format!(
                "[upload]\nendpoint = \"http://127.0.0.1:9/files/\"\ntoken_file = \"{}\"\n",
                token_file.display()
            ),
            Path::new("/etc/booth/config.toml"),
        )?;
        let token = config.upload.token()?;
        // BOOTH_UPLOAD_TOKEN may override the file; whatever token is in force must not leak.
        let secret = token.expose().to_string();
        let pin = "24681357";
        // A real request carrying the token, to a port nobody listens on.
        let tus_error = {
            let t = token.clone();
            let source: crate::upload::tus::TokenSource = Arc::new(move || Ok(t.clone()));
            let client = crate::upload::tus::TusClient::new(
                "http://127.0.0.1:9/files/",
                false,
                source,
                &crate::upload::Tuning::default(),
            )?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(client.discover()).unwrap_err()
        };
        for json in [false, true] {
            let memory = Memory::default();
            let sub = file_subscriber(memory.clone(), json, EnvFilter::new("trace"));
            tracing::subscriber::with_default(sub, || {
                let span = tracing::info_span!("session", id = "s-1");
                span.in_scope(|| {
                    tracing::info!(?config, "config");
                    tracing::info!(?token, upload = ?config.upload, "token");
                    tracing::debug!(
                        effect = ?crate::app::msg::Effect::CheckPin { pin: pin.into() },
                        "effect"
                    );
                    tracing::warn!(error = %tus_error, debug = ?tus_error, "upload failed");
                });
            });
            let bytes = memory.0.lock().map_err(|e| e.to_string())?.clone();
            let text = String::from_utf8(bytes)?;
            assert!(text.contains("<redacted>"), "{text}");
            assert!(text.contains("127.0.0.1:9"), "{text}");
            assert!(!text.contains(&secret), "the token leaked:\n{text}");
            assert!(!text.contains(pin), "the PIN leaked:\n{text}");
        }
        Ok(())
    }
}
