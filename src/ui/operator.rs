//! Overlays on top of the candidate's screen: the operator's PIN prompt, menu and pages, and
//! the idle "are you still there?" countdown before a privacy reset.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::widgets::remaining;
use crate::app::state::{OperatorAction, OperatorStep, State};
use crate::session::{Grant, GrantKind};

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

/// The operator's PIN prompt, menu, code field or page, over the screen (nothing when the
/// menu is closed).
pub struct OperatorOverlay<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
}

impl<'a> OperatorOverlay<'a> {
    fn pin_lines(&self, digits: &str, checking: bool) -> Vec<Line<'a>> {
        let (t, theme, op) = (&self.state.session.text, self.theme, &self.state.operator);
        let mut lines = vec![
            Line::raw(t.get("operator.pin_prompt")),
            Line::raw(""),
            Line::styled(format!("  {}", "•".repeat(digits.len())), theme.title),
        ];
        if checking {
            lines.push(Line::styled(t.get("operator.checking"), theme.dim));
        } else if op.failures > 0 {
            lines.push(Line::styled(
                t.fmt("operator.wrong", &[("n", &op.failures), ("max", &5)]),
                theme.bad,
            ));
        }
        lines
    }

    /// The menu's actions, the selected one marked, and what staff granted so far.
    fn menu_lines(&self, selected: usize) -> Vec<Line<'a>> {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let step = state.settings.grant_step.as_secs();
        let n = state.grant_question().map_or_else(
            || t.get("operator.no_question").to_string(),
            |q| (q + 1).to_string(),
        );
        let actions = OperatorAction::ALL.iter().enumerate().map(|(i, action)| {
            let words = match action {
                OperatorAction::ExtraAttempt => t.fmt("operator.extra_attempt", &[("n", &n)]),
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
                OperatorAction::ReopenDevices => t.get("operator.reopen_devices").into(),
                OperatorAction::Quit => t.get("operator.quit").into(),
                OperatorAction::Close => t.get("operator.close").into(),
            };
            if i == selected {
                Line::styled(format!("▶ {words}"), theme.selected)
            } else {
                Line::raw(format!("  {words}"))
            }
        });
        let grants = &state.session.progress.grants;
        let granted = (!grants.is_empty()).then(|| {
            let list: Vec<String> = grants.iter().map(|g| grant_line(t, g)).collect();
            Line::styled(
                t.fmt("operator.granted", &[("list", &list.join("; "))]),
                theme.dim,
            )
        });
        actions.chain(granted).collect()
    }
}

impl Widget for &OperatorOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        let (title, lines): (String, Vec<Line>) = match &state.operator.step {
            OperatorStep::Closed => return,
            OperatorStep::Pin { digits, checking } => (
                t.get("operator.title").to_string(),
                self.pin_lines(digits, *checking),
            ),
            OperatorStep::Code { typed } => {
                let lines = vec![
                    Line::raw(t.get("operator.code_prompt")),
                    Line::raw(""),
                    Line::styled(format!("  {typed}▏"), theme.title),
                ];
                (t.get("operator.enter_code").to_string(), lines)
            }
            OperatorStep::Menu { selected } => (
                t.get("operator.menu_title").to_string(),
                self.menu_lines(*selected),
            ),
            OperatorStep::Page { page, lines } => {
                let mut out: Vec<Line> = lines.iter().map(|l| Line::raw(l.clone())).collect();
                out.push(Line::raw(""));
                out.push(Line::styled(t.get("operator.back"), theme.dim));
                (t.get(page.title_key()).to_string(), out)
            }
        };
        let height = (lines.len() as u16 + 4).max(8);
        let area = popup(area, 76, height);
        Clear.render(area, buf);
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .block(boxed(title, theme))
            .render(area, buf);
    }
}

/// A grant as the operator menu lists it.
fn grant_line(t: &crate::i18n::Text, g: &Grant) -> String {
    let n = g.question + 1;
    match g.kind {
        GrantKind::ExtraAttempt => t.fmt("operator.grant_attempt", &[("n", &n)]),
        GrantKind::ExtraAnswerTime => t.fmt(
            "operator.grant_answer",
            &[("n", &n), ("seconds", &g.amount)],
        ),
        GrantKind::ExtraPreparation => t.fmt(
            "operator.grant_preparation",
            &[("n", &n), ("seconds", &g.amount)],
        ),
    }
}

/// The "are you still there?" countdown before a privacy reset, over a blank screen.
pub struct IdleOverlay<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
}

impl Widget for &IdleOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let Some(ends) = state.session.idle_ends else {
            return;
        };
        let t = &state.session.text;
        let seconds = remaining(state.now, ends).as_secs();
        // Nothing of the candidate's stays on screen while the station waits to wipe it.
        Clear.render(area, buf);
        ratatui::widgets::Block::default()
            .style(theme.text)
            .render(area, buf);
        let area = popup(area, 60, 8);
        Clear.render(area, buf);
        Paragraph::new(Text::from(vec![
            Line::raw(""),
            Line::raw(t.fmt("idle.countdown", &[("seconds", &seconds)])),
        ]))
        .wrap(Wrap { trim: true })
        .block(boxed(t.get("idle.title").to_string(), theme))
        .render(area, buf);
    }
}
