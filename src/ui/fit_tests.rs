//! Words that fit: every sample screen (`every_screen_tests`) in every bundled language, drawn
//! at 80×24 (the Linux console) and 160×48, must show every word it meant to show. What a
//! screen meant to show is what it looked up in the language (`i18n::shown`) and the
//! interview's own texts on that screen; a word cut at the edge, a line wrapped past the
//! bottom of its box or a section that does not fit is a missing word. Each screen is also a
//! reviewed snapshot per language and size.

use std::collections::BTreeSet;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::every_screen_tests::{Screen, every_screen};
use super::theme::{ColorDepth, Theme};
use crate::app::state::{OperatorStep, Phase, State};
use crate::i18n::{Languages, shown};

/// A screen's rows as text, and every (key, text) it looked up while drawing.
pub(super) type Drawn = (Vec<String>, Vec<(String, String)>);

pub(super) const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// The screen's rows as text, and every (key, text) it looked up while drawing.
pub(super) fn render(st: &State, (w, h): (u16, u16)) -> crate::TestResult<Drawn> {
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    let theme = Theme::standard(ColorDepth::Ansi16);
    let (drawn, noted) =
        shown::recording(|| terminal.draw(|f| super::view(st, &theme, f)).map(|_| ()));
    drawn?;
    let buf = terminal.backend().buffer();
    let rows = (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    Ok((rows, noted))
}

/// The words on screen: lines and blocks drawn around text (box drawing, block elements)
/// part words like spaces do.
pub(super) fn words_on(rows: &[String]) -> BTreeSet<String> {
    rows.iter()
        .flat_map(|r| {
            r.chars()
                .map(|c| {
                    if ('\u{2500}'..='\u{259F}').contains(&c) {
                        ' '
                    } else {
                        c
                    }
                })
                .collect::<String>()
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn overlay_open(st: &State) -> bool {
    st.session.help || st.session.idle_ends.is_some() || st.operator.step != OperatorStep::Closed
}

/// The interview's own texts the screen shows whole (the question list shortens them).
fn interview_texts(st: &State) -> Vec<String> {
    let iv = &st.session.interview;
    let mut out = Vec::new();
    if st.session.help {
        out.push(iv.support.contact.clone());
        out.extend(iv.support.phone.clone());
    }
    if overlay_open(st) {
        return out;
    }
    match &st.session.phase {
        Phase::Welcome(_) if st.settings.roster => {}
        _ => out.push(iv.title.clone()),
    }
    match &st.session.phase {
        Phase::Overview => out.push(iv.intro.clone()),
        Phase::Consent => out.extend(iv.consent.as_ref().map(|c| c.text.clone())),
        Phase::Question { q, .. } | Phase::Recording { q, .. } => {
            out.push(iv.questions[*q].text.clone())
        }
        _ => {}
    }
    out
}

/// Help scrolls: what it shows is what any of its scroll positions shows.
fn render_scrolled(st: &State, size: (u16, u16)) -> crate::TestResult<Drawn> {
    if !st.session.help {
        return render(st, size);
    }
    let (mut rows, mut noted) = (Vec::new(), Vec::new());
    let mut scrolled = st.clone();
    for scroll in 0..=60 {
        scrolled.session.help_scroll = scroll;
        let (r, n) = render(&scrolled, size)?;
        rows.extend(r);
        noted.extend(n);
    }
    Ok((rows, noted))
}

/// What `st` meant to show that is not on its screen, as "key: word" lines.
pub(super) fn missing(st: &State, size: (u16, u16)) -> crate::TestResult<Vec<String>> {
    let (rows, noted) = render_scrolled(st, size)?;
    let mut meant: BTreeSet<(String, String)> = noted.into_iter().collect();
    if overlay_open(st) {
        // Under an overlay only the overlay (and the keys) must be whole.
        let mut under = st.clone();
        under.session.help = false;
        under.session.idle_ends = None;
        under.operator.step = OperatorStep::Closed;
        let (_, below) = render(&under, size)?;
        for n in below {
            meant.remove(&n);
        }
    }
    for text in interview_texts(st) {
        meant.insert(("interview".into(), text));
    }
    let on_screen = words_on(&rows);
    let mut out = Vec::new();
    for (key, text) in meant {
        for word in text.split_whitespace() {
            if !on_screen.contains(word) {
                out.push(format!("{key}: '{word}' of {text:?}"));
            }
        }
    }
    Ok(out)
}

fn in_every_language() -> crate::TestResult<Vec<(String, Screen)>> {
    let mut out = Vec::new();
    for screen in every_screen()? {
        for lang in Languages::builtin().all() {
            let mut state = screen.state.clone();
            state.session.text = lang.clone();
            let name = format!("{}_{}", screen.name, lang.code);
            out.push((lang.code.clone(), Screen { name, state }));
        }
    }
    Ok(out)
}

#[test]
fn every_screen_shows_every_word_in_every_language() -> crate::TestResult {
    let mut cut = Vec::new();
    let mut checked = 0;
    for (_, screen) in in_every_language()? {
        for size in SIZES {
            checked += 1;
            for m in missing(&screen.state, size)? {
                cut.push(format!("{} at {}×{}: {m}", screen.name, size.0, size.1));
            }
        }
    }
    assert!(checked >= 2 * 3 * 40, "only {checked} screens checked");
    assert!(
        cut.is_empty(),
        "{} words cut:\n{}",
        cut.len(),
        cut.join("\n")
    );
    Ok(())
}

#[test]
fn the_fit_check_finds_a_cut_word() -> crate::TestResult {
    // The check itself: a title too long for the header must fail it, naming the lost word.
    let screens = every_screen()?;
    let sample = screens.iter().find(|s| s.name == "device_test_ready");
    let st = &sample.ok_or("no sample")?.state;
    assert_eq!(missing(st, (80, 24))?, Vec::<String>::new());
    let mut long = st.clone();
    let title: Vec<String> = (0..40).map(|i| format!("Word{i}")).collect();
    std::sync::Arc::make_mut(&mut long.session.interview).title = title.join(" ");
    let lost = missing(&long, (80, 24))?;
    assert!(lost.iter().any(|m| m.contains("'Word39'")), "{lost:#?}");
    assert!(!words_on(&["│ab│cd▏".into()]).contains("ab│cd"));
    Ok(())
}

#[test]
fn every_screen_in_every_language_as_snapshots() -> crate::TestResult {
    for (_, screen) in in_every_language()? {
        for (w, h) in SIZES {
            let (rows, _) = render(&screen.state, (w, h))?;
            insta::assert_snapshot!(format!("{}_{w}x{h}", screen.name), rows.join("\n"));
        }
    }
    Ok(())
}
