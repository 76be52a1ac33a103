//! The question list: every question with its state on the left, the selected one's details
//! (attempts used and left, time limit, preparation) on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, List, ListItem, ListState, Padding, Paragraph, StatefulWidget, Widget, Wrap,
};

use super::theme::Theme;
use super::widgets::Hints;
use super::words::duration;
use crate::app::state::{State, Target};
use crate::session::{Delivery, TakeState};

/// A question's state in words, with its style.
fn status(state: &State, q: usize, theme: &Theme) -> Span<'static> {
    let t = &state.session.text;
    let p = &state.session.progress.questions[q];
    match p.delivery {
        Delivery::Uploaded => {
            let words = match state.settings.target {
                Target::Platform => "list.sent",
                Target::Folder => "list.in_folder",
            };
            Span::styled(t.get(words).to_string(), theme.good)
        }
        Delivery::Queued => {
            let u = state.upload(q);
            let words = if u.waiting {
                t.get("list.waiting").to_string()
            } else if u.total > 0 && u.sent < u.total {
                t.fmt("list.sending", &[("percent", &(u.sent * 100 / u.total))])
            } else {
                t.get("list.saved").to_string()
            };
            Span::styled(words, theme.good)
        }
        Delivery::NotSubmitted => match p.current_take().map(|(_, t)| t.state) {
            Some(TakeState::Saved) | Some(TakeState::Interrupted) => {
                Span::styled(t.get("list.recorded").to_string(), theme.accent)
            }
            _ => Span::styled(t.get("list.not_started").to_string(), theme.dim),
        },
    }
}

/// The question list with the selected question's details.
pub struct QuestionList<'a> {
    state: &'a State,
    selected: usize,
    theme: &'a Theme,
}

impl<'a> QuestionList<'a> {
    pub fn new(state: &'a State, selected: usize, theme: &'a Theme) -> Self {
        QuestionList {
            state,
            selected,
            theme,
        }
    }

    pub fn hints(&self) -> Hints {
        let (state, selected) = (self.state, self.selected);
        let t = &state.session.text;
        let choose = ("↑ ↓", t.get("list.choose").to_string());
        let mut hints = if state.session.progress.questions[selected]
            .submitted_take()
            .is_some()
        {
            vec![choose]
        } else if state.pending_take(selected).is_some() {
            vec![choose, ("Enter", t.get("list.open_answer").to_string())]
        } else {
            vec![choose, ("Enter", t.get("list.view_question").to_string())]
        };
        if state.session.interview.practice.is_some() {
            hints.push(("P", t.get("list.practice").to_string()));
        }
        hints
    }

    /// Every question, one a line, with its state.
    fn list(&self, left: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        // Room for the text: less the marker, the number, the status word and the border.
        let width = left.width.saturating_sub(2 + 4 + 2 + 12 + 2) as usize;
        let items: Vec<ListItem> = state
            .session
            .interview
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let mut text: String = q.text.split_whitespace().collect::<Vec<_>>().join(" ");
                if text.chars().count() > width {
                    text = text
                        .chars()
                        .take(width.saturating_sub(1))
                        .collect::<String>()
                        + "…";
                }
                ListItem::new(Line::from(vec![
                    Span::raw(format!("{}. ", i + 1)),
                    Span::raw(format!("{text:<width$}  ")),
                    status(state, i, theme),
                ]))
            })
            .collect();
        let mut list_state = ListState::default().with_selected(Some(self.selected));
        StatefulWidget::render(
            List::new(items)
                .highlight_style(theme.selected)
                .highlight_symbol("▶ ")
                .block(
                    Block::default()
                        .borders(Borders::RIGHT)
                        .title(Span::styled(t.get("list.title"), theme.title)),
                ),
            left,
            buf,
            &mut list_state,
        );
    }
}

impl Widget for &QuestionList<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, selected, theme) = (self.state, self.selected, self.theme);
        let t = &state.session.text;
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(area);
        self.list(left, buf);
        let q = &state.session.interview.questions[selected];
        let p = &state.session.progress.questions[selected];
        let left_n = state.attempts_left(selected);
        let mut lines = vec![
            Line::styled(
                t.fmt("list.question", &[("n", &(selected + 1))]),
                theme.title,
            ),
            Line::raw(""),
        ];
        if q.video.is_some() {
            lines.push(Line::styled(t.get("list.video"), theme.accent));
            lines.push(Line::raw(""));
        }
        let detail = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("{k:<14}"), theme.dim),
                Span::raw(v),
            ])
        };
        lines.push(detail(
            t.get("list.attempts"),
            t.fmt(
                "list.attempts_value",
                &[("used", &p.attempts_used), ("left", &left_n)],
            ),
        ));
        lines.push(detail(
            t.get("list.time_limit"),
            duration(t, state.answer_limit(selected)),
        ));
        if let Some(min) = q.minimum_answer {
            lines.push(detail(t.get("list.shortest"), duration(t, min)));
        }
        lines.push(detail(
            t.get("list.preparation"),
            if state.preparation(selected).is_zero() {
                t.get("list.prep_none").to_string()
            } else {
                duration(t, state.preparation(selected))
            },
        ));
        lines.push(Line::raw(""));
        if p.submitted_take().is_some() {
            lines.push(Line::styled(t.get("list.answer_saved"), theme.good));
        } else if state.pending_take(selected).is_some() {
            lines.push(Line::raw(t.get("list.answer_waiting")));
        } else {
            lines.push(Line::raw(t.get("list.prep_starts")));
        }
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .block(Block::default().padding(Padding::horizontal(2)))
            .render(right, buf);
    }
}
