//! Help, one key from every screen: who to ask, and what to do about the usual problems, in
//! plain words.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::state::State;

/// The help popup, centred over the whole screen.
pub struct Help<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
}

impl Widget for &Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let w = (area.width * 3 / 4).clamp(60, 100).min(area.width);
        let h = (area.height * 3 / 4).clamp(20, 36).min(area.height);
        let popup = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        let t = &state.session.text;
        let support = &state.session.interview.support;
        let mut lines = vec![
            Line::styled(t.get("help.need_hand"), theme.title),
            Line::raw(support.contact.clone()),
            Line::styled(t.get("help.call_staff_hint"), theme.accent),
        ];
        for (label, value) in [
            ("help.phone", &support.phone),
            ("help.email", &support.email),
        ] {
            if let Some(v) = value {
                lines.push(Line::from(vec![
                    Span::styled(format!("{} ", t.get(label)), theme.dim),
                    Span::raw(v.clone()),
                ]));
            }
        }
        for (title, text) in [
            ("help.no_start_title", "help.no_start"),
            ("help.dark_title", "help.dark"),
            ("help.other_title", "help.other"),
            ("help.keys_title", "help.keys"),
        ] {
            lines.push(Line::raw(""));
            lines.push(Line::styled(t.get(title), theme.accent));
            lines.push(Line::raw(t.get(text)));
        }
        Clear.render(popup, buf);
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_type(BorderType::Double)
                    .border_style(theme.accent)
                    .title(Span::styled(
                        format!(" {} ", t.get("help.title")),
                        theme.title,
                    ))
                    .padding(Padding::horizontal(1)),
            )
            .render(popup, buf);
    }
}
