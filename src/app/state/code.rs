//! The candidate's code on the welcome screen: as it is typed, and why one was not taken.

/// The candidate's code as it is being typed (or arrives from a barcode scanner, which types
/// it and presses Enter in a few milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeEntry {
    pub typed: String,
    /// Why the last code was not accepted, shown until the next key.
    pub problem: Option<CodeProblem>,
    /// The station is looking the code up in its roster.
    pub checking: bool,
}

/// Why a code was not accepted, each with its own plain sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    Empty,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    BadCharacter,
    Unknown,
    NotYet,
    Expired,
    Used,
    /// The code is fine but this station cannot run its interview (a staff matter).
    NoInterview,
    /// The station cannot read its roster at all (a staff matter).
    NoRoster,
}

impl CodeProblem {
    /// Text key of the sentence shown to the candidate.
    pub fn key(self) -> &'static str {
        match self {
            CodeProblem::Empty => "welcome.code_empty",
            CodeProblem::TooShort { .. } => "welcome.code_too_short",
            CodeProblem::TooLong { .. } => "welcome.code_too_long",
            CodeProblem::BadCharacter => "welcome.code_bad_character",
            CodeProblem::Unknown => "welcome.code_unknown",
            CodeProblem::NotYet => "welcome.code_not_yet",
            CodeProblem::Expired => "welcome.code_expired",
            CodeProblem::Used => "welcome.code_used",
            CodeProblem::NoInterview => "welcome.code_no_interview",
            CodeProblem::NoRoster => "welcome.code_no_roster",
        }
    }
}
