//! The camera and microphone check: live picture, live meter, a short test clip played back,
//! and what the automatic checks found, in plain words. Also the picture pane the answer
//! screens share.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::overview::Hints;
use super::preview::Preview;
use super::theme::Theme;
use super::widgets::{Meter, clock};
use crate::app::msg::ClipChecks;
use crate::app::state::{DeviceStatus, State, TestStep};
use crate::media::analyze::{AudioVerdict, PictureVerdict};

/// What the picture pane shows.
pub enum PaneSource {
    /// The live camera, mirrored.
    Live,
    /// A recording or question video being played.
    Playback,
}

/// The picture pane: the camera, a playback, or a plain message in their place.
pub fn picture_pane(
    state: &State,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    source: PaneSource,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.dim);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (picture, mirror) = match source {
        PaneSource::Live => (state.devices.preview.as_deref(), true),
        PaneSource::Playback => (state.playback.frame.as_deref(), false),
    };
    let message = match (&state.devices.status, picture, &source) {
        (_, Some(_), _) => None,
        (DeviceStatus::Failed(msg), None, PaneSource::Live) => Some(msg.clone()),
        (DeviceStatus::Opening, None, PaneSource::Live) => Some("Starting the camera…".into()),
        (_, None, PaneSource::Live) => Some("Waiting for the camera…".into()),
        (_, None, PaneSource::Playback) => Some("Loading…".into()),
    };
    match (picture, message) {
        (Some(f), _) => frame.render_widget(
            Preview {
                frame: f,
                depth: theme.depth,
                mirror,
            },
            inner,
        ),
        (None, Some(m)) => {
            let y = inner.y + inner.height / 2;
            frame.render_widget(
                Paragraph::new(m)
                    .alignment(Alignment::Center)
                    .wrap(Wrap { trim: true }),
                Rect::new(
                    inner.x,
                    y.saturating_sub(1),
                    inner.width,
                    3.min(inner.height),
                ),
            );
        }
        (None, None) => {}
    }
}

/// The microphone meter with its caption and a verdict in words.
pub fn mic_panel(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [caption, bar, words] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled("Microphone", theme.title)),
        caption,
    );
    frame.render_widget(
        Meter {
            level: state.devices.level,
            gate_dbfs: state.settings.noise_gate_dbfs,
            theme,
        },
        bar,
    );
    let verdict = match state.devices.level {
        None => Line::styled("No sound yet", theme.dim),
        Some(l) if l.clipped => Line::styled("Too loud – move back a little", theme.warn),
        Some(l) if l.peak_dbfs >= state.settings.noise_gate_dbfs => {
            Line::styled("✓ We can hear you", theme.good)
        }
        Some(_) => Line::styled("Say something – the bar should move", theme.dim),
    };
    frame.render_widget(Paragraph::new(verdict), words);
}

/// While something plays: its sound as a meter, and a plain note when there is no speaker.
pub fn playback_panel(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [caption, bar, words] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled("Sound in the recording", theme.title)),
        caption,
    );
    frame.render_widget(
        Meter {
            level: state.playback.level,
            gate_dbfs: state.settings.noise_gate_dbfs,
            theme,
        },
        bar,
    );
    if state.playback.silent {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "No speaker here: the bar shows the sound instead",
                theme.dim,
            )),
            words,
        );
    }
}

/// Splits the body into a picture pane on the left and a column on the right.
pub fn two_columns(area: Rect) -> (Rect, Rect) {
    let right = (area.width / 3).clamp(30, 60);
    let [left, _, right] = Layout::horizontal([
        Constraint::Min(30),
        Constraint::Length(2),
        Constraint::Length(right),
    ])
    .areas(area);
    (left, right)
}

