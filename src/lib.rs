//! booth: a terminal kiosk recorder for one-way video interviews.
//!
//! Layout (dependencies point one way, top to bottom):
//! - `cli`: the scripting front end (`booth record`, `recover`, `devices`, `bench`).
//! - `config`: the station config file (`config.toml`); `interview`: the interview files and
//!   the station's catalog of them; `codes`: candidates' codes and the roster.
//! - `media`: capture, conversion, encoding, muxing and analysis; no terminal code.
//! - `upload`: durable delivery of answers to the platform (tus, or a directory); no terminal code.
//! - `doctor`: `booth doctor`'s station checks; `status`: station health (`booth status`, the
//!   heartbeat's body); `clock`: wall-clock time as booth writes and reads it.
//! - `fsutil`: private files and directories, atomic writes; `sync`: the one way to lock a
//!   mutex; `names`: receipt codes and answer file names.
//! - `vt`: the virtual terminal the kiosk runs on and its lock on VT switching.
//!
//! No `unsafe` code, except the two VT ioctls in `vt::ioctl` (which says why).
#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod config;
pub mod doctor;
pub mod fsutil;
pub mod i18n;
pub mod interview;
pub mod logging;
pub mod media;
pub mod names;
pub mod pin;
pub mod procinfo;
pub mod session;
pub mod status;
pub mod sync;
mod tomlfile;
pub mod tui;
pub mod ui;
pub mod upload;
pub mod vt;

/// What a unit test returns, so that it can use `?`: an error fails the test.
#[cfg(test)]
pub(crate) type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;
