//! The 3-2-1 before a recording: what is about to be answered, the candidate's own picture
//! (so they can settle before the first word), and the seconds left as one big number.

use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Paragraph, StatefulWidget, Widget, Wrap};

use super::graphics::Graphics;
use super::record::AnswerLayout;
use super::setup::{PaneSource, PicturePane, sound_panel};
use super::theme::Theme;
use super::widgets::{BigClock, Hints};
use crate::app::state::{Slot, State};

/// The countdown screen.
pub struct CountdownScreen<'a> {
    state: &'a State,
    slot: Slot,
    ends: Instant,
    theme: &'a Theme,
}

impl<'a> CountdownScreen<'a> {
    pub fn new(state: &'a State, slot: Slot, ends: Instant, theme: &'a Theme) -> Self {
        CountdownScreen {
            state,
            slot,
            ends,
            theme,
        }
    }

    /// Whole seconds left, rounded up: 3, 2, 1 (never 0 on screen).
    pub fn seconds_left(&self) -> u64 {
        let left = self.ends.saturating_duration_since(self.state.now);
        let whole = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        whole.max(1)
    }

    pub fn hints(&self) -> Hints {
        vec![(
            "Esc",
            self.state.session.text.get("countdown.back").to_string(),
        )]
    }
}

impl StatefulWidget for &CountdownScreen<'_> {
    type State = Option<Graphics>;

    fn render(self, area: Rect, buf: &mut Buffer, gfx: &mut Option<Graphics>) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let AnswerLayout { picture, side } = AnswerLayout::draw(state, self.slot, theme, area, buf);
        PicturePane {
            state,
            theme,
            source: PaneSource::Live,
        }
        .render(picture, buf, gfx);
        let [label, big, rest, mic] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(6),
            Constraint::Min(3),
            Constraint::Length(4),
        ])
        .areas(side);
        Paragraph::new(Line::styled(t.get("countdown.title"), theme.title))
            .alignment(Alignment::Center)
            .render(label, buf);
        let n = self.seconds_left();
        BigClock {
            text: n.to_string(),
            style: theme.warn,
        }
        .render(big, buf);
        Paragraph::new(Text::from(vec![
            Line::styled(t.fmt("countdown.starts_in", &[("seconds", &n)]), theme.warn),
            Line::raw(""),
            Line::raw(t.get("countdown.note")),
        ]))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(rest, buf);
        sound_panel(state, theme, false, mic, buf);
    }
}
