//! Recovery never deletes or overwrites a finished recording it did not just write: a
//! partial file beside a different finished one is recovered under a new name; only a
//! partial whose media the finished file holds byte for byte is removed.

use super::*;
use crate::media::mux::finalize::tests::write_fragmented;

/// A finished `answer.mp4` made from its own fragmented file, and the bytes it holds.
fn finished_answer(dir: &Path, seconds: u32) -> crate::TestResult<(PathBuf, Vec<u8>)> {
    let part = dir.join("earlier.mp4.part");
    let out = dir.join("answer.mp4");
    write_fragmented(&part, seconds)?;
    let scan = scan::scan(&part)?;
    finalize::deliver(&scan, &part, &out, None, Existing::Replace)?;
    fs::remove_file(&part)?;
    let bytes = fs::read(&out)?;
    Ok((out, bytes))
}

#[test]
fn a_later_partial_beside_a_finished_recording_is_recovered_beside_it() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (answer, before) = finished_answer(dir.path(), 2)?;
    // A later run crashed while recording under the same name.
    let part = partial_path(&answer);
    let (frames, _) = write_fragmented(&part, 3)?;

    let reports = recover(dir.path())?;
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    let aside = dir.path().join("answer.recovered.mp4");
    assert_eq!(r.output, aside);
    match &r.outcome {
        Outcome::Recovered {
            finished,
            kept_existing,
            ..
        } => {
            assert_eq!(kept_existing.as_deref(), Some(answer.as_path()));
            assert_eq!(finished.video_frames, frames);
        }
        other => return Err(format!("{other:?}").into()),
    }
    // The finished recording is untouched, the later one is whole beside it, nothing is left.
    assert_eq!(fs::read(&answer)?, before);
    let tracks = mp4read::read_tracks(&aside)?;
    assert_eq!(tracks[0].samples.len() as u64, frames);
    assert!(!part.exists());

    // A second clash takes the next free name.
    write_fragmented(&part, 1)?;
    let reports = recover(&part)?;
    assert_eq!(reports[0].output, dir.path().join("answer.recovered-2.mp4"));
    assert!(matches!(reports[0].outcome, Outcome::Recovered { .. }));
    assert_eq!(fs::read(&answer)?, before);
    Ok(())
}

#[test]
fn the_leftover_partial_of_a_finished_recording_is_removed() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let answer = dir.path().join("answer.mp4");
    let part = partial_path(&answer);
    write_fragmented(&part, 2)?;
    // The crash came after finalizing, before the partial file was removed.
    let scanned = scan::scan(&part)?;
    finalize::deliver(&scanned, &part, &answer, Some(96_000), Existing::Replace)?;
    let before = fs::read(&answer)?;

    let reports = recover(&part)?;
    assert!(
        matches!(reports[0].outcome, Outcome::AlreadyFinished),
        "{:?}",
        reports[0].outcome
    );
    assert_eq!(reports[0].output, answer);
    assert!(!part.exists());
    assert_eq!(fs::read(&answer)?, before);
    Ok(())
}

#[test]
fn same_tables_with_different_bytes_keep_both() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let answer = dir.path().join("answer.mp4");
    let part = partial_path(&answer);
    write_fragmented(&part, 2)?;
    let scanned = scan::scan(&part)?;
    finalize::deliver(&scanned, &part, &answer, None, Existing::Replace)?;
    // Same sample tables, one byte of the last sample different.
    let mut bytes = fs::read(&answer)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&answer, &bytes)?;

    let reports = recover(&part)?;
    assert!(
        matches!(
            &reports[0].outcome,
            Outcome::Recovered { kept_existing: Some(p), .. } if p == &answer
        ),
        "{:?}",
        reports[0].outcome
    );
    assert_eq!(fs::read(&answer)?, bytes);
    assert!(reports[0].output.exists());
    assert!(!part.exists());
    Ok(())
}

#[test]
fn an_unreadable_file_under_the_name_is_kept_too() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let answer = dir.path().join("answer.mp4");
    fs::write(&answer, b"not a recording at all")?;
    let part = partial_path(&answer);
    write_fragmented(&part, 1)?;
    let reports = recover(dir.path())?;
    assert_eq!(reports[0].output, dir.path().join("answer.recovered.mp4"));
    assert_eq!(fs::read(&answer)?, b"not a recording at all");
    Ok(())
}

#[test]
fn placing_without_replacing_refuses_an_existing_file() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (from, to) = (dir.path().join("a"), dir.path().join("b"));
    fs::write(&from, b"new")?;
    fs::write(&to, b"old")?;
    let err = finalize::place(&from, &to, Existing::Keep)
        .err()
        .ok_or("replaced an existing file")?;
    assert!(
        matches!(&err, MuxError::Write { path, source } if path == &to
            && source.kind() == std::io::ErrorKind::AlreadyExists),
        "{err:?}"
    );
    assert_eq!(fs::read(&to)?, b"old");
    assert_eq!(fs::read(&from)?, b"new");
    Ok(())
}
