//! Drawing the candidate's screen from the state, and nothing else: each screen is a widget
//! built from `&State` (as ratatui's own examples build theirs), the whole screen is
//! [`Kiosk`], and `view` renders it into a frame; nothing here starts work or changes the
//! state. One file per screen; shared pieces in `widgets`, colours in `theme`, the camera
//! picture in `preview` (and in the terminal's own graphics, `graphics`, a render cache).

mod countdown;
mod done;
pub mod graphics;
mod help;
mod operator;
mod overview;
mod practice;
pub mod preview;
mod questions;
mod record;
mod setup;
pub mod theme;
mod welcome;
pub mod widgets;
mod words;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, StatefulWidget, Widget, Wrap};

use crate::app::state::{OperatorStep, Phase, PracticeStep, Slot, State};
use countdown::CountdownScreen;
use done::Done;
use graphics::Graphics;
use help::Help;
use operator::{IdleOverlay, OperatorOverlay};
use overview::Overview;
use practice::PracticeScreen;
use questions::QuestionList;
use record::{QuestionScreen, RecordingScreen, ReviewScreen, Reviewed};
use setup::DeviceTest;
use theme::Theme;
use welcome::{Consent, Declined, Welcome};
use widgets::Hints;

/// The smallest terminal the screens are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole screen with half-block pictures.
pub fn view(state: &State, theme: &Theme, frame: &mut Frame) {
    frame.render_widget(&Kiosk::new(state, theme), frame.area());
}

/// Draws the whole screen; pictures use the terminal's graphics when `gfx` holds them (it only
/// caches encoded pictures between frames and holds nothing of the flow).
pub fn view_with(state: &State, theme: &Theme, gfx: &mut Option<Graphics>, frame: &mut Frame) {
    frame.render_stateful_widget(&Kiosk::new(state, theme), frame.area(), gfx);
}

/// The candidate's whole screen, built from the state: the header, the phase's screen, a
/// notice, the keys, and the overlays (help, the idle countdown, the operator's menu).
pub struct Kiosk<'a> {
    state: &'a State,
    theme: &'a Theme,
}

impl<'a> Kiosk<'a> {
    pub fn new(state: &'a State, theme: &'a Theme) -> Self {
        Kiosk { state, theme }
    }
}

impl Widget for &Kiosk<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        StatefulWidget::render(self, area, buf, &mut None);
    }
}

impl StatefulWidget for &Kiosk<'_> {
    /// The terminal's graphics, when it has any (a render cache).
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        // The theme's base colours under everything (the high-contrast theme paints black).
        Block::default().style(theme.text).render(area, buf);
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            too_small(state, area, buf);
            return;
        }
        let [header, body, notice, footer] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(10),
            Constraint::Length(if state.session.notice.is_some() { 3 } else { 0 }),
            Constraint::Length(1),
        ])
        .areas(area);
        Header { state, theme }.render(header, buf);
        let screen = Body::of(state, theme);
        screen.render(body, buf, gfx);
        if let Some(n) = state.session.notice {
            Paragraph::new(Line::styled(t.get(n.key()), theme.warn))
                .wrap(Wrap { trim: true })
                .render(notice, buf);
        }
        // The keys of what is on top: the operator's, help's, else the screen's.
        let help = Help { state, theme };
        let mut all = if let Some(keys) = operator_hints(state) {
            keys
        } else if state.session.help {
            help.hints()
        } else {
            screen.hints()
        };
        all.push(("?", t.get("common.help").to_string()));
        widgets::key_hints(theme, &all).render(footer, buf);
        if state.session.help {
            help.render(area, buf);
        }
        IdleOverlay { state, theme }.render(area, buf);
        OperatorOverlay { state, theme }.render(area, buf);
    }
}

