//! The camera and microphone check: live picture, live meter, a short test clip played back,
//! and what the automatic checks found, in plain words. Also the picture pane the answer
//! screens share.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, StatefulWidget, Widget, Wrap};

use super::graphics::Graphics;
use super::preview::Preview;
use super::theme::Theme;
use super::widgets::{Hints, Meter, clock};
use crate::app::msg::ClipChecks;
use crate::app::state::{DeviceStatus, State, TestStep};
use crate::media::analyze::{AudioVerdict, PictureVerdict};

/// What the picture pane shows.
#[derive(Clone, Copy)]
pub enum PaneSource {
    /// The live camera, mirrored.
    Live,
    /// A recording or question video being played.
    Playback,
}

/// The picture pane: the camera, a playback, or a plain message in their place. Drawn with
/// the terminal's graphics when there are any (the render state), half blocks otherwise.
pub struct PicturePane<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
    pub source: PaneSource,
}

impl StatefulWidget for &PicturePane<'_> {
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, theme, source) = (self.state, self.theme, self.source);
        let t = &state.session.text;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(theme.dim);
        let inner = block.inner(area);
        block.render(area, buf);
        let (picture, mirror) = match source {
            PaneSource::Live => (state.devices.preview.as_ref(), true),
            PaneSource::Playback => (state.session.playback.frame.as_ref(), false),
        };
        let message = match (&state.devices.status, picture, source) {
            (_, Some(_), _) => None,
            (DeviceStatus::Failed(problem), None, PaneSource::Live) => Some(t.get(problem.key())),
            (DeviceStatus::Opening, None, PaneSource::Live) => {
                Some(t.get("devices.starting_camera"))
            }
            (_, None, PaneSource::Live) => Some(t.get("devices.waiting_camera")),
            (_, None, PaneSource::Playback) => Some(t.get("devices.loading")),
        };
        match (picture, message, gfx.as_mut()) {
            (Some(f), _, Some(g)) => g.render(f, mirror, inner, buf),
            (Some(f), _, None) => Preview {
                frame: f,
                depth: theme.depth,
                mirror,
            }
            .render(inner, buf),
            (None, Some(m), _) => {
                let y = inner.y + inner.height / 2;
                Paragraph::new(m)
                    .alignment(Alignment::Center)
                    .wrap(Wrap { trim: true })
                    .render(
                        Rect::new(
                            inner.x,
                            y.saturating_sub(1),
                            inner.width,
                            3.min(inner.height),
                        ),
                        buf,
                    );
            }
            (None, None, _) => {}
        }
    }
}

/// The microphone meter with its caption and a verdict in words.
pub struct MicPanel<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
}

impl Widget for &MicPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let [caption, bar, words] = meter_rows(area);
        Paragraph::new(Line::styled(t.get("devices.microphone"), theme.title)).render(caption, buf);
        Meter {
            level: state.devices.level,
            gate_dbfs: state.settings.noise_gate_dbfs,
            theme,
        }
        .render(bar, buf);
        let verdict = match state.devices.level {
            None => Line::styled(t.get("devices.no_sound_yet"), theme.dim),
            Some(l) if l.clipped => Line::styled(t.get("devices.too_loud"), theme.warn),
            Some(l) if l.peak_dbfs >= state.settings.noise_gate_dbfs => {
                Line::styled(t.get("devices.hear_you"), theme.good)
            }
            Some(_) => Line::styled(t.get("devices.say_something"), theme.dim),
        };
        Paragraph::new(verdict)
            .wrap(Wrap { trim: true })
            .render(words, buf);
    }
}

/// While something plays: its sound as a meter, and a plain note when there is no speaker.
pub struct PlaybackPanel<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
}

impl Widget for &PlaybackPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let [caption, bar, words] = meter_rows(area);
        Paragraph::new(Line::styled(t.get("devices.playback_sound"), theme.title))
            .render(caption, buf);
        Meter {
            level: state.session.playback.level,
            gate_dbfs: state.settings.noise_gate_dbfs,
            theme,
        }
        .render(bar, buf);
        if state.session.playback.silent {
            Paragraph::new(Line::styled(t.get("devices.no_speaker"), theme.dim))
                .wrap(Wrap { trim: true })
                .render(words, buf);
        }
    }
}

/// A sound panel's caption, meter and the words under it, which wrap onto the rows left (a
/// sentence is wider than the column beside an 80-column picture).
fn meter_rows(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area)
}

/// The microphone's meter, or while something plays, the sound of what plays.
pub fn sound_panel(state: &State, theme: &Theme, playing: bool, area: Rect, buf: &mut Buffer) {
    if playing {
        PlaybackPanel { state, theme }.render(area, buf);
    } else {
        MicPanel { state, theme }.render(area, buf);
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

fn check_lines<'a>(state: &'a State, checks: &ClipChecks, theme: &Theme) -> Vec<Line<'a>> {
    let t = &state.session.text;
    let picture = match checks.picture {
        PictureVerdict::Ok => Line::styled(t.get("test.picture_ok"), theme.good),
        PictureVerdict::NoPicture => Line::styled(t.get("test.picture_none"), theme.bad),
        PictureVerdict::Black => Line::styled(t.get("test.picture_black"), theme.bad),
        PictureVerdict::Frozen => Line::styled(t.get("test.picture_frozen"), theme.bad),
    };
    let sound = match checks.sound {
        AudioVerdict::Ok => Line::styled(t.get("test.sound_ok"), theme.good),
        AudioVerdict::NoSound => Line::styled(t.get("test.sound_none"), theme.bad),
        AudioVerdict::TooQuiet => Line::styled(t.get("test.sound_quiet"), theme.warn),
        AudioVerdict::Clipping => Line::styled(t.get("test.sound_clipping"), theme.warn),
    };
    vec![picture, sound]
}

