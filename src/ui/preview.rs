//! A camera picture drawn with text cells: each cell shows two pixels stacked (`▀` with the
//! top pixel as foreground and the bottom as background), scaled to the pane with the
//! picture's aspect kept. True colour where the terminal has it, the 256-colour palette where
//! not, and on a 16-colour console (the Linux VT) a grey-shaded picture, which reads better
//! there than 16 hues.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::Widget;

use super::theme::ColorDepth;
use crate::media::frame::VideoFrame;

pub struct Preview<'a> {
    pub frame: &'a VideoFrame,
    pub depth: ColorDepth,
    /// Mirror left-right, as people expect of their own live picture.
    pub mirror: bool,
}

/// BT.601 limited-range YUV to RGB.
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> (u8, u8, u8) {
    let c = (y as i32 - 16).max(0) * 298;
    let d = u as i32 - 128;
    let e = v as i32 - 128;
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    (
        clamp(c + 409 * e),
        clamp(c - 100 * d - 208 * e),
        clamp(c + 516 * d),
    )
}

/// The nearest xterm 256-colour index (6×6×6 cube or the grey ramp).
pub fn to_ansi256(r: u8, g: u8, b: u8) -> u8 {
    let level = |x: u8| -> u8 {
        if x < 48 {
            0
        } else if x < 115 {
            1
        } else {
            ((x as u16 - 35) / 40) as u8
        }
    };
    let (lr, lg, lb) = (level(r), level(g), level(b));
    let cube = 16 + 36 * lr + 6 * lg + lb;
    let step = |l: u8| if l == 0 { 0 } else { 55 + 40 * l as i32 };
    let cube_err =
        (step(lr) - r as i32).pow(2) + (step(lg) - g as i32).pow(2) + (step(lb) - b as i32).pow(2);
    let grey = (r as i32 + g as i32 + b as i32) / 3;
    let gi = ((grey - 8).max(0) / 10).min(23);
    let gv = 8 + 10 * gi;
    let grey_err = (gv - r as i32).pow(2) + (gv - g as i32).pow(2) + (gv - b as i32).pow(2);
    if grey_err < cube_err {
        232 + gi as u8
    } else {
        cube
    }
}

/// Where the picture goes inside `area` (in cells) with its aspect kept: the half-block
/// pixels are about square, so `area` is `w` by `2h` pixels.
pub fn fit(area: Rect, width: u32, height: u32) -> Rect {
    if width == 0 || height == 0 || area.width == 0 || area.height == 0 {
        return Rect::default();
    }
    let (aw, ah) = (area.width as u64, area.height as u64 * 2);
    let (fw, fh) = (width as u64, height as u64);
    // Largest w × h with w/h = fw/fh inside aw × ah.
    let (w, h) = if aw * fh <= ah * fw {
        (aw, (aw * fh / fw).max(2))
    } else {
        ((ah * fw / fh).max(1), ah)
    };
    let cells_h = (h / 2).max(1) as u16;
    let w = w as u16;
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - cells_h) / 2,
        width: w,
        height: cells_h,
    }
}

