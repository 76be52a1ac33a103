//! Drawing the candidate's screen from the state, and nothing else: `view` reads the state and
//! fills a frame; it starts no work and changes nothing. One file per screen; shared pieces in
//! `widgets`, colours in `theme`, the camera picture in `preview`.

mod done;
pub mod graphics;
mod help;
mod operator;
mod overview;
pub mod preview;
mod questions;
mod record;
mod setup;
pub mod theme;
mod welcome;
pub mod widgets;
mod words;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::state::{Phase, State};
use graphics::Graphics;
use theme::Theme;

/// The smallest terminal the screens are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole screen with half-block pictures.
pub fn view(state: &State, theme: &Theme, frame: &mut Frame) {
    view_with(state, theme, None, frame)
}

/// Draws the whole screen; pictures use the terminal's graphics when `gfx` is given (it only
/// caches encoded pictures between frames and holds nothing of the flow).
pub fn view_with(state: &State, theme: &Theme, gfx: Option<&mut Graphics>, frame: &mut Frame) {
    let area = frame.area();
    let t = &state.text;
    // The theme's base colours under everything (the high-contrast theme paints black).
    frame.render_widget(ratatui::widgets::Block::default().style(theme.text), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = t.fmt(
            "common.too_small",
            &[
                ("min_w", &MIN_WIDTH),
                ("min_h", &MIN_HEIGHT),
                ("w", &area.width),
                ("h", &area.height),
            ],
        );
        let y = area.y + area.height / 2;
        frame.render_widget(
            Paragraph::new(msg)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            Rect::new(area.x, y.saturating_sub(1), area.width, 3.min(area.height)),
        );
        return;
    }
    let [header, body, notice, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(10),
        Constraint::Length(if state.notice.is_some() { 3 } else { 0 }),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(state, theme, frame, header);
    let hints = match &state.phase {
        Phase::Welcome(entry) => welcome::welcome(state, entry, theme, frame, body),
        Phase::Consent => welcome::consent(state, theme, frame, body),
        Phase::Declined { .. } => welcome::declined(state, theme, frame, body),
        Phase::Overview => overview::overview(state, theme, frame, body),
        Phase::DeviceTest(step) => setup::device_test(state, step, theme, gfx, frame, body),
        Phase::Questions { selected } => questions::list(state, *selected, theme, frame, body),
        Phase::Question { q, prep } => record::question(state, *q, *prep, theme, gfx, frame, body),
        Phase::Recording { q, started, .. } => {
            record::recording(state, *q, *started, theme, gfx, frame, body)
        }
        Phase::Review { q, take, playing } => {
            record::review(state, (*q, *take, *playing), theme, gfx, frame, body)
        }
        Phase::Submitting { .. } => pause(t.get("review.submitting"), theme, frame, body),
        Phase::Done { .. } => done::done(state, theme, frame, body),
        Phase::Resetting => pause(t.get("common.one_moment"), theme, frame, body),
        Phase::OutOfOrder => pause(t.get("common.out_of_order"), theme, frame, body),
    };
    if let Some(n) = state.notice {
        frame.render_widget(
            Paragraph::new(Line::styled(t.get(n.key()), theme.warn)).wrap(Wrap { trim: true }),
            notice,
        );
    }
    let mut all = hints;
    all.push(("?", t.get("common.help").to_string()));
    frame.render_widget(widgets::key_hints(theme, &all), footer);
    if state.help {
        help::help(state, theme, frame, area);
    }
    operator::idle(state, theme, frame, area);
    operator::operator(state, theme, frame, area);
}

fn render_header(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let t = &state.text;
    let step = match &state.phase {
        Phase::Welcome(_) | Phase::Consent | Phase::Declined { .. } | Phase::Overview => {
            String::new()
        }
        Phase::DeviceTest(_) => t.get("header.device_test").to_string(),
        Phase::Questions { .. } => t.get("header.questions").to_string(),
        Phase::Question { q, .. }
        | Phase::Recording { q, .. }
        | Phase::Review { q, .. }
        | Phase::Submitting { q, .. } => t.fmt(
            "header.question_of",
            &[("n", &(q + 1)), ("total", &state.interview.questions.len())],
        ),
        Phase::Done { .. } => t.get("header.finished").to_string(),
        Phase::Resetting | Phase::OutOfOrder => String::new(),
    };
    let [left, right] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(32)]).areas(area);
    // With a roster the candidate's code picks the interview: before it, none is named.
    let title = match state.phase {
        Phase::Welcome(_) if state.settings.roster => "",
        _ => state.interview.title.as_str(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![Span::styled(title, theme.title)])),
        left,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(step, theme.accent)).alignment(Alignment::Right),
        right,
    );
}

/// A screen with one calm sentence and no keys: while booth does something that takes a
/// moment, or needs staff.
fn pause(
    sentence: &str,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> Vec<(&'static str, String)> {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(sentence.to_string(), theme.accent))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
    Vec::new()
}

#[cfg(test)]
mod arrival_snapshots;
#[cfg(test)]
mod snapshots;
