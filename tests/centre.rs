//! An assessment centre's day at one station, in a real terminal (tmux) against the real tus
//! test server: two candidates back to back, each arriving with a code (one typed key by key,
//! one sent the way a USB barcode scanner sends it: the whole code and Enter at once), each
//! accepting the privacy notice, passing the device test, answering, and finishing — the
//! second finding the welcome screen, never the first one's answers. The roster is replaced
//! while the kiosk runs (the new code works for the next candidate) and then broken (the
//! station keeps its last good roster and logs the file and line). On the platform: every
//! answer with its candidate's code and interview, and both manifests with the accepted
//! notice's hash and the first candidate's grant.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::tus_server::{StoredUpload, TusOptions, TusServer};

const PIN: &str = "2468";
const TOKEN: &str = "tok-centre";

/// One short question, and a privacy notice.
fn interview(id: &str, title: &str) -> String {
    format!(
        "id = \"{id}\"\ntitle = \"{title}\"\nintro = \"One question.\"\nlanguage = \"en\"\n\
         [support]\ncontact = \"Ask the desk.\"\n\
         [consent]\ntext = \"Your answers go to the {title} team and are kept for 30 days.\"\n\
         [[question]]\nid = \"q-{id}\"\ntext = \"Why {title}?\"\npreparation_seconds = 0\n\
         answer_seconds = 30\nattempts = 1\n"
    )
}

struct Centre {
    dir: tempfile::TempDir,
    config: PathBuf,
    roster: PathBuf,
}

fn centre(server: &TusServer) -> Centre {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("interviews");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("support.toml"), interview("support", "Support")).unwrap();
    std::fs::write(folder.join("sales.toml"), interview("sales", "Sales")).unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, "code,interview\nSUP-*,support\n").unwrap();
    let hash = booth::pin::hash_pin(PIN).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let text = format!(
        "[station]\nid = \"centre-1\"\ndata_dir = \"{data}\"\n\
         [devices]\nvideo = \"test\"\naudio = \"tone\"\nsize = \"640x360\"\n\
         [upload]\nendpoint = \"{url}\"\ntoken_file = \"{token}\"\n\
         [interview]\nfile = \"\"\nfolder = \"{folder}\"\nroster = \"{roster}\"\n\
         [kiosk]\nlockdown = false\noperator_pin_hash = \"{hash}\"\ndone_seconds = 30\n\
         receipt_command = \"cat >> '{receipts}'\"\n",
        data = dir.path().join("data").display(),
        url = server.url(),
        token = token.display(),
        receipts = dir.path().join("receipts.txt").display(),
        folder = folder.display(),
        roster = roster.display(),
    );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    Centre {
        dir,
        config,
        roster,
    }
}

