//! The station's trouble as one stable code, for monitoring that must not parse sentences: a
//! Prometheus sample carries a number and no free text (`booth_last_error_code`), and
//! `booth status --json` gives the same code by name. Each code is classified from typed facts
//! (the kiosk's screen, notice, devices and takes, classified by the app in
//! `app::kiosk_status`; the upload endpoint's problem and the outbox's unreadable records,
//! here), never from an error's text.
//!
//! The numbers are a contract (alert rules compare them): never renumber one.

use serde::{Deserialize, Serialize};

use crate::upload::{EndpointProblem, OutboxSummary};

/// What is wrong at the station, most pressing first when several are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A session could not be closed: the station is out of order until staff come.
    OutOfOrder,
    /// The disk cannot hold an answer.
    NoSpace,
    CameraBusy,
    Camera,
    Microphone,
    Devices,
    /// The upload endpoint refuses every delivery until the configuration is fixed.
    TokenMissing,
    TokenUnreadable,
    TokenEmpty,
    TokenMalformed,
    Unauthorized,
    NoCreationUrl,
    ChunkTooLarge,
    /// A submitted answer could not be put in the outbox (it is kept).
    SubmitFailed,
    /// A recording was cut short or did not start.
    RecordingFailed,
    /// The platform refused an answer for good (the file is kept).
    AnswerRefused,
    /// An outbox record or the health file cannot be read.
    OutboxUnreadable,
    /// The kiosk reported an error whose cause is none of the above, or has passed.
    Other,
}

impl ErrorCode {
    /// Every code, most pressing first.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::OutOfOrder,
        ErrorCode::NoSpace,
        ErrorCode::CameraBusy,
        ErrorCode::Camera,
        ErrorCode::Microphone,
        ErrorCode::Devices,
        ErrorCode::TokenMissing,
        ErrorCode::TokenUnreadable,
        ErrorCode::TokenEmpty,
        ErrorCode::TokenMalformed,
        ErrorCode::Unauthorized,
        ErrorCode::NoCreationUrl,
        ErrorCode::ChunkTooLarge,
        ErrorCode::SubmitFailed,
        ErrorCode::RecordingFailed,
        ErrorCode::AnswerRefused,
        ErrorCode::OutboxUnreadable,
        ErrorCode::Other,
    ];

    /// The number monitoring sees; 0 is "no error".
    pub fn number(self) -> u32 {
        match self {
            ErrorCode::Other => 1,
            ErrorCode::CameraBusy => 10,
            ErrorCode::Camera => 11,
            ErrorCode::Microphone => 12,
            ErrorCode::Devices => 13,
            ErrorCode::NoSpace => 20,
            ErrorCode::SubmitFailed => 21,
            ErrorCode::RecordingFailed => 22,
            ErrorCode::AnswerRefused => 30,
            ErrorCode::TokenMissing => 40,
            ErrorCode::TokenUnreadable => 41,
            ErrorCode::TokenEmpty => 42,
            ErrorCode::TokenMalformed => 43,
            ErrorCode::Unauthorized => 44,
            ErrorCode::NoCreationUrl => 45,
            ErrorCode::ChunkTooLarge => 46,
            ErrorCode::OutOfOrder => 50,
            ErrorCode::OutboxUnreadable => 60,
        }
    }

    /// The name `booth status --json` gives.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::OutOfOrder => "out_of_order",
            ErrorCode::NoSpace => "no_space",
            ErrorCode::CameraBusy => "camera_busy",
            ErrorCode::Camera => "camera",
            ErrorCode::Microphone => "microphone",
            ErrorCode::Devices => "devices",
            ErrorCode::TokenMissing => "token_missing",
            ErrorCode::TokenUnreadable => "token_unreadable",
            ErrorCode::TokenEmpty => "token_empty",
            ErrorCode::TokenMalformed => "token_malformed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NoCreationUrl => "no_creation_url",
            ErrorCode::ChunkTooLarge => "chunk_too_large",
            ErrorCode::SubmitFailed => "submit_failed",
            ErrorCode::RecordingFailed => "recording_failed",
            ErrorCode::AnswerRefused => "answer_refused",
            ErrorCode::OutboxUnreadable => "outbox_unreadable",
            ErrorCode::Other => "other",
        }
    }

    fn rank(self) -> usize {
        ErrorCode::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(ErrorCode::ALL.len())
    }

    /// The more pressing of two.
    pub fn worst(a: Option<ErrorCode>, b: Option<ErrorCode>) -> Option<ErrorCode> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.rank() < a.rank() { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// The outbox's trouble: what stops every delivery, records that cannot be read.
    pub fn of_outbox(outbox: &OutboxSummary) -> Option<ErrorCode> {
        let endpoint = outbox.problem().map(|p| match p {
            EndpointProblem::TokenMissing { .. } => ErrorCode::TokenMissing,
            EndpointProblem::TokenUnreadable { .. } => ErrorCode::TokenUnreadable,
            EndpointProblem::TokenEmpty { .. } => ErrorCode::TokenEmpty,
            EndpointProblem::TokenMalformed { .. } => ErrorCode::TokenMalformed,
            EndpointProblem::Unauthorized { .. } => ErrorCode::Unauthorized,
            EndpointProblem::NoCreationUrl { .. } => ErrorCode::NoCreationUrl,
            EndpointProblem::ChunkTooLarge { .. } => ErrorCode::ChunkTooLarge,
        });
        let unreadable = (!outbox.unreadable.is_empty()).then_some(ErrorCode::OutboxUnreadable);
        ErrorCode::worst(endpoint, unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_the_worst_is_the_most_pressing() {
        let mut numbers: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.number()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ErrorCode::ALL.len());
        assert!(!numbers.contains(&0), "0 means no error");
        let names: std::collections::HashSet<&str> =
            ErrorCode::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for c in ErrorCode::ALL {
            // The JSON name is the serde name.
            assert_eq!(
                serde_json::to_value(c).ok(),
                Some(serde_json::Value::from(c.name()))
            );
        }
        let (space, other) = (Some(ErrorCode::NoSpace), Some(ErrorCode::Other));
        assert_eq!(ErrorCode::worst(other, space), space);
        assert_eq!(ErrorCode::worst(space, other), space);
        assert_eq!(ErrorCode::worst(None, other), other);
        assert_eq!(ErrorCode::worst(None, None), None);
    }

    #[test]
    fn the_outbox_code_names_the_endpoint_problem_before_unreadable_records() {
        let mut o = OutboxSummary::of(&[], vec!["/o/x.json: eof".into()], None, 0);
        assert_eq!(ErrorCode::of_outbox(&o), Some(ErrorCode::OutboxUnreadable));
        let mut health = crate::upload::UploadHealth::fresh("https://up.example/files/");
        health.problem = Some(EndpointProblem::Unauthorized {
            method: "POST".into(),
            url: "https://up.example/files/".into(),
            status: 403,
        });
        o.health = Some(health);
        assert_eq!(ErrorCode::of_outbox(&o), Some(ErrorCode::Unauthorized));
        o.unreadable.clear();
        o.health = None;
        assert_eq!(ErrorCode::of_outbox(&o), None);
    }
}
