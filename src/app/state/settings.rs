//! The station's settings the flow's rules depend on: fixed for the kiosk's life, the same for
//! every candidate (each candidate's own things are in [`super::Session`]).

use std::time::Duration;

/// Station settings the flow's rules depend on, the same for every candidate: resolved once
/// when the station starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Sound above this (peak dBFS) opens the "make some noise" gate.
    pub noise_gate_dbfs: f32,
    /// Silence this long while recording shows "we can't hear you".
    pub silence_warning: Duration,
    pub test_clip: Duration,
    /// The shortest test clip the candidate may stop early.
    pub test_clip_minimum: Duration,
    /// How long a heard sound keeps the gate open.
    pub gate_memory: Duration,
    /// Ctrl+C and the like cannot end booth; only the operator menu quits.
    pub lockdown: bool,
    /// Whether an operator PIN is set (the menu stays shut without one).
    pub operator_pin: bool,
    /// No key for this long (outside a recording) starts the reset countdown.
    pub idle_reset: Option<Duration>,
    /// How long the "are you still there?" countdown runs before the privacy wipe.
    pub idle_countdown: Duration,
    /// Staff granted this much at a time.
    pub grant_step: Duration,
    pub codes: CodeMode,
    pub code_rules: crate::codes::CodeRules,
    /// Codes are looked up in a roster (which also picks the interview).
    pub roster: bool,
    pub target: Target,
    /// Delivered answers are kept on this station (retention = keep).
    pub keeps_copies: bool,
    /// The done screen clears for the next candidate after this long.
    pub done_wait: Duration,
    /// The declined screen clears after this long.
    pub declined_wait: Duration,
    /// A receipt is printed when the candidate finishes.
    pub receipt: bool,
    /// Calling staff rings the terminal bell too.
    pub staff_bell: bool,
    /// The 3-2-1 before each recording (zero: none), unless the interview sets its own.
    pub countdown: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            noise_gate_dbfs: -45.0,
            silence_warning: Duration::from_secs(3),
            test_clip: Duration::from_secs(8),
            test_clip_minimum: Duration::from_secs(5),
            gate_memory: Duration::from_secs(120),
            lockdown: false,
            operator_pin: false,
            idle_reset: None,
            idle_countdown: Duration::from_secs(30),
            grant_step: Duration::from_secs(60),
            codes: CodeMode::Off,
            code_rules: crate::codes::CodeRules::default(),
            roster: false,
            target: Target::Platform,
            keeps_copies: false,
            done_wait: Duration::from_secs(60),
            declined_wait: Duration::from_secs(20),
            receipt: false,
            staff_bell: false,
            countdown: Duration::from_secs(3),
        }
    }
}

/// Whether candidates type a code on the welcome screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMode {
    /// No code: any key begins (a station without invitations).
    Off,
    /// A code may be typed; Enter on an empty field begins without one.
    Optional,
    /// A code is needed (always with a roster).
    Required,
}

/// Where answers go, so that the screen says what really happened to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A hiring platform that confirms each upload.
    Platform,
    /// A folder (a share or a disk): answers are saved there, not received by anyone yet.
    Folder,
}
