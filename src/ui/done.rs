//! The end: every answer's state, a receipt code to write down, and what happens to the
//! copies on this station.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Wrap};

use super::overview::Hints;
use super::theme::Theme;
use crate::app::state::State;
use crate::session::Delivery;

pub fn done(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let n = state.interview.questions.len() as u16;
    let [top, answers, receipt, after] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(n + 1),
        Constraint::Length(4),
        Constraint::Min(3),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Text::from(vec![
            Line::raw(""),
            Line::styled("Thank you – you have finished the interview!", theme.title),
        ]))
        .alignment(Alignment::Center),
        top,
    );
    let lines: Vec<Line> = state
        .interview
        .questions
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let status = match state.progress.questions[i].delivery {
                Delivery::Uploaded => Span::styled("✓ received by the hiring team", theme.good),
                Delivery::Queued => Span::styled("✓ saved – sending…", theme.good),
                Delivery::NotSubmitted => Span::styled("not answered", theme.dim),
            };
            Line::from(vec![Span::raw(format!("Answer {}:  ", i + 1)), status])
        })
        .collect();
    // A narrow left-aligned column, centred, so the statuses line up.
    let width = 46.min(answers.width);
    let column = Rect::new(
        answers.x + (answers.width - width) / 2,
        answers.y,
        width,
        answers.height,
    );
    frame.render_widget(Paragraph::new(lines), column);
    frame.render_widget(
        Paragraph::new(Text::from(vec![
            Line::styled("Your receipt code", theme.dim),
            Line::styled(state.progress.receipt_code(), theme.accent),
        ]))
        .alignment(Alignment::Center),
        receipt,
    );
    let all_sent = state
        .progress
        .questions
        .iter()
        .all(|q| q.delivery == Delivery::Uploaded);
    let status = if all_sent {
        "The hiring team has all your answers, and the copies on this station have been deleted."
    } else {
        "Your answers are saved on this station and are being sent to the hiring team. \
         If the network is slow this can take a while – you do not need to wait. \
         The copies on this station are deleted once the hiring team has them."
    };
    frame.render_widget(
        Paragraph::new(Text::from(vec![
            Line::raw(status),
            Line::raw(""),
            Line::raw("Please let the staff know you have finished. Good luck!"),
        ]))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true }),
        after,
    );
    vec![]
}