/// The keys of the operator's overlay while it is open (a page takes any key and says so).
fn operator_hints(state: &State) -> Option<Hints> {
    let t = &state.session.text;
    let back = || ("Esc", t.get("operator.go_back").to_string());
    match &state.operator.step {
        OperatorStep::Closed => None,
        OperatorStep::Pin { .. } | OperatorStep::Code { .. } => Some(vec![
            ("Enter", t.get("welcome.continue").to_string()),
            ("Backspace", t.get("welcome.erase").to_string()),
            back(),
        ]),
        OperatorStep::Menu { .. } => Some(vec![
            ("↑ ↓", t.get("list.choose").to_string()),
            ("Enter", t.get("operator.select").to_string()),
            back(),
        ]),
        OperatorStep::Page { .. } => Some(Vec::new()),
    }
}

/// The one sentence shown when the terminal is smaller than the screens need.
fn too_small(state: &State, area: Rect, buf: &mut Buffer) {
    let msg = state.session.text.fmt(
        "common.too_small",
        &[
            ("min_w", &MIN_WIDTH),
            ("min_h", &MIN_HEIGHT),
            ("w", &area.width),
            ("h", &area.height),
        ],
    );
    let y = area.y + area.height / 2;
    Paragraph::new(msg)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(
            Rect::new(area.x, y.saturating_sub(1), area.width, 3.min(area.height)),
            buf,
        );
}

