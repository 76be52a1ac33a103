//! Starting a station from what is on disk.

use super::*;
use crate::app::state::{Session, Settings};
use crate::interview::Catalog;
use crate::interview::fixture::{self, Q};

/// The interview a station is in the middle of.
const TWO: [Q; 2] = [Q::quick("q1", 2), Q::quick("q2", 2)];
use crate::session::Take;
use crate::upload::{Payload, Record};

#[test]
fn sessions_resume_until_finished_then_start_afresh() -> crate::TestResult {
    let data = tempfile::tempdir()?;
    let iv = fixture::interview("iv", &[Q::quick("q1", 1)])?;
    let Resumed {
        progress: mut p,
        dir,
        ..
    } = open_session(data.path(), &Catalog::single(iv.clone()), &[], 1)?;
    p.device_test_passed = true;
    p.save(&dir)?;
    let again = open_session(data.path(), &Catalog::single(iv.clone()), &[], 2)?;
    assert_eq!(dir, again.dir);
    assert!(again.progress.device_test_passed);
    // Once every answer is in, the next start is a new candidate, and the old one's
    // traces are wiped.
    let mut done = again.progress;
    done.questions[0].delivery = crate::session::Delivery::Queued;
    done.save(&dir)?;
    let fresh = open_session(data.path(), &Catalog::single(iv.clone()), &[], 3)?;
    assert_ne!(dir, fresh.dir);
    assert!(!fresh.progress.device_test_passed);
    assert!(!dir.exists());
    Ok(())
}

#[test]
fn a_take_with_nothing_written_is_dropped_not_counted() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let mut p = Progress::new("s", "iv", 1, 0);
    p.questions[0]
        .takes
        .push(Take::recording("q1-take1.mp4".into()));
    recover_takes(&mut p, dir.path());
    assert_eq!(p.questions[0].takes[0].state, TakeState::Discarded);
    assert_eq!(p.questions[0].attempts_used, 0);
    Ok(())
}

/// A station mid-interview: question 2 current, a saved take of it and a sent one of q1
/// (whose outbox record `records` gets).
struct Station {
    data: tempfile::TempDir,
    iv: Interview,
    dir: PathBuf,
}

fn mid_interview() -> crate::TestResult<Station> {
    let data = tempfile::tempdir()?;
    let iv = fixture::interview("iv", &TWO)?;
    let r = open_session(data.path(), &Catalog::single(iv.clone()), &[], 1)?;
    let mut p = r.progress;
    p.device_test_passed = true;
    p.current = Some(1);
    p.questions[1].takes.push(Take {
        state: TakeState::Saved,
        seconds: Some(4.0),
        ..Take::recording("q2-take1.mp4".into())
    });
    std::fs::write(r.dir.join("q2-take1.mp4"), b"the candidate's second answer")?;
    p.save(&r.dir)?;
    Ok(Station {
        data,
        iv,
        dir: r.dir,
    })
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn an_interview_edited_under_a_session_never_stops_the_station() -> crate::TestResult {
    // The crash loop: kill mid-interview, add a question, start again.
    let st = mid_interview()?;
    let iv = fixture::interview("iv", &[TWO[0], TWO[1], Q::quick("q3", 1)])?;
    let r = open_session(st.data.path(), &Catalog::single(iv.clone()), &[], 2)?;
    assert_ne!(r.dir, st.dir);
    assert_eq!(r.progress.questions.len(), 3);
    assert!(!st.dir.exists());
    // The old session is set aside whole, its take kept, with a note why.
    let kept = files(&sessions::set_aside_dir(st.data.path()));
    assert!(kept.iter().any(|f| f.ends_with("q2-take1.mp4")), "{kept:?}");
    let note = kept
        .iter()
        .find(|f| f.ends_with("SET-ASIDE.txt"))
        .ok_or("no note")?;
    let why = std::fs::read_to_string(sessions::set_aside_dir(st.data.path()).join(note))?;
    assert!(why.contains("3"), "{why}");
    let now = std::time::Instant::now();
    let session = Session::new(std::sync::Arc::new(iv), r.progress, r.dir.clone(), now);
    let state = State::new(Settings::default(), session, now);
    assert_eq!(resume_phase(&state), Phase::Welcome(Default::default()));
    Ok(())
}

#[test]
fn reordered_questions_or_a_damaged_record_are_set_aside_too() -> crate::TestResult {
    let st = mid_interview()?;
    let iv = fixture::interview("iv", &[TWO[1], TWO[0]])?;
    let r = open_session(st.data.path(), &Catalog::single(iv.clone()), &[], 2)?;
    assert_ne!(r.dir, st.dir);

    let st = mid_interview()?;
    std::fs::write(st.dir.join(crate::session::PROGRESS_FILE), b"{ torn")?;
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], 2)?;
    assert_ne!(r.dir, st.dir);
    let kept = files(&sessions::set_aside_dir(st.data.path()));
    assert!(kept.iter().any(|f| f.ends_with("q2-take1.mp4")), "{kept:?}");

    // A take file naming something outside the session directory is never followed.
    let st = mid_interview()?;
    let mut p = Progress::load(&st.dir)?.ok_or("no progress")?;
    p.questions[1].takes[0].file = "../../outside.mp4".into();
    p.save(&st.dir)?;
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], 2)?;
    assert_ne!(r.dir, st.dir);
    // And a current question out of range.
    let st = mid_interview()?;
    let mut p = Progress::load(&st.dir)?.ok_or("no progress")?;
    p.current = Some(9);
    p.save(&st.dir)?;
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], 2)?;
    assert_ne!(r.dir, st.dir);
    Ok(())
}

