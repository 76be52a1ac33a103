//! The end: every answer's state, a receipt code to write down, and what happens to the
//! copies on this station.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Wrap};

use super::overview::Hints;
use super::theme::Theme;
use super::widgets::remaining;
use crate::app::state::{Phase, State, Target};
use crate::session::Delivery;

pub fn done(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) -> Hints {
    let t = &state.session.text;
    let n = state.session.interview.questions.len() as u16;
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
            Line::styled(t.get("done.thanks"), theme.title),
        ]))
        .alignment(Alignment::Center),
        top,
    );
    let lines: Vec<Line> = state
        .session
        .interview
        .questions
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let delivered = match state.settings.target {
                Target::Platform => "done.received",
                Target::Folder => "done.in_folder",
            };
            let status = match state.session.progress.questions[i].delivery {
                Delivery::Uploaded => Span::styled(t.get(delivered), theme.good),
                Delivery::Queued => {
                    let u = state.upload(i);
                    let words = if u.waiting {
                        t.get("done.waiting").to_string()
                    } else if u.total > 0 && u.sent < u.total {
                        t.fmt(
                            "done.sending_percent",
                            &[("percent", &(u.sent * 100 / u.total))],
                        )
                    } else {
                        t.get("done.sending").to_string()
                    };
                    Span::styled(words, theme.good)
                }
                Delivery::NotSubmitted => Span::styled(t.get("done.not_answered"), theme.dim),
            };
            Line::from(vec![
                Span::raw(format!("{}  ", t.fmt("done.answer", &[("n", &(i + 1))]))),
                status,
            ])
        })
        .collect();
    // A narrow left-aligned column, centred, so the statuses line up.
    let width = 76.min(answers.width);
    let column = Rect::new(
        answers.x + (answers.width - width) / 2,
        answers.y,
        width,
        answers.height,
    );
    frame.render_widget(Paragraph::new(lines), column);
    frame.render_widget(
        Paragraph::new(Text::from(vec![
            Line::styled(t.get("done.receipt"), theme.dim),
            Line::styled(state.session.progress.receipt_code(), theme.accent),
        ]))
        .alignment(Alignment::Center),
        receipt,
    );
    let all_sent = state
        .session
        .progress
        .questions
        .iter()
        .all(|q| q.delivery == Delivery::Uploaded);
    // Only what really happened: the platform confirmed it, or it sits in a folder, or it
    // waits on this booth.
    let status = t.get(match (all_sent, state.settings.target) {
        (true, Target::Platform) if state.settings.keeps_copies => "done.all_sent_kept",
        (true, Target::Platform) => "done.all_sent",
        (true, Target::Folder) => "done.all_in_folder",
        (false, Target::Platform) if state.settings.keeps_copies => "done.sending_note_kept",
        (false, Target::Platform) => "done.sending_note",
        (false, Target::Folder) => "done.copying_note",
    });
    let mut after_lines = vec![Line::raw(status), Line::raw("")];
    after_lines.push(Line::raw(t.get("done.tell_staff")));
    if let Phase::Done { ends } = state.session.phase {
        let seconds = remaining(state.now, ends).as_secs();
        after_lines.push(Line::raw(""));
        after_lines.push(Line::styled(
            t.fmt("done.clears", &[("seconds", &seconds)]),
            theme.dim,
        ));
    }
    frame.render_widget(
        Paragraph::new(Text::from(after_lines))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        after,
    );
    vec![("Enter", t.get("done.finish").to_string())]
}
