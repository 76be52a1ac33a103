//! The question list: every question with its state on the left, the selected one's details
//! (attempts used and left, time limit, preparation) on the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Padding, Paragraph, Wrap};

use super::overview::Hints;
use super::theme::Theme;
use super::widgets::spoken;
use crate::app::state::State;
use crate::session::{Delivery, TakeState};

/// A question's state in words, with its style.
fn status(state: &State, q: usize, theme: &Theme) -> Span<'static> {
    let p = &state.progress.questions[q];
    match p.delivery {
        Delivery::Uploaded => Span::styled("sent ✓", theme.good),
        Delivery::Queued => Span::styled("saved ✓", theme.good),
        Delivery::NotSubmitted => match p.current_take().map(|(_, t)| t.state) {
            Some(TakeState::Saved) | Some(TakeState::Interrupted) => {
                Span::styled("recorded", theme.accent)
            }
            _ => Span::styled("not started", theme.dim),
        },
    }
}

pub fn list(state: &State, selected: usize, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    // Room for the text: less the marker, the number, the status word and the border.
    let width = left.width.saturating_sub(2 + 4 + 2 + 12 + 2) as usize;
    let items: Vec<ListItem> = state
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
    let mut list_state = ListState::default().with_selected(Some(selected));
    frame.render_stateful_widget(
        List::new(items)
            .highlight_style(theme.selected)
            .highlight_symbol("▶ ")
            .block(
                Block::default()
                    .borders(Borders::RIGHT)
                    .title(Span::styled("Questions", theme.title)),
            ),
        left,
        &mut list_state,
    );

    let q = &state.interview.questions[selected];
    let p = &state.progress.questions[selected];
    let left_n = state.attempts_left(selected);
    let mut lines = vec![
        Line::styled(format!("Question {}", selected + 1), theme.title),
        Line::raw(""),
    ];
    if q.video.is_some() {
        lines.push(Line::styled(
            "▶ This question is a short video.",
            theme.accent,
        ));
        lines.push(Line::raw(""));
    }
    let detail = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<14}"), theme.dim),
            Span::raw(v),
        ])
    };
    lines.push(detail(
        "Attempts",
        format!("{} used, {} left", p.attempts_used, left_n),
    ));
    lines.push(detail("Time limit", spoken(q.answer_limit)));
    if let Some(min) = q.minimum_answer {
        lines.push(detail("Shortest", spoken(min)));
    }
    lines.push(detail(
        "Preparation",
        if q.preparation.is_zero() {
            "none – you start when ready".into()
        } else {
            spoken(q.preparation)
        },
    ));
    lines.push(Line::raw(""));
    let submitted = p.submitted_take().is_some();
    let hints: Hints = if submitted {
        lines.push(Line::styled(
            "Your answer is saved. Choose another question.",
            theme.good,
        ));
        vec![("↑ ↓", "Choose")]
    } else if state.pending_take(selected).is_some() {
        lines.push(Line::raw(
            "You have recorded an answer. Open it to send it or record again.",
        ));
        vec![("↑ ↓", "Choose"), ("Enter", "Open answer")]
    } else {
        lines.push(Line::raw(
            "When you open the question, the preparation time starts.",
        ));
        vec![("↑ ↓", "Choose"), ("Enter", "View question")]
    };
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .block(Block::default().padding(Padding::horizontal(2))),
        right,
    );
    hints
}
