//! The practice question before it is recorded: what it is for (a try-out, never sent, never
//! counted, as often as the candidate likes), its text, and the microphone. Its recording and
//! review are the answer's own screens (`record`), labelled as practice.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::record::slot_text;
use super::setup::{sound_panel, two_columns};
use super::theme::Theme;
use super::widgets::Hints;
use super::words::duration;
use crate::app::state::{Slot, State};

/// The practice question, ready to record or waiting to hear the candidate.
pub struct PracticeScreen<'a> {
    state: &'a State,
    waiting_for_sound: bool,
    theme: &'a Theme,
}

impl<'a> PracticeScreen<'a> {
    pub fn new(state: &'a State, waiting_for_sound: bool, theme: &'a Theme) -> Self {
        PracticeScreen {
            state,
            waiting_for_sound,
            theme,
        }
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        let mut hints = Vec::new();
        if !self.waiting_for_sound {
            hints.push(("Enter", t.get("practice.start").to_string()));
        }
        hints.push(("Esc", t.get("practice.to_questions").to_string()));
        hints
    }

    fn info(&self) -> Vec<Line<'a>> {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        if self.waiting_for_sound {
            return vec![
                Line::styled(t.get("question.need_sound_title"), theme.warn),
                Line::raw(""),
                Line::raw(t.get("question.need_sound")),
            ];
        }
        let limit = duration(t, state.slot_limit(Slot::Practice));
        vec![
            Line::styled(t.get("practice.title"), theme.title),
            Line::styled(t.get("practice.label"), theme.accent),
            Line::raw(""),
            Line::raw(t.get("practice.intro")),
            Line::raw(""),
            Line::styled(t.fmt("practice.limit", &[("limit", &limit)]), theme.dim),
        ]
    }
}

impl Widget for &PracticeScreen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let (main, side) = two_columns(area);
        slot_text(state, Slot::Practice, theme)
            .block(Block::default())
            .render(main, buf);
        let [info, mic] = Layout::vertical([Constraint::Min(8), Constraint::Length(4)]).areas(side);
        Paragraph::new(Text::from(self.info()))
            .wrap(Wrap { trim: true })
            .render(info, buf);
        sound_panel(state, theme, false, mic, buf);
    }
}
