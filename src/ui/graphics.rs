//! Real pictures in terminals that can show them — kitty, sixel or iTerm2 graphics, chosen by
//! `BOOTH_GRAPHICS` or recognised from the environment — with the half-block picture
//! everywhere else. Encoding a
//! picture for the terminal costs far more than drawing half blocks, so each picture is
//! encoded once for its pane and reused until a newer one arrives, at most five times a
//! second.
//!
//! This is the one piece of drawing that keeps state between frames (the encoded picture): it
//! is a render cache, not part of the flow's state, so `view` stays a function of `State`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{DynamicImage, RgbImage};
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::widgets::Widget;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use ratatui_image::{FontSize, Image, Resize};

use super::preview::{fit, yuv_to_rgb};
use crate::media::frame::VideoFrame;

/// Pictures re-encoded at most this often (the half-block preview runs at up to 15). A picture
/// for a 52×22-cell pane costs 6–20 ms to encode here and up to 0.8 MB on the wire, so five a
/// second keeps the terminal and the encoder's CPU share small.
const MIN_INTERVAL: Duration = Duration::from_millis(200);

struct Encoded {
    frame: Arc<VideoFrame>,
    rect: Rect,
    mirror: bool,
    protocol: Protocol,
    at: Instant,
}

pub struct Graphics {
    picker: Picker,
    cached: Option<Encoded>,
}

impl Graphics {
    /// What `BOOTH_GRAPHICS` asks for: `off` (half blocks), `kitty`, `sixel` or `iterm2`, or by
    /// default `auto`, which goes by what the terminal says of itself in the environment
    /// (kitty, WezTerm, iTerm2). The terminal is never queried over its input: a terminal
    /// that does not answer leaves the query reading the candidate's first keys.
    /// `cell`: the terminal's cell size in pixels, if it reports one (`tui::cell_size`).
    pub fn from_env(cell: Option<(u16, u16)>) -> Option<Graphics> {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        let wanted = var("BOOTH_GRAPHICS").trim().to_ascii_lowercase();
        let protocol = match wanted.as_str() {
            "off" | "halfblocks" | "none" => None,
            "kitty" => Some(ProtocolType::Kitty),
            "sixel" => Some(ProtocolType::Sixel),
            "iterm2" => Some(ProtocolType::Iterm2),
            other => {
                if !other.is_empty() && other != "auto" {
                    tracing::warn!(
                        value = other,
                        "BOOTH_GRAPHICS is auto, off, kitty, sixel or iterm2; using auto"
                    );
                }
                guess(&var("TERM"), &var("TERM_PROGRAM"), &var("KITTY_WINDOW_ID"))
            }
        };
        let g = Graphics::with_protocol(protocol?, cell);
        if let Some(g) = &g {
            tracing::info!(protocol = ?g.protocol(), font = ?g.picker.font_size(), "terminal graphics");
        }
        g
    }

    /// A given protocol, for cells of `cell` pixels when the terminal reports it (10×20
    /// otherwise).
    pub fn with_protocol(protocol: ProtocolType, cell: Option<(u16, u16)>) -> Option<Graphics> {
        let font = cell.unwrap_or((10, 20));
        // The deprecated constructor is the one that takes a known cell size without querying
        // the terminal over its input (see `from_env`).
        #[allow(deprecated)]
        let mut picker = Picker::from_fontsize(FontSize::from(font));
        picker.set_protocol_type(protocol);
        Graphics::with_picker(picker)
    }

    fn with_picker(picker: Picker) -> Option<Graphics> {
        (picker.protocol_type() != ProtocolType::Halfblocks).then_some(Graphics {
            picker,
            cached: None,
        })
    }

    pub fn protocol(&self) -> ProtocolType {
        self.picker.protocol_type()
    }

