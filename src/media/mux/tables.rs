//! Checking an MP4 box tree's own claims before anything trusts them: every child box fits in
//! its parent, and every table's entry count times its entry size fits in the bytes its box
//! really holds. A damaged or hostile file then fails here, naming the file and the box,
//! instead of making a reader allocate for four billion entries.

use std::path::Path;

use super::MuxError;

/// Boxes whose children are boxes, on the way to the tables booth reads.
const CONTAINERS: [&[u8; 4]; 9] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"moof", b"traf",
];

fn corrupt(path: &Path, box_type: [u8; 4], detail: String) -> MuxError {
    MuxError::Corrupt {
        path: path.to_path_buf(),
        box_type: String::from_utf8_lossy(&box_type).into_owned(),
        detail,
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Checks the box that fills `bytes` (header included) and everything inside it.
pub fn check_box(path: &Path, bytes: &[u8]) -> Result<(), MuxError> {
    check_children(path, *b"file", bytes)
}

/// Walks the boxes laid end to end in `body`, the content of a box of type `parent`.
fn check_children(path: &Path, parent: [u8; 4], mut body: &[u8]) -> Result<(), MuxError> {
    while !body.is_empty() {
        let short = || {
            corrupt(
                path,
                parent,
                format!("{} bytes left over, too few for a box header", body.len()),
            )
        };
        let size32 = u32_at(body, 0).ok_or_else(short)?;
        let kind: [u8; 4] = body
            .get(4..8)
            .and_then(|k| k.try_into().ok())
            .ok_or_else(short)?;
        let (header, size) = match size32 {
            0 => (8, body.len() as u64),
            1 => {
                let large = body
                    .get(8..16)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(short)?;
                (16, large)
            }
            n => (8, u64::from(n)),
        };
        if size < header || size > body.len() as u64 {
            return Err(corrupt(
                path,
                kind,
                format!(
                    "claims {size} bytes but only {} are left in its {} box",
                    body.len(),
                    String::from_utf8_lossy(&parent)
                ),
            ));
        }
        // size <= body.len(), so it fits in usize.
        let (this, rest) = body.split_at(size as usize);
        let content = &this[header as usize..];
        if CONTAINERS.contains(&&kind) {
            check_children(path, kind, content)?;
        } else {
            check_table(path, kind, content)?;
        }
        body = rest;
    }
    Ok(())
}

/// What a box's content says about its entries.
enum Shape {
    /// Not a table booth checks.
    Other,
    /// Too short to hold its own header.
    Short,
    /// `count` entries of `entry` bytes each, after `before` bytes of header fields.
    Table {
        before: usize,
        count: u32,
        entry: u64,
    },
}

fn table_shape(kind: &[u8; 4], content: &[u8]) -> Shape {
    let version = content.first().copied();
    let table = |before: usize, count: Option<u32>, entry: u64| match count {
        Some(count) => Shape::Table {
            before,
            count,
            entry,
        },
        None => Shape::Short,
    };
    match kind {
        b"stts" | b"ctts" | b"co64" => table(8, u32_at(content, 4), 8),
        b"stss" | b"stco" => table(8, u32_at(content, 4), 4),
        b"stsc" => table(8, u32_at(content, 4), 12),
        // Each entry is a box, so at least a box header.
        b"stsd" | b"dref" => table(8, u32_at(content, 4), 8),
        b"elst" => table(
            8,
            u32_at(content, 4),
            if version == Some(1) { 20 } else { 12 },
        ),
        // Samples of one size have no entries; their count is checked against the file.
        b"stsz" => match u32_at(content, 4) {
            Some(0) => table(12, u32_at(content, 8), 4),
            Some(_) => table(12, u32_at(content, 8), 0),
            None => Shape::Short,
        },
        b"trun" => match u32_at(content, 0) {
            Some(flags) => {
                let field = |bit: u32| if flags & bit != 0 { 4 } else { 0 };
                let before = 8 + field(0x1) + field(0x4);
                let entry: usize = [0x100, 0x200, 0x400, 0x800].map(field).iter().sum();
                table(before, u32_at(content, 4), entry as u64)
            }
            None => Shape::Short,
        },
        _ => Shape::Other,
    }
}

fn check_table(path: &Path, kind: [u8; 4], content: &[u8]) -> Result<(), MuxError> {
    let (before, count, entry) = match table_shape(&kind, content) {
        Shape::Other => return Ok(()),
        Shape::Short => {
            return Err(corrupt(
                path,
                kind,
                format!("{} bytes are too few for its header", content.len()),
            ));
        }
        Shape::Table {
            before,
            count,
            entry,
        } => (before, count, entry),
    };
    let room = content.len().saturating_sub(before) as u64;
    if content.len() < before || u64::from(count) * entry > room {
        return Err(corrupt(
            path,
            kind,
            format!("claims {count} entries of {entry} bytes, but the box holds only {room}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::mux::{TrackSetup, boxes};
    use mp4_atom::Encode;

    fn boxed(kind: &[u8; 4], content: &[u8]) -> crate::TestResult<Vec<u8>> {
        let mut b = u32::try_from(content.len() + 8)?.to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(content);
        Ok(b)
    }

    fn nested(kinds: &[&[u8; 4]], leaf: Vec<u8>) -> crate::TestResult<Vec<u8>> {
        let mut b = leaf;
        for kind in kinds.iter().rev() {
            b = boxed(kind, &b)?;
        }
        Ok(b)
    }

    const PATH: &str = "/d/answer.mp4";

    #[test]
    fn a_table_claiming_four_billion_entries_names_file_and_box() -> crate::TestResult {
        // stsz: version/flags, sample_size 0 (one size per entry), count u32::MAX, one entry.
        let mut stsz = vec![0u8; 4];
        stsz.extend_from_slice(&0u32.to_be_bytes());
        stsz.extend_from_slice(&u32::MAX.to_be_bytes());
        stsz.extend_from_slice(&7u32.to_be_bytes());
        let moov = nested(
            &[b"moov", b"trak", b"mdia", b"minf", b"stbl"],
            boxed(b"stsz", &stsz)?,
        )?;
        let err = check_box(Path::new(PATH), &moov)
            .err()
            .ok_or("accepted a stsz claiming 2^32 entries")?;
        let text = err.to_string();
        assert!(
            text.contains(PATH) && text.contains("stsz") && text.contains("4294967295"),
            "{text}"
        );
        assert!(matches!(err, MuxError::Corrupt { ref box_type, .. } if box_type == "stsz"));
        Ok(())
    }

    #[test]
    fn a_child_larger_than_its_parent_is_refused() -> crate::TestResult {
        let mut stco = boxed(b"stco", &[0; 8])?;
        stco[..4].copy_from_slice(&1000u32.to_be_bytes());
        let moov = nested(&[b"moov", b"trak"], stco)?;
        let err = check_box(Path::new(PATH), &moov)
            .err()
            .ok_or("accepted a box larger than its parent")?;
        assert!(matches!(err, MuxError::Corrupt { ref box_type, .. } if box_type == "stco"));
        assert!(err.to_string().contains("trak"), "{err}");
        Ok(())
    }

    #[test]
    fn truncated_elst_and_trun_are_refused_and_whole_ones_pass() -> crate::TestResult {
        // elst version 1: entries of 20 bytes; two claimed, one present.
        let mut elst = vec![1, 0, 0, 0];
        elst.extend_from_slice(&2u32.to_be_bytes());
        elst.extend_from_slice(&[0; 20]);
        let err = check_box(
            Path::new(PATH),
            &nested(&[b"moov", b"trak", b"edts"], boxed(b"elst", &elst)?)?,
        );
        assert!(matches!(err, Err(MuxError::Corrupt { ref box_type, .. }) if box_type == "elst"));
        // trun with data offset, sizes and durations: 8 bytes per sample after 12.
        let mut trun = 0x0000_0301u32.to_be_bytes().to_vec();
        trun.extend_from_slice(&3u32.to_be_bytes());
        trun.extend_from_slice(&[0; 4 + 16]);
        let moof = nested(&[b"moof", b"traf"], boxed(b"trun", &trun)?)?;
        let err = check_box(Path::new(PATH), &moof);
        assert!(matches!(err, Err(MuxError::Corrupt { ref box_type, .. }) if box_type == "trun"));
        trun.extend_from_slice(&[0; 8]);
        check_box(
            Path::new(PATH),
            &nested(&[b"moof", b"traf"], boxed(b"trun", &trun)?)?,
        )?;
        Ok(())
    }

    #[test]
    fn booth_s_own_moov_passes() -> crate::TestResult {
        let setup = TrackSetup {
            width: 160,
            height: 120,
            sps: vec![0x67, 0x42, 0xc0, 0x0c],
            pps: vec![0x68, 0xce],
            audio_channels: 1,
            audio_config: vec![0x11, 0x88],
            audio_priming: 2048,
            audio_bitrate: 64_000,
        };
        let mut b = Vec::new();
        boxes::init_moov(&setup)?.encode(&mut b)?;
        check_box(Path::new(PATH), &b)?;
        Ok(())
    }
}
