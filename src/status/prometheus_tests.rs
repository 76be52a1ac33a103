//! The exposition is read back by a strict reader of the format: every line is a sample or a
//! HELP/TYPE line, and the numbers are the status's.

use std::path::PathBuf;

use super::exposition::{self, value};
use super::*;
use crate::status::KioskStatus;
use crate::upload::{EndpointProblem, OutboxSummary, UploadHealth};

const NOW_MS: u64 = 1_700_000_123_456;

fn outbox() -> OutboxSummary {
    let mut health = UploadHealth::fresh("https://up.example/files/");
    health.problem = Some(EndpointProblem::TokenMissing {
        path: "/etc/booth/upload-token".into(),
    });
    OutboxSummary {
        waiting: 2,
        waiting_bytes: 12_345_678,
        oldest_waiting_ms: Some(NOW_MS - 3_600_000),
        oldest_waiting_seconds: Some(3600),
        refused: 1,
        delivered: 4,
        last_delivered_ms: Some(NOW_MS - 90_500),
        answers_today: 7,
        unreadable: vec!["/x/broken.json: eof".into()],
        health: Some(health),
    }
}

fn kiosk() -> KioskStatus {
    KioskStatus {
        pid: 42,
        state: Activity::Recording,
        phase: "recording".into(),
        session: "s1".into(),
        interview: "iv".into(),
        question: Some(2),
        camera: Some("cam".into()),
        microphone: Some("mic".into()),
        devices: DeviceState::Ready,
        last_error: None,
        last_error_code: None,
        updated_unix: NOW_MS / 1000,
    }
}

fn status(running: bool) -> StationStatus {
    let outbox = outbox();
    StationStatus {
        version: "9.8.7".into(),
        station_id: "hall-b.3".into(),
        data_dir: PathBuf::from("/var/lib/booth"),
        running,
        state: if running {
            Activity::Recording
        } else {
            Activity::Stopped
        },
        kiosk: Some(kiosk()),
        outbox_items: outbox.waiting,
        outbox_bytes: outbox.waiting_bytes,
        last_error_code: ErrorCode::of_outbox(&outbox),
        outbox,
        disk_free_bytes: Some(55_000_000_000),
        last_error: None,
    }
}

#[test]
fn every_line_is_a_sample_or_its_help_and_type_and_the_numbers_are_the_status() -> crate::TestResult
{
    let text = render(&status(true), NOW_MS);
    let samples = exposition::parse(&text)?;
    let station = [("station", "hall-b.3")];
    assert!(
        samples
            .iter()
            .all(|s| s.labels.get("station").map(String::as_str) == Some("hall-b.3")),
        "{text}"
    );
    let v = |name: &str| value(&samples, name, &station);
    assert_eq!(value(&samples, "booth_info", &[("version", "9.8.7")])?, 1.0);
    assert_eq!(v("booth_status_time_seconds")?, 1_700_000_123.456);
    assert_eq!(v("booth_kiosk_running")?, 1.0);
    assert_eq!(v("booth_outbox_waiting")?, 2.0);
    assert_eq!(v("booth_outbox_waiting_bytes")?, 12_345_678.0);
    assert_eq!(v("booth_outbox_oldest_waiting_seconds")?, 3600.0);
    assert_eq!(v("booth_outbox_refused")?, 1.0);
    assert_eq!(v("booth_outbox_unreadable")?, 1.0);
    assert_eq!(
        v("booth_last_delivery_timestamp_seconds")?,
        1_700_000_032.956
    );
    assert_eq!(v("booth_answers_today")?, 7.0);
    assert_eq!(v("booth_upload_endpoint_refusing")?, 1.0);
    assert_eq!(v("booth_disk_free_bytes")?, 55e9);
    // The endpoint's missing token is more pressing than an unreadable record.
    assert_eq!(
        v("booth_last_error_code")?,
        f64::from(ErrorCode::TokenMissing.number())
    );
    for a in Activity::ALL {
        let on = f64::from(u8::from(a == Activity::Recording));
        assert_eq!(value(&samples, "booth_state", &[("state", a.name())])?, on);
    }
    for d in DeviceState::ALL {
        let on = f64::from(u8::from(d == DeviceState::Ready));
        let got = value(&samples, "booth_device_state", &[("state", d.name())])?;
        assert_eq!(got, on, "{}", d.name());
    }
    Ok(())
}

#[test]
fn a_stopped_station_has_no_device_state_and_an_unknown_disk_is_left_out() -> crate::TestResult {
    let mut s = status(false);
    s.disk_free_bytes = None;
    s.outbox = OutboxSummary::of(&[], Vec::new(), None, NOW_MS);
    s.last_error_code = None;
    let text = render(&s, NOW_MS);
    let samples = exposition::parse(&text)?;
    let station = [("station", "hall-b.3")];
    assert_eq!(value(&samples, "booth_kiosk_running", &station)?, 0.0);
    assert_eq!(
        value(&samples, "booth_state", &[("state", "stopped")])?,
        1.0
    );
    assert!(
        samples
            .iter()
            .filter(|x| x.name == "booth_device_state")
            .all(|x| x.value == 0.0),
        "{text}"
    );
    assert!(!text.contains("booth_disk_free_bytes"), "{text}");
    for zero in [
        "booth_outbox_waiting",
        "booth_outbox_oldest_waiting_seconds",
        "booth_last_delivery_timestamp_seconds",
        "booth_last_error_code",
        "booth_upload_endpoint_refusing",
    ] {
        assert_eq!(value(&samples, zero, &station)?, 0.0, "{zero}");
    }
    Ok(())
}

#[test]
fn label_values_are_escaped() -> crate::TestResult {
    let mut s = status(true);
    s.station_id = "odd\"id\\with\nall".into();
    let samples = exposition::parse(&render(&s, NOW_MS))?;
    assert_eq!(
        value(
            &samples,
            "booth_kiosk_running",
            &[("station", "odd\"id\\with\nall")]
        )?,
        1.0
    );
    Ok(())
}

#[test]
fn the_reader_refuses_what_is_not_the_format() {
    let head = "# HELP m A metric.\n# TYPE m gauge\n";
    for bad in [
        "m{station=\"a\"} 1\n",                                         // no HELP/TYPE
        &format!("{head}m{{station=\"a\"}} one\n"),                     // not a number
        &format!("{head}m{{station=\"a\"}} 1\nm{{station=\"a\"}} 2\n"), // a series twice
        &format!("{head}m{{station=\"a\\q\"}} 1\n"),                    // a bad escape
        &format!("{head}m{{station=\"a\"}} 1"),                         // no final newline
        &format!("{head}m{{station=a}} 1\n"),                           // an unquoted label
        &format!("{head}# TYPE m gauge\nm 1\n"),                        // TYPE twice
        &format!("{head}2m 1\n"),                                       // a bad name
        "# HELP m A metric.\n# TYPE m histogramish\nm 1\n",             // an unknown type
    ] {
        assert!(exposition::parse(bad).is_err(), "accepted: {bad:?}");
    }
    assert!(exposition::parse(&format!("{head}m{{station=\"a\"}} 1\n")).is_ok());
}
