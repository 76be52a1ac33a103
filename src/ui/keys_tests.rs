//! Every key on screen: each sample screen (`every_screen_tests`) is driven with every key the
//! terminal can send, through the real `update`; a key that changes anything (the state or
//! the effects asked for) must be named on that screen, or do exactly what a key named there
//! does (Space for P, Tab for ↓), or the screen must say any key will do. Typing into a field
//! (the code, the operator's PIN) is what a field is for. F12, the operator's own key, is the
//! one key kept off the candidate's screen on purpose.

use super::every_screen_tests::every_screen;
use super::fit_tests::render;
use crate::app::msg::{Effect, Key, Msg};
use crate::app::state::{OperatorStep, Phase, State};
use crate::i18n::Languages;

/// Screens that take any key say so with one of these texts.
const ANY_KEY: [&str; 3] = ["welcome.press_any_key", "operator.back", "idle.countdown"];

fn every_key() -> Vec<Key> {
    let mut keys = vec![
        Key::Enter,
        Key::Esc,
        Key::Up,
        Key::Down,
        Key::Left,
        Key::Right,
        Key::PageUp,
        Key::PageDown,
        Key::Tab,
        Key::Space,
        Key::Help,
        Key::Backspace,
    ];
    keys.extend(
        ('a'..='z')
            .chain('0'..='9')
            .chain(['-', '_'])
            .map(Key::Char),
    );
    keys
}

/// How a key is written on screen.
fn label(key: Key) -> String {
    match key {
        Key::Enter => "Enter".into(),
        Key::Esc => "Esc".into(),
        Key::Up => "↑".into(),
        Key::Down => "↓".into(),
        Key::Left => "←".into(),
        Key::Right => "→".into(),
        Key::PageUp => "PgUp".into(),
        Key::PageDown => "PgDn".into(),
        Key::Tab => "Tab".into(),
        Key::Space => "Space".into(),
        Key::Help => "?".into(),
        Key::Operator => "F12".into(),
        Key::Backspace => "Backspace".into(),
        Key::Char(c) => c.to_uppercase().to_string(),
    }
}

/// Whether `label` stands on the screen as a word of its own (not inside another word).
fn named(rows: &[String], label: &str) -> bool {
    rows.iter().any(|row| {
        row.match_indices(label).any(|(at, _)| {
            let before = row[..at].chars().next_back();
            let after = row[at + label.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

/// What a key did: the state it left (the parts a key may change) and the effects it asked.
type Outcome = (
    crate::app::state::Session,
    crate::app::state::Operator,
    Vec<Effect>,
);

fn press(st: &State, key: Key) -> Outcome {
    let mut after = st.clone();
    let fx = crate::app::update::update(&mut after, Msg::Key(key));
    (after.session, after.operator, fx)
}

/// The text of the field being typed into, if the screen has one.
fn field(st: &State) -> Option<String> {
    match (&st.operator.step, &st.session.phase) {
        (OperatorStep::Pin { digits, .. }, _) => Some(digits.clone()),
        (OperatorStep::Code { typed }, _) => Some(typed.clone()),
        (OperatorStep::Closed, Phase::Welcome(entry)) => Some(entry.typed.clone()),
        _ => None,
    }
}

fn typed_into_field(before: &State, after: &Outcome, key: Key) -> bool {
    let Key::Char(c) = key else {
        return false;
    };
    let mut after_state = before.clone();
    after_state.session = after.0.clone();
    after_state.operator = after.1.clone();
    match (field(before), field(&after_state)) {
        (Some(was), Some(now)) => now.to_lowercase() == format!("{was}{c}").to_lowercase(),
        _ => false,
    }
}

#[test]
fn every_key_a_screen_takes_is_named_on_it() -> crate::TestResult {
    let mut hidden = Vec::new();
    for screen in every_screen()? {
        for lang in Languages::builtin().all() {
            let mut st = screen.state.clone();
            st.session.text = lang.clone();
            // A key press is not also the moment to note activity on disk.
            st.session.last_input = st.now;
            st.session.activity_noted = Some(st.now);
            let (rows, noted) = render(&st, (80, 24))?;
            if noted.iter().any(|(k, _)| ANY_KEY.contains(&k.as_str())) {
                continue;
            }
            let untouched: Outcome = (st.session.clone(), st.operator.clone(), Vec::new());
            let keys = every_key();
            let outcomes: Vec<(Key, Outcome)> = keys.iter().map(|k| (*k, press(&st, *k))).collect();
            let shown: Vec<&Outcome> = outcomes
                .iter()
                .filter(|(k, _)| named(&rows, &label(*k)))
                .map(|(_, o)| o)
                .collect();
            for (key, outcome) in &outcomes {
                let ok = *outcome == untouched
                    || named(&rows, &label(*key))
                    || shown.contains(&outcome)
                    || typed_into_field(&st, outcome, *key);
                if !ok {
                    hidden.push(format!("{} ({}): {}", screen.name, lang.code, label(*key)));
                }
            }
        }
    }
    assert!(
        hidden.is_empty(),
        "keys that work but are not shown:\n{}",
        hidden.join("\n")
    );
    Ok(())
}

#[test]
fn the_key_check_sees_a_hidden_key() -> crate::TestResult {
    let rows = vec![" ↑ ↓  Choose   Enter  Open   ?  Help ".to_string()];
    assert!(named(&rows, "Enter") && named(&rows, "↓") && named(&rows, "?"));
    assert!(!named(&rows, "Esc"));
    // A letter inside a word does not name its key.
    assert!(!named(&["Choose".to_string()], "C"));
    assert!(named(&["Press C to call".to_string()], "C"));
    Ok(())
}
