//! The interview overview: what will happen, how many questions, attempts, answer length and
//! preparation.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::widgets::Hints;
use super::words::overview_facts;
use crate::app::state::State;

pub struct Overview<'a> {
    state: &'a State,
    theme: &'a Theme,
}

impl<'a> Overview<'a> {
    pub fn new(state: &'a State, theme: &'a Theme) -> Self {
        Overview { state, theme }
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        vec![("Enter", t.get("overview.start").to_string())]
    }
}

impl Widget for &Overview<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let iv = &state.session.interview;
        let [intro, facts] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(9)]).areas(area);
        let mut lines = vec![Line::raw("")];
        for para in iv.intro.split("\n\n") {
            lines.push(Line::raw(para.replace('\n', " ")));
            lines.push(Line::raw(""));
        }
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .render(intro, buf);
        let mut facts_text: Vec<Line> = overview_facts(t, iv)
            .into_iter()
            .map(|f| Line::from(vec![Span::styled("  • ", theme.accent), Span::raw(f)]))
            .collect();
        facts_text.push(Line::raw(""));
        facts_text.push(Line::styled(t.get("overview.device_check_note"), theme.dim));
        Paragraph::new(Text::from(facts_text))
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(Span::styled(
                        format!(" {} ", t.get("overview.what_to_expect")),
                        theme.title,
                    ))
                    .padding(Padding::horizontal(1)),
            )
            .render(facts, buf);
    }
}
