//! The printed receipt: plain text for a receipt printer, in the candidate's language, saying
//! what the done screen says (interview, date, receipt code, each answer's state). Nothing in
//! it identifies the candidate beyond the receipt code they already have.

use crate::app::state::{State, Target};
use crate::session::Delivery;

pub fn text(state: &State) -> String {
    let t = &state.session.text;
    let mut out = vec![
        state.session.interview.title.clone(),
        crate::clock::human(state.wall.unix_at(state.now)),
        String::new(),
        format!(
            "{}: {}",
            t.get("done.receipt"),
            state.session.progress.receipt_code()
        ),
        String::new(),
    ];
    for (i, q) in state.session.progress.questions.iter().enumerate() {
        let words = match (q.delivery, state.settings.target) {
            (Delivery::Uploaded, Target::Platform) => t.get("done.received"),
            (Delivery::Uploaded, Target::Folder) => t.get("done.in_folder"),
            (Delivery::Queued, _) => t.get("done.sending"),
            (Delivery::NotSubmitted, _) => t.get("done.not_answered"),
        };
        out.push(format!(
            "{} {words}",
            t.fmt("done.answer", &[("n", &(i + 1))])
        ));
    }
    out.push(String::new());
    out.join("\n")
}
