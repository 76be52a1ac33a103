//! What every delivery of a running service shares: where items go (a tus server or a
//! directory) and how (chunk sizes, retention, timing, the station's id for the metadata),
//! the endpoint's health, the server's capabilities once asked, and the [`Registry`] each
//! delivery reports to. The service builds one from the config; `deliver` runs an item with
//! it, and the service's handle uses it only to terminate an abandoned item's uploads.

use std::path::PathBuf;
use std::sync::Arc;

use super::Tuning;
use super::error::UploadError;
use super::health::{HealthKeeper, endpoint_name};
use super::outbox::Record;
use super::registry::Registry;
use super::tus::{Capabilities, TokenSource, TusClient};
use crate::config::{Config, Endpoint, Retention};

/// Where items go.
pub(super) enum Target {
    Dir(PathBuf),
    Tus(TusClient),
}

/// See the module header.
pub(super) struct Courier {
    pub registry: Arc<Registry>,
    pub target: Target,
    pub station_id: String,
    /// The first chunk's size, and the most a chunk may grow to on a fast link.
    pub chunk: u64,
    pub max_chunk: u64,
    pub retention: Retention,
    pub tuning: Tuning,
    /// Whether the endpoint refuses until its configuration is fixed (`<outbox>/health.json`).
    pub health: HealthKeeper,
    caps: tokio::sync::Mutex<Option<Capabilities>>,
}

impl Courier {
    /// Delivers to the config's endpoint, starting its health afresh in the registry's
    /// outbox.
    pub fn new(
        config: &Config,
        tuning: Tuning,
        registry: Arc<Registry>,
    ) -> Result<Courier, UploadError> {
        let upload = &config.upload;
        let target = match &upload.endpoint {
            Endpoint::Dir(dir) => Target::Dir(dir.clone()),
            Endpoint::Tus(url) => {
                let cfg = upload.clone();
                let token: TokenSource = Arc::new(move || cfg.token());
                Target::Tus(TusClient::new(
                    url,
                    upload.allow_plain_http,
                    token,
                    &tuning,
                )?)
            }
        };
        let health = HealthKeeper::start(registry.outbox().dir(), &endpoint_name(&upload.endpoint));
        Ok(Courier {
            registry,
            target,
            station_id: config.station.id.clone(),
            chunk: upload.chunk_bytes.max(1),
            max_chunk: upload.max_chunk_bytes,
            retention: upload.retention,
            tuning,
            health,
            caps: tokio::sync::Mutex::new(None),
        })
    }

    /// The server's capabilities, asked once and kept until trouble suggests it may have
    /// changed (a restarted or replaced server).
    pub async fn capabilities(&self, client: &TusClient) -> Result<Capabilities, UploadError> {
        let mut caps = self.caps.lock().await;
        if let Some(c) = caps.as_ref() {
            return Ok(c.clone());
        }
        let fresh = client.discover().await?;
        tracing::info!(
            endpoint = client.endpoint(),
            ?fresh,
            "tus server capabilities"
        );
        *caps = Some(fresh.clone());
        Ok(fresh)
    }

    pub async fn forget_capabilities(&self) {
        *self.caps.lock().await = None;
    }

    /// Terminates every upload the item made on the server (tus DELETE), so none of them
    /// can be completed later; a failure is noted in the record's last error.
    pub async fn terminate_all(&self, rec: &mut Record) {
        let Target::Tus(client) = &self.target else {
            return;
        };
        for url in rec.url.iter().chain(&rec.retired_urls) {
            let result = match client.upload_url(url) {
                Ok(u) => client.terminate(&u).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                rec.last_error = Some(format!("could not terminate the upload: {e}"));
            }
        }
    }
}
