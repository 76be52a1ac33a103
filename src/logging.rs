//! Where messages go. booth's own diagnostics go through `tracing`, to a log file or to the
//! console; the C libraries it links (OpenH264, ALSA) print straight to file descriptor 2, so
//! that descriptor is replaced by a pipe whose lines become `native` log events. The console
//! itself stays reachable through a duplicate of the original stderr, and a TUI that owns the
//! terminal is never scribbled on.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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
            let mut f = c.lock().unwrap_or_else(PoisonError::into_inner);
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
        Some(c) => c
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_terminal(),
        None => io::stderr().is_terminal(),
    }
}

/// Redraws one status line in place on a terminal console (`\r`, text, clear to the end of
/// the line); the next [`console`] line should start with a newline via [`console_end_line`].
pub fn console_status(line: &str) {
    let text = format!("\r{line}\x1b[K");
    match CONSOLE.get() {
        Some(c) => {
            let mut f = c.lock().unwrap_or_else(PoisonError::into_inner);
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
            Some(c) => c.lock().unwrap_or_else(PoisonError::into_inner).write(buf),
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

/// Logging to a file (appended, 0600), for the kiosk and for `--log-file`.
pub fn init_file(path: &Path, json: bool, default_filter: &str) -> io::Result<LogGuard> {
    crate::fsutil::create_parent_dir(path).map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode_private()
        .open(path)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    TO_FILE.store(true, std::sync::atomic::Ordering::Relaxed);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    Ok(LogGuard { _guard: guard })
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
