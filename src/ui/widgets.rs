//! Small pieces the screens share: the key-hint bar, times as m:ss (countdowns rounded up), the
//! microphone meter and the large recording timer.

use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::theme::Theme;
use crate::media::analyze::Level;

/// The key hints of a screen: a key and what it does, in the candidate's language.
pub type Hints = Vec<(&'static str, String)>;

/// `m:ss` (or `h:mm:ss` past an hour).
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Time left of a countdown, rounded up to whole seconds for display.
pub fn remaining(now: Instant, ends: Instant) -> Duration {
    let left = ends.saturating_duration_since(now);
    Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0))
}

/// The bottom line: each action as a highlighted key and a word.
pub fn key_hints(theme: &Theme, hints: &[(&str, String)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (key, what)) in hints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("   "));
        }
        spans.push(Span::styled(format!(" {key} "), theme.key));
        spans.push(Span::styled(format!(" {what}"), theme.text));
    }
    Line::from(spans)
}

/// A horizontal sound-level meter, -60 dBFS to 0, with the noise gate marked.
pub struct Meter<'a> {
    pub level: Option<Level>,
    pub gate_dbfs: f32,
    pub theme: &'a Theme,
}

/// Position of `dbfs` on a bar `width` cells wide.
fn bar_pos(dbfs: f32, width: u16) -> u16 {
    let frac = ((dbfs + 60.0) / 60.0).clamp(0.0, 1.0);
    (frac * width as f32).round() as u16
}

impl Widget for Meter<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < 4 || area.height == 0 {
            return;
        }
        let width = area.width;
        let (fill, style) = match self.level {
            Some(l) => {
                let style = if l.clipped {
                    self.theme.bad
                } else if l.peak_dbfs >= self.gate_dbfs {
                    self.theme.good
                } else {
                    self.theme.dim
                };
                (bar_pos(l.peak_dbfs, width), style)
            }
            None => (0, self.theme.dim),
        };
        let gate = bar_pos(self.gate_dbfs, width).min(width - 1);
        for x in 0..width {
            let (symbol, st) = if x < fill {
                ("█", style)
            } else if x == gate {
                ("│", self.theme.warn)
            } else {
                ("·", self.theme.dim)
            };
            if let Some(cell) = buf.cell_mut((area.x + x, area.y)) {
                cell.set_symbol(symbol).set_style(st);
            }
        }
    }
}

/// Digits five rows tall, three cells wide, for the recording timer.
const BIG: [[&str; 5]; 11] = [
    ["███", "█ █", "█ █", "█ █", "███"],
    ["  █", "  █", "  █", "  █", "  █"],
    ["███", "  █", "███", "█  ", "███"],
    ["███", "  █", "███", "  █", "███"],
    ["█ █", "█ █", "███", "  █", "  █"],
    ["███", "█  ", "███", "  █", "███"],
    ["███", "█  ", "███", "█ █", "███"],
    ["███", "  █", "  █", "  █", "  █"],
    ["███", "█ █", "███", "█ █", "███"],
    ["███", "█ █", "███", "  █", "███"],
    ["   ", " █ ", "   ", " █ ", "   "],
];

/// A time drawn large, centred in its area (falls back to plain text when too small).
pub struct BigClock {
    pub text: String,
    pub style: Style,
}

impl BigClock {
    pub fn width(text: &str) -> u16 {
        (text.chars().count() as u16) * 4
    }
}

impl Widget for BigClock {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let w = Self::width(&self.text);
        if area.height < 5 || area.width < w {
            let x = area.x + area.width.saturating_sub(self.text.len() as u16) / 2;
            buf.set_string(x, area.y, &self.text, self.style);
            return;
        }
        let x0 = area.x + (area.width - w) / 2;
        let y0 = area.y + (area.height - 5) / 2;
        for (i, ch) in self.text.chars().enumerate() {
            let glyph = match ch {
                '0'..='9' => &BIG[(ch as u8 - b'0') as usize],
                ':' => &BIG[10],
                _ => continue,
            };
            for (row, line) in glyph.iter().enumerate() {
                buf.set_string(x0 + i as u16 * 4, y0 + row as u16, line, self.style);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_naturally() {
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn countdown_display_rounds_up() {
        let secs = Duration::from_secs;
        let t = Instant::now();
        assert_eq!(remaining(t, t + Duration::from_millis(29_100)), secs(30));
        assert_eq!(remaining(t, t + secs(30)), secs(30));
        assert_eq!(remaining(t + secs(31), t + secs(30)), secs(0));
    }

    #[test]
    fn meter_marks_the_gate_and_fills_to_the_peak() {
        let theme = Theme::standard(super::super::theme::ColorDepth::TrueColor);
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 1));
        Meter {
            level: Some(Level {
                rms_dbfs: -40.0,
                peak_dbfs: -30.0,
                clipped: false,
            }),
            gate_dbfs: -45.0,
            theme: &theme,
        }
        .render(Rect::new(0, 0, 60, 1), &mut buf);
        let line: String = (0..60).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        assert_eq!(line.chars().filter(|&c| c == '█').count(), 30);
        assert!(line.starts_with("██████"));
    }
}
