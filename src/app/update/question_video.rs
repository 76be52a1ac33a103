//! A question's video, as rules of `update`: it plays once by itself when the question opens
//! (see `answer`), may be paused and resumed, skipped, and watched again as many times as the
//! question's `video_replays` allows (counted per question for this candidate, so the next
//! candidate starts afresh). A video that cannot be played is never skipped silently: the
//! candidate is told in a plain sentence and reads the question instead.

use super::super::msg::{Effect, Key};
use super::super::state::{Notice, Phase, Prep, State};
use super::answer::{play_video, preparation};

/// Keys while the video plays: pause or resume it, or skip to the preparation.
pub(super) fn watching_key(state: &mut State, q: usize, paused: bool, key: Key) -> Vec<Effect> {
    match key {
        Key::Space | Key::Char('p') => {
            state.session.phase = Phase::Question {
                q,
                prep: Prep::Watching { paused: !paused },
            };
            vec![Effect::PausePlayback { paused: !paused }]
        }
        Key::Enter | Key::Char('s') => {
            // Skipping the rest of the video starts the preparation time.
            let mut fx = vec![Effect::StopPlayback];
            fx.extend(video_over(state));
            fx
        }
        _ => Vec::new(),
    }
}

/// The replay key on the question screen, while replays remain: the video from the start,
/// the preparation time afresh after it.
pub(super) fn replay(state: &mut State, q: usize) -> Vec<Effect> {
    if state.replays_left(q) == 0 {
        return Vec::new();
    }
    match state.question(q).video.clone() {
        Some(video) => play_video(state, q, video),
        None => Vec::new(),
    }
}

/// The video ended (or was skipped): the preparation time starts.
pub(super) fn video_over(state: &mut State) -> Vec<Effect> {
    if let Phase::Question {
        q,
        prep: Prep::Watching { .. },
    } = state.session.phase
    {
        state.session.phase = Phase::Question {
            q,
            prep: preparation(state, q),
        };
    }
    Vec::new()
}

/// The video could not be played: a plain sentence over the question's text, and the
/// preparation time as if it had ended. The station's status names the file.
pub(super) fn video_failed(state: &mut State) -> Vec<Effect> {
    if let Phase::Question {
        q,
        prep: Prep::Watching { .. },
    } = state.session.phase
    {
        let file = state.question(q).video.clone().unwrap_or_default();
        tracing::error!(question = q, file = %file.display(), "a question video could not be played");
        state.last_error = Some(format!(
            "the video of question {} ({}) could not be played",
            q + 1,
            file.display()
        ));
        state.session.notice = Some(Notice::VideoFailed);
        state.session.playback = Default::default();
        return video_over(state);
    }
    Vec::new()
}
