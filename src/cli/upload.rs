//! `booth upload [--config FILE] [MP4 ...]`: queue the given recordings (operators re-sending
//! files made with `booth record`), then drain the station's outbox in the foreground with a
//! progress line on stderr. Exit 0 only when every item is delivered (or was abandoned by the
//! operator); 1 otherwise, with each item's reason; 4 as soon as the endpoint refuses in a way
//! only the configuration can fix (no token, a refused token, no creation URL, a chunk size
//! the route refuses), naming the file, URL or status and the fix, since retrying would only
//! hang a script. Network and server trouble is retried as before. `--abandon ID` terminates
//! uploads instead.
//!
//! Queued files get their metadata from the command line, else from the file name
//! (`<candidate>--<question>--<attempt>.mp4`, or just `<question>.mp4`) and the config (the
//! interview file's id). Their answer id comes from their content, so sending the same file
//! twice never makes two answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::queue::{human_bytes, load_config};
use super::{Exit, report_error};
use crate::config::Config;
use crate::interview::Catalog;
use crate::logging::{console, console_end_line, console_is_terminal, console_status};
use crate::names::AnswerName;
use crate::upload::{
    AnswerMeta, EndpointProblem, ItemId, ItemView, State, Tuning, UploadError, UploadEvent,
    UploadHandle, UploadService, answer_id_for, hash_file, outbox_dir,
};

#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// Station config (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Recordings to queue before draining the outbox.
    #[arg(value_name = "MP4")]
    pub files: Vec<PathBuf>,
    /// Interview id for the files (default: the config's default interview's id).
    #[arg(long, value_name = "ID")]
    pub interview: Option<String>,
    /// Candidate or invitation id for the files (default: from the file name).
    #[arg(long, value_name = "ID")]
    pub candidate: Option<String>,
    /// The candidate's code for the files (sent as `candidate_ref`; default: none).
    #[arg(long, value_name = "CODE")]
    pub candidate_ref: Option<String>,
    /// Question id for the files (default: from the file name).
    #[arg(long, value_name = "ID")]
    pub question: Option<String>,
    /// Attempt number for the files (default: from the file name, else 1).
    #[arg(long, value_name = "N")]
    pub attempt: Option<u32>,
    /// Give up when nothing has moved for this many seconds (0: wait for ever); the last one given wins.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 300,
        overrides_with = "patience"
    )]
    pub patience: u64,
    /// Requeue items the server refused (or that were abandoned) before draining.
    #[arg(long)]
    pub retry_refused: bool,
    /// Abandon these items instead: terminate their uploads on the server and keep the files.
    #[arg(long, value_name = "ID")]
    pub abandon: Vec<ItemId>,
    /// Seconds without progress before a request is dropped.
    #[arg(long, hide = true, value_name = "SECONDS")]
    pub stall_timeout: Option<f64>,
    /// First retry delay in milliseconds.
    #[arg(long, hide = true, value_name = "MS")]
    pub retry_min_ms: Option<u64>,
    /// Longest retry delay in milliseconds.
    #[arg(long, hide = true, value_name = "MS")]
    pub retry_max_ms: Option<u64>,
}

pub fn run(args: &UploadArgs) -> Exit {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    runtime.block_on(drain(args.clone(), config))
}

fn tuning(args: &UploadArgs) -> Tuning {
    let mut t = Tuning::default();
    if let Some(s) = args.stall_timeout.filter(|s| *s > 0.0 && s.is_finite()) {
        t.stall_timeout = Duration::from_secs_f64(s);
    }
    if let Some(ms) = args.retry_min_ms {
        t.retry_min = Duration::from_millis(ms);
    }
    if let Some(ms) = args.retry_max_ms {
        t.retry_max = Duration::from_millis(ms).max(t.retry_min);
    }
    t
}

async fn drain(args: UploadArgs, config: Config) -> Exit {
    let (handle, mut events) =
        match UploadService::start_with(&config, &outbox_dir(&config), tuning(&args)) {
            Ok(started) => started,
            Err(e) => {
                report_error(&e);
                return match e {
                    UploadError::PlainHttp { .. } | UploadError::BadUrl { .. } => Exit::BadInput,
                    _ => Exit::Failed,
                };
            }
        };
    if !args.abandon.is_empty() {
        return abandon(handle, &args.abandon).await;
    }
    let exit = prepare(&handle, &args, &config).await;
    let mut line = ProgressLine::new();
    let stop = watch(&handle, &mut events, &mut line, args.patience).await;
    // Stop the deliveries first, so every event they sent is in the channel.
    handle.clone().shutdown().await;
    let refused = matches!(stop, Some(Stop::Refused(_)));
    while let Ok(event) = events.try_recv() {
        // "Retrying in …" would be untrue: this run ends here.
        if !(refused && matches!(event, UploadEvent::Waiting { .. })) {
            line.event(&event, &handle);
        }
    }
    line.finish();
    let items = handle.snapshot();
    match stop {
        None => summarize(&items, exit),
        Some(Stop::Paused(why)) => {
            console(&format!(
                "upload: {why}; everything not delivered stays queued"
            ));
            summarize(&items, exit)
        }
        Some(Stop::Failed(e)) => {
            report_error(&e);
            match summarize(&items, exit) {
                Exit::Ok => Exit::Failed,
                other => other,
            }
        }
        Some(Stop::Refused(problem)) => {
            let exit = summarize(&items, exit);
            console(&format!(
                "upload: the upload endpoint refuses: {problem}; everything not delivered stays \
                 queued"
            ));
            console(&format!("upload: fix: {}", problem.fix()));
            // A bad file on the command line still says so first.
            if exit == Exit::BadInput {
                exit
            } else {
                Exit::Endpoint
            }
        }
    }
}

