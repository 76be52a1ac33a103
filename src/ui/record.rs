//! Answering one question: reading it (or watching, pausing and replaying its video) during
//! the preparation countdown, recording with a large timer, and reviewing the take. The
//! practice question's recording and review are these same screens, labelled as practice.

use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, StatefulWidget, Widget, Wrap};

use super::graphics::Graphics;
use super::setup::{PaneSource, PicturePane, sound_panel, two_columns};
use super::theme::Theme;
use super::widgets::{BigClock, Hints, clock, remaining};
use super::words::duration;
use crate::app::state::{Prep, Slot, State};
use crate::session::TakeState;

fn question_text<'a>(state: &'a State, q: usize, theme: &Theme) -> Paragraph<'a> {
    slot_text(state, Slot::Question(q), theme)
}

/// The text of what is being answered, above a line.
pub(super) fn slot_text<'a>(state: &'a State, slot: Slot, theme: &Theme) -> Paragraph<'a> {
    let text = state.slot_text(slot).replace('\n', " ");
    Paragraph::new(Text::from(vec![Line::styled(text, theme.text)]))
        .wrap(Wrap { trim: true })
        .block(
            Block::default()
                .borders(Borders::BOTTOM)
                .border_style(theme.dim),
        )
}

/// The layout the countdown and the recording share: what is being answered above the
/// picture on the left, with the picture's area and the side column left to fill.
pub(super) struct AnswerLayout {
    pub picture: Rect,
    pub side: Rect,
}

impl AnswerLayout {
    /// Draws the text of `slot` and returns where the rest goes.
    pub fn draw(state: &State, slot: Slot, theme: &Theme, area: Rect, buf: &mut Buffer) -> Self {
        let (main, side) = two_columns(area);
        let [text, picture] =
            Layout::vertical([Constraint::Length(4), Constraint::Min(6)]).areas(main);
        slot_text(state, slot, theme).render(text, buf);
        AnswerLayout { picture, side }
    }
}

pub(super) fn playing_line(state: &State, key: &str) -> Line<'static> {
    Line::raw(state.session.text.fmt(
        key,
        &[
            ("position", &clock(state.session.playback.position)),
            ("length", &clock(state.session.playback.length)),
        ],
    ))
}

/// A question on screen before its answer: read (or watched), the preparation countdown, or
/// waiting for the candidate's voice.
pub struct QuestionScreen<'a> {
    state: &'a State,
    q: usize,
    prep: Prep,
    theme: &'a Theme,
}

impl<'a> QuestionScreen<'a> {
    pub fn new(state: &'a State, q: usize, prep: Prep, theme: &'a Theme) -> Self {
        QuestionScreen {
            state,
            q,
            prep,
            theme,
        }
    }

    pub fn hints(&self) -> Hints {
        self.info().1
    }

    /// The words beside the question and the keys, for where the candidate is.
    fn info(&self) -> (Vec<Line<'a>>, Hints) {
        let (state, q, theme) = (self.state, self.q, self.theme);
        let t = &state.session.text;
        let attempts = Line::styled(
            t.plural(
                "question.answer_info",
                state.attempts_left(q) as u64,
                &[("limit", &duration(t, state.answer_limit(q)))],
            ),
            theme.dim,
        );
        let (mut lines, mut hints) = match self.prep {
            Prep::Watching { paused } => (
                vec![
                    Line::styled(t.get("question.watch"), theme.title),
                    Line::raw(""),
                    playing_line(
                        state,
                        if paused {
                            "question.paused"
                        } else {
                            "question.playing"
                        },
                    ),
                    Line::raw(""),
                    Line::raw(t.get("question.prep_after_video")),
                    Line::raw(""),
                    attempts,
                ],
                vec![
                    (
                        "Space",
                        t.get(if paused {
                            "question.resume"
                        } else {
                            "question.pause"
                        })
                        .to_string(),
                    ),
                    ("Enter", t.get("question.skip").to_string()),
                ],
            ),
            Prep::Counting { ends } => (
                vec![
                    Line::styled(t.get("question.prep_title"), theme.title),
                    Line::raw(""),
                    Line::styled(
                        t.fmt(
                            "question.starts_in",
                            &[("time", &clock(remaining(state.now, ends)))],
                        ),
                        theme.warn,
                    ),
                    Line::raw(""),
                    Line::raw(t.get("question.think")),
                    Line::raw(""),
                    attempts,
                ],
                vec![("Enter", t.get("question.start_now").to_string())],
            ),
            Prep::Ready => (
                vec![
                    Line::styled(t.get("question.ready_title"), theme.title),
                    Line::raw(""),
                    Line::raw(t.get("question.ready")),
                    Line::raw(""),
                    attempts,
                ],
                vec![("Enter", t.get("question.start").to_string())],
            ),
            Prep::WaitingForSound => (
                vec![
                    Line::styled(t.get("question.need_sound_title"), theme.warn),
                    Line::raw(""),
                    Line::raw(t.get("question.need_sound")),
                    Line::raw(""),
                    attempts,
                ],
                vec![],
            ),
        };
        // The replay key, only while the video may still be watched again.
        let left = state.replays_left(q);
        if !matches!(self.prep, Prep::Watching { .. }) && left > 0 {
            lines.push(Line::styled(
                t.plural("question.replays_left", u64::from(left), &[]),
                theme.dim,
            ));
            hints.push(("V", t.get("question.replay").to_string()));
        }
        (lines, hints)
    }

