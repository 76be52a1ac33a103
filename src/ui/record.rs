//! Answering one question: reading it (or watching its video) during the preparation
//! countdown, recording with a large timer, and reviewing the take.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};

use super::graphics::Graphics;
use super::overview::Hints;
use super::setup::{PaneSource, mic_panel, picture_pane, playback_panel, two_columns};
use super::theme::Theme;
use super::widgets::{BigClock, clock, remaining};
use super::words::duration;
use crate::app::state::{Prep, State};
use crate::session::TakeState;

fn question_text<'a>(state: &'a State, q: usize, theme: &Theme) -> Paragraph<'a> {
    let text = state.question(q).text.replace('\n', " ");
    Paragraph::new(Text::from(vec![Line::styled(text, theme.text)]))
        .wrap(Wrap { trim: true })
        .block(
            Block::default()
                .borders(Borders::BOTTOM)
                .border_style(theme.dim),
        )
}

fn playing_line(state: &State, key: &str) -> Line<'static> {
    Line::raw(state.session.text.fmt(
        key,
        &[
            ("position", &clock(state.session.playback.position)),
            ("length", &clock(state.session.playback.length)),
        ],
    ))
}

pub fn question(
    state: &State,
    q: usize,
    prep: Prep,
    theme: &Theme,
    gfx: Option<&mut Graphics>,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let t = &state.session.text;
    let question = state.question(q);
    let watching = prep == Prep::Watching;
    let (main, side) = two_columns(area);
    if question.video.is_some() && (watching || state.session.playback.frame.is_some()) {
        let [text, video] =
            Layout::vertical([Constraint::Length(5), Constraint::Min(6)]).areas(main);
        frame.render_widget(question_text(state, q, theme), text);
        picture_pane(state, theme, gfx, frame, video, PaneSource::Playback);
    } else {
        frame.render_widget(question_text(state, q, theme).block(Block::default()), main);
    }
    let [info, mic] = Layout::vertical([Constraint::Min(8), Constraint::Length(4)]).areas(side);
    let attempts = Line::styled(
        t.plural(
            "question.answer_info",
            state.attempts_left(q) as u64,
            &[("limit", &duration(t, state.answer_limit(q)))],
        ),
        theme.dim,
    );
    let (lines, hints): (Vec<Line>, Hints) = match prep {
        Prep::Watching => (
            vec![
                Line::styled(t.get("question.watch"), theme.title),
                Line::raw(""),
                playing_line(state, "question.playing"),
                Line::raw(""),
                Line::raw(t.get("question.prep_after_video")),
                Line::raw(""),
                attempts,
            ],
            vec![("Enter", t.get("question.skip").to_string())],
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
    frame.render_widget(
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: true }),
        info,
    );
    if let (Prep::Counting { ends }, true) = (prep, theme.large) {
        // Large text: the countdown in big digits under the words.
        let big = Rect::new(
            info.x,
            info.y + info.height.saturating_sub(7),
            info.width,
            6,
        );
        frame.render_widget(
            BigClock {
                text: clock(remaining(state.now, ends)),
                style: theme.warn,
            },
            big,
        );
    }
    if let Prep::Counting { ends } = prep {
        let total = state.preparation(q).as_secs_f64().max(1.0);
        let left = ends.saturating_duration_since(state.now).as_secs_f64();
        let gauge_area = Rect::new(
            info.x,
            info.y + info.height.saturating_sub(1),
            info.width,
            1,
        );
        frame.render_widget(
            Gauge::default()
                .ratio((1.0 - left / total).clamp(0.0, 1.0))
                .gauge_style(theme.accent)
                .label(""),
            gauge_area,
        );
    }
    if watching {
        playback_panel(state, theme, frame, mic);
    } else {
        mic_panel(state, theme, frame, mic);
    }
    hints
}

