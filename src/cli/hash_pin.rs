//! `booth hash-pin`: makes the argon2id hash for `[kiosk] operator_pin_hash`. On a terminal it
//! asks twice without echoing; otherwise it reads two lines from standard input, so scripts can
//! use it (`printf '2468\n2468\n' | booth hash-pin`). The PIN is never printed or logged.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use super::Exit;
use crate::logging::console;
use crate::pin::{PinError, hash_pin};

#[derive(Debug, Args)]
pub struct HashPinArgs {}

/// Reads one line from the terminal with echo off (raw mode, so the digits never show).
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, read};
    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let mut pin = String::new();
    let result = loop {
        match read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Backspace => {
                    pin.pop();
                }
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "cancelled",
                    ));
                }
                KeyCode::Char(c) => pin.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    crossterm::terminal::disable_raw_mode()?;
    writeln!(err)?;
    result.map(|()| pin)
}

pub fn run(_args: &HashPinArgs) -> Exit {
    let stdin = std::io::stdin();
    let (first, second) = if stdin.is_terminal() {
        match (
            read_hidden("New operator PIN: "),
            read_hidden("The same PIN again: "),
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