/// A new roster put in place the way an operator's script does it: written beside, renamed.
fn replace_roster(c: &Centre, text: &str) {
    let tmp = c.dir.path().join("roster.csv.new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &c.roster).unwrap();
}

/// From the notice through the device test, one answer recorded and sent, then Finish.
fn interview_after_code(t: &Tmux, grant: bool) {
    t.wait_for("Press A to accept", 10);
    t.keys(&["a"]);
    t.wait_for("What to expect", 5);
    t.keys(&["Enter"]);
    t.wait_for("Record a test clip", 15);
    t.keys(&["r"]);
    t.wait_for("Stop", 15);
    t.keys(&["s"]);
    t.wait_for("Looks good!", 15);
    t.keys(&["Enter"]);
    t.wait_for("View question", 5);
    if grant {
        // Staff grant one more attempt for the question on the list.
        t.keys(&["F12"]);
        t.wait_for("Enter the operator PIN", 5);
        let mut keys: Vec<&str> = PIN.split("").filter(|s| !s.is_empty()).collect();
        keys.push("Enter");
        t.keys(&keys);
        t.wait_for("Operator menu", 10);
        t.keys(&["Enter"]);
        t.wait_for("2 left", 5);
    }
    t.keys(&["Enter", "Enter"]);
    t.wait_for("RECORDING", 15);
    // A second recorded (the clock has moved): a stop before the first picture is a
    // recording that never started, not an answer.
    t.wait_for("0:29 left", 15);
    t.keys(&["s"]);
    t.wait_for("Send this answer", 15);
    t.keys(&["Enter"]);
    t.wait_for("Thank you – you have finished", 15);
    t.keys(&["Enter"]);
}

/// Every complete upload on the platform, once `n` of them have arrived.
fn uploads(server: &TusServer, n: usize, data: &Path) -> Vec<StoredUpload> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: Vec<StoredUpload> = server
            .uploads()
            .into_iter()
            .filter(StoredUpload::complete)
            .collect();
        if done.len() >= n {
            return done;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} uploads arrived: {:?}\nserver:\n{}\nbooth's log:\n{}",
            done.len(),
            done.iter().map(|u| &u.metadata).collect::<Vec<_>>(),
            server.log(),
            log_text(data)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn log_text(data: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(data.join("logs")).unwrap().flatten() {
        all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    all
}

#[test]
fn two_candidates_back_to_back_with_codes_consent_and_a_roster_replaced_on_the_way() {
    let server = TusServer::start(TusOptions {
        token: Some(TOKEN.into()),
        ..TusOptions::default()
    });
    let c = centre(&server);
    let t = Tmux::start("centre", &["--config", c.config.to_str().unwrap()]);

    // The first candidate types their code, a key at a time (and a typo first).
    t.wait_for("Please type the code from your invitation", 15);
    t.keys(&["n", "o", "p", "e", "Enter"]);
    t.wait_for("We do not know that code", 10);
    t.keys(&["s", "u", "p", "-", "1", "2", "3", "4", "Enter"]);
    interview_after_code(&t, true);

    // The next candidate's code exists only in the roster the operator puts in place now.
    replace_roster(
        &c,
        "code,interview,valid_until,single_use\nSUP-*,support,,\nSALES-0001,sales,,true\n",
    );
    t.wait_for("Please type the code from your invitation", 15);
    let screen = t.screen();
    assert!(
        !screen.contains("SUP-1234"),
        "the last candidate's code is on screen:\n{screen}"
    );
    // A scanner: the whole code and Enter in one burst.
    t.keys(&["SALES-0001", "Enter"]);
    interview_after_code(&t, false);

    // A single-use code does not open a second session; a broken roster leaves the last
    // good one in force (and the log names the file and line).
    t.wait_for("Please type the code from your invitation", 15);
    t.keys(&["SALES-0001", "Enter"]);
    t.wait_for("has already been used at this booth", 10);
    replace_roster(&c, "code,interview\nSUP-*,support\nSALES 0002,sales\n");
    t.keys(&["SUP-9999", "Enter"]);
    t.wait_for("Press A to accept", 10);
    let log = log_text(&c.dir.path().join("data"));
    assert!(
        log.contains(&format!("{}:3", c.roster.display())),
        "the broken roster is not in the log with its line:\n{log}"
    );
    assert!(
        !log.contains("SUP-1234") && !log.contains("SALES-0001"),
        "a code was logged in full"
    );

    // On the platform: two answers and two manifests, each with its candidate and interview.
    let all = uploads(&server, 4, &c.dir.path().join("data"));
    let answer = |code: &str| {
        all.iter()
            .find(|u| {
                u.metadata.get("kind").map(String::as_str) == Some("answer")
                    && u.metadata.get("candidate_ref").map(String::as_str) == Some(code)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no answer for {code}: {:?}",
                    all.iter().map(|u| &u.metadata).collect::<Vec<_>>()
                )
            })
    };
    assert_eq!(answer("SUP-1234").metadata["interview_id"], "support");
    assert_eq!(answer("SALES-0001").metadata["interview_id"], "sales");
    let manifest = |code: &str| -> serde_json::Value {
        let m = all
            .iter()
            .find(|u| {
                u.metadata.get("kind").map(String::as_str) == Some("manifest")
                    && u.metadata.get("candidate_ref").map(String::as_str) == Some(code)
            })
            .unwrap_or_else(|| panic!("no manifest for {code}"));
        serde_json::from_slice(&std::fs::read(&m.path).unwrap()).unwrap()
    };
    let first = manifest("SUP-1234");
    let second = manifest("SALES-0001");
    for m in [&first, &second] {
        let sha = m["consent"]["sha256"].as_str().unwrap_or_default();
        assert_eq!(sha.len(), 64, "no consent in {m:#}");
    }
    assert_eq!(first["grants"][0]["kind"], "extra_attempt", "{first:#}");
    assert_eq!(first["grants"][0]["question_id"], "q-support", "{first:#}");
    assert_eq!(
        second["grants"].as_array().map(Vec::len),
        Some(0),
        "{second:#}"
    );
    // The receipt printer got one receipt per candidate, with their receipt codes only.
    let receipts = std::fs::read_to_string(c.dir.path().join("receipts.txt")).unwrap();
    assert_eq!(
        receipts.matches("Your receipt code").count(),
        2,
        "{receipts}"
    );
    assert!(
        receipts.contains("Support") && receipts.contains("Sales"),
        "{receipts}"
    );
    assert!(!receipts.contains("SUP-1234"), "{receipts}");
    t.signal("TERM");
    assert_eq!(t.wait_exit(15), 0);
}