/// An outbox record for take `attempt` of question `question_id` of `session`.
fn record(session: &str, question_id: &str, attempt: u32, state: crate::upload::State) -> Record {
    let id = uuid::Uuid::new_v4();
    let meta = crate::upload::AnswerMeta {
        interview_id: "iv".into(),
        candidate_id: session.into(),
        question_id: question_id.into(),
        attempt,
        answer_id: id,
        filename: "x.mp4".into(),
        candidate_ref: None,
    };
    let mut rec = Record::new(
        crate::upload::ItemId(id),
        Payload::Answer(meta),
        "/outbox/answers/x.mp4".into(),
        10,
        "ab".into(),
    );
    rec.state = state;
    rec
}

#[test]
fn the_outbox_wins_over_a_progress_record_a_crash_left_behind() -> crate::TestResult {
    // The outbox took the take, then the station died before the progress said so.
    let st = mid_interview()?;
    let id = Progress::load(&st.dir)?.ok_or("no progress")?.session_id;
    let recs = [
        record(&id, "q2", 1, crate::upload::State::Queued),
        // Another candidate's answer to the same question changes nothing here.
        record("someone-else", "q1", 1, crate::upload::State::Delivered),
    ];
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &recs, 2)?;
    assert_eq!(r.dir, st.dir);
    let q2 = &r.progress.questions[1];
    assert_eq!(q2.takes[0].state, TakeState::Submitted);
    assert_eq!(q2.delivery, Delivery::Queued);
    assert_eq!(q2.answer_id, Some(recs[0].id.to_string()));
    assert_eq!(r.progress.questions[0].delivery, Delivery::NotSubmitted);
    assert_eq!(r.progress.current, None);
    assert!(r.resubmit.is_empty());
    // And it is saved that way.
    let saved = Progress::load(&st.dir)?.ok_or("no progress")?;
    assert_eq!(saved.questions[1].takes[0].state, TakeState::Submitted);
    Ok(())
}

#[test]
fn a_sent_take_the_outbox_lacks_is_sent_again() -> crate::TestResult {
    let st = mid_interview()?;
    let mut p = Progress::load(&st.dir)?.ok_or("no progress")?;
    p.questions[1].takes[0].state = TakeState::Submitted;
    p.questions[1].delivery = Delivery::Queued;
    p.save(&st.dir)?;
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], 2)?;
    assert_eq!(r.resubmit.len(), 1);
    let s = &r.resubmit[0];
    assert_eq!(s.file, st.dir.join("q2-take1.mp4"));
    assert_eq!((s.take.question, s.take.take, s.attempt), (1, 0, 1));
    assert_eq!(s.question_id, "q2");
    Ok(())
}

