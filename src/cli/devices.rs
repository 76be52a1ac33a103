//! `booth devices [--json]`: cameras with the formats, sizes and rates they offer, and
//! microphones, so an operator can pick the `--video` / `--audio` specs.

use clap::Args;

use super::Exit;
use crate::media::{alsa, v4l2};

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// One JSON object on stdout: {"cameras": [...], "microphones": [...]}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &DevicesArgs) -> Exit {
    let cameras = v4l2::list_cameras();
    let microphones = alsa::list_microphones();
    if args.json {
        let v = serde_json::json!({ "cameras": cameras, "microphones": microphones });
        println!("{v}");
        return Exit::Ok;
    }
    println!("Cameras:");
    if cameras.is_empty() {
        println!("  none (no /dev/video* devices)");
    }
    for c in &cameras {
        match &c.error {
            Some(e) => println!("  {}  cannot be opened: {e}", c.device),
            None => {
                println!("  {}  {}  (--video v4l2:{})", c.device, c.name, c.device);
                for f in &c.formats {
                    let rates: Vec<String> = f.fps.iter().map(f64::to_string).collect();
                    println!(
                        "      {:<6} {}x{} @ {} fps",
                        f.pixel_format,
                        f.width,
                        f.height,
                        rates.join(", ")
                    );
                }
            }
        }
    }
    println!("Microphones:");
    if microphones.is_empty() {
        println!("  none");
    }
    for m in &microphones {
        println!(
            "  {}{}  {}  channels {:?}{}  (--audio alsa:{})",
            m.id,
            if m.is_default { " (default)" } else { "" },
            m.name,
            m.channels,
            if m.can_record_48k {
                ""
            } else {
                ", cannot record 48 kHz"
            },
            m.id
        );
    }
    Exit::Ok
}
