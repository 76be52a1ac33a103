//! The doctor's upload check, without uploading anything. For a tus endpoint: the URL policy
//! (the tus client's own), the token's presence, reachability and tus 1.0 with creation
//! (OPTIONS), and whether the server accepts the token (HEAD of an upload that cannot exist:
//! 404 means the request got past authentication, 401 that the token was refused). The
//! server's `Date` feeds the clock check. For a `dir:` target: that the directory is writable.
//!
//! Then what the upload service itself last saw (`<outbox>/health.json`): a proxy refusing
//! the configured chunk size shows only when bytes are sent, so the probe cannot see it; a
//! problem the service saw that the probe no longer sees is worth a look. A problem recorded
//! for another endpoint, or for a larger chunk than is now configured, is left out as fixed.

use std::path::Path;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, DATE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::json;

use super::{Check, ENDPOINT_LIMIT, HTTP_STEP};
use crate::config::{Config, Endpoint, UploadToken};
use crate::upload::health::endpoint_name;
use crate::upload::tus::{TokenSource, TusClient};
use crate::upload::{EndpointProblem, Tuning, UploadHealth};

const NAME: &str = "upload";
const TUS_VERSION: &str = "1.0.0";

/// The check, and the server's clock when it answered.
pub(super) struct UploadFinding {
    pub check: Check,
    pub server_time: Option<u64>,
}

impl From<Check> for UploadFinding {
    fn from(check: Check) -> Self {
        UploadFinding {
            check,
            server_time: None,
        }
    }
}

pub(super) fn upload(config: &Config) -> UploadFinding {
    match &config.upload.endpoint {
        Endpoint::Dir(dir) => dir_target(dir).into(),
        Endpoint::Tus(url) => tus_target(config, url),
    }
}

/// The probe's `check`, told what the upload service last saw on this station.
pub(super) fn with_service_health(mut check: Check, config: &Config) -> Check {
    let Ok(Some(health)) = UploadHealth::read(&crate::upload::outbox_dir(config)) else {
        return check;
    };
    let Some(problem) = health.problem.clone() else {
        return check;
    };
    let current = health.endpoint == endpoint_name(&config.upload.endpoint)
        && match &problem {
            EndpointProblem::ChunkTooLarge { bytes, .. } => *bytes <= config.upload.chunk_bytes,
            _ => true,
        };
    if check.details.is_object() {
        check.details["service_problem"] = json!(health);
        check.details["service_problem_current"] = json!(current);
    }
    if !current || check.verdict == super::Verdict::Failure {
        // The probe's own finding is the fresher one.
        return check;
    }
    let since = since_words(&health);
    match problem {
        // Invisible to the probe: only sending the configured chunk shows it.
        EndpointProblem::ChunkTooLarge { .. } => Check {
            verdict: super::Verdict::Failure,
            finding: format!("the upload service saw {problem}{since}"),
            fix: Some(problem.fix()),
            ..check
        },
        _ => Check {
            verdict: check.verdict.max(super::Verdict::Warning),
            finding: format!(
                "{}; but the upload service saw {problem}{since}",
                check.finding
            ),
            fix: Some(format!(
                "if it was fixed since, `booth upload` confirms it (the problem clears with the \
                 next delivery); otherwise: {}",
                problem.fix()
            )),
            ..check
        },
    }
}

/// ` (first seen 12 min ago)`.
fn since_words(health: &UploadHealth) -> String {
    health
        .since_ms
        .map(|at| {
            let secs = crate::clock::now_ms().saturating_sub(at) / 1000;
            format!(" (first seen {} min ago)", secs / 60)
        })
        .unwrap_or_default()
}