/// `--abandon`: gives the items up (their uploads terminated, their files kept).
async fn abandon(handle: UploadHandle, ids: &[ItemId]) -> Exit {
    let mut exit = Exit::Ok;
    for id in ids {
        match handle.abandon(*id).await {
            Ok(()) => console(&format!("upload: {id} abandoned; its file is kept")),
            Err(e) => {
                report_error(&e);
                exit = Exit::Failed;
            }
        }
    }
    handle.shutdown().await;
    exit
}

/// Queues the command line's files and requeues refused items if asked; `BadInput` when a
/// file could not be queued.
async fn prepare(handle: &UploadHandle, args: &UploadArgs, config: &Config) -> Exit {
    let mut exit = Exit::Ok;
    let interview_id = default_interview(args, config);
    for file in &args.files {
        match queue_file(handle, file, args, &interview_id).await {
            Ok(id) => console(&format!("upload: queued {} as {id}", file.display())),
            Err(e) => {
                report_error(&e);
                exit = Exit::BadInput;
            }
        }
    }
    if args.retry_refused {
        for v in handle.snapshot() {
            if matches!(v.state, State::Refused | State::Abandoned)
                && let Err(e) = handle.retry(v.id).await
            {
                report_error(&e);
            }
        }
    }
    exit
}

/// Why the foreground drain stopped before every item had finished.
enum Stop {
    /// Nothing moved for the patience, or a signal: what is left stays queued.
    Paused(String),
    /// The endpoint refuses until the configuration is fixed: retrying would only hang.
    Refused(EndpointProblem),
    /// The signal handlers could not be set up.
    Failed(std::io::Error),
}

/// Shows progress until every item has finished (`None`) or something stops the drain.
async fn watch(
    handle: &UploadHandle,
    events: &mut mpsc::UnboundedReceiver<UploadEvent>,
    line: &mut ProgressLine,
    patience: u64,
) -> Option<Stop> {
    let (mut int, mut term) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return Some(Stop::Failed(e)),
    };
    let mut last_move = Instant::now();
    let mut health = handle.health_changes();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while !handle.is_idle() {
        if let Some(problem) = handle.health().problem {
            return Some(Stop::Refused(problem));
        }
        tokio::select! {
            _ = health.changed() => {}
            event = events.recv() => {
                // No more events: the service is gone, nothing more will move.
                let event = event?;
                if let Some(problem) = handle.health().problem {
                    return Some(Stop::Refused(problem));
                }
                if !matches!(event, UploadEvent::Waiting { .. }) {
                    last_move = Instant::now();
                }
                line.event(&event, handle);
            }
            _ = tick.tick() => {
                if patience > 0 && last_move.elapsed() > Duration::from_secs(patience) {
                    let why = format!("nothing moved for {patience} s; giving up for now");
                    return Some(Stop::Paused(why));
                }
                line.draw(handle, false);
            }
            _ = int.recv() => return Some(Stop::Paused("interrupted".into())),
            _ = term.recv() => return Some(Stop::Paused("terminated".into())),
        }
    }
    None
}

fn summarize(items: &[ItemView], mut exit: Exit) -> Exit {
    let delivered = items.iter().filter(|v| v.state == State::Delivered).count();
    for v in items
        .iter()
        .filter(|v| !matches!(v.state, State::Delivered | State::Abandoned))
    {
        exit = if exit == Exit::Ok { Exit::Failed } else { exit };
        let reason = v
            .waiting
            .as_deref()
            .or(v.last_error.as_deref())
            .unwrap_or("not started");
        console(&format!(
            "upload: {} {} ({}): {} — {reason}",
            v.id,
            v.filename,
            v.path.display(),
            v.state
        ));
    }
    console(&format!(
        "upload: {delivered} of {} delivered",
        items.iter().filter(|v| v.state != State::Abandoned).count()
    ));
    exit
}

fn default_interview(args: &UploadArgs, config: &Config) -> String {
    if let Some(id) = &args.interview {
        return id.clone();
    }
    if args.files.is_empty() {
        return String::new();
    }
    match Catalog::load(&config.interview) {
        Ok(c) => c.default_interview().id.clone(),
        Err(e) => {
            console(&format!(
                "upload: no interview id ({e}); the files go as interview \"unknown\" (use --interview)"
            ));
            "unknown".to_string()
        }
    }
}