/// The screen of the phase the candidate is in.
enum Body<'a> {
    Welcome(Welcome<'a>),
    Consent(Consent<'a>),
    Declined(Declined<'a>),
    Overview(Overview<'a>),
    DeviceTest(DeviceTest<'a>),
    Questions(QuestionList<'a>),
    Question(QuestionScreen<'a>),
    Countdown(CountdownScreen<'a>),
    Practice(PracticeScreen<'a>),
    Recording(RecordingScreen<'a>),
    Review(ReviewScreen<'a>),
    Done(Done<'a>),
    Pause(Pause<'a>),
}

impl<'a> Body<'a> {
    fn of(state: &'a State, theme: &'a Theme) -> Body<'a> {
        let t = &state.session.text;
        match &state.session.phase {
            Phase::Welcome(entry) => Body::Welcome(Welcome::new(state, entry, theme)),
            Phase::Consent => Body::Consent(Consent::new(state, theme)),
            Phase::Declined { .. } => Body::Declined(Declined::new(state, theme)),
            Phase::Overview => Body::Overview(Overview::new(state, theme)),
            Phase::DeviceTest(step) => Body::DeviceTest(DeviceTest::new(state, step, theme)),
            Phase::Questions { selected } => {
                Body::Questions(QuestionList::new(state, *selected, theme))
            }
            Phase::Question { q, prep } => {
                Body::Question(QuestionScreen::new(state, *q, *prep, theme))
            }
            Phase::Countdown { slot, ends } => {
                Body::Countdown(CountdownScreen::new(state, *slot, *ends, theme))
            }
            Phase::Practice(step) => match step {
                PracticeStep::Ready => Body::Practice(PracticeScreen::new(state, false, theme)),
                PracticeStep::WaitingForSound => {
                    Body::Practice(PracticeScreen::new(state, true, theme))
                }
                PracticeStep::Recording { started, .. } => {
                    Body::Recording(RecordingScreen::new(state, Slot::Practice, *started, theme))
                }
                PracticeStep::Review { playing, seconds } => Body::Review(ReviewScreen::new(
                    state,
                    Reviewed::Practice { seconds: *seconds },
                    *playing,
                    theme,
                )),
            },
            Phase::Recording { q, started, .. } => Body::Recording(RecordingScreen::new(
                state,
                Slot::Question(*q),
                *started,
                theme,
            )),
            Phase::Review { q, take, playing } => Body::Review(ReviewScreen::new(
                state,
                Reviewed::Answer { q: *q, take: *take },
                *playing,
                theme,
            )),
            Phase::Submitting { .. } => Body::Pause(Pause::new(t.get("review.submitting"), theme)),
            Phase::Done { .. } => Body::Done(Done::new(state, theme)),
            Phase::Resetting => Body::Pause(Pause::new(t.get("common.one_moment"), theme)),
            Phase::OutOfOrder => Body::Pause(Pause::new(t.get("common.out_of_order"), theme)),
        }
    }

    fn hints(&self) -> Hints {
        match self {
            Body::Welcome(s) => s.hints(),
            Body::Consent(s) => s.hints(),
            Body::Declined(s) => s.hints(),
            Body::Overview(s) => s.hints(),
            Body::DeviceTest(s) => s.hints(),
            Body::Questions(s) => s.hints(),
            Body::Question(s) => s.hints(),
            Body::Countdown(s) => s.hints(),
            Body::Practice(s) => s.hints(),
            Body::Recording(s) => s.hints(),
            Body::Review(s) => s.hints(),
            Body::Done(s) => s.hints(),
            Body::Pause(_) => Vec::new(),
        }
    }

    fn render(&self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        match self {
            Body::Welcome(s) => s.render(area, buf),
            Body::Consent(s) => s.render(area, buf),
            Body::Declined(s) => s.render(area, buf),
            Body::Overview(s) => s.render(area, buf),
            Body::DeviceTest(s) => s.render(area, buf, gfx),
            Body::Questions(s) => s.render(area, buf),
            Body::Question(s) => s.render(area, buf, gfx),
            Body::Countdown(s) => s.render(area, buf, gfx),
            Body::Practice(s) => s.render(area, buf),
            Body::Recording(s) => s.render(area, buf, gfx),
            Body::Review(s) => s.render(area, buf, gfx),
            Body::Done(s) => s.render(area, buf),
            Body::Pause(s) => s.render(area, buf),
        }
    }
}

/// The interview's title on the left, the step on the right.
struct Header<'a> {
    state: &'a State,
    theme: &'a Theme,
}

impl Widget for Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let step = match &state.session.phase {
            Phase::Welcome(_) | Phase::Consent | Phase::Declined { .. } | Phase::Overview => {
                String::new()
            }
            Phase::DeviceTest(_) => t.get("header.device_test").to_string(),
            Phase::Questions { .. } => t.get("header.questions").to_string(),
            Phase::Practice(_)
            | Phase::Countdown {
                slot: Slot::Practice,
                ..
            } => t.get("header.practice").to_string(),
            Phase::Question { q, .. }
            | Phase::Countdown {
                slot: Slot::Question(q),
                ..
            }
            | Phase::Recording { q, .. }
            | Phase::Review { q, .. }
            | Phase::Submitting { q, .. } => t.fmt(
                "header.question_of",
                &[
                    ("n", &(q + 1)),
                    ("total", &state.session.interview.questions.len()),
                ],
            ),
            Phase::Done { .. } => t.get("header.finished").to_string(),
            Phase::Resetting | Phase::OutOfOrder => String::new(),
        };
        let [left, right] =
            Layout::horizontal([Constraint::Min(20), Constraint::Length(32)]).areas(area);
        // With a roster the candidate's code picks the interview: before it, none is named.
        let title = match state.session.phase {
            Phase::Welcome(_) if state.settings.roster => "",
            _ => state.session.interview.title.as_str(),
        };
        // A long title (a translation, say) takes the header's second row rather than lose words.
        Paragraph::new(Line::from(vec![Span::styled(title, theme.title)]))
            .wrap(Wrap { trim: true })
            .render(left, buf);
        Paragraph::new(Line::styled(step, theme.accent))
            .alignment(Alignment::Right)
            .render(right, buf);
    }
}

/// A screen with one calm sentence and no keys: while booth does something that takes a
/// moment, or needs staff.
struct Pause<'a> {
    sentence: &'a str,
    theme: &'a Theme,
}

impl<'a> Pause<'a> {
    fn new(sentence: &'a str, theme: &'a Theme) -> Self {
        Pause { sentence, theme }
    }
}

impl Widget for &Pause<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [_, middle, _] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(4),
            Constraint::Fill(1),
        ])
        .areas(area);
        Paragraph::new(Line::styled(self.sentence.to_string(), self.theme.accent))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .render(middle, buf);
    }
}

#[cfg(test)]
mod arrival_snapshots;
#[cfg(test)]
mod every_screen_tests;
#[cfg(test)]
mod fit_tests;
#[cfg(test)]
mod journey_snapshots;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod snapshots;
