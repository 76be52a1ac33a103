//! The welcome (attract) screen and the interview overview: what will happen, how many
//! questions, attempts, answer length and preparation time.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Wrap};

use super::theme::Theme;
use crate::app::state::State;

pub type Hints = Vec<(&'static str, &'static str)>;

pub fn welcome(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Fill(1),
    ])
    .areas(area);
    let text = Text::from(vec![
        Line::styled("Welcome", theme.title),
        Line::raw(""),
        Line::styled(state.interview.title.as_str(), theme.accent),
        Line::raw(""),
        Line::raw(""),
        Line::styled("Press any key to begin.", theme.text),
    ]);
    frame.render_widget(Paragraph::new(text).alignment(Alignment::Center), middle);
    vec![("any key", "Begin")]
}

pub fn overview(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let iv = &state.interview;
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
    let bullet = |s: String| Line::from(vec![Span::styled("  • ", theme.accent), Span::raw(s)]);
    let facts_text = Text::from(vec![
        bullet(iv.questions_summary()),
        bullet(iv.attempts_summary()),
        bullet(iv.answer_limit_summary()),
        bullet(iv.preparation_summary()),
        Line::raw(""),
        Line::styled(
            "First we check your camera and microphone with a short test recording. \
             Only you will see it.",
            theme.dim,
        ),
    ]);
    frame.render_widget(
        Paragraph::new(facts_text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(" What to expect ", theme.title))
                .padding(Padding::horizontal(1)),
        ),
        facts,
    );
    vec![("Enter", "Start interview")]
}
