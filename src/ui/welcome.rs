//! The candidate's arrival: the welcome (attract) screen, where they pick a language and type
//! or scan their code; the privacy notice they accept or decline; and the polite end when they
//! decline.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::widgets::Hints;
use crate::app::state::{CodeEntry, CodeMode, CodeProblem, State};

/// The attract screen, where the candidate picks a language and types or scans a code.
pub struct Welcome<'a> {
    state: &'a State,
    entry: &'a CodeEntry,
    theme: &'a Theme,
}

impl<'a> Welcome<'a> {
    pub fn new(state: &'a State, entry: &'a CodeEntry, theme: &'a Theme) -> Self {
        Welcome {
            state,
            entry,
            theme,
        }
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        let mut hints: Hints = vec![("← →", t.get("common.language").to_string())];
        if self.state.settings.codes == CodeMode::Off {
            // Any key begins; Enter is the one people look for.
            hints.push(("Enter", t.get("common.begin").to_string()));
        } else {
            hints.push(("Enter", t.get("welcome.continue").to_string()));
            hints.push(("Backspace", t.get("welcome.erase").to_string()));
            if !self.entry.typed.is_empty() {
                hints.push(("Esc", t.get("welcome.clear").to_string()));
            }
        }
        hints
    }

    /// The code field, its question and what became of the last code.
    fn code_lines(&self, lines: &mut Vec<Line<'a>>) {
        let (state, entry, theme) = (self.state, self.entry, self.theme);
        let t = &state.session.text;
        let ask = if state.settings.codes == CodeMode::Optional {
            "welcome.type_code_optional"
        } else {
            "welcome.type_code"
        };
        lines.push(Line::raw(t.get(ask)));
        lines.push(Line::raw(""));
        let field = format!(" {}▏ ", entry.typed);
        lines.push(Line::from(vec![
            Span::styled(format!("{}  ", t.get("welcome.code_label")), theme.dim),
            Span::styled(field, theme.selected),
        ]));
        lines.push(Line::raw(""));
        if entry.checking {
            lines.push(Line::styled(t.get("welcome.checking"), theme.dim));
        } else if let Some(problem) = entry.problem {
            lines.push(Line::styled(problem_sentence(state, problem), theme.warn));
        } else {
            lines.push(Line::raw(""));
        }
    }
}

impl Widget for &Welcome<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let codes = state.settings.codes;
        let [_, middle, _] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(if codes == CodeMode::Off { 8 } else { 12 }),
            Constraint::Fill(1),
        ])
        .areas(area);
        let mut lines = vec![
            Line::styled(t.get("welcome.title"), theme.title),
            Line::raw(""),
        ];
        // With a roster the code picks the interview: none is named before it.
        if !state.settings.roster {
            lines.push(Line::styled(
                state.session.interview.title.as_str(),
                theme.accent,
            ));
            lines.push(Line::raw(""));
        }
        if codes == CodeMode::Off {
            lines.push(Line::raw(""));
            lines.push(Line::styled(t.get("welcome.press_any_key"), theme.text));
        } else {
            self.code_lines(&mut lines);
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            t.fmt("welcome.language_note", &[("name", &t.name())]),
            theme.dim,
        ));
        Paragraph::new(Text::from(lines))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .render(middle, buf);
    }
}

/// One plain sentence per reason a code was not taken; the ones staff must sort out say so.
fn problem_sentence(state: &State, problem: CodeProblem) -> String {
    let t = &state.session.text;
    match problem {
        CodeProblem::TooShort { min } => t.fmt(problem.key(), &[("min", &min)]),
        CodeProblem::TooLong { max } => t.fmt(problem.key(), &[("max", &max)]),
        _ => t.get(problem.key()).to_string(),
    }
}

/// The interview's privacy notice, accepted or declined by a key.
pub struct Consent<'a> {
    state: &'a State,
    theme: &'a Theme,
}

impl<'a> Consent<'a> {
    pub fn new(state: &'a State, theme: &'a Theme) -> Self {
        Consent { state, theme }
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        if self.state.session.interview.consent.is_none() {
            return Vec::new();
        }
        vec![
            ("A", t.get("consent.accept").to_string()),
            ("D", t.get("consent.decline").to_string()),
        ]
    }
}

impl Widget for &Consent<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let Some(consent) = state.session.interview.consent.as_ref() else {
            return;
        };
        let [notice, ask] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(2)]).areas(area);
        let title = consent
            .title
            .clone()
            .unwrap_or_else(|| t.get("consent.title").to_string());
        let mut lines = Vec::new();
        for para in consent.text.split("\n\n") {
            lines.push(Line::raw(para.replace('\n', " ")));
            lines.push(Line::raw(""));
        }
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(Span::styled(format!(" {title} "), theme.title))
                    .padding(Padding::horizontal(1)),
            )
            .render(notice, buf);
        Paragraph::new(Line::styled(t.get("consent.ask"), theme.accent))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .render(ask, buf);
    }
}

/// The polite end after the candidate declined the notice: nothing was recorded.
pub struct Declined<'a> {
    state: &'a State,
    theme: &'a Theme,
}

impl<'a> Declined<'a> {
    pub fn new(state: &'a State, theme: &'a Theme) -> Self {
        Declined { state, theme }
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        vec![("Enter", t.get("consent.finish").to_string())]
    }
}

impl Widget for &Declined<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let [_, middle, _] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Fill(1),
        ])
        .areas(area);
        Paragraph::new(Text::from(vec![
            Line::styled(t.get("consent.declined_title"), theme.title),
            Line::raw(""),
            Line::raw(t.get("consent.declined")),
        ]))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(middle, buf);
    }
}
