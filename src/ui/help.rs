//! Help, one key from every screen: who to ask, and what to do about the usual problems, in
//! plain words. Longer than a small screen in some languages, so it scrolls (↑ ↓ PgUp PgDn,
//! named in the key bar while it is open); the scroll stops at its last line.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use super::widgets::Hints;
use crate::app::state::State;

/// The help popup, centred over the whole screen.
pub struct Help<'a> {
    pub state: &'a State,
    pub theme: &'a Theme,
}

impl<'a> Help<'a> {
    /// The keys while help is open.
    pub fn hints(&self) -> Hints {
        let t = &self.state.session.text;
        vec![
            ("↑ ↓ PgUp PgDn", t.get("help.scroll").to_string()),
            ("Esc/Enter", t.get("help.close").to_string()),
            ("C", t.get("common.call_staff").to_string()),
        ]
    }

    fn lines(&self) -> Vec<Line<'a>> {
        let (state, theme) = (self.state, self.theme);
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
        lines
    }
}

impl Widget for &Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, theme) = (self.state, self.theme);
        let w = (area.width * 3 / 4).clamp(76, 100).min(area.width);
        let h = (area.height * 3 / 4).clamp(20, 36).min(area.height);
        let popup = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        let t = &state.session.text;
        let text = Paragraph::new(Text::from(self.lines())).wrap(Wrap { trim: true });
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Double)
            .border_style(theme.accent)
            .title(Span::styled(
                format!(" {} ", t.get("help.title")),
                theme.title,
            ))
            .padding(Padding::horizontal(1));
        let inner = block.inner(popup);
        let total = u16::try_from(text.line_count(inner.width)).unwrap_or(u16::MAX);
        let last = total.saturating_sub(inner.height);
        let scroll = state.session.help_scroll.min(last);
        // Where there is more, the frame says so with an arrow on that side.
        let block = match (scroll > 0, scroll < last) {
            (false, false) => block,
            (up, down) => {
                let arrows = format!(
                    " {}{} ",
                    if up { "▲" } else { "" },
                    if down { "▼" } else { "" }
                );
                block.title_bottom(Line::styled(arrows, theme.title).right_aligned())
            }
        };
        Clear.render(popup, buf);
        block.render(popup, buf);
        text.scroll((scroll, 0)).render(inner, buf);
    }
}