pub fn recording(
    state: &State,
    q: usize,
    started: Option<Instant>,
    theme: &Theme,
    gfx: Option<&mut Graphics>,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let t = &state.session.text;
    let question = state.question(q);
    let (main, side) = two_columns(area);
    let [text, picture] = Layout::vertical([Constraint::Length(4), Constraint::Min(6)]).areas(main);
    frame.render_widget(question_text(state, q, theme), text);
    if state.session.preview_hidden {
        frame.render_widget(
            Paragraph::new(t.get("recording.hidden"))
                .wrap(Wrap { trim: true })
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.dim),
                ),
            picture,
        );
    } else {
        picture_pane(state, theme, gfx, frame, picture, PaneSource::Live);
    }
    let elapsed = started.map_or(Duration::ZERO, |s| state.now.saturating_duration_since(s));
    let left = state.answer_limit(q).saturating_sub(elapsed);
    let [label, big, under, rest, mic] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(4),
    ])
    .areas(side);
    let rec = if started.is_some() {
        Line::from(vec![Span::styled(
            format!(" {} ", t.get("recording.label")),
            theme.recording,
        )])
    } else {
        Line::styled(t.get("recording.starting"), theme.dim)
    };
    frame.render_widget(Paragraph::new(rec), label);
    frame.render_widget(
        BigClock {
            text: clock(elapsed),
            style: theme.title,
        },
        big,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            t.fmt("recording.left", &[("time", &clock(left))]),
            theme.warn,
        ))
        .alignment(Alignment::Center),
        under,
    );
    let minimum = question.minimum_answer.unwrap_or_default();
    let mut lines = Vec::new();
    let mut hints: Hints = Vec::new();
    if elapsed < minimum {
        lines.push(Line::raw(
            t.fmt("recording.stop_after", &[("time", &clock(minimum))]),
        ));
    } else {
        lines.push(Line::raw(t.get("recording.press_stop")));
        hints.push(("S", t.get("recording.stop").to_string()));
    }
    if let Some(silent) = state.silent_for() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            t.fmt("recording.cant_hear", &[("seconds", &silent.as_secs())]),
            theme.bad,
        ));
    }
    frame.render_widget(
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: true }),
        rest,
    );
    mic_panel(state, theme, frame, mic);
    hints.push((
        "H",
        t.get(if state.session.preview_hidden {
            "recording.show"
        } else {
            "recording.hide"
        })
        .to_string(),
    ));
    hints
}

/// `shown` is the question, the take under review and whether it is playing.
pub fn review(
    state: &State,
    (q, take, playing): (usize, usize, bool),
    theme: &Theme,
    gfx: Option<&mut Graphics>,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let t = &state.session.text;
    let (main, side) = two_columns(area);
    if playing {
        picture_pane(state, theme, gfx, frame, main, PaneSource::Playback);
    } else {
        frame.render_widget(
            Paragraph::new(Text::from(vec![
                Line::raw(""),
                Line::styled(t.get("review.recorded"), theme.good),
                Line::raw(""),
                Line::raw(t.get("review.press_watch")),
            ]))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.dim),
            ),
            main,
        );
    }
    let take = &state.session.progress.questions[q].takes[take];
    let left = state.attempts_left(q);
    let length = clock(Duration::from_secs_f64(take.seconds.unwrap_or(0.0)));
    let mut lines = vec![
        Line::styled(t.get("review.title"), theme.title),
        Line::raw(""),
        Line::raw(t.fmt("review.length", &[("time", &length)])),
    ];
    if take.state == TakeState::Interrupted {
        lines.push(Line::styled(t.get("review.interrupted"), theme.warn));
    }
    if playing {
        lines.push(playing_line(state, "review.playing"));
    }
    lines.push(Line::raw(""));
    let mut hints: Hints = vec![("Enter", t.get("review.send").to_string())];
    if left > 0 {
        lines.push(Line::raw(t.plural("review.again", left as u64, &[])));
        hints.push(("R", t.get("review.record_again").to_string()));
    } else {
        lines.push(Line::styled(t.get("review.last_attempt"), theme.dim));
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
    let [info, sound] = Layout::vertical([Constraint::Min(6), Constraint::Length(4)]).areas(side);
    frame.render_widget(
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: true }),
        info,
    );
    if playing {
        playback_panel(state, theme, frame, sound);
    }
    hints
}