/// The device test's screen at one of its steps.
pub struct DeviceTest<'a> {
    state: &'a State,
    step: &'a TestStep,
    theme: &'a Theme,
}

impl<'a> DeviceTest<'a> {
    pub fn new(state: &'a State, step: &'a TestStep, theme: &'a Theme) -> Self {
        DeviceTest { state, step, theme }
    }

    pub fn hints(&self) -> Hints {
        self.info().1
    }

    fn playing(&self) -> bool {
        matches!(self.step, TestStep::Review { playing: true, .. })
    }

    /// The words beside the picture and the keys, for the step.
    fn info(&self) -> (Vec<Line<'a>>, Hints) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let clip = state.settings.test_clip;
        let (mut lines, hints): (Vec<Line>, Hints) = match self.step {
            TestStep::Ready => {
                let lines = vec![
                    Line::styled(t.get("test.title"), theme.title),
                    Line::raw(""),
                    Line::raw(t.get("test.look")),
                    Line::raw(""),
                    Line::raw(t.fmt("test.record_clip", &[("seconds", &clip.as_secs())])),
                    Line::raw(""),
                    Line::styled(t.get("test.private"), theme.dim),
                ];
                let hints = match state.devices.status {
                    DeviceStatus::Ready { .. } => {
                        vec![("R", t.get("test.record_key").to_string())]
                    }
                    DeviceStatus::Failed(_) => vec![("R", t.get("test.try_again").to_string())],
                    _ => vec![],
                };
                (lines, hints)
            }
            TestStep::Recording { started } => {
                let elapsed = state.now.saturating_duration_since(*started).min(clip);
                let mut hints: Hints = Vec::new();
                if elapsed >= state.settings.test_clip_minimum {
                    hints.push(("S", t.get("test.stop").to_string()));
                }
                (
                    vec![
                        Line::from(vec![
                            Span::styled(
                                format!(" ● {} ", t.get("test.recording")),
                                theme.recording,
                            ),
                            Span::raw(format!("  {} / {}", clock(elapsed), clock(clip))),
                        ]),
                        Line::raw(""),
                        Line::raw(t.get("test.keep_talking")),
                    ],
                    hints,
                )
            }
            TestStep::Saving => (vec![Line::raw(t.get("test.saving"))], vec![]),
            TestStep::Review { checks, playing } => self.review(checks, *playing),
        };
        if let DeviceStatus::Failed(problem) = &state.devices.status {
            lines.push(Line::raw(""));
            lines.push(Line::styled(t.get(problem.key()), theme.bad));
        }
        (lines, hints)
    }

    /// The clip's checks in words, and what the candidate may do about them.
    fn review(&self, checks: &ClipChecks, playing: bool) -> (Vec<Line<'a>>, Hints) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let mut lines = vec![
            Line::styled(t.get("test.your_clip"), theme.title),
            Line::raw(""),
        ];
        lines.extend(check_lines(state, checks, theme));
        lines.push(Line::raw(""));
        if playing {
            lines.push(Line::raw(t.fmt(
                "test.playing",
                &[
                    ("position", &clock(state.session.playback.position)),
                    (
                        "length",
                        &clock(state.session.playback.length.max(Duration::from_secs(1))),
                    ),
                ],
            )));
        } else {
            lines.push(Line::styled(t.get("test.press_play"), theme.dim));
        }
        let play = if playing {
            ("P", t.get("test.stop").to_string())
        } else {
            ("P", t.get("test.play").to_string())
        };
        let hints = if checks.all_good() {
            vec![
                ("Enter", t.get("test.looks_good").to_string()),
                ("R", t.get("test.record_again").to_string()),
                play,
            ]
        } else {
            lines.push(Line::raw(""));
            lines.push(Line::raw(t.get("test.fix_it")));
            vec![
                ("Enter", t.get("test.record_again").to_string()),
                play,
                ("C", t.get("test.continue_anyway").to_string()),
            ]
        };
        (lines, hints)
    }
}

impl StatefulWidget for &DeviceTest<'_> {
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, theme) = (self.state, self.theme);
        let (left, right) = two_columns(area);
        let playing = self.playing();
        let source = if playing {
            PaneSource::Playback
        } else {
            PaneSource::Live
        };
        PicturePane {
            state,
            theme,
            source,
        }
        .render(left, buf, gfx);
        let [info, mic] =
            Layout::vertical([Constraint::Min(8), Constraint::Length(4)]).areas(right);
        Paragraph::new(Text::from(self.info().0))
            .wrap(Wrap { trim: true })
            .render(info, buf);
        sound_panel(state, theme, playing, mic, buf);
    }
}