fn dir_target(dir: &Path) -> Check {
    let details = json!({ "endpoint": format!("dir:{}", dir.display()) });
    // A missing directory is created on the first delivery, so its nearest parent decides.
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(p) => existing = p,
            None => break,
        }
    }
    let writable = rustix::fs::access(
        existing,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .is_ok();
    if writable {
        Check::ok(
            NAME,
            format!(
                "answers are copied to the directory {} (no network upload)",
                dir.display()
            ),
        )
        .with(details)
    } else {
        Check::failure(
            NAME,
            format!(
                "answers go to {}, but this user cannot write to {}",
                dir.display(),
                existing.display()
            ),
            format!(
                "give the booth user the directory: sudo install -d -o booth -m 700 {}",
                dir.display()
            ),
        )
        .with(details)
    }
}

/// What a probe learned before something stopped it.
struct Probe {
    check: Check,
    server_time: Option<u64>,
}

fn tus_target(config: &Config, endpoint: &str) -> UploadFinding {
    let mut details = json!({ "endpoint": endpoint });
    // The tus client's constructor is where the URL policy lives; a client it refuses would
    // never upload, whatever the server says.
    let never: TokenSource = Arc::new(|| {
        Err(crate::config::TokenError::Malformed {
            origin: "the doctor".into(),
        })
    });
    if let Err(e) = TusClient::new(
        endpoint,
        config.upload.allow_plain_http,
        never,
        &Tuning::default(),
    ) {
        return Check::failure(
            NAME,
            e.to_string(),
            "set [upload] endpoint to the platform's https:// tus URL",
        )
        .with(details)
        .into();
    }
    let token = config.upload.token();
    details["token"] = json!(match &token {
        Ok(_) => "present".to_string(),
        Err(e) => e.to_string(),
    });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return Check::failure(
                NAME,
                format!("cannot start the network runtime: {e}"),
                "report this as a bug in booth",
            )
            .with(details)
            .into();
        }
    };
    let probe = runtime.block_on(async {
        tokio::time::timeout(
            ENDPOINT_LIMIT,
            probe(endpoint, token.as_ref().ok(), &mut details),
        )
        .await
    });
    let probe = probe.unwrap_or_else(|_| Probe {
        check: Check::failure(
            NAME,
            format!(
                "{endpoint} did not answer within {} s",
                ENDPOINT_LIMIT.as_secs()
            ),
            "check the network and the endpoint's address",
        ),
        server_time: None,
    });
    // The token's absence is reported after reachability: both are worth knowing at once.
    let check = match (&token, probe.check.verdict) {
        (Err(e), super::Verdict::Ok) => Check::failure(
            NAME,
            format!("{} reachable, but {e}", endpoint),
            format!(
                "put the station's upload token in {} (mode 600, owned by booth)",
                config.upload.token_file.display()
            ),
        ),
        _ => probe.check,
    };
    UploadFinding {
        check: check.with(details),
        server_time: probe.server_time,
    }
}

async fn probe(
    endpoint: &str,
    token: Option<&UploadToken>,
    details: &mut serde_json::Value,
) -> Probe {
    let fail = |finding: String, fix: &str| Probe {
        check: Check::failure(NAME, finding, fix),
        server_time: None,
    };
    let Ok(url) = Url::parse(endpoint) else {
        return fail(
            format!("{endpoint} is not a URL"),
            "set [upload] endpoint to the platform's tus URL",
        );
    };
    let http = match probe_client() {
        Ok(c) => c,
        Err(e) => {
            return fail(
                format!("cannot make an HTTP client: {e}"),
                "report this bug",
            );
        }
    };
    let auth = bearer(token);
    let options = http
        .request(Method::OPTIONS, url.clone())
        .headers(auth.clone())
        .send()
        .await;
    let resp = match options {
        Ok(r) => r,
        Err(e) => {
            return fail(
                format!("cannot reach {endpoint}: {}", transport_words(&e)),
                "check the network, DNS and the endpoint's address; `curl -X OPTIONS -i <url>` \
                 from this machine shows what it sees",
            );
        }
    };
    let server_time = resp
        .headers()
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::clock::parse_http_date);
    let with_time = |check: Check| Probe { check, server_time };
    if let Err(check) = speaks_tus(endpoint, &resp, details) {
        return with_time(check);
    }
    if token.is_none() {
        return with_time(Check::ok(NAME, format!("{endpoint} speaks tus")));
    }

    // An upload id that cannot exist: what comes back says whether the token got us in.
    let mut probe_url = url.clone();
    let path = format!(
        "{}/booth-doctor-{}",
        url.path().trim_end_matches('/'),
        uuid::Uuid::new_v4().simple()
    );
    probe_url.set_path(&path);
    let head = http
        .request(Method::HEAD, probe_url)
        .headers(auth)
        .header("Tus-Resumable", TUS_VERSION)
        .send()
        .await;
    match head {
        Ok(r) => {
            details["head_status"] = json!(r.status().as_u16());
            with_time(token_verdict(endpoint, r.status()))
        }
        Err(e) => with_time(Check::failure(
            NAME,
            format!(
                "{endpoint} answered OPTIONS, then failed: {}",
                transport_words(&e)
            ),
            "check the network and the server's health, then run the doctor again",
        )),
    }
}

