//! Whether booth's own player can play a question video, asked when the interview is loaded
//! (and by `booth doctor`): an MP4 booth reads, an H.264 picture of a size the player takes,
//! AAC sound if there is sound, and first pictures and sound that really decode with the
//! player's decoders (OpenH264, FDK AAC). A file that passes plays; one that does not is
//! refused at the interview's `video` line instead of in front of a candidate.

use std::fs::File;
use std::path::Path;

use openh264::decoder::Decoder;

use super::mp4read::{self, Track, TrackKind};
use super::player::annexb;
use crate::interview::{VideoCheck, VideoProblem};

/// Pictures tried before a video counts as undecodable (a second or so of a normal file).
const FIRST_PICTURES: usize = 30;
/// Sound frames tried.
const FIRST_SOUNDS: usize = 10;
/// The largest picture the player takes, either way round.
const LARGEST: (u32, u32) = (1920, 1080);

/// The check the kiosk and `booth doctor` give the interview loader.
pub struct PlayerCheck;

impl VideoCheck for PlayerCheck {
    fn check(&self, path: &Path) -> Result<(), VideoProblem> {
        check(path)
    }
}

/// Checks `path` as the player would play it.
pub fn check(path: &Path) -> Result<(), VideoProblem> {
    let tracks = mp4read::read_tracks(path).map_err(|e| VideoProblem::Container {
        detail: e.to_string(),
    })?;
    let Some(video) = tracks
        .iter()
        .find(|t| matches!(t.kind, TrackKind::Video { .. }))
    else {
        let found = mp4read::codec_names(path)
            .map(|names| names.join(", "))
            .unwrap_or_default();
        return Err(VideoProblem::Codec {
            found: if found.is_empty() {
                "none".into()
            } else {
                found
            },
        });
    };
    size(video)?;
    pictures(path, video)?;
    if let Some(audio) = tracks
        .iter()
        .find(|t| matches!(t.kind, TrackKind::Audio { .. }))
    {
        sound(path, audio)?;
    }
    Ok(())
}

fn size(video: &Track) -> Result<(), VideoProblem> {
    let TrackKind::Video { width, height, .. } = video.kind else {
        return Ok(());
    };
    let (long, short) = (width.max(height), width.min(height));
    let fits = short >= 16 && long <= LARGEST.0 && short <= LARGEST.1;
    if fits && width % 2 == 0 && height % 2 == 0 {
        Ok(())
    } else {
        Err(VideoProblem::Size { width, height })
    }
}

/// Decodes the first pictures as the player does: at least one must come out.
fn pictures(path: &Path, video: &Track) -> Result<(), VideoProblem> {
    let undecodable = |detail: String| VideoProblem::Undecodable { detail };
    let TrackKind::Video { sps, pps, .. } = &video.kind else {
        return Err(undecodable("not a picture track".into()));
    };
    if video.samples.is_empty() {
        return Err(undecodable("it has no pictures".into()));
    }
    let mut decoder = Decoder::new().map_err(|e| undecodable(e.to_string()))?;
    let mut params = Vec::new();
    for ps in [sps, pps] {
        params.extend_from_slice(&[0, 0, 0, 1]);
        params.extend_from_slice(ps);
    }
    // Parameter sets alone give no picture; a bad one shows in the pictures that follow.
    let _ = decoder.decode(&params);
    let mut file = File::open(path).map_err(|e| undecodable(e.to_string()))?;
    let (mut buf, mut nal) = (Vec::new(), Vec::new());
    let mut last_error = "no picture came out".to_string();
    for s in video.samples.iter().take(FIRST_PICTURES) {
        mp4read::read_sample(&mut file, s, &mut buf).map_err(|e| undecodable(e.to_string()))?;
        annexb(&buf, &mut nal);
        match decoder.decode(&nal) {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {}
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(undecodable(last_error))
}

/// Sets up the AAC decoder as the player does and decodes the first sound frames.
fn sound(path: &Path, audio: &Track) -> Result<(), VideoProblem> {
    let bad = |detail: String| VideoProblem::Sound { detail };
    let TrackKind::Audio { config, .. } = &audio.kind else {
        return Ok(());
    };
    let mut decoder = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
    decoder.config_raw(config).map_err(|e| bad(e.to_string()))?;
    let mut file = File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut buf = Vec::new();
    let mut pcm = vec![0i16; 4096 * 2];
    let mut last_error = "no sound came out".to_string();
    for s in audio.samples.iter().take(FIRST_SOUNDS) {
        mp4read::read_sample(&mut file, s, &mut buf).map_err(|e| bad(e.to_string()))?;
        decoder.fill(&buf).map_err(|e| bad(e.to_string()))?;
        match decoder.decode_frame(&mut pcm) {
            Ok(()) => return Ok(()),
            Err(e) => last_error = e.to_string(),
        }
    }
    if audio.samples.is_empty() {
        return Ok(());
    }
    Err(bad(last_error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_question_video_plays() -> crate::TestResult {
        let video = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/question-2.mp4");
        check(&video)?;
        Ok(())
    }

    #[test]
    fn a_file_that_is_no_mp4_is_refused_as_a_container() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("q.mp4");
        std::fs::write(&file, b"this is not a video at all")?;
        assert!(matches!(check(&file), Err(VideoProblem::Container { .. })));
        Ok(())
    }

    #[test]
    fn sizes_the_player_takes() {
        let track = |width, height| Track {
            kind: TrackKind::Video {
                width,
                height,
                sps: Vec::new(),
                pps: Vec::new(),
            },
            timescale: 90_000,
            samples: Vec::new(),
            start: 0,
        };
        assert!(size(&track(640, 360)).is_ok());
        assert!(size(&track(1080, 1920)).is_ok());
        assert!(size(&track(3840, 2160)).is_err());
        assert!(size(&track(641, 360)).is_err());
        assert!(size(&track(8, 8)).is_err());
    }
}