fn check_lines<'a>(checks: &ClipChecks, theme: &Theme) -> Vec<Line<'a>> {
    let picture = match checks.picture {
        PictureVerdict::Ok => Line::styled("✓ Picture: looks fine", theme.good),
        PictureVerdict::NoPicture => {
            Line::styled("✗ Picture: the camera sent no picture", theme.bad)
        }
        PictureVerdict::Black => Line::styled(
            "✗ Picture: it is dark – is something covering the camera?",
            theme.bad,
        ),
        PictureVerdict::Frozen => Line::styled(
            "✗ Picture: it does not move – the camera may have stopped",
            theme.bad,
        ),
    };
    let sound = match checks.sound {
        AudioVerdict::Ok => Line::styled("✓ Sound: we can hear you clearly", theme.good),
        AudioVerdict::NoSound => Line::styled(
            "✗ Sound: we heard nothing – is the microphone switched on?",
            theme.bad,
        ),
        AudioVerdict::TooQuiet => {
            Line::styled("✗ Sound: very quiet – speak up or move closer", theme.warn)
        }
        AudioVerdict::Clipping => Line::styled(
            "✗ Sound: too loud and distorted – move back a little",
            theme.warn,
        ),
    };
    vec![picture, sound]
}

pub fn device_test(
    state: &State,
    step: &TestStep,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
    let (left, right) = two_columns(area);
    let playing = matches!(step, TestStep::Review { playing: true, .. });
    picture_pane(
        state,
        theme,
        frame,
        left,
        if playing {
            PaneSource::Playback
        } else {
            PaneSource::Live
        },
    );
    let [info, mic] = Layout::vertical([Constraint::Min(8), Constraint::Length(4)]).areas(right);
    let clip = state.settings.test_clip;
    let (mut lines, hints): (Vec<Line>, Hints) = match step {
        TestStep::Ready => {
            let lines = vec![
                Line::styled("Let's check your camera and microphone", theme.title),
                Line::raw(""),
                Line::raw("Look at the camera and check you can see yourself on the left."),
                Line::raw(""),
                Line::raw(format!(
                    "Then record a short test clip ({} seconds) and say a few words, \
                     for example your name.",
                    clip.as_secs()
                )),
                Line::raw(""),
                Line::styled(
                    "Only you will see this clip. It is deleted when you move on.",
                    theme.dim,
                ),
            ];
            let hints = match state.devices.status {
                DeviceStatus::Ready { .. } => vec![("R", "Record a test clip")],
                DeviceStatus::Failed(_) => vec![("R", "Try again")],
                _ => vec![],
            };
            (lines, hints)
        }
        TestStep::Recording { started } => {
            let elapsed = state.now.saturating_duration_since(*started).min(clip);
            let mut hints: Hints = Vec::new();
            if elapsed >= state.settings.test_clip_minimum {
                hints.push(("S", "Stop"));
            }
            (
                vec![
                    Line::from(vec![
                        Span::styled(" ● REC ", theme.recording),
                        Span::raw(format!("  {} / {}", clock(elapsed), clock(clip))),
                    ]),
                    Line::raw(""),
                    Line::raw("Keep talking – say your name, or count to ten."),
                ],
                hints,
            )
        }
        TestStep::Saving => (vec![Line::raw("Saving the test clip…")], vec![]),
        TestStep::Review { checks, playing } => {
            let mut lines = vec![Line::styled("Your test clip", theme.title), Line::raw("")];
            lines.extend(check_lines(checks, theme));
            lines.push(Line::raw(""));
            if *playing {
                lines.push(Line::raw(format!(
                    "Playing: {} / {}",
                    clock(state.playback.position),
                    clock(state.playback.length.max(Duration::from_secs(1)))
                )));
            } else {
                lines.push(Line::styled(
                    "Press P to watch and hear your clip.",
                    theme.dim,
                ));
            }
            let play = if *playing {
                ("P", "Stop")
            } else {
                ("P", "Play")
            };
            let hints = if checks.all_good() {
                vec![("Enter", "Looks good!"), ("R", "Record again"), play]
            } else {
                lines.push(Line::raw(""));
                lines.push(Line::raw(
                    "Please fix this and record again, or ask the staff for help.",
                ));
                vec![("Enter", "Record again"), play, ("C", "Continue anyway")]
            };
            (lines, hints)
        }
    };
    if let DeviceStatus::Failed(msg) = &state.devices.status {
        lines.push(Line::raw(""));
        lines.push(Line::styled(msg.clone(), theme.bad));
    }
    frame.render_widget(
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: true }),
        info,
    );
    if playing {
        playback_panel(state, theme, frame, mic);
    } else {
        mic_panel(state, theme, frame, mic);
    }
    hints
}