    /// The countdown: in big digits under the words with large text, and as a gauge.
    fn countdown(&self, ends: Instant, info: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        if theme.large {
            let big = Rect::new(
                info.x,
                info.y + info.height.saturating_sub(7),
                info.width,
                6,
            );
            BigClock {
                text: clock(remaining(state.now, ends)),
                style: theme.warn,
            }
            .render(big, buf);
        }
        let total = state.preparation(self.q).as_secs_f64().max(1.0);
        let left = ends.saturating_duration_since(state.now).as_secs_f64();
        let gauge_area = Rect::new(
            info.x,
            info.y + info.height.saturating_sub(1),
            info.width,
            1,
        );
        Gauge::default()
            .ratio((1.0 - left / total).clamp(0.0, 1.0))
            .gauge_style(theme.accent)
            .label("")
            .render(gauge_area, buf);
    }
}

impl StatefulWidget for &QuestionScreen<'_> {
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, q, theme) = (self.state, self.q, self.theme);
        let watching = matches!(self.prep, Prep::Watching { .. });
        let (main, side) = two_columns(area);
        if state.question(q).video.is_some() && (watching || state.session.playback.frame.is_some())
        {
            let [text, video] =
                Layout::vertical([Constraint::Length(5), Constraint::Min(6)]).areas(main);
            question_text(state, q, theme).render(text, buf);
            PicturePane {
                state,
                theme,
                source: PaneSource::Playback,
            }
            .render(video, buf, gfx);
        } else {
            question_text(state, q, theme)
                .block(Block::default())
                .render(main, buf);
        }
        let [info, mic] = Layout::vertical([Constraint::Min(8), Constraint::Length(4)]).areas(side);
        Paragraph::new(Text::from(self.info().0))
            .wrap(Wrap { trim: true })
            .render(info, buf);
        if let Prep::Counting { ends } = self.prep {
            self.countdown(ends, info, buf);
        }
        sound_panel(state, theme, watching, mic, buf);
    }
}

/// The answer (or the practice) being recorded: its text, the candidate's picture, a large
/// timer.
pub struct RecordingScreen<'a> {
    state: &'a State,
    slot: Slot,
    started: Option<Instant>,
    theme: &'a Theme,
}

impl<'a> RecordingScreen<'a> {
    pub fn new(state: &'a State, slot: Slot, started: Option<Instant>, theme: &'a Theme) -> Self {
        RecordingScreen {
            state,
            slot,
            started,
            theme,
        }
    }

    fn elapsed(&self) -> Duration {
        self.started.map_or(Duration::ZERO, |s| {
            self.state.now.saturating_duration_since(s)
        })
    }

    fn stoppable(&self) -> bool {
        self.elapsed() >= self.state.slot_minimum(self.slot)
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        let mut hints: Hints = Vec::new();
        if self.stoppable() {
            hints.push(("S", t.get("recording.stop").to_string()));
        }
        hints.push((
            "H",
            t.get(if self.state.session.preview_hidden {
                "recording.show"
            } else {
                "recording.hide"
            })
            .to_string(),
        ));
        hints
    }

    /// The timer column: the label, the time so far in big digits, the time left, and what
    /// to do (or that the candidate cannot be heard).
    fn timer(&self, side: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let elapsed = self.elapsed();
        let left = state.slot_limit(self.slot).saturating_sub(elapsed);
        let [label, big, under, rest, mic] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Length(2),
            Constraint::Min(3),
            Constraint::Length(4),
        ])
        .areas(side);
        let rec = if self.started.is_some() {
            Line::from(vec![Span::styled(
                format!(" {} ", t.get("recording.label")),
                theme.recording,
            )])
        } else {
            Line::styled(t.get("recording.starting"), theme.dim)
        };
        Paragraph::new(rec).render(label, buf);
        BigClock {
            text: clock(elapsed),
            style: theme.title,
        }
        .render(big, buf);
        Paragraph::new(Line::styled(
            t.fmt("recording.left", &[("time", &clock(left))]),
            theme.warn,
        ))
        .alignment(Alignment::Center)
        .render(under, buf);
        let mut lines = Vec::new();
        if self.slot == Slot::Practice {
            lines.push(Line::styled(t.get("practice.label"), theme.accent));
        }
        if self.stoppable() {
            lines.push(Line::raw(t.get("recording.press_stop")));
        } else {
            let minimum = state.slot_minimum(self.slot);
            lines.push(Line::raw(
                t.fmt("recording.stop_after", &[("time", &clock(minimum))]),
            ));
        }
        if let Some(silent) = state.silent_for() {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                t.fmt("recording.cant_hear", &[("seconds", &silent.as_secs())]),
                theme.bad,
            ));
        }
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .render(rest, buf);
        sound_panel(state, theme, false, mic, buf);
    }
}

