//! The media pipeline as a library: sources (camera, microphone, synthetic, files) and opening
//! them from a spec, capture, conversion to I420, H.264 and AAC encoding, crash-safe
//! fragmented MP4 and its finalization, the recording lifecycle the kiosk and `booth record`
//! share, playback, and the level / picture analysis the device-test screens use. Nothing in
//! here knows about terminals.

pub mod alsa;
pub mod analyze;
pub mod audio_clock;
pub mod capture;
pub mod convert;
pub mod encode;
pub mod frame;
pub mod holders;
pub mod mjpeg;
pub mod mp4read;
pub mod mux;
pub mod open;
pub mod playable;
pub mod player;
pub mod recorder;
pub mod recording;
pub mod source;
pub mod space;
pub mod synthetic;
pub mod undecodable;
pub mod v4l2;
pub mod wav;
pub mod y4m;
