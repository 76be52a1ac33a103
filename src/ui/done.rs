//! The end: every answer's state, a receipt code to write down, and what happens to the
//! copies on this station.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::widgets::{Hints, remaining};
use crate::app::state::{Phase, State, Target};
use crate::session::Delivery;

pub struct Done<'a> {
    state: &'a State,
    theme: &'a Theme,
}

impl<'a> Done<'a> {
    pub fn new(state: &'a State, theme: &'a Theme) -> Self {
        Done { state, theme }
    }

    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        vec![("Enter", t.get("done.finish").to_string())]
    }

    /// Each answer's state, one a line.
    fn answer_lines(&self) -> Vec<Line<'a>> {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        state
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
            .collect()
    }

    /// What happened to the answers, and when the screen clears.
    fn after_lines(&self) -> Vec<Line<'a>> {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
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
        after_lines
    }
}

impl Widget for &Done<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let t = &state.session.text;
        // A status wider than the column wraps under its answer.
        let width = 76.min(area.width);
        let answers_text = Paragraph::new(self.answer_lines()).wrap(Wrap { trim: true });
        let rows = u16::try_from(answers_text.line_count(width)).unwrap_or(u16::MAX);
        let [top, answers, receipt, after] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(rows + 1),
            Constraint::Length(4),
            Constraint::Min(3),
        ])
        .areas(area);
        Paragraph::new(Text::from(vec![
            Line::raw(""),
            Line::styled(t.get("done.thanks"), theme.title),
        ]))
        .alignment(Alignment::Center)
        .render(top, buf);
        // A narrow left-aligned column, centred, so the statuses line up.
        let column = Rect::new(
            answers.x + (answers.width - width) / 2,
            answers.y,
            width,
            answers.height,
        );
        answers_text.render(column, buf);
        Paragraph::new(Text::from(vec![
            Line::styled(t.get("done.receipt"), theme.dim),
            Line::styled(state.session.progress.receipt_code(), theme.accent),
        ]))
        .alignment(Alignment::Center)
        .render(receipt, buf);
        let after_lines = self.after_lines();
        Paragraph::new(Text::from(after_lines))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .render(after, buf);
    }
}
