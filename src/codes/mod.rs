//! Candidates' invitation codes: what a code may look like ([`normalize`], [`mask`]), the
//! roster that says which interview a code opens ([`Roster`], CSV or TOML, followed across
//! replacements by [`RosterWatch`]), the single-use codes already used at this station
//! ([`UsedCodes`]), and [`check_code`], the one call the kiosk makes per entered code.
//!
//! Plain data and its files, like `interview` and `session`: no worker, no screen. A code is
//! personal data: it is logged and listed only through [`mask`], and stored only as a hash.

mod dates;
mod format;
mod from_csv;
mod from_toml;
mod roster;
mod used;
mod watch;

use std::sync::Arc;

pub use format::{CodeFormat, CodeRules, mask, normalize};
pub use roster::{Entry, Roster, RosterError, RosterRow};
pub use used::{USED_CODES_FILE, UsedCodes};
pub use watch::RosterWatch;

use crate::interview::{Catalog, Interview};

/// Why a well-formed code does not open an interview. The welcome screen says one plain
/// sentence per case and points to the staff; `Display` is for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("the roster does not know this code")]
    Unknown,
    #[error("the code is good only from {}", crate::clock::rfc3339(*from_unix))]
    NotYet { from_unix: u64 },
    #[error("the code was good until {}", crate::clock::rfc3339(*until_unix))]
    Expired { until_unix: u64 },
    #[error("the code is for one use only and was used at this station")]
    Used,
    #[error("the roster names interview '{id}', which this station does not have")]
    NoSuchInterview { id: String },
    /// No version of the roster could ever be read: the station cannot tell any code.
    #[error("the roster cannot be read, so no code can be checked")]
    NoRoster,
}

/// Checks one entered code (already [`normalize`]d) against the roster as it is now, the
/// codes used here and the station's interviews. On success a single-use code is marked used
/// before the interview is handed back, so it cannot open a second session.
///
/// Marking is durable; if the disk refuses it, the candidate still goes ahead (the station's
/// disk trouble is not theirs to solve) and the failure is logged as an error: the code could
/// then be used once more.
pub fn check_code(
    watch: &mut RosterWatch,
    used: &mut UsedCodes,
    catalog: &Catalog,
    code: &str,
    now_unix: u64,
) -> Result<Arc<Interview>, CodeRefusal> {
    let shown = mask(code);
    let result = decide(watch, used, catalog, code, now_unix);
    match &result {
        Ok((interview, entry)) => {
            tracing::info!(code = %shown, interview = %interview.id, roster_line = entry.line,
                single_use = entry.single_use, "code accepted");
            if entry.single_use
                && let Err(e) = used.mark(code)
            {
                tracing::error!(code = %shown, error = %e,
                    "cannot remember a single-use code as used; it could be used once more");
            }
        }
        Err(refusal) => tracing::info!(code = %shown, reason = %refusal, "code refused"),
    }
    result.map(|(interview, _)| interview)
}

fn decide(
    watch: &mut RosterWatch,
    used: &mut UsedCodes,
    catalog: &Catalog,
    code: &str,
    now_unix: u64,
) -> Result<(Arc<Interview>, Entry), CodeRefusal> {
    let (roster, _) = watch.current();
    let entry = roster
        .ok_or(CodeRefusal::NoRoster)?
        .lookup(code, now_unix)?;
    if entry.single_use {
        if let Err(e) = used.refresh() {
            tracing::warn!(error = %e, "cannot re-read the used codes; going by the last read");
        }
        if used.contains(code) {
            return Err(CodeRefusal::Used);
        }
    }
    let interview =
        catalog
            .get(&entry.interview_id)
            .ok_or_else(|| CodeRefusal::NoSuchInterview {
                id: entry.interview_id.clone(),
            })?;
    Ok((interview, entry))
}

#[cfg(test)]
mod tests;