impl Widget for Preview<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let f = self.frame;
        let target = fit(area, f.width, f.height);
        if target.width == 0 {
            return;
        }
        let (y_plane, u_plane, v_plane) = f.planes();
        let (fw, fh) = (f.width as usize, f.height as usize);
        let px_h = target.height as usize * 2;
        // Each output pixel averages the luma of the source block it covers (sampled on a
        // grid of at most 4×4), so text and edges stay legible when shrunk; chroma is taken
        // from the block's centre, which is fine at these sizes.
        let tw = target.width as usize;
        let sample = |px: usize, py: usize| -> (u8, u8, u8) {
            let (x0, x1) = (px * fw / tw, ((px + 1) * fw / tw).max(px * fw / tw + 1));
            let (y0, y1) = (
                py * fh / px_h,
                ((py + 1) * fh / px_h).max(py * fh / px_h + 1),
            );
            let (x1, y1) = (x1.min(fw), y1.min(fh));
            let sx_step = ((x1 - x0) / 4).max(1);
            let sy_step = ((y1 - y0) / 4).max(1);
            let (mut sum, mut n) = (0u32, 0u32);
            for sy in (y0..y1).step_by(sy_step) {
                for sx in (x0..x1).step_by(sx_step) {
                    let sx = if self.mirror { fw - 1 - sx } else { sx };
                    sum += y_plane[sy * fw + sx] as u32;
                    n += 1;
                }
            }
            let cx = (x0 + x1) / 2;
            let cx = if self.mirror {
                fw - 1 - cx.min(fw - 1)
            } else {
                cx
            };
            let cy = ((y0 + y1) / 2).min(fh - 1);
            let ci = (cy / 2) * (fw / 2) + (cx / 2).min(fw / 2 - 1);
            yuv_to_rgb((sum / n.max(1)) as u8, u_plane[ci], v_plane[ci])
        };
        for row in 0..target.height as usize {
            for col in 0..target.width as usize {
                let top = sample(col, row * 2);
                let bottom = sample(col, row * 2 + 1);
                let Some(cell) = buf.cell_mut((target.x + col as u16, target.y + row as u16))
                else {
                    continue;
                };
                match self.depth {
                    ColorDepth::TrueColor => {
                        cell.set_char('▀')
                            .set_fg(Color::Rgb(top.0, top.1, top.2))
                            .set_bg(Color::Rgb(bottom.0, bottom.1, bottom.2));
                    }
                    ColorDepth::Ansi256 => {
                        cell.set_char('▀')
                            .set_fg(Color::Indexed(to_ansi256(top.0, top.1, top.2)))
                            .set_bg(Color::Indexed(to_ansi256(bottom.0, bottom.1, bottom.2)));
                    }
                    ColorDepth::Ansi16 => {
                        let luma = |(r, g, b): (u8, u8, u8)| {
                            (r as u32 * 77 + g as u32 * 150 + b as u32 * 29) >> 8
                        };
                        let l = (luma(top) + luma(bottom)) / 2;
                        let shade = match l {
                            0..=40 => ' ',
                            41..=90 => '░',
                            91..=150 => '▒',
                            151..=210 => '▓',
                            _ => '█',
                        };
                        cell.set_char(shade)
                            .set_fg(Color::White)
                            .set_bg(Color::Black);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn limited_range_black_and_white() {
        assert_eq!(yuv_to_rgb(16, 128, 128), (0, 0, 0));
        assert_eq!(yuv_to_rgb(235, 128, 128), (255, 255, 255));
        let (r, g, b) = yuv_to_rgb(81, 90, 240); // BT.601 red
        assert!(r > 230 && g < 20 && b < 20, "{r} {g} {b}");
    }

    #[test]
    fn palette_mapping_picks_cube_and_greys() {
        assert_eq!(to_ansi256(0, 0, 0), 16);
        assert_eq!(to_ansi256(255, 0, 0), 196);
        assert_eq!(to_ansi256(128, 128, 128), 244);
    }

    #[test]
    fn fit_keeps_the_aspect_and_centres() {
        // 16:9 into a 80x20 pane: 40 pixel rows allow 71 columns.
        let r = fit(Rect::new(0, 0, 80, 20), 1280, 720);
        assert_eq!((r.width, r.height), (71, 20));
        assert_eq!(r.x, 4);
        // Wide pane: height bound.
        let r = fit(Rect::new(10, 5, 40, 30), 1280, 720);
        assert_eq!((r.width, r.height), (40, 11));
        assert_eq!(r.x, 10);
    }

    #[test]
    fn renders_a_picture_mirrored() {
        // Left half white, right half black.
        let mut f = VideoFrame::filled(8, 4, 16, 128, 128, Instant::now());
        for row in 0..4 {
            for col in 0..4 {
                f.data[row * 8 + col] = 235;
            }
        }
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 2));
        Preview {
            frame: &f,
            depth: ColorDepth::TrueColor,
            mirror: true,
        }
        .render(Rect::new(0, 0, 8, 2), &mut buf);
        assert_eq!(buf[(0, 0)].fg, Color::Rgb(0, 0, 0));
        assert_eq!(buf[(7, 0)].fg, Color::Rgb(255, 255, 255));
        assert_eq!(buf[(0, 0)].symbol(), "▀");
    }
}
