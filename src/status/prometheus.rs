//! The station's facts in Prometheus' text exposition format (version 0.0.4), for
//! `booth status --prometheus` and the kiosk's node_exporter text file: one gauge per fact,
//! each sample labelled with the station id (and, for the one-hot state sets, the state), the
//! last error as a label-free number. Everything comes from one [`StationStatus`], so the JSON,
//! the heartbeat and these numbers cannot disagree.

use std::fmt::{Display, Write};

use super::{Activity, DeviceState, ErrorCode, StationStatus};
use crate::upload::OutboxSummary;

/// The exposition of `s`, as seen at `now_ms` (ms since the Unix epoch).
pub fn render(s: &StationStatus, now_ms: u64) -> String {
    let mut out = Exposition::new(&s.station_id);
    out.gauge_labelled(
        "booth_info",
        "booth's version on this station (always 1).",
        &[("version", s.version.as_str())],
        1,
    );
    out.gauge(
        "booth_status_time_seconds",
        "When these figures were taken (Unix time): a stale value means the station fell silent.",
        Seconds(now_ms),
    );
    out.gauge(
        "booth_kiosk_running",
        "1 while a kiosk runs for the station's data directory.",
        u8::from(s.running),
    );
    out.one_hot(
        "booth_state",
        "What the station is doing: idle, in_interview, recording, out_of_order or stopped.",
        Activity::ALL.iter().map(|a| (a.name(), *a == s.state)),
    );
    let devices = s.kiosk.as_ref().filter(|_| s.running).map(|k| k.devices);
    out.one_hot(
        "booth_device_state",
        "The camera and microphone as the kiosk last saw them (all 0 while no kiosk runs).",
        DeviceState::ALL
            .iter()
            .map(|d| (d.name(), Some(*d) == devices)),
    );
    outbox_gauges(&mut out, &s.outbox, now_ms);
    if let Some(free) = s.disk_free_bytes {
        out.gauge(
            "booth_disk_free_bytes",
            "Bytes free for booth on the data directory's filesystem.",
            free,
        );
    }
    out.gauge(
        "booth_last_error_code",
        &error_code_help(),
        s.last_error_code.map_or(0, ErrorCode::number),
    );
    out.text
}

/// The outbox's figures: what waits, for how long, and what was refused.
fn outbox_gauges(out: &mut Exposition, o: &OutboxSummary, now_ms: u64) {
    out.gauge(
        "booth_outbox_waiting",
        "Answers and manifests waiting to be delivered.",
        o.waiting,
    );
    out.gauge(
        "booth_outbox_waiting_bytes",
        "Bytes of them the server has not confirmed yet.",
        o.waiting_bytes,
    );
    out.gauge(
        "booth_outbox_oldest_waiting_seconds",
        "How long the oldest undelivered item has waited (0 when nothing waits).",
        o.oldest_waiting_ms
            .map_or(0, |t| now_ms.saturating_sub(t) / 1000),
    );
    out.gauge(
        "booth_outbox_refused",
        "Items the platform refused for good (their files are kept).",
        o.refused,
    );
    out.gauge(
        "booth_outbox_unreadable",
        "Outbox records that cannot be read.",
        o.unreadable.len(),
    );
    out.gauge(
        "booth_last_delivery_timestamp_seconds",
        "When the latest delivery among the kept records was confirmed (Unix time; 0 for none).",
        Seconds(o.last_delivered_ms.unwrap_or(0)),
    );
    out.gauge(
        "booth_answers_today",
        "Answers queued since 00:00 UTC today.",
        o.answers_today,
    );
    out.gauge(
        "booth_upload_endpoint_refusing",
        "1 while the upload endpoint refuses every delivery until the configuration is fixed.",
        u8::from(o.problem().is_some()),
    );
}

/// The HELP line lists every code, so a dashboard needs no other document.
fn error_code_help() -> String {
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| format!("{}={}", c.number(), c.name()))
        .collect();
    format!(
        "The station's most pressing trouble as a number: 0=none, {}.",
        codes.join(", ")
    )
}

/// Milliseconds since the Unix epoch, written as seconds with three decimals.
struct Seconds(u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

struct Exposition {
    text: String,
    station: String,
}

impl Exposition {
    fn new(station_id: &str) -> Exposition {
        Exposition {
            text: String::new(),
            station: label_value(station_id),
        }
    }

    fn family(&mut self, name: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, extra: &[(&str, &str)], value: impl Display) {
        let mut labels = format!("station=\"{}\"", self.station);
        for (k, v) in extra {
            let _ = write!(labels, ",{k}=\"{}\"", label_value(v));
        }
        let _ = writeln!(self.text, "{name}{{{labels}}} {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: impl Display) {
        self.gauge_labelled(name, help, &[], value);
    }

    fn gauge_labelled(
        &mut self,
        name: &str,
        help: &str,
        extra: &[(&str, &str)],
        value: impl Display,
    ) {
        self.family(name, help);
        self.sample(name, extra, value);
    }

    /// One sample per state, 1 for the current one (Prometheus' way of giving an enum).
    fn one_hot<'a>(
        &mut self,
        name: &str,
        help: &str,
        states: impl Iterator<Item = (&'a str, bool)>,
    ) {
        self.family(name, help);
        for (state, on) in states {
            self.sample(name, &[("state", state)], u8::from(on));
        }
    }
}

/// A label value as the format escapes it.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

// The strict reader the integration tests use too.
#[cfg(test)]
#[path = "../../tests/common/prometheus.rs"]
mod exposition;
#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
