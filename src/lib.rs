//! booth: a terminal kiosk recorder for one-way video interviews.
//!
//! Layout (dependencies point one way, top to bottom):
//! - `cli`: the scripting front end (`booth record`, `recover`, `devices`, `bench`).
//! - `media`: capture, conversion, encoding, muxing and analysis; no terminal code.
//! - `fsutil`: private files and directories, atomic writes.
#![forbid(unsafe_code)]

pub mod cli;
pub mod fsutil;
pub mod logging;
pub mod media;
pub mod procinfo;
