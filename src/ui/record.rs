//! Answering one question: reading it (or watching its video) during the preparation
//! countdown, recording with a large timer, and reviewing the take.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};

use super::overview::Hints;
use super::setup::{PaneSource, mic_panel, picture_pane, playback_panel, two_columns};
use super::theme::Theme;
use super::widgets::{BigClock, clock, spoken};
use crate::app::state::{Prep, State};
use crate::app::update::remaining;
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

pub fn question(
    state: &State,
    q: usize,
    prep: Prep,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let question = state.question(q);
    let watching = prep == Prep::Watching;
    let (main, side) = two_columns(area);
    if question.video.is_some() && (watching || state.playback.frame.is_some()) {
        let [text, video] =
            Layout::vertical([Constraint::Length(5), Constraint::Min(6)]).areas(main);
        frame.render_widget(question_text(state, q, theme), text);
        picture_pane(state, theme, frame, video, PaneSource::Playback);
    } else {
        frame.render_widget(question_text(state, q, theme).block(Block::default()), main);
    }
    let [info, mic] = Layout::vertical([Constraint::Min(8), Constraint::Length(4)]).areas(side);
    let left = state.attempts_left(q);
    let attempts = Line::styled(
        format!(
            "Answer: up to {} · {} attempt{} left",
            spoken(question.answer_limit),
            left,
            if left == 1 { "" } else { "s" }
        ),
        theme.dim,
    );
    let (lines, hints): (Vec<Line>, Hints) = match prep {
        Prep::Watching => (
            vec![
                Line::styled("Watch the question", theme.title),
                Line::raw(""),
                Line::raw(format!(
                    "Playing {} / {}",
                    clock(state.playback.position),
                    clock(state.playback.length)
                )),
                Line::raw(""),
                Line::raw("Your preparation time starts when the video ends."),
                Line::raw(""),
                attempts,
            ],
            vec![("Enter", "Skip to preparation")],
        ),
        Prep::Counting { ends } => {
            let left = remaining(state.now, ends);
            let lines = vec![
                Line::styled("Preparation time", theme.title),
                Line::raw(""),
                Line::from(vec![
                    Span::raw("Recording starts in "),
                    Span::styled(clock(left), theme.warn),
                ]),
                Line::raw(""),
                Line::raw("Take a moment to think. Press Enter if you are ready sooner."),
                Line::raw(""),
                attempts,
            ];
            (lines, vec![("Enter", "Start recording now")])
        }
        Prep::Ready => (
            vec![
                Line::styled("Ready when you are", theme.title),
                Line::raw(""),
                Line::raw("Press Enter to start recording your answer."),
                Line::raw(""),
                attempts,
            ],
            vec![("Enter", "Start recording")],
        ),
        Prep::WaitingForSound => (
            vec![
                Line::styled("We need to hear you first", theme.warn),
                Line::raw(""),
                Line::raw(
                    "Say something, like \"hello\". Recording starts as soon as the \
                     microphone bar below moves past the line.",
                ),
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
    if let Prep::Counting { ends } = prep {
        let total = question.preparation.as_secs_f64().max(1.0);
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
    _take: usize,
    started: Option<Instant>,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let question = state.question(q);
    let (main, side) = two_columns(area);
    let [text, picture] = Layout::vertical([Constraint::Length(4), Constraint::Min(6)]).areas(main);
    frame.render_widget(question_text(state, q, theme), text);
    if state.devices.preview_hidden {
        frame.render_widget(
            Paragraph::new(
                "Your picture is hidden. You are still being recorded. Press H to show it.",
            )
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.dim),
            ),
            picture,
        );
    } else {
        picture_pane(state, theme, frame, picture, PaneSource::Live);
    }
    let elapsed = started.map_or(Duration::ZERO, |s| state.now.saturating_duration_since(s));
    let left = question.answer_limit.saturating_sub(elapsed);
    let [label, big, under, rest, mic] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(4),
    ])
    .areas(side);
    let rec = if started.is_some() {
        Line::from(vec![Span::styled(" ● RECORDING ", theme.recording)])
    } else {
        Line::styled("Starting…", theme.dim)
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
        Paragraph::new(Line::styled(format!("{} left", clock(left)), theme.warn))
            .alignment(ratatui::layout::Alignment::Center),
        under,
    );
    let minimum = question.minimum_answer.unwrap_or_default();
    let mut lines = Vec::new();
    let mut hints: Hints = Vec::new();
    if elapsed < minimum {
        lines.push(Line::raw(format!("You can stop after {}.", clock(minimum))));
    } else {
        lines.push(Line::raw("Press S when you have finished."));
        hints.push(("S", "Stop recording"));
    }
    if let Some(silent) = state.silent_for() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "We can't hear you ({} s of silence). Please speak towards the microphone.",
                silent.as_secs()
            ),
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
        if state.devices.preview_hidden {
            "Show my picture"
        } else {
            "Hide my picture"
        },
    ));
    hints
}

pub fn review(
    state: &State,
    q: usize,
    take: usize,
    playing: bool,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let (main, side) = two_columns(area);
    if playing {
        picture_pane(state, theme, frame, main, PaneSource::Playback);
    } else {
        frame.render_widget(
            Paragraph::new(Text::from(vec![
                Line::raw(""),
                Line::styled("Your answer is recorded.", theme.good),
                Line::raw(""),
                Line::raw("Press P to watch it before you decide."),
            ]))
            .alignment(ratatui::layout::Alignment::Center)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.dim),
            ),
            main,
        );
    }
    let t = &state.progress.questions[q].takes[take];
    let left = state.attempts_left(q);
    let mut lines = vec![
        Line::styled("Your answer", theme.title),
        Line::raw(""),
        Line::raw(format!(
            "Length: {}",
            clock(Duration::from_secs_f64(t.seconds.unwrap_or(0.0)))
        )),
    ];
    if t.state == TakeState::Interrupted {
        lines.push(Line::styled(
            "This recording was cut short by a technical problem. It did not use up an attempt.",
            theme.warn,
        ));
    }
    if playing {
        lines.push(Line::raw(format!(
            "Playing {} / {}",
            clock(state.playback.position),
            clock(state.playback.length)
        )));
    }
    lines.push(Line::raw(""));
    let mut hints: Hints = vec![("Enter", "Send this answer")];
    if left > 0 {
        lines.push(Line::raw(format!(
            "Not happy with it? You can record again ({} attempt{} left).",
            left,
            if left == 1 { "" } else { "s" }
        )));
        hints.push(("R", "Record again"));
    } else {
        lines.push(Line::styled(
            "This was your last attempt for this question.",
            theme.dim,
        ));
    }
    hints.push(if playing {
        ("P", "Stop")
    } else {
        ("P", "Watch")
    });
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