#[test]
fn wipes_died_in_are_finished_and_sessions_left_behind_are_set_aside_with_sent_takes_queued()
-> crate::TestResult {
    let st = mid_interview()?;
    // A session left behind and never closed: one take sent but not in the outbox, one not.
    let old = sessions::sessions_dir(st.data.path()).join("old-session");
    std::fs::create_dir_all(&old)?;
    let mut p = Progress::for_interview("old-session", &st.iv, 0);
    p.questions[0].takes.push(Take {
        state: TakeState::Submitted,
        ..Take::recording("q1-take1.mp4".into())
    });
    p.questions[1].takes.push(Take {
        state: TakeState::Saved,
        ..Take::recording("q2-take1.mp4".into())
    });
    p.save(&old)?;
    std::fs::write(old.join("q1-take1.mp4"), b"sent")?;
    std::fs::write(old.join("q2-take1.mp4"), b"not sent")?;
    // One left behind with nothing of a candidate's answers in it.
    let empty = sessions::sessions_dir(st.data.path()).join("empty-session");
    std::fs::create_dir_all(&empty)?;
    Progress::for_interview("empty-session", &st.iv, 0).save(&empty)?;
    std::fs::write(empty.join("device-test.mp4"), b"clip")?;
    // And a wipe the station died in.
    let wiping = sessions::sessions_dir(st.data.path()).join(".wipe-gone");
    std::fs::create_dir_all(&wiping)?;
    std::fs::write(wiping.join("device-test.mp4"), b"clip")?;
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], 2)?;
    assert_eq!(r.dir, st.dir, "the current session goes on");
    assert!(!old.exists() && !wiping.exists() && !empty.exists());
    let aside = sessions::set_aside_dir(st.data.path());
    assert_eq!(
        files(&aside),
        [
            "old-session/SET-ASIDE.txt",
            "old-session/progress.json",
            "old-session/q1-take1.mp4",
            "old-session/q2-take1.mp4"
        ]
    );
    // The sent one goes out from where it was set aside.
    let queued: Vec<_> = r.resubmit.iter().map(|s| s.file.clone()).collect();
    assert_eq!(queued, [aside.join("old-session/q1-take1.mp4")]);
    Ok(())
}

#[test]
fn a_failed_send_whose_note_was_lost_survives_staff_starting_over_a_station_that_could_not_start()
-> crate::TestResult {
    // The soak's find: a send failed and the note of it could not be saved (the disk was
    // failing), the station then could not start and staff began a new session over it. The
    // candidate's session was left behind with its record saying nothing of the send; it
    // must not be wiped as if its candidate had simply walked away.
    let st = mid_interview()?;
    let left = sessions::sessions_dir(st.data.path()).join("left-behind");
    std::fs::create_dir_all(&left)?;
    let mut p = Progress::for_interview("left-behind", &st.iv, 0);
    p.questions[1].takes.push(Take {
        state: TakeState::Saved,
        ..Take::recording("q2-take1.mp4".into())
    });
    p.save(&left)?;
    std::fs::write(left.join("q2-take1.mp4"), b"the answer")?;
    open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], 2)?;
    let kept = sessions::set_aside_dir(st.data.path()).join("left-behind/q2-take1.mp4");
    assert_eq!(std::fs::read(kept)?, b"the answer");
    Ok(())
}

#[test]
fn the_idle_clock_goes_on_from_the_last_key_before_the_stop() -> crate::TestResult {
    let st = mid_interview()?;
    let now = crate::clock::unix_now();
    crate::session::note_activity(&st.dir, now - 600)?;
    let progress = std::fs::File::options()
        .write(true)
        .open(st.dir.join(crate::session::PROGRESS_FILE))?;
    progress.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(now - 700))?;
    drop(progress);
    let r = open_session(st.data.path(), &Catalog::single(st.iv.clone()), &[], now)?;
    assert_eq!(r.dir, st.dir);
    assert_eq!(r.idle_for.as_secs(), 600, "{:?}", r.idle_for);
    // A key noted after the last save counts; so does a save after the last note.
    crate::session::note_activity(&st.dir, now - 900)?;
    let r = open_session(
        st.data.path(),
        &Catalog::single(st.iv.clone()),
        &[],
        now + 5,
    )?;
    assert!(r.idle_for.as_secs() <= 6, "{:?}", r.idle_for);
    Ok(())
}
