//! The terminal: entering and leaving the full-screen mode (restored on drop and on panic), and
//! turning crossterm's events into the flow's messages. The only module that talks to
//! crossterm.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use crate::app::msg::{Key, Msg};

/// The terminal in full-screen raw mode; restored when dropped.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, hides the cursor. ratatui's panic hook restores
    /// the terminal before any panic message, so install other hooks first.
    pub fn enter() -> std::io::Result<Self> {
        let mut terminal = ratatui::try_init()?;
        terminal.hide_cursor()?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        ratatui::restore();
    }
}

/// Translates a terminal event into a message; `None` for what the flow ignores (key
/// releases and repeats, mouse, focus, paste).
pub fn translate(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => translate_key(key).map(Msg::Key),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

/// Ctrl+C, Ctrl+Z and Ctrl+\ (raw mode delivers them as keys, not signals): the run loop
/// turns them into `Msg::Interrupt`, which a locked kiosk ignores.
pub fn is_interrupt(event: &Event) -> bool {
    matches!(
        event,
        Event::Key(KeyEvent {
            code: KeyCode::Char('c') | KeyCode::Char('z') | KeyCode::Char('\\') | KeyCode::Char('4'),
            modifiers,
            kind: KeyEventKind::Press,
            ..
        }) if modifiers.contains(KeyModifiers::CONTROL)
    )
}

fn translate_key(key: KeyEvent) -> Option<Key> {
    if key.kind != KeyEventKind::Press || key.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    Some(match key.code {
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Tab => Key::Tab,
        KeyCode::F(1) => Key::Help,
        KeyCode::F(12) => Key::Operator,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Char(' ') => Key::Space,
        KeyCode::Char('?') => Key::Help,
        KeyCode::Char(c) => Key::Char(c),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_become_messages() {
        assert!(matches!(
            translate(press(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Msg::Key(Key::Enter))
        ));
        assert!(matches!(
            translate(press(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Msg::Key(Key::Help))
        ));
        assert!(matches!(
            translate(Event::Resize(100, 30)),
            Some(Msg::Resize {
                width: 100,
                height: 30
            })
        ));
        // Ctrl+C is not a key for the flow; it is an interrupt.
        let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(translate(ctrl_c.clone()).is_none());
        assert!(is_interrupt(&ctrl_c));
        let release = Event::Key(KeyEvent {
            kind: KeyEventKind::Release,
            ..KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
        });
        assert!(translate(release).is_none());
    }
}
