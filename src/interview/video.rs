//! A question's `video` field: the file must be an `.mp4` that exists, and — when the caller
//! gives a [`VideoCheck`] (the kiosk and `booth doctor` give booth's own player) — one booth
//! can play: an MP4 container with an H.264 picture of a size the player takes, AAC sound if
//! any, and first pictures that really decode. The check itself lives with the player
//! (`media::player`), since this module is plain data; its verdict comes back typed
//! ([`VideoProblem`]) and is reported at the field's file:line.
//!
//! ```toml
//! [[question]]
//! video = "question-2.mp4"   # made by scripts/make-question-video.sh
//! video_replays = 1          # extra viewings after the first; 0 = once only
//! ```

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::tomlfile::{self, Diagnostic, Document};

/// Extra viewings of a question video when the question does not say.
pub const DEFAULT_REPLAYS: u32 = 1;
/// Inclusive limits of `video_replays`.
pub(super) const REPLAYS: (i64, i64) = (0, 5);

/// Whether booth can play a question video; implemented by the player.
pub trait VideoCheck {
    fn check(&self, path: &Path) -> Result<(), VideoProblem>;
}

/// Only that the file exists (the interview's own rule): for tools and tests that do not
/// play videos.
pub struct ExistsOnly;

impl VideoCheck for ExistsOnly {
    fn check(&self, _: &Path) -> Result<(), VideoProblem> {
        Ok(())
    }
}

/// Why booth's player cannot play a question video, in words for the interview's author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoProblem {
    #[error("it is not an MP4 file booth can read ({detail})")]
    Container { detail: String },
    #[error("it has no H.264 picture (its tracks: {found})")]
    Codec { found: String },
    #[error("its picture is {width}×{height}; booth plays even sizes from 16×16 to 1920×1080")]
    Size { width: u32, height: u32 },
    #[error("its sound is not AAC that booth can decode ({detail})")]
    Sound { detail: String },
    #[error("booth's player cannot decode its first pictures ({detail})")]
    Undecodable { detail: String },
}

/// What the video must be, for messages.
pub(super) const RULE: &str = "a path to an .mp4 file (H.264 picture, AAC sound), as \
                               scripts/make-question-video.sh makes";

/// Checks `video = "…"`: an existing `.mp4` booth can play. Videos are checked when the
/// interview is loaded, not when the question comes up: a kiosk must not discover a bad file
/// in front of a candidate.
pub(super) fn video(
    doc: &Document<'_>,
    v: Spanned<String>,
    dir: &Path,
    check: &dyn VideoCheck,
) -> Result<PathBuf, Diagnostic> {
    let written = v.get_ref().trim();
    let is_mp4 = Path::new(written)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mp4"));
    if !is_mp4 {
        let message = format!("field 'video' must be {RULE}, found {:?}", v.get_ref());
        return Err(doc.error(&v.span(), None, message));
    }
    let path = tomlfile::resolve(dir, written);
    let problem = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => match check.check(&path) {
            Ok(()) => return Ok(path),
            Err(problem) => {
                return Err(doc.error(
                    &v.span(),
                    None,
                    format!(
                        "field 'video' names {}, which booth cannot play: {problem}; make \
                         question videos with scripts/make-question-video.sh",
                        path.display()
                    ),
                ));
            }
        },
        Ok(_) => "is not a file".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
        Err(e) => format!("cannot be read ({e})"),
    };
    Err(doc.error(
        &v.span(),
        None,
        format!(
            "field 'video' must name an existing .mp4 file, but {} {problem} \
             (relative paths are read from {})",
            path.display(),
            dir.display()
        ),
    ))
}

/// `video_replays`: in range, and only where there is a video to replay.
pub(super) fn replays(
    doc: &Document<'_>,
    v: Option<Spanned<i64>>,
    has_video: bool,
) -> Result<u32, Diagnostic> {
    let Some(v) = v else {
        return Ok(DEFAULT_REPLAYS);
    };
    if !has_video {
        return Err(doc.error(
            &v.span(),
            None,
            "field 'video_replays' needs a 'video' in the same question (remove it, or add \
             the video)",
        ));
    }
    let n = *v.get_ref();
    let (lo, hi) = REPLAYS;
    if (lo..=hi).contains(&n) {
        Ok(u32::try_from(n).unwrap_or(0))
    } else {
        Err(doc.error(
            &v.span(),
            None,
            format!("field 'video_replays' must be between {lo} and {hi}, found {n}"),
        ))
    }
}
