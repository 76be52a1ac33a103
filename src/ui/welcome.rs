//! The candidate's arrival: the welcome (attract) screen, where they pick a language and type
//! or scan their code; the privacy notice they accept or decline; and the polite end when they
//! decline.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Wrap};

use super::overview::Hints;
use super::theme::Theme;
use crate::app::state::{CodeEntry, CodeMode, CodeProblem, State};

pub fn welcome(
    state: &State,
    entry: &CodeEntry,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> Hints {
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
    let mut hints: Hints = vec![("← →", t.get("common.language").to_string())];
    if codes == CodeMode::Off {
        lines.push(Line::raw(""));
        lines.push(Line::styled(t.get("welcome.press_any_key"), theme.text));
        // Any key begins; Enter is the one people look for.
        hints.push(("Enter", t.get("common.begin").to_string()));
    } else {
        let ask = if codes == CodeMode::Optional {
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
        hints.push(("Enter", t.get("welcome.continue").to_string()));
        hints.push(("Backspace", t.get("welcome.erase").to_string()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        t.fmt("welcome.language_note", &[("name", &t.name())]),
        theme.dim,
    ));
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
    hints
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

pub fn consent(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let t = &state.session.text;
    let Some(consent) = state.session.interview.consent.as_ref() else {
        return Vec::new();
    };
    let [notice, ask] = Layout::vertical([Constraint::Min(5), Constraint::Length(2)]).areas(area);
    let title = consent
        .title
        .clone()
        .unwrap_or_else(|| t.get("consent.title").to_string());
    let mut lines = Vec::new();
    for para in consent.text.split("\n\n") {
        lines.push(Line::raw(para.replace('\n', " ")));
        lines.push(Line::raw(""));
    }
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(Span::styled(format!(" {title} "), theme.title))
                    .padding(Padding::horizontal(1)),
            ),
        notice,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(t.get("consent.ask"), theme.accent))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        ask,
    );
    vec![
        ("A", t.get("consent.accept").to_string()),
        ("D", t.get("consent.decline").to_string()),
    ]
}

pub fn declined(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let t = &state.session.text;
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Text::from(vec![
            Line::styled(t.get("consent.declined_title"), theme.title),
            Line::raw(""),
            Line::raw(t.get("consent.declined")),
        ]))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true }),
        middle,
    );
    vec![("Enter", t.get("consent.finish").to_string())]
}
