//! What the kiosk tells the outside world about itself over HTTP: the heartbeat (the
//! `booth status --json` object, POSTed every `heartbeat_seconds`) and the call-staff webhook
//! (a [`StaffWebhook`] handle the front end gives the executor).
//! Each POST runs on a task of its own under a time limit, so a slow or dead server never
//! reaches the candidate's screen; outcomes go to the log only. URLs are logged by origin
//! alone, since webhook URLs often carry a secret in their path or query.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use serde::Serialize;

/// The longest a heartbeat or webhook POST may take, connection included.
pub const POST_LIMIT: Duration = Duration::from_secs(10);
/// The first heartbeat goes out this soon after start, once the kiosk has published its status.
const FIRST_BEAT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{url} is not a URL: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("cannot make an HTTP client: {0}")]
    Client(String),
    #[error("POST to {origin} failed: {detail}")]
    Send { origin: String, detail: String },
    #[error("POST to {origin} answered {status}")]
    Status { origin: String, status: u16 },
    #[error("cannot encode the message: {0}")]
    Encode(String),
}

/// The webhook's body when a candidate calls staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffCall {
    pub station_id: String,
    pub session_id: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub unix: u64,
    /// The screen the candidate was on (welcome, question, recording…).
    pub phase: String,
}

/// `https://host:port`, all of a URL that is safe to log.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn client() -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .connect_timeout(POST_LIMIT)
        .timeout(POST_LIMIT)
        // The config vetted this URL's scheme and host; a redirect could lead elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("booth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NotifyError::Client(e.to_string()))
}

/// One JSON POST; the status code when it was a success.
pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<u16, NotifyError> {
    let parsed = Url::parse(url).map_err(|e| NotifyError::BadUrl {
        // Only reached for a URL the config accepted, so its origin part is what is wrong.
        url: url.split(['?', '#']).next().unwrap_or_default().to_string(),
        detail: e.to_string(),
    })?;
    let origin = origin(&parsed);
    let resp = http
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| NotifyError::Send {
            origin: origin.clone(),
            // reqwest's text repeats the whole URL; its cause chain does not.
            detail: chain(&e.without_url()),
        })?;
    let status = resp.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(NotifyError::Status {
            origin,
            status: status.as_u16(),
        })
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The call-staff webhook as the executor holds it: where to POST, and which station calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffWebhook {
    pub url: String,
    pub station_id: String,
}

impl StaffWebhook {
    /// Calls staff to `session`'s candidate, on the screen `phase`, on a task of its own.
    pub fn call(&self, session: String, phase: &str) {
        let unix = crate::clock::unix_now();
        let call = StaffCall {
            station_id: self.station_id.clone(),
            session_id: session,
            time: crate::clock::rfc3339(unix),
            unix,
            phase: phase.to_string(),
        };
        spawn_staff_call(self.url.clone(), call);
    }
}

/// Sends the call-staff webhook on a task of its own.
pub fn spawn_staff_call(url: String, call: StaffCall) {
    tokio::spawn(async move {
        let sent = async {
            let body = serde_json::to_vec(&call).map_err(|e| NotifyError::Encode(e.to_string()))?;
            post_json(&client()?, &url, body).await
        };
        match sent.await {
            Ok(status) => {
                tracing::info!(status, session = %call.session_id, "call-staff webhook sent")
            }
            Err(e) => {
                tracing::warn!(error = %e, session = %call.session_id, "call-staff webhook failed")
            }
        }
    });
}

/// Where the heartbeat goes and what it reports on.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub url: String,
    pub every: Duration,
    pub station_id: String,
    pub data_dir: PathBuf,
}

/// POSTs the station status now (after [`FIRST_BEAT`]) and then at every interval, until the
/// runtime stops. A beat that has not finished when the next is due is dropped, not queued.
pub fn spawn_heartbeat(beat: Heartbeat) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = match client() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "no heartbeat");
                return;
            }
        };
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + FIRST_BEAT, beat.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Repeated failures are logged once, then again when they change or end.
        let mut last_failure: Option<String> = None;
        loop {
            tick.tick().await;
            let (id, dir) = (beat.station_id.clone(), beat.data_dir.clone());
            let status =
                tokio::task::spawn_blocking(move || crate::status::station_status(&id, &dir)).await;
            let body = match status.map(|s| serde_json::to_vec(&s)) {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot encode the heartbeat");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot gather the heartbeat");
                    continue;
                }
            };
            let limit = beat.every.min(POST_LIMIT);
            let outcome = tokio::time::timeout(limit, post_json(&http, &beat.url, body)).await;
            match outcome {
                Ok(Ok(status)) => {
                    if last_failure.take().is_some() {
                        tracing::info!(status, "heartbeat delivered again");
                    } else {
                        tracing::debug!(status, "heartbeat");
                    }
                }
                Ok(Err(e)) => note_failure(&mut last_failure, e.to_string()),
                Err(_) => note_failure(
                    &mut last_failure,
                    format!("no answer within {} s", limit.as_secs()),
                ),
            }
        }
    })
}

fn note_failure(last: &mut Option<String>, why: String) {
    if last.as_deref() != Some(why.as_str()) {
        tracing::warn!(error = %why, "heartbeat failed");
    }
    *last = Some(why);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-request HTTP server: returns the request's text.
    fn serve_once(
        status: &'static str,
    ) -> crate::TestResult<(String, std::thread::JoinHandle<std::io::Result<String>>)> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!(
            "http://{}/hook/s3cr3t-path?key=s3cr3t",
            listener.local_addr()?
        );
        let t = std::thread::spawn(move || {
            let (mut s, _) = listener.accept()?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().map_err(std::io::Error::other))
                        })
                        .transpose()?
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            Ok(String::from_utf8_lossy(&buf).to_string())
        });
        Ok((url, t))
    }

    #[tokio::test]
    async fn the_staff_call_is_posted_as_json() -> crate::TestResult {
        let (url, server) = serve_once("204 No Content")?;
        let call = StaffCall {
            station_id: "b1".into(),
            session_id: "sess-1".into(),
            time: "2025-01-01T00:00:00Z".into(),
            unix: 1_735_689_600,
            phase: "question".into(),
        };
        let body = serde_json::to_vec(&call)?;
        assert_eq!(post_json(&client()?, &url, body).await?, 204);
        let request = server.join().map_err(|_| "the test server panicked")??;
        assert!(
            request.starts_with("POST /hook/s3cr3t-path?key=s3cr3t HTTP/1.1"),
            "{request}"
        );
        let json: serde_json::Value =
            serde_json::from_str(request.split_once("\r\n\r\n").ok_or("no body")?.1)?;
        assert_eq!(json["session_id"], "sess-1");
        assert_eq!(json["phase"], "question");
        Ok(())
    }

    #[tokio::test]
    async fn failures_name_the_origin_and_never_the_secret_path() -> crate::TestResult {
        let (url, server) = serve_once("500 Internal Server Error")?;
        let e = post_json(&client()?, &url, b"{}".to_vec())
            .await
            .unwrap_err();
        server.join().map_err(|_| "the test server panicked")??;
        let text = e.to_string();
        assert!(text.contains("answered 500"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");

        // Nobody listens on this port any more.
        let e = post_json(&client()?, &url, b"{}".to_vec())
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, NotifyError::Send { .. }), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        Ok(())
    }
}
