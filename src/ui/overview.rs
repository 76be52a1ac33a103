//! The interview overview: what will happen, how many questions, attempts, answer length and
//! preparation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Wrap};

use super::theme::Theme;
use super::words::overview_facts;
use crate::app::state::State;

/// The key hints of a screen: a key and what it does, in the candidate's language.
pub type Hints = Vec<(&'static str, String)>;

pub fn overview(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let t = &state.session.text;
    let iv = &state.session.interview;
    let [intro, facts] = Layout::vertical([Constraint::Min(4), Constraint::Length(9)]).areas(area);
    let mut lines = vec![Line::raw("")];
    for para in iv.intro.split("\n\n") {
        lines.push(Line::raw(para.replace('\n', " ")));
        lines.push(Line::raw(""));
    }
    frame.render_widget(
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: true }),
        intro,
    );
    let mut facts_text: Vec<Line> = overview_facts(t, iv)
        .into_iter()
        .map(|f| Line::from(vec![Span::styled("  • ", theme.accent), Span::raw(f)]))
        .collect();
    facts_text.push(Line::raw(""));
    facts_text.push(Line::styled(t.get("overview.device_check_note"), theme.dim));
    frame.render_widget(
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
            ),
        facts,
    );
    vec![("Enter", t.get("overview.start").to_string())]
}
