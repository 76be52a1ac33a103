//! The arrival and departure screens of a centre's day, in both bundled languages, at 80×24
//! and 160×48: the code field (with a refusal, and while the roster is read), the privacy
//! notice, the polite end after declining, and staff typing a code for a candidate.

use std::time::Duration;

use super::snapshots::{base, snap};
use crate::app::state::{CodeEntry, CodeMode, CodeProblem, OperatorStep, Phase, State};
use crate::interview::Consent;

fn in_language(mut st: State, code: &str) -> State {
    st.session.text = crate::i18n::for_language(code);
    st
}

fn arriving() -> crate::TestResult<State> {
    let mut st = base()?;
    st.settings.codes = CodeMode::Required;
    st.settings.roster = true;
    let iv = std::sync::Arc::make_mut(&mut st.session.interview);
    iv.consent = Some(Consent::new(
        None,
        "This interview records video and sound of you while you answer. The recordings go to \
         the recruiting team only, to assess your application.\n\nThey are kept for 6 months \
         and then deleted. You can ask to see them or have them deleted sooner at any time."
            .into(),
    ));
    Ok(st)
}

#[test]
fn the_code_field_in_both_languages() -> crate::TestResult {
    for lang in ["en", "de"] {
        let mut st = in_language(arriving()?, lang);
        st.session.phase = Phase::Welcome(CodeEntry {
            typed: "XK7-44".into(),
            problem: Some(CodeProblem::Unknown),
            checking: false,
        });
        snap(&format!("welcome_code_refused_{lang}"), &st)?;
        st.session.phase = Phase::Welcome(CodeEntry {
            typed: "XK7-4410-QZ".into(),
            problem: None,
            checking: true,
        });
        snap(&format!("welcome_code_checking_{lang}"), &st)?;
        // Staff type one for a candidate who has none.
        st.settings.operator_pin = true;
        st.session.phase = Phase::Welcome(CodeEntry::default());
        st.operator.step = OperatorStep::Code {
            typed: "WALK-IN-07".into(),
        };
        snap(&format!("operator_code_{lang}"), &st)?;
    }
    Ok(())
}

#[test]
fn the_privacy_notice_and_declining_in_both_languages() -> crate::TestResult {
    for lang in ["en", "de"] {
        let mut st = in_language(arriving()?, lang);
        st.session.phase = Phase::Consent;
        snap(&format!("consent_{lang}"), &st)?;
        st.session.phase = Phase::Declined {
            ends: st.now + Duration::from_secs(20),
        };
        snap(&format!("declined_{lang}"), &st)?;
    }
    Ok(())
}