/// The doctor's own HTTP client: short timeouts, no redirects (a redirect is a wrong endpoint
/// worth reporting, not following).
fn probe_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(HTTP_STEP)
        .timeout(HTTP_STEP)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("booth/", env!("CARGO_PKG_VERSION"), " doctor"))
        .build()
}

fn bearer(token: Option<&UploadToken>) -> HeaderMap {
    let mut auth = HeaderMap::new();
    if let Some(t) = token
        && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", t.expose()))
    {
        v.set_sensitive(true);
        auth.insert(AUTHORIZATION, v);
    }
    auth
}

/// Whether the OPTIONS answer is a tus server this station can create uploads on; the
/// failing check otherwise.
fn speaks_tus(
    endpoint: &str,
    resp: &reqwest::Response,
    details: &mut serde_json::Value,
) -> Result<(), Check> {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_ascii_lowercase())
    };
    let versions = header("tus-version");
    let extensions = header("tus-extension").unwrap_or_default();
    details["options_status"] = json!(resp.status().as_u16());
    details["tus_version"] = json!(versions);
    details["tus_extensions"] = json!(extensions);
    let not_tus = "set [upload] endpoint to the tus creation URL the platform gave (it usually \
                   ends in /files/)";
    let Some(versions) = versions.filter(|_| resp.status().is_success()) else {
        return Err(Check::failure(
            NAME,
            format!(
                "{endpoint} answered OPTIONS with {} and no Tus-Version: it does not speak tus",
                resp.status()
            ),
            not_tus,
        ));
    };
    if !versions.split(',').any(|v| v.trim() == TUS_VERSION) {
        return Err(Check::failure(
            NAME,
            format!("{endpoint} speaks tus {versions}, not {TUS_VERSION}"),
            not_tus,
        ));
    }
    if !extensions.split(',').any(|e| e.trim() == "creation") {
        return Err(Check::failure(
            NAME,
            format!("{endpoint} speaks tus but does not let clients create uploads"),
            not_tus,
        ));
    }
    Ok(())
}

/// What the HEAD of an upload that cannot exist says about the token.
fn token_verdict(endpoint: &str, status: StatusCode) -> Check {
    let token_fix = "the platform refused this station's token: put the current one in the \
                     token file (or BOOTH_UPLOAD_TOKEN)";
    match status {
        StatusCode::UNAUTHORIZED => Check::failure(
            NAME,
            format!("{endpoint} speaks tus but refused the upload token (401)"),
            token_fix,
        ),
        StatusCode::FORBIDDEN => Check::warning(
            NAME,
            format!(
                "{endpoint} speaks tus; it answered 403 to a check of the token, which may mean \
                 the token is refused"
            ),
            token_fix,
        ),
        s if s.is_success()
            || s == StatusCode::NOT_FOUND
            || s == StatusCode::GONE
            || s == StatusCode::METHOD_NOT_ALLOWED =>
        {
            Check::ok(
                NAME,
                format!("{endpoint} speaks tus {TUS_VERSION} and accepts the token"),
            )
        }
        s => Check::warning(
            NAME,
            format!("{endpoint} speaks tus, but answered {s} when the token was checked"),
            "look at the server's health; uploads wait in the outbox meanwhile",
        ),
    }
}

