//! `booth hash-pin`: makes the argon2id hash for `[kiosk] operator_pin_hash`. On a terminal it
//! asks twice without echoing; otherwise it reads two lines from standard input, so scripts can
//! use it (`printf '2468\n2468\n' | booth hash-pin`). The PIN is never printed or logged.

use std::io::{BufRead, IsTerminal};

use clap::Args;

use super::Exit;
use crate::logging::console;
use crate::pin::{PinError, hash_pin};

#[derive(Debug, Args)]
pub struct HashPinArgs {}

pub fn run(_args: &HashPinArgs) -> Exit {
    let stdin = std::io::stdin();
    let (first, second) = if stdin.is_terminal() {
        match (
            crate::tui::read_hidden("New operator PIN: "),
            crate::tui::read_hidden("The same PIN again: "),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                console(&format!("booth: {e}"));
                return Exit::Failed;
            }
        }
    } else {
        let mut lines = stdin.lock().lines();
        let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
        (next().trim().to_string(), next().trim().to_string())
    };
    if first != second {
        console(&format!("booth: {}", PinError::Mismatch));
        return Exit::BadInput;
    }
    match hash_pin(&first) {
        Ok(hash) => {
            println!("{hash}");
            console("booth: put this in config.toml as [kiosk] operator_pin_hash = \"…\"");
            Exit::Ok
        }
        Err(e) => {
            console(&format!("booth: {e}"));
            Exit::BadInput
        }
    }
}