impl StatefulWidget for &RecordingScreen<'_> {
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let AnswerLayout { picture, side } = AnswerLayout::draw(state, self.slot, theme, area, buf);
        if state.session.preview_hidden {
            Paragraph::new(t.get("recording.hidden"))
                .wrap(Wrap { trim: true })
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.dim),
                )
                .render(picture, buf);
        } else {
            PicturePane {
                state,
                theme,
                source: PaneSource::Live,
            }
            .render(picture, buf, gfx);
        }
        self.timer(side, buf);
    }
}

/// What the review screen shows: a question's take, or the practice take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reviewed {
    Answer { q: usize, take: usize },
    Practice { seconds: f64 },
}

/// A recorded take waiting for the candidate's decision: send, record again, or watch it. The
/// practice take is never sent: its Enter goes on to the questions.
pub struct ReviewScreen<'a> {
    state: &'a State,
    what: Reviewed,
    playing: bool,
    theme: &'a Theme,
}

impl<'a> ReviewScreen<'a> {
    pub fn new(state: &'a State, what: Reviewed, playing: bool, theme: &'a Theme) -> Self {
        ReviewScreen {
            state,
            what,
            playing,
            theme,
        }
    }

    pub fn hints(&self) -> Hints {
        self.info().1
    }

    fn info(&self) -> (Vec<Line<'a>>, Hints) {
        let (state, theme, playing) = (self.state, self.theme, self.playing);
        let t = &state.session.text;
        let (title, seconds, interrupted) = match self.what {
            Reviewed::Answer { q, take } => {
                let take = &state.session.progress.questions[q].takes[take];
                (
                    "review.title",
                    take.seconds.unwrap_or(0.0),
                    take.state == TakeState::Interrupted,
                )
            }
            Reviewed::Practice { seconds } => ("practice.review_title", seconds, false),
        };
        let length = clock(Duration::from_secs_f64(seconds.max(0.0)));
        let mut lines = vec![
            Line::styled(t.get(title), theme.title),
            Line::raw(""),
            Line::raw(t.fmt("review.length", &[("time", &length)])),
        ];
        if interrupted {
            lines.push(Line::styled(t.get("review.interrupted"), theme.warn));
        }
        if playing {
            lines.push(playing_line(state, "review.playing"));
        }
        lines.push(Line::raw(""));
        let mut hints: Hints = Vec::new();
        match self.what {
            Reviewed::Answer { q, .. } => {
                hints.push(("Enter", t.get("review.send").to_string()));
                let left = state.attempts_left(q);
                if left > 0 {
                    lines.push(Line::raw(t.plural("review.again", left as u64, &[])));
                    hints.push(("R", t.get("review.record_again").to_string()));
                } else {
                    lines.push(Line::styled(t.get("review.last_attempt"), theme.dim));
                }
            }
            Reviewed::Practice { .. } => {
                lines.push(Line::styled(t.get("practice.review_note"), theme.accent));
                hints.push(("Enter", t.get("practice.to_questions").to_string()));
                hints.push(("R", t.get("review.record_again").to_string()));
            }
        }
        hints.push((
            "P",
            t.get(if playing {
                "review.stop"
            } else {
                "review.watch"
            })
            .to_string(),
        ));
        (lines, hints)
    }
}

impl StatefulWidget for &ReviewScreen<'_> {
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let (main, side) = two_columns(area);
        if self.playing {
            PicturePane {
                state,
                theme,
                source: PaneSource::Playback,
            }
            .render(main, buf, gfx);
        } else {
            Paragraph::new(Text::from(vec![
                Line::raw(""),
                Line::styled(
                    t.get(match self.what {
                        Reviewed::Answer { .. } => "review.recorded",
                        Reviewed::Practice { .. } => "practice.recorded",
                    }),
                    theme.good,
                ),
                Line::raw(""),
                Line::raw(t.get("review.press_watch")),
            ]))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.dim),
            )
            .render(main, buf);
        }
        let [info, sound] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(4)]).areas(side);
        Paragraph::new(Text::from(self.info().0))
            .wrap(Wrap { trim: true })
            .render(info, buf);
        if self.playing {
            sound_panel(state, theme, true, sound, buf);
        }
    }
}