async fn queue_file(
    handle: &UploadHandle,
    file: &Path,
    args: &UploadArgs,
    interview_id: &str,
) -> Result<ItemId, UploadError> {
    let hashed = file.to_path_buf();
    let (_, sha256) = tokio::task::spawn_blocking(move || hash_file(&hashed))
        .await
        .map_err(|e| UploadError::Client(e.to_string()))??;
    let named = NameParts::of(file);
    let meta = AnswerMeta {
        interview_id: interview_id.to_string(),
        candidate_id: args
            .candidate
            .clone()
            .or(named.candidate)
            .unwrap_or_else(|| "unknown".to_string()),
        question_id: args.question.clone().unwrap_or(named.question),
        attempt: args.attempt.or(named.attempt).unwrap_or(1),
        answer_id: answer_id_for(&sha256),
        filename: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "answer.mp4".to_string()),
        candidate_ref: args.candidate_ref.clone(),
    };
    handle.enqueue(file, meta).await
}

/// What a file name says: `<candidate>--<question>--<attempt>.mp4` or `<question>.mp4`.
#[derive(Debug, PartialEq, Eq)]
struct NameParts {
    candidate: Option<String>,
    question: String,
    attempt: Option<u32>,
}

impl NameParts {
    fn of(path: &Path) -> NameParts {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match AnswerName::from_stem(&stem) {
            Some(name) => NameParts {
                candidate: Some(name.session),
                question: name.question_id,
                attempt: Some(name.attempt),
            },
            None => NameParts {
                candidate: None,
                question: stem,
                attempt: None,
            },
        }
    }
}

/// The progress line: redrawn in place on a terminal, otherwise a line per outcome and one
/// every few seconds while bytes move.
struct ProgressLine {
    tty: bool,
    last_draw: Option<Instant>,
    waiting: HashMap<ItemId, String>,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            tty: console_is_terminal(),
            last_draw: None,
            waiting: HashMap::new(),
        }
    }

    fn say(&self, text: &str) {
        if self.tty {
            console_end_line();
        }
        console(text);
    }

    fn event(&mut self, event: &UploadEvent, handle: &UploadHandle) {
        let name = |id: ItemId| handle.get(id).map(|v| v.filename).unwrap_or_default();
        match event {
            UploadEvent::Delivered { id, url } => {
                self.waiting.remove(id);
                self.say(&format!("upload: delivered {} -> {url}", name(*id)));
            }
            UploadEvent::Refused { id, reason } => {
                self.waiting.remove(id);
                self.say(&format!("upload: refused {}: {reason}", name(*id)));
            }
            UploadEvent::Waiting {
                id,
                reason,
                retry_in,
            } => {
                // Each new kind of trouble once; the retries after it go on quietly.
                if self.waiting.get(id) != Some(reason) {
                    self.say(&format!(
                        "upload: {}: {reason}; saved on this station, retrying in {:.1} s",
                        name(*id),
                        retry_in.as_secs_f64()
                    ));
                    self.waiting.insert(*id, reason.clone());
                }
            }
            UploadEvent::Progress { id, .. } => {
                self.waiting.remove(id);
                self.draw(handle, false);
            }
            UploadEvent::Queued { .. } | UploadEvent::Abandoned { .. } => {}
        }
    }

    fn draw(&mut self, handle: &UploadHandle, force: bool) {
        let every = if self.tty {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if !force && self.last_draw.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let items = handle.snapshot();
        let done = items.iter().filter(|v| v.state.is_final()).count();
        let mut text = format!("upload: {done}/{} done", items.len());
        if let Some(v) = items.iter().find(|v| v.state == State::Uploading) {
            let pct = if v.total > 0 {
                v.sent as f64 * 100.0 / v.total as f64
            } else {
                0.0
            };
            text.push_str(&format!(
                ", {} {}/{} ({pct:.0}%)",
                v.filename,
                human_bytes(v.sent),
                human_bytes(v.total)
            ));
            if v.waiting.is_some() {
                text.push_str(", waiting for the network");
            }
        }
        if self.tty {
            console_status(&text);
        } else {
            console(&text);
        }
    }

    fn finish(&mut self) {
        if self.tty {
            console_end_line();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_candidate_question_and_attempt() {
        assert_eq!(
            NameParts::of(Path::new("/x/c-17--q-intro--2.mp4")),
            NameParts {
                candidate: Some("c-17".into()),
                question: "q-intro".into(),
                attempt: Some(2)
            }
        );
        assert_eq!(
            NameParts::of(Path::new("q-teamwork.mp4")),
            NameParts {
                candidate: None,
                question: "q-teamwork".into(),
                attempt: None
            }
        );
        assert_eq!(NameParts::of(Path::new("a--b--c.mp4")).question, "a--b--c");
    }
}
