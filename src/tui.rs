//! The terminal: entering and leaving the full-screen mode (restored when the kiosk ends, and
//! only then), holding the console while on a virtual terminal (VT switching locked, see
//! [`crate::vt`]), the kiosk's panic hook, and turning crossterm's events into the flow's
//! messages; also the terminal's cell size in pixels (for real pictures) and a line read with
//! echo off (`booth hash-pin`). The only module that talks to crossterm.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use crate::app::msg::{Key, Msg};

/// The terminal in full-screen raw mode, and on a virtual terminal the lock on VT switching;
/// both restored when dropped (which a panic on the UI task does too, as it unwinds out of the
/// kiosk): the terminal first, then the console unlocked.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
    /// Dropped after [`TerminalGuard::drop`] has restored the terminal.
    _console: Option<crate::vt::SwitchLock>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, hides the cursor, and on a VT locks VT
    /// switching (or logs why it cannot). Unlike `ratatui::init`, no panic hook restores the
    /// terminal: a worker thread's panic (caught and logged) must not hand a locked kiosk's
    /// terminal back in cooked mode, or its console back to Alt+Fn, while booth goes on.
    pub fn enter() -> std::io::Result<Self> {
        crossterm::terminal::enable_raw_mode()?;
        let entered =
            crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)
                .and_then(|()| {
                    let mut terminal = ratatui::Terminal::new(
                        ratatui::backend::CrosstermBackend::new(std::io::stdout()),
                    )?;
                    terminal.hide_cursor()?;
                    Ok(terminal)
                });
        match entered {
            Ok(terminal) => Ok(TerminalGuard {
                terminal,
                _console: crate::vt::hold(),
            }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        restore();
    }
}

fn restore() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::terminal::LeaveAlternateScreen);
}

/// Panics are logged (thread, place, message) and nothing else: the terminal stays the
/// kiosk's. A panic on the UI task ends the kiosk, and the [`TerminalGuard`] restores the
/// terminal and unlocks VT switching as it unwinds; one in a worker thread ends only that
/// worker, and the console stays held.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            panic = %info,
            %backtrace,
            "panic"
        );
    }));
}

/// Rings the bell (BEL) through the kiosk's terminal writer: the run loop calls it between two
/// frames, so it never lands inside one.
pub fn ring_bell(
    backend: &mut ratatui::backend::CrosstermBackend<std::io::Stdout>,
) -> std::io::Result<()> {
    use std::io::Write;
    backend.write_all(b"\x07")?;
    backend.flush()
}

/// The terminal's cell size in pixels (width, height), when it reports one.
pub fn cell_size() -> Option<(u16, u16)> {
    crossterm::terminal::window_size()
        .ok()
        .filter(|w| w.columns > 0 && w.rows > 0 && w.width > 0 && w.height > 0)
        .map(|w| (w.width / w.columns, w.height / w.rows))
}

/// Reads one line from the terminal with echo off (raw mode, so the digits never show).
pub fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use std::io::Write;
    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let mut line = String::new();
    let result = loop {
        match crossterm::event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Backspace => {
                    line.pop();
                }
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "cancelled",
                    ));
                }
                KeyCode::Char(c) => line.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    crossterm::terminal::disable_raw_mode()?;
    writeln!(err)?;
    result.map(|()| line)
}

/// Keys and resizes from the terminal; Ctrl+C, Ctrl+Z and Ctrl+\\ typed as keys become
/// interrupts.
pub fn input() -> impl futures::Stream<Item = Msg> + Unpin {
    from_events(crossterm::event::EventStream::new())
}

/// The messages of a stream of terminal events. A read error or the end of the stream means
/// the terminal is gone (its window closed, its pseudo-terminal hung up): that is the last
/// message, `Msg::Terminate`, as for SIGHUP, so the kiosk finishes a recording and leaves
/// instead of reading errors forever.
pub fn from_events<S>(events: S) -> impl futures::Stream<Item = Msg> + Unpin
where
    S: futures::Stream<Item = std::io::Result<Event>> + Unpin,
{
    use futures::StreamExt;
    Box::pin(futures::stream::unfold(Some(events), |events| async move {
        let mut events = events?;
        loop {
            match events.next().await {
                Some(Ok(ev)) if is_interrupt(&ev) => return Some((Msg::Interrupt, Some(events))),
                Some(Ok(ev)) => {
                    if let Some(msg) = translate(ev) {
                        return Some((msg, Some(events)));
                    }
                }
                Some(Err(e)) => {
                    tracing::error!(error = %e, "terminal input failed: the terminal is gone; leaving");
                    return Some((Msg::Terminate, None));
                }
                None => {
                    tracing::warn!("terminal input ended: the terminal is gone; leaving");
                    return Some((Msg::Terminate, None));
                }
            }
        }
    }))
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
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
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
            translate(press(KeyCode::PageDown, KeyModifiers::NONE)),
            Some(Msg::Key(Key::PageDown))
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

    #[test]
    fn a_terminal_that_goes_away_ends_the_input_with_terminate() {
        use futures::StreamExt;
        let events = futures::stream::iter(vec![
            Ok(press(KeyCode::Enter, KeyModifiers::NONE)),
            Err(std::io::Error::other("input/output error")),
            Ok(press(KeyCode::Enter, KeyModifiers::NONE)),
        ]);
        let msgs: Vec<Msg> = futures::executor::block_on(from_events(events).collect());
        assert!(
            matches!(msgs.as_slice(), [Msg::Key(Key::Enter), Msg::Terminate]),
            "{msgs:?}"
        );
        let ended: Vec<Msg> =
            futures::executor::block_on(from_events(futures::stream::iter(Vec::new())).collect());
        assert!(matches!(ended.as_slice(), [Msg::Terminate]), "{ended:?}");
    }
}
