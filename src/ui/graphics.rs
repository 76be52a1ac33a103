//! Real pictures in terminals that can show them — kitty, sixel or iTerm2 graphics, chosen by
//! `BOOTH_GRAPHICS` or recognised from the environment — with the half-block picture
//! everywhere else. Encoding a
//! picture for the terminal costs far more than drawing half blocks, so each picture is
//! encoded once for its pane and reused until a newer one arrives, at most five times a
//! second.
//!
//! In the kiosk ([`Graphics::from_env`]) the encoding happens on a picture worker thread of
//! its own, never on the UI task: a draw hands the newest picture to the worker through a
//! latest-value slot (a picture not yet taken is replaced, never queued) and draws the last
//! picture the worker finished for that pane, so a slow encoder makes the picture late, never
//! the screen. Built with [`Graphics::with_protocol`] (snapshots, tests), it encodes in the
//! draw, so a single draw shows the picture.
//!
//! This is the one piece of drawing that keeps state between frames (the encoded picture): it
//! is a render cache, not part of the flow's state, so `view` stays a function of `State`.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
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

/// A picture to encode: the frame, the pane's cells, mirrored or not.
struct Request {
    frame: Arc<VideoFrame>,
    rect: Rect,
    mirror: bool,
}

impl Request {
    fn same(&self, frame: &Arc<VideoFrame>, rect: Rect, mirror: bool) -> bool {
        Arc::ptr_eq(&self.frame, frame) && self.rect == rect && self.mirror == mirror
    }
}

/// What the UI and the picture worker share: the newest request and the newest result, each
/// a latest-value slot.
#[derive(Default)]
struct Slots {
    request: Option<Request>,
    ready: Option<Encoded>,
    /// Set when the `Graphics` is dropped: the worker ends.
    closed: bool,
}

struct Worker {
    slots: Arc<(Mutex<Slots>, Condvar)>,
    /// The last request handed over, so that the same picture is not asked for at each draw.
    asked: Option<Request>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let (lock, wake) = &*self.slots;
        lock.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        wake.notify_all();
    }
}

pub struct Graphics {
    picker: Picker,
    cached: Option<Encoded>,
    /// The picture worker; `None` encodes in the draw.
    worker: Option<Worker>,
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
        let g = Graphics::with_protocol(protocol?, cell).map(Graphics::on_worker);
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
            worker: None,
        })
    }

    /// The same graphics, encoding on a picture worker thread from now on.
    pub fn on_worker(mut self) -> Graphics {
        let slots: Arc<(Mutex<Slots>, Condvar)> = Arc::default();
        let theirs = Arc::clone(&slots);
        let picker = self.picker.clone();
        let spawned = std::thread::Builder::new()
            .name("pictures".into())
            .spawn(move || encode_pictures(&picker, &theirs));
        match spawned {
            Ok(_) => self.worker = Some(Worker { slots, asked: None }),
            // Pictures are then encoded in the draw, as before there was a worker.
            Err(e) => tracing::warn!(error = %e, "cannot start the picture worker"),
        }
        self
    }

    pub fn protocol(&self) -> ProtocolType {
        self.picker.protocol_type()
    }

    /// Draws `frame` into `area` with the terminal's graphics, encoding it when it changed
    /// (on the worker when there is one: then the last picture it finished is drawn).
    pub fn render(&mut self, frame: &Arc<VideoFrame>, mirror: bool, area: Rect, buf: &mut Buffer) {
        let target = fit(area, frame.width, frame.height);
        if target.width == 0 || target.height == 0 {
            return;
        }
        if let Some(w) = &mut self.worker {
            let (lock, wake) = &*w.slots;
            let mut slots = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(ready) = slots.ready.take() {
                self.cached = Some(ready);
            }
            let fresh = is_fresh(self.cached.as_ref(), frame, target, mirror);
            let asked = w
                .asked
                .as_ref()
                .is_some_and(|a| a.same(frame, target, mirror));
            if !fresh && !asked {
                let request = || Request {
                    frame: frame.clone(),
                    rect: target,
                    mirror,
                };
                slots.request = Some(request());
                w.asked = Some(request());
                wake.notify_all();
            }
        } else if !is_fresh(self.cached.as_ref(), frame, target, mirror) {
            let request = Request {
                frame: frame.clone(),
                rect: target,
                mirror,
            };
            self.cached = encode(&self.picker, request);
        }
        if let Some(c) = &self.cached
            && c.rect == target
            && c.mirror == mirror
        {
            Image::new(&c.protocol).render(target, buf);
        }
    }

    /// Blocks until the worker has a finished picture (tests only: the kiosk never waits).
    #[cfg(test)]
    fn wait_ready(&self, timeout: Duration) -> bool {
        let Some(w) = &self.worker else { return false };
        let (lock, wake) = &*w.slots;
        let slots = lock.lock().unwrap_or_else(PoisonError::into_inner);
        wake.wait_timeout_while(slots, timeout, |s| s.ready.is_none())
            .map(|(s, _)| s.ready.is_some())
            .unwrap_or(false)
    }
}