/// A transport error in plain words, innermost cause included (reqwest's own text is only
/// "error sending request").
fn transport_words(e: &reqwest::Error) -> String {
    let mut words = if e.is_timeout() {
        format!("no answer within {} s", HTTP_STEP.as_secs())
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(s) = source {
        innermost = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = innermost {
        words.push_str(&format!(" ({cause})"));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;
    use crate::upload::health::HEALTH_FILE;

    fn station(dir: &Path, upload: &str) -> crate::TestResult<Config> {
        let text = format!(
            "[station]\ndata_dir = \"{}\"\n[upload]\n{upload}\n",
            dir.display()
        );
        Ok(Config::parse(&text, &dir.join("config.toml"))?)
    }

    /// Writes what the upload service saw, for `endpoint`.
    fn saw(config: &Config, endpoint: &str, problem: EndpointProblem) -> crate::TestResult {
        let mut health = UploadHealth::fresh(endpoint);
        health.problem = Some(problem);
        health.since_ms = Some(crate::clock::now_ms());
        let dir = crate::upload::outbox_dir(config);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(HEALTH_FILE), serde_json::to_vec(&health)?)?;
        Ok(())
    }

    #[test]
    fn what_the_upload_service_saw_is_weighed_against_the_config() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let url = "https://up.example/files/";
        let probe_ok = || Check::ok(NAME, "speaks tus").with(json!({}));
        let config = station(dir.path(), &format!("endpoint = \"{url}\"\nchunk_mib = 2"))?;
        // Nothing seen: the probe's word stands.
        assert_eq!(with_service_health(probe_ok(), &config), probe_ok());

        let chunk = EndpointProblem::ChunkTooLarge {
            url: format!("{url}abc"),
            bytes: 2 << 20,
        };
        saw(&config, url, chunk.clone())?;
        let c = with_service_health(probe_ok(), &config);
        assert_eq!(c.verdict, Verdict::Failure, "{c:?}");
        assert!(c.finding.contains("answered 413"), "{}", c.finding);
        assert_eq!(c.details["service_problem_current"], true);
        // A smaller chunk since: fixed, as far as anyone can tell without sending.
        let smaller = station(dir.path(), &format!("endpoint = \"{url}\"\nchunk_mib = 1"))?;
        let c = with_service_health(probe_ok(), &smaller);
        assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
        assert_eq!(c.details["service_problem_current"], false);
        // Seen for another endpoint: not this one's problem.
        saw(&config, "https://old.example/files/", chunk)?;
        assert_eq!(
            with_service_health(probe_ok(), &config).verdict,
            Verdict::Ok
        );

        // A refused token the probe no longer sees: worth a look, not a failure.
        let refused = EndpointProblem::Unauthorized {
            method: "POST".into(),
            url: url.into(),
            status: 401,
        };
        saw(&config, url, refused)?;
        let c = with_service_health(probe_ok(), &config);
        assert_eq!(c.verdict, Verdict::Warning, "{c:?}");
        assert!(
            c.finding
                .starts_with("speaks tus; but the upload service saw POST")
        );
        // The probe failing says it better, and now.
        let failing =
            Check::failure(NAME, "refused the upload token (401)", "fix it").with(json!({}));
        let c = with_service_health(failing, &config);
        assert_eq!(
            (c.verdict, c.finding.as_str()),
            (Verdict::Failure, "refused the upload token (401)")
        );
        Ok(())
    }
}
