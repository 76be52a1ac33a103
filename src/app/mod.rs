//! The candidate's flow as one-way data: keys, ticks and worker reports become one typed
//! [`msg::Msg`]; the pure [`update::update`] holds every rule and returns [`msg::Effect`]s;
//! `ui::view` only draws the [`state::State`]. The effect executor (`effects`) carries out
//! every effect, in order; the run loop (`run`) only routes messages and draws. `start`
//! brings a station up from the disk (reconciled by `resume`, sessions kept by `sessions`);
//! `notify` sends the heartbeat and the call-staff webhook.

pub mod effects;
mod kiosk_status;
pub mod msg;
pub mod notify;
pub mod printer;
pub mod resume;
pub mod run;
pub mod sessions;
mod settings;
pub mod start;
pub mod state;
pub mod update;
mod upload_view;