/// The cached picture still serves: same pane and mirroring, and the same frame or one
/// encoded less than [`MIN_INTERVAL`] ago.
fn is_fresh(cached: Option<&Encoded>, frame: &Arc<VideoFrame>, rect: Rect, mirror: bool) -> bool {
    cached.is_some_and(|c| {
        c.rect == rect
            && c.mirror == mirror
            && (Arc::ptr_eq(&c.frame, frame) || c.at.elapsed() < MIN_INTERVAL)
    })
}

/// Scales and encodes one picture for the terminal; `None` (logged) when it cannot.
fn encode(picker: &Picker, r: Request) -> Option<Encoded> {
    let font = picker.font_size();
    let (w, h) = (
        r.rect.width as u32 * font.width as u32,
        r.rect.height as u32 * font.height as u32,
    );
    let image = DynamicImage::ImageRgb8(scaled_rgb(&r.frame, w, h, r.mirror));
    match picker.new_protocol(
        image,
        Size::new(r.rect.width, r.rect.height),
        Resize::Fit(None),
    ) {
        Ok(protocol) => Some(Encoded {
            frame: r.frame,
            rect: r.rect,
            mirror: r.mirror,
            protocol,
            at: Instant::now(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode a picture for the terminal");
            None
        }
    }
}

/// The picture worker: takes the newest request, encodes it outside the lock, leaves the
/// result for the next draw; ends when the `Graphics` is dropped.
fn encode_pictures(picker: &Picker, slots: &(Mutex<Slots>, Condvar)) {
    let (lock, wake) = slots;
    loop {
        let request = {
            let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
            let mut guard = wake
                .wait_while(guard, |s| s.request.is_none() && !s.closed)
                .unwrap_or_else(PoisonError::into_inner);
            if guard.closed {
                return;
            }
            guard.request.take()
        };
        if let Some(encoded) = request.and_then(|r| encode(picker, r)) {
            lock.lock().unwrap_or_else(PoisonError::into_inner).ready = Some(encoded);
            wake.notify_all();
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

    /// On the worker, a draw asks for the picture and draws nothing yet; once the worker has
    /// encoded it, the next draw shows it without encoding on the drawing thread.
    #[test]
    fn the_worker_encodes_and_the_next_draw_shows_the_picture() -> crate::TestResult {
        let mut g = Graphics::with_protocol(ProtocolType::Kitty, None)
            .ok_or("no graphics")?
            .on_worker();
        assert!(g.worker.is_some(), "no picture worker");
        let area = Rect::new(0, 0, 40, 12);
        let f = picture();
        let mut first = Buffer::empty(area);
        g.render(&f, false, area, &mut first);
        assert!(
            g.wait_ready(Duration::from_secs(10)),
            "the worker finished nothing"
        );
        let mut second = Buffer::empty(area);
        g.render(&f, false, area, &mut second);
        assert!(sequences(&second).contains("\x1b_G"), "no picture drawn");
        // The same frame again is neither asked for nor encoded anew.
        let at = g.cached.as_ref().ok_or("nothing cached")?.at;
        g.render(&f, false, area, &mut second);
        assert_eq!(g.cached.as_ref().ok_or("nothing cached")?.at, at);
        Ok(())
    }

    /// The same draw, with and without the worker, leaves the same cells (the snapshots are
    /// taken without it).
    #[test]
    fn a_picture_from_the_worker_draws_like_one_encoded_in_the_draw() -> crate::TestResult {
        let area = Rect::new(0, 0, 40, 12);
        let f = picture();
        let mut inline = Graphics::with_protocol(ProtocolType::Sixel, None).ok_or("no graphics")?;
        let mut a = Buffer::empty(area);
        inline.render(&f, true, area, &mut a);
        let mut worker = Graphics::with_protocol(ProtocolType::Sixel, None)
            .ok_or("no graphics")?
            .on_worker();
        let mut b = Buffer::empty(area);
        worker.render(&f, true, area, &mut b);
        assert!(worker.wait_ready(Duration::from_secs(10)));
        let mut b = Buffer::empty(area);
        worker.render(&f, true, area, &mut b);
        assert_eq!(a, b);
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
