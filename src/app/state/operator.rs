//! The operator's side of the screen: the menu behind its PIN, what it offers, and the pages
//! it shows.

use std::time::Instant;

/// What the operator menu offers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorAction {
    ExtraAttempt,
    ExtraAnswerTime,
    ExtraPreparation,
    UploadQueue,
    Diagnostics,
    EndSession,
    /// Types a code for a candidate who has none (on the welcome screen).
    EnterCode,
    Quit,
    /// Closes and reopens the camera and microphone at once (a device that came back, or
    /// one that hangs).
    ReopenDevices,
    Close,
}

impl OperatorAction {
    pub const ALL: [OperatorAction; 10] = [
        OperatorAction::ExtraAttempt,
        OperatorAction::ExtraAnswerTime,
        OperatorAction::ExtraPreparation,
        OperatorAction::UploadQueue,
        OperatorAction::Diagnostics,
        OperatorAction::EndSession,
        OperatorAction::EnterCode,
        OperatorAction::Quit,
        // After Quit, so that the menu's earlier places (and staff's habits) stay as they were.
        OperatorAction::ReopenDevices,
        OperatorAction::Close,
    ];
}

/// The operator menu behind its PIN.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorStep {
    Closed,
    /// Typing the PIN (shown as dots); `checking` while the hash is verified.
    Pin {
        digits: String,
        checking: bool,
    },
    Menu {
        selected: usize,
    },
    /// Typing a code for the candidate.
    Code {
        typed: String,
    },
    /// A page of plain lines (the upload queue, diagnostics) until any key.
    Page {
        page: OperatorPage,
        lines: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub step: OperatorStep,
    /// Wrong PINs in a row; five lock the menu for a growing time.
    pub failures: u32,
    pub locked_until: Option<Instant>,
}

/// The pages the operator screens show, told apart by kind (never by their title's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorPage {
    /// Too many wrong PINs: the menu is locked for a while.
    Locked,
    UploadQueue,
    Diagnostics,
    /// A code can only be entered on the welcome screen.
    CodeWelcomeOnly,
}

impl OperatorPage {
    /// Text key of the page's title.
    pub fn title_key(self) -> &'static str {
        match self {
            OperatorPage::Locked => "operator.title",
            OperatorPage::UploadQueue => "operator.upload_queue",
            OperatorPage::Diagnostics => "operator.diagnostics",
            OperatorPage::CodeWelcomeOnly => "operator.enter_code",
        }
    }

    /// Where a key on the page leads: a locked menu closes; the other pages go back to it.
    pub fn after_key(self) -> OperatorStep {
        match self {
            OperatorPage::Locked => OperatorStep::Closed,
            _ => OperatorStep::Menu { selected: 0 },
        }
    }
}
