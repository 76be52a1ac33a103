//! Overlays on top of the candidate's screen: the operator's PIN prompt, menu and pages, and
//! the idle "are you still there?" countdown before a privacy reset.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Wrap};

use super::theme::Theme;
use crate::app::state::{OperatorAction, OperatorStep, State};
use crate::app::update::remaining;

fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn boxed<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.warn)
        .title(Span::styled(format!(" {title} "), theme.title))
        .padding(Padding::horizontal(1))
}

/// The question a grant would apply to, for the menu's words.
fn grant_target(state: &State) -> Option<usize> {
    use crate::app::state::Phase;
    match state.phase {
        Phase::Question { q, .. } | Phase::Recording { q, .. } | Phase::Review { q, .. } => Some(q),
        Phase::Questions { selected } => Some(selected),
        _ => state.progress.current,
    }
}

pub fn operator(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let t = &state.text;
    let op = &state.operator;
    let (title, lines): (String, Vec<Line>) = match &op.step {
        OperatorStep::Closed => return,
        OperatorStep::Pin { digits, checking } => {
            let mut lines = vec![
                Line::raw(t.get("operator.pin_prompt")),
                Line::raw(""),
                Line::styled(format!("  {}", "•".repeat(digits.len())), theme.title),
            ];
            if *checking {
                lines.push(Line::styled(t.get("operator.checking"), theme.dim));
            } else if op.failures > 0 {
                lines.push(Line::styled(
                    t.fmt("operator.wrong", &[("n", &op.failures), ("max", &5)]),
                    theme.bad,
                ));
            }
            (t.get("operator.title").to_string(), lines)
        }
        OperatorStep::Code { typed } => {
            let lines = vec![
                Line::raw(t.get("operator.code_prompt")),
                Line::raw(""),
                Line::styled(format!("  {typed}▏"), theme.title),
            ];
            (t.get("operator.enter_code").to_string(), lines)
        }
        OperatorStep::Menu { selected } => {
            let step = state.settings.grant_step.as_secs();
            let target = grant_target(state);
            let lines = OperatorAction::ALL
                .iter()
                .enumerate()
                .map(|(i, action)| {
                    let n = target.map_or_else(
                        || t.get("operator.no_question").to_string(),
                        |q| (q + 1).to_string(),
                    );
                    let words = match action {
                        OperatorAction::ExtraAttempt => {
                            t.fmt("operator.extra_attempt", &[("n", &n)])
                        }
                        OperatorAction::ExtraAnswerTime => {
                            t.fmt("operator.extra_answer", &[("n", &n), ("seconds", &step)])
                        }
                        OperatorAction::ExtraPreparation => t.fmt(
                            "operator.extra_preparation",
                            &[("n", &n), ("seconds", &step)],
                        ),
                        OperatorAction::UploadQueue => t.get("operator.upload_queue").into(),
                        OperatorAction::Diagnostics => t.get("operator.diagnostics").into(),
                        OperatorAction::EndSession => t.get("operator.end_session").into(),
                        OperatorAction::EnterCode => t.get("operator.enter_code").into(),
                        OperatorAction::Quit => t.get("operator.quit").into(),
                        OperatorAction::Close => t.get("operator.close").into(),
                    };
                    if i == *selected {
                        Line::styled(format!("▶ {words}"), theme.selected)
                    } else {
                        Line::raw(format!("  {words}"))
                    }
                })
                .chain((!state.progress.grants.is_empty()).then(|| {
                    let list: Vec<String> = state
                        .progress
                        .grants
                        .iter()
                        .map(crate::app::station::grant_line)
                        .collect();
                    Line::styled(
                        t.fmt("operator.granted", &[("list", &list.join("; "))]),
                        theme.dim,
                    )
                }))
                .collect();
            (t.get("operator.menu_title").to_string(), lines)
        }
        OperatorStep::Page { title, lines } => {
            let mut out: Vec<Line> = lines.iter().map(|l| Line::raw(l.clone())).collect();
            out.push(Line::raw(""));
            out.push(Line::styled(t.get("operator.back"), theme.dim));
            (t.get(title).to_string(), out)
        }
    };
    let height = (lines.len() as u16 + 4).max(8);
    let area = popup(area, 76, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .block(boxed(title, theme)),
        area,
    );
}

pub fn idle(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(ends) = state.idle_ends else {
        return;
    };
    let t = &state.text;
    let seconds = remaining(state.now, ends).as_secs();
    // Nothing of the candidate's stays on screen while the station waits to wipe it.
    frame.render_widget(Clear, area);
    frame.render_widget(ratatui::widgets::Block::default().style(theme.text), area);
    let area = popup(area, 60, 8);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Text::from(vec![
            Line::raw(""),
            Line::raw(t.fmt("idle.countdown", &[("seconds", &seconds)])),
        ]))
        .wrap(Wrap { trim: true })
        .block(boxed(t.get("idle.title").to_string(), theme)),
        area,
    );
}
