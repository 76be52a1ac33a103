//! Colours and text styles, and the terminal's colour depth. Candidates see colour as a hint
//! only: every state also has a word or a symbol, so nothing depends on telling red from green.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    /// The Linux console and other 16-colour terminals.
    Ansi16,
}

impl ColorDepth {
    /// Reads the usual hints: `COLORTERM=truecolor|24bit`, `TERM=*-256color`, `TERM=linux`.
    pub fn detect(colorterm: Option<&str>, term: Option<&str>) -> Self {
        let colorterm = colorterm.unwrap_or("").to_ascii_lowercase();
        let term = term.unwrap_or("").to_ascii_lowercase();
        if colorterm.contains("truecolor") || colorterm.contains("24bit") {
            ColorDepth::TrueColor
        } else if term.contains("256color") {
            ColorDepth::Ansi256
        } else if term.is_empty() || term == "linux" || term == "vt100" || term == "dumb" {
            ColorDepth::Ansi16
        } else {
            ColorDepth::Ansi256
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub depth: ColorDepth,
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub accent: Style,
    pub good: Style,
    pub warn: Style,
    pub bad: Style,
    pub key: Style,
    pub selected: Style,
    pub recording: Style,
    /// The large-text layout: bold body text and large countdowns.
    pub large: bool,
}

impl Theme {
    pub fn standard(depth: ColorDepth) -> Self {
        Theme {
            depth,
            text: Style::default(),
            dim: Style::default().fg(Color::Gray),
            title: Style::default().add_modifier(Modifier::BOLD),
            accent: Style::default().fg(Color::Cyan),
            good: Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
            warn: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            bad: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            key: Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            recording: Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            large: false,
        }
    }

    /// White and yellow on black, everything bold: for low vision and bright rooms.
    pub fn high_contrast(depth: ColorDepth) -> Self {
        let bold = Modifier::BOLD;
        Theme {
            depth,
            text: Style::default()
                .fg(Color::White)
                .bg(Color::Black)
                .add_modifier(bold),
            dim: Style::default().fg(Color::White).add_modifier(bold),
            title: Style::default()
                .fg(Color::Yellow)
                .add_modifier(bold | Modifier::UNDERLINED),
            accent: Style::default().fg(Color::Yellow).add_modifier(bold),
            good: Style::default().fg(Color::LightGreen).add_modifier(bold),
            warn: Style::default().fg(Color::Yellow).add_modifier(bold),
            bad: Style::default().fg(Color::LightRed).add_modifier(bold),
            key: Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(bold),
            selected: Style::default()
                .fg(Color::Black)
                .bg(Color::White)
                .add_modifier(bold),
            recording: Style::default()
                .fg(Color::Black)
                .bg(Color::LightRed)
                .add_modifier(bold),
            large: false,
        }
    }

    /// The same theme in the large-text layout.
    pub fn large(mut self) -> Self {
        self.large = true;
        self.text = self.text.add_modifier(Modifier::BOLD);
        self.dim = self.dim.add_modifier(Modifier::BOLD);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_colour_depth_from_the_environment() {
        assert_eq!(
            ColorDepth::detect(Some("truecolor"), Some("xterm")),
            ColorDepth::TrueColor
        );
        assert_eq!(
            ColorDepth::detect(None, Some("xterm-256color")),
            ColorDepth::Ansi256
        );
        assert_eq!(ColorDepth::detect(None, Some("linux")), ColorDepth::Ansi16);
        assert_eq!(ColorDepth::detect(None, None), ColorDepth::Ansi16);
    }
}