    /// Draws `frame` into `area` with the terminal's graphics, encoding it when it changed.
    pub fn render(&mut self, frame: &Arc<VideoFrame>, mirror: bool, area: Rect, buf: &mut Buffer) {
        let target = fit(area, frame.width, frame.height);
        if target.width == 0 || target.height == 0 {
            return;
        }
        let fresh = self.cached.as_ref().is_some_and(|c| {
            c.rect == target
                && c.mirror == mirror
                && (Arc::ptr_eq(&c.frame, frame) || c.at.elapsed() < MIN_INTERVAL)
        });
        if !fresh {
            let font = self.picker.font_size();
            let (w, h) = (
                target.width as u32 * font.width as u32,
                target.height as u32 * font.height as u32,
            );
            let image = DynamicImage::ImageRgb8(scaled_rgb(frame, w, h, mirror));
            match self.picker.new_protocol(
                image,
                Size::new(target.width, target.height),
                Resize::Fit(None),
            ) {
                Ok(protocol) => {
                    self.cached = Some(Encoded {
                        frame: frame.clone(),
                        rect: target,
                        mirror,
                        protocol,
                        at: Instant::now(),
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode a picture for the terminal");
                    self.cached = None;
                    return;
                }
            }
        }
        if let Some(c) = &self.cached {
            Image::new(&c.protocol).render(target, buf);
        }
    }
}

/// The protocol a terminal announces through its environment. Inside tmux or screen the
/// variables belong to the outer terminal and may be stale, so none is trusted there.
fn guess(term: &str, term_program: &str, kitty_window: &str) -> Option<ProtocolType> {
    if term.starts_with("tmux") || term.starts_with("screen") {
        return None;
    }
    if term == "xterm-kitty" || !kitty_window.is_empty() || term_program == "ghostty" {
        Some(ProtocolType::Kitty)
    } else if term_program == "WezTerm" || term_program == "iTerm.app" {
        Some(ProtocolType::Iterm2)
    } else if term.starts_with("foot") || term == "mlterm" || term.starts_with("contour") {
        Some(ProtocolType::Sixel)
    } else {
        None
    }
}

/// The frame scaled to `w`×`h` RGB, each pixel the average of the luma it covers.
fn scaled_rgb(frame: &VideoFrame, w: u32, h: u32, mirror: bool) -> RgbImage {
    let (y_plane, u_plane, v_plane) = frame.planes();
    let (fw, fh) = (frame.width as usize, frame.height as usize);
    let (w, h) = (w.max(1), h.max(1));
    RgbImage::from_fn(w, h, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let x0 = x * fw / w as usize;
        let x1 = ((x + 1) * fw / w as usize).clamp(x0 + 1, fw);
        let y0 = y * fh / h as usize;
        let y1 = ((y + 1) * fh / h as usize).clamp(y0 + 1, fh);
        let step_x = ((x1 - x0) / 2).max(1);
        let step_y = ((y1 - y0) / 2).max(1);
        let (mut sum, mut n) = (0u32, 0u32);
        for sy in (y0..y1).step_by(step_y) {
            for sx in (x0..x1).step_by(step_x) {
                let sx = if mirror { fw - 1 - sx } else { sx };
                sum += y_plane[sy * fw + sx] as u32;
                n += 1;
            }
        }
        let cx = (x0 + x1) / 2;
        let cx = if mirror { fw - 1 - cx.min(fw - 1) } else { cx };
        let ci = (((y0 + y1) / 2).min(fh - 1) / 2) * (fw / 2) + (cx / 2).min(fw / 2 - 1);
        let (r, g, b) = yuv_to_rgb((sum / n.max(1)) as u8, u_plane[ci], v_plane[ci]);
        image::Rgb([r, g, b])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> Arc<VideoFrame> {
        let mut f = VideoFrame::filled(64, 36, 60, 128, 128, Instant::now());
        for row in 0..36 {
            for col in 0..32 {
                f.data[row * 64 + col] = 220;
            }
        }
        Arc::new(f)
    }

    /// The escape sequences the widget left in the buffer.
    fn sequences(buf: &Buffer) -> String {
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn kitty_and_sixel_terminals_get_graphics_sequences() -> crate::TestResult {
        for (protocol, marker) in [
            (ProtocolType::Kitty, "\x1b_G"),
            (ProtocolType::Sixel, "\x1bP"),
        ] {
            let mut g = Graphics::with_protocol(protocol, None).ok_or("no graphics")?;
            let area = Rect::new(0, 0, 40, 12);
            let mut buf = Buffer::empty(area);
            g.render(&picture(), true, area, &mut buf);
            assert!(
                sequences(&buf).contains(marker),
                "{protocol:?} drew no picture"
            );
        }
        assert!(Graphics::with_protocol(ProtocolType::Halfblocks, None).is_none());
        Ok(())
    }

    #[test]
    fn terminals_are_recognised_from_their_environment() {
        assert_eq!(guess("xterm-kitty", "", ""), Some(ProtocolType::Kitty));
        assert_eq!(guess("xterm-256color", "", "3"), Some(ProtocolType::Kitty));
        assert_eq!(
            guess("xterm-256color", "WezTerm", ""),
            Some(ProtocolType::Iterm2)
        );
        assert_eq!(guess("foot", "", ""), Some(ProtocolType::Sixel));
        assert_eq!(guess("linux", "", ""), None);
        assert_eq!(guess("xterm-256color", "", ""), None);
        // A stale kitty variable inside tmux is not trusted.
        assert_eq!(guess("tmux-256color", "", "3"), None);
    }

    #[test]
    fn an_unchanged_picture_is_not_encoded_again() -> crate::TestResult {
        let mut g = Graphics::with_protocol(ProtocolType::Kitty, None).ok_or("no graphics")?;
        let area = Rect::new(0, 0, 40, 12);
        let f = picture();
        let mut buf = Buffer::empty(area);
        g.render(&f, false, area, &mut buf);
        let first = g.cached.as_ref().ok_or("nothing cached")?.at;
        g.render(&f, false, area, &mut buf);
        assert_eq!(g.cached.as_ref().ok_or("nothing cached")?.at, first);
        Ok(())
    }

    #[test]
    fn scaling_keeps_the_bright_half_and_mirrors() {
        let img = scaled_rgb(&picture(), 16, 9, false);
        assert!(img.get_pixel(2, 4)[0] > 200);
        assert!(img.get_pixel(13, 4)[0] < 80);
        let mirrored = scaled_rgb(&picture(), 16, 9, true);
        assert!(mirrored.get_pixel(2, 4)[0] < 80);
    }
}
