//! The upload that runs behind the kiosk figure's answer, as a station sends the previous
//! candidate's answers while the next one records: the test tus server behind a shaping proxy
//! ([`LINK`]), a config for the kiosk that points at it (with no countdown before a
//! recording), and the kiosk's outbox seeded before
//! the kiosk starts with copies of a recorded answer, enough to keep the link busy for longer
//! than the measured answer. The kiosk finds them at start and sends them in the background;
//! the server's store says how much arrived while the candidate was recording.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::upload::{Server, start_server};
use super::wan::{Proxy, Shape};
use super::{BenchError, path_str};
use crate::config::Config;
use crate::upload::{AnswerMeta, Tuning, UploadService};

/// A modest centre's uplink.
pub const LINK: Shape = Shape {
    mbit_per_s: 20.0,
    one_way_delay_ms: 20,
};

/// The queued copies add up to this many times what the link carries during the answer, plus
/// [`WALK_SECONDS`] of it for the device check before the answer, so the upload is still
/// running when the answer ends.
const BUSY_SHARE: f64 = 1.5;
const WALK_SECONDS: f64 = 20.0;

/// The server, its proxy and the kiosk's config; the server stops when this is dropped.
pub struct Background {
    _server: Server,
    _proxy: Proxy,
    store: PathBuf,
    /// A station config whose upload endpoint is the proxy.
    pub config_file: PathBuf,
}

fn fail(what: &str, detail: impl std::fmt::Display) -> BenchError {
    BenchError::Failed {
        program: what.to_string(),
        detail: detail.to_string(),
    }
}

impl Background {
    /// Starts the server (storing under `work`) and the proxy, and writes the config.
    pub fn start(work: &Path, project: &Path) -> Result<Background, BenchError> {
        let store = work.join("store");
        std::fs::create_dir_all(&store).map_err(|e| fail("creating the store", e))?;
        let (server, url) = start_server(project, &store)?;
        let upstream = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|host| host.parse().ok())
            .ok_or_else(|| BenchError::Parse(format!("the test server's URL {url}")))?;
        let proxy = Proxy::start(upstream, LINK)?;
        let token = work.join("token");
        std::fs::write(&token, "bench").map_err(|e| fail("writing the token", e))?;
        let config_file = work.join("config.toml");
        // No 3-2-1 before a recording: the latencies measured are the station's, not a wait
        // the candidate is given on purpose.
        let config = format!(
            "[recording]\ncountdown_seconds = 0\n\n[upload]\nendpoint = \"http://{}/files\"\ntoken_file = \"{}\"\nretention = \"keep\"\n",
            proxy.addr(),
            path_str(&token)
        );
        std::fs::write(&config_file, config).map_err(|e| fail("writing the kiosk's config", e))?;
        Ok(Background {
            _server: server,
            _proxy: proxy,
            store,
            config_file,
        })
    }

    /// Queues copies of `answer` in the outbox under `data_dir`, enough to keep the link busy
    /// through the device check and `seconds` of answer; returns how many and their bytes. The
    /// kiosk sends them once it starts.
    pub fn seed(
        &self,
        data_dir: &Path,
        answer: &Path,
        seconds: u32,
    ) -> Result<(u32, u64), BenchError> {
        let size = std::fs::metadata(answer)
            .map_err(|e| fail(&format!("reading {}", answer.display()), e))?
            .len()
            .max(1);
        let wanted = LINK.mbit_per_s * 1e6 / 8.0 * (f64::from(seconds) * BUSY_SHARE + WALK_SECONDS);
        let copies = (wanted / size as f64).ceil().max(1.0) as u32;
        let config = Config::load(Some(&self.config_file))
            .map_err(|e| fail("the kiosk's config", e))?
            .with_data_dir(data_dir);
        let queued = data_dir.join("queued");
        std::fs::create_dir_all(&queued).map_err(|e| fail("creating the queue", e))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail("the tokio runtime", e))?;
        rt.block_on(async {
            let outbox = data_dir.join("outbox");
            let (handle, _events) = UploadService::start_with(&config, &outbox, Tuning::default())
                .map_err(|e| fail("booth's outbox", e))?;
            for n in 0..copies {
                let copy = queued.join(format!("earlier-q{n}.mp4"));
                std::fs::copy(answer, &copy)
                    .map_err(|e| fail(&format!("copying to {}", copy.display()), e))?;
                let meta = AnswerMeta {
                    interview_id: "bench".into(),
                    candidate_id: "the-candidate-before".into(),
                    question_id: format!("q{n}"),
                    attempt: 1,
                    answer_id: uuid::Uuid::new_v4(),
                    filename: format!("earlier-q{n}.mp4"),
                    candidate_ref: None,
                };
                handle
                    .enqueue(&copy, meta)
                    .await
                    .map_err(|e| fail("queueing an earlier answer", e))?;
            }
            // The first may have begun to go: the kiosk resumes it from the server's offset.
            handle.shutdown().await;
            Ok::<_, BenchError>(())
        })?;
        Ok((copies, u64::from(copies) * size))
    }

    /// The bytes the server has stored so far, finished uploads and partial ones.
    pub fn received(&self) -> u64 {
        std::fs::read_dir(&self.store)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.path().extension().is_none_or(|x| x != "json"))
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// What the background upload did during the measured answer.
#[derive(Debug, serde::Serialize, PartialEq)]
pub struct BackgroundUpload {
    pub link: Shape,
    pub answers_queued: u32,
    pub mib_queued: f64,
    /// Sent to the server while the candidate recorded, in MiB per second.
    pub mib_per_s_during_answer: f64,
    /// Whether the server had less than everything queued when the answer ended.
    pub running_at_the_end: bool,
}

/// What the server held when the measured answer began and ended, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub at_start: u64,
    pub at_end: u64,
}

impl BackgroundUpload {
    pub fn during(
        link: Shape,
        (copies, queued): (u32, u64),
        received: Received,
        took: Duration,
    ) -> BackgroundUpload {
        let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
        BackgroundUpload {
            link,
            answers_queued: copies,
            mib_queued: mib(queued),
            mib_per_s_during_answer: super::report::ratio(
                mib(received.at_end.saturating_sub(received.at_start)),
                took.as_secs_f64(),
            ),
            running_at_the_end: received.at_end < queued,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_what_arrived_during_the_answer_and_the_end_is_judged_on_the_total() {
        let mib = 1u64 << 20;
        let during = |at_end| {
            let received = Received {
                at_start: 2 * mib,
                at_end,
            };
            BackgroundUpload::during(LINK, (3, 12 * mib), received, Duration::from_secs(4))
        };
        let busy = during(10 * mib);
        assert_eq!(busy.mib_per_s_during_answer, 2.0);
        assert_eq!(busy.mib_queued, 12.0);
        assert!(busy.running_at_the_end);
        assert!(!during(12 * mib).running_at_the_end);
    }
}
