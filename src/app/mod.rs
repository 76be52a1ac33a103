//! The candidate's flow as one-way data: keys, ticks and worker reports become one typed
//! [`msg::Msg`]; the pure [`update::update`] holds every rule and returns [`msg::Effect`]s;
//! `ui::view` only draws the [`state::State`]. The run loop (`run`) and the effect executor
//! (`effects`) are the only parts that touch the terminal, the devices or the disk; `notify`
//! sends the heartbeat and the call-staff webhook.

pub mod effects;
pub mod msg;
pub mod notify;
pub mod resume;
pub mod run;
mod settings;
pub mod state;
pub mod station;
pub mod update;
mod upload_view;
