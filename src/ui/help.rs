//! Help, one key from every screen: who to ask, and what to do about the usual problems, in
//! plain words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Wrap};

use super::theme::Theme;
use crate::app::state::State;

pub fn help(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let w = (area.width * 3 / 4).clamp(60, 100).min(area.width);
    let h = (area.height * 3 / 4).clamp(20, 36).min(area.height);
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let support = &state.interview.support;
    let mut lines = vec![
        Line::styled("Need a hand?", theme.title),
        Line::raw(support.contact.clone()),
    ];
    if let Some(phone) = &support.phone {
        lines.push(Line::from(vec![
            Span::styled("Phone: ", theme.dim),
            Span::raw(phone.clone()),
        ]));
    }
    if let Some(email) = &support.email {
        lines.push(Line::from(vec![
            Span::styled("Email: ", theme.dim),
            Span::raw(email.clone()),
        ]));
    }
    let tip = |title: &'static str, text: &'static str| {
        [
            Line::raw(""),
            Line::styled(title, theme.accent),
            Line::raw(text),
        ]
    };
    lines.extend(tip(
        "It won't let me start recording",
        "The microphone needs to hear you first. Say something: the bar under \
         \"Microphone\" should move past the line, then recording can start.",
    ));
    lines.extend(tip(
        "I can't see myself, or the picture is dark",
        "Check that nothing covers the camera and that the room light is on. If it stays \
         dark, ask the staff.",
    ));
    lines.extend(tip(
        "Something else went wrong",
        "Ask the staff. Nothing you have recorded is lost, and a technical problem never \
         uses up one of your attempts.",
    ));
    lines.extend(tip(
        "Keys",
        "The keys you can use are always shown at the bottom of the screen.",
    ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_type(BorderType::Double)
                    .border_style(theme.accent)
                    .title(Span::styled(" Help – press Esc to close ", theme.title))
                    .padding(Padding::horizontal(1)),
            ),
        popup,
    );
}
