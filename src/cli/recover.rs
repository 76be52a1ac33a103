//! `booth recover <FILE or DIR>`: finalizes interrupted recordings and says what it found.

use std::path::PathBuf;

use clap::Args;

use super::{Exit, report_error};
use crate::media::mux::recover::{self, Outcome, Report};

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// A recording (FILE.mp4 or FILE.mp4.part) or a directory searched for *.part files.
    pub path: PathBuf,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RecoverArgs) -> Exit {
    let reports = match recover::recover(&args.path) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return Exit::BadInput;
        }
    };
    if reports.is_empty() && !args.json {
        println!("nothing to recover under {}", args.path.display());
    }
    let mut exit = Exit::Ok;
    for r in &reports {
        if let Outcome::Failed(e) = &r.outcome {
            exit = Exit::Failed;
            if !args.json {
                report_error(e);
            }
        }
        if args.json {
            println!("{}", json_line(r));
        } else {
            print_text(r);
        }
    }
    exit
}

/// One file's report as the JSON object `--json` prints.
fn json_line(r: &Report) -> serde_json::Value {
    let (status, detail) = match &r.outcome {
        Outcome::Recovered {
            finished,
            fragments,
            torn_bytes,
            kept_existing,
        } => (
            "recovered",
            serde_json::json!({
                "video_seconds": finished.video_seconds,
                "audio_seconds": finished.audio_seconds,
                "video_frames": finished.video_frames,
                "fragments": fragments,
                "bytes": finished.bytes,
                "discarded_tail_bytes": torn_bytes,
                "kept_existing": kept_existing,
                "finalized": finished.finalized,
            }),
        ),
        Outcome::AlreadyFinished => ("already-finished", serde_json::json!({})),
        Outcome::NothingToDo => ("nothing-to-do", serde_json::json!({})),
        Outcome::Failed(e) => ("failed", serde_json::json!({ "error": e.to_string() })),
    };
    let mut v = serde_json::json!({
        "source": r.source,
        "output": r.output,
        "status": status,
    });
    if let (Some(obj), Some(extra)) = (v.as_object_mut(), detail.as_object()) {
        obj.extend(extra.clone());
    }
    v
}

/// One file's report in words; a failure was already reported on stderr.
fn print_text(r: &Report) {
    match &r.outcome {
        Outcome::Recovered {
            finished,
            fragments,
            torn_bytes,
            kept_existing,
        } => {
            println!(
                "recovered {} -> {}: {:.2} s of video, {:.2} s of sound, {} fragments ({} bytes of an unfinished fragment discarded)",
                r.source.display(),
                r.output.display(),
                finished.video_seconds,
                finished.audio_seconds,
                fragments,
                torn_bytes
            );
            if !finished.finalized {
                println!(
                    "  the disk had no room to rewrite it with its index first: it is kept as recorded (a fragmented MP4, which plays); run `booth recover {}` again once there is room",
                    r.output.display()
                );
            }
            if let Some(kept) = kept_existing {
                println!(
                    "  {} already held a different recording: it was left as it was, and this one was saved as {}",
                    kept.display(),
                    r.output.display()
                );
            }
        }
        Outcome::AlreadyFinished => println!(
            "{} was already finished; removed the leftover {}",
            r.output.display(),
            r.source.display()
        ),
        Outcome::NothingToDo => {
            println!("{} is already a finished recording", r.source.display())
        }
        Outcome::Failed(_) => {}
    }
}
