//! What happens at each step of the simulation, chosen by a seeded generator: mostly what a
//! candidate on that screen would do (so that interviews really progress), mixed with stray
//! keys, time jumps that trigger countdowns and idle resets, the operator's menu, disks that
//! fill up or fail, interview files edited between runs, and the station dying.

use std::path::Path;
use std::time::Duration;

use booth::app::msg::{Key, Msg};
use booth::app::state::{Phase, PracticeStep, TestStep};
use booth::fsutil::faults;

use super::{PIN, Sim};

/// splitmix64: small, fast, and the same sequence for the same seed everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The interview, in the variant a station operator may have edited it into.
pub fn write_interview(path: &Path, variant: usize) -> Result<(), String> {
    let q = |id: &str, prep: u32, answer: u32, attempts: u32| {
        format!(
            "[[question]]\nid = \"{id}\"\ntext = \"Question {id}?\"\npreparation_seconds = {prep}\n\
             answer_seconds = {answer}\nattempts = {attempts}\n"
        )
    };
    let questions = match variant {
        // As first written.
        0 => [q("q1", 10, 20, 2), q("q2", 0, 30, 1), q("q3", 5, 15, 2)].join(""),
        // A question added.
        1 => [
            q("q1", 10, 20, 2),
            q("q2", 0, 30, 1),
            q("q3", 5, 15, 2),
            q("q4", 0, 10, 1),
        ]
        .join(""),
        // One removed.
        2 => [q("q1", 10, 20, 2), q("q3", 5, 15, 2)].join(""),
        // Reordered.
        _ => [q("q3", 5, 15, 2), q("q1", 10, 20, 2), q("q2", 0, 30, 1)].join(""),
    };
    // A practice question in some variants: its takes must never reach the outbox.
    let practice = if variant.is_multiple_of(2) {
        "[practice]\ntext = \"Warm up: say your name.\"\n"
    } else {
        ""
    };
    let text = format!(
        "id = \"sim\"\ntitle = \"Simulated interview\"\nintro = \"Hello.\"\nlanguage = \"en\"\n\
         [support]\ncontact = \"Ask the desk.\"\n{practice}{questions}"
    );
    std::fs::write(path, text).map_err(|e| e.to_string())
}

/// An argon2id hash of `pin` with the smallest parameters, so that checking it costs nothing.
pub fn cheap_pin_hash(pin: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(8, 1, 1, None).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"booth-simulation").map_err(|e| e.to_string())?;
    argon
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Which of booth's file operations fail while a fault window is open, and how.
fn fault_plan(
    data: std::path::PathBuf,
    platform: std::path::PathBuf,
    errno: i32,
    which: u64,
) -> std::sync::Arc<faults::Plan> {
    std::sync::Arc::new(move |op, path: &Path| {
        let hit = match which {
            // The data disk is full: nothing new can be written there.
            0 => path.starts_with(&data) && op != faults::Op::Remove,
            // The data disk fails renames and syncs only (the last steps of every atomic write).
            1 => path.starts_with(&data) && matches!(op, faults::Op::Rename | faults::Op::Sync),
            // The platform's share is away.
            _ => path.starts_with(&platform),
        };
        hit.then_some(errno)
    })
}

impl Sim {
    /// One step of the schedule.
    pub(super) async fn one_step(&mut self) -> Result<(), String> {
        let roll = self.rng.below(1000);
        match roll {
            0..=3 => {
                self.note("kill".into());
                self.report.crashes += 1;
                self.crash().await;
                self.restart().await?;
            }
            4..=5 => {
                self.variant = self.rng.below(4) as usize;
                self.report.interview_edits += 1;
                self.note(format!(
                    "edit the interview to variant {}, then restart",
                    self.variant
                ));
                self.crash().await;
                write_interview(&self.interview_file(), self.variant)?;
                self.restart().await?;
            }
            6..=10 => self.fault_window(),
            11..=30 => self.operator().await?,
            31..=90 => {
                let d = Duration::from_millis(50 + self.rng.below(70_000));
                self.tick(d).await?;
            }
            _ => self.candidate().await?,
        }
        self.settle().await
    }

    fn fault_window(&mut self) {
        if self.rng.chance(0.4) {
            faults::install(None);
            self.note("disks well again".into());
            return;
        }
        let errno = if self.rng.chance(0.5) { 28 } else { 5 }; // ENOSPC, EIO
        let which = self.rng.below(3);
        self.report.fault_windows += 1;
        self.note(format!("fault window {which} errno {errno}"));
        faults::install(Some(fault_plan(self.data(), self.platform(), errno, which)));
    }

    async fn tick(&mut self, d: Duration) -> Result<(), String> {
        self.clock += d;
        self.note(format!("tick {:.1} s", d.as_secs_f64()));
        let now = self.clock;
        self.send(Msg::Tick(now)).await
    }

    async fn key(&mut self, k: Key) -> Result<(), String> {
        self.note(format!("key {k:?}"));
        self.send(Msg::Key(k)).await
    }

    /// What a candidate on this screen might do.
    async fn candidate(&mut self) -> Result<(), String> {
        let Some(phase) = self.state().map(|s| s.session.phase.clone()) else {
            return Ok(());
        };
        if self.rng.chance(0.08) {
            let stray = self.rng.pick(&[
                Key::Esc,
                Key::Tab,
                Key::Space,
                Key::Backspace,
                Key::Char('?'),
                Key::Char('z'),
                Key::Left,
                Key::Up,
            ]);
            return self.key(stray).await;
        }
        match phase {
            Phase::Welcome(_) | Phase::Overview => {
                let k = self
                    .rng
                    .pick(&[Key::Enter, Key::Enter, Key::Enter, Key::Right]);
                self.key(k).await
            }
            Phase::DeviceTest(TestStep::Recording { .. })
            | Phase::Recording { .. }
            | Phase::Practice(PracticeStep::Recording { .. }) => {
                // Let the take record (real time), move the flow's clock, maybe stop it.
                self.note("record for a moment".into());
                let d = Duration::from_millis(20 + self.rng.below(70));
                self.let_time_pass(d).await?;
                let jump = Duration::from_secs(1 + self.rng.below(12));
                self.tick(jump).await?;
                if self.rng.chance(0.6) {
                    let k = self.rng.pick(&[Key::Enter, Key::Char('s'), Key::Char('h')]);
                    self.key(k).await?;
                }
                Ok(())
            }
            Phase::DeviceTest(TestStep::Review { .. }) => {
                let k = self.rng.pick(&[
                    Key::Char('l'),
                    Key::Char('c'),
                    Key::Enter,
                    Key::Char('r'),
                    Key::Char('p'),
                ]);
                self.key(k).await
            }
            Phase::Practice(PracticeStep::Review { .. }) => {
                let k = self.rng.pick(&[
                    Key::Enter,
                    Key::Char('r'),
                    Key::Char('r'),
                    Key::Char('p'),
                    Key::Space,
                ]);
                self.key(k).await
            }
            Phase::Review { .. } => {
                let k = self.rng.pick(&[
                    Key::Enter,
                    Key::Enter,
                    Key::Char('s'),
                    Key::Char('r'),
                    Key::Char('p'),
                    Key::Space,
                ]);
                self.key(k).await
            }
            Phase::Questions { .. } => {
                let k = self.rng.pick(&[Key::Enter, Key::Enter, Key::Down, Key::Up]);
                self.key(k).await
            }
            Phase::Question { .. } => {
                if self.rng.chance(0.5) {
                    self.key(Key::Enter).await
                } else {
                    let d = Duration::from_secs(1 + self.rng.below(12));
                    self.tick(d).await
                }
            }
            Phase::Consent => {
                let k = self
                    .rng
                    .pick(&[Key::Char('a'), Key::Char('a'), Key::Char('d')]);
                self.key(k).await
            }
            Phase::Done { .. } | Phase::Declined { .. } if self.rng.chance(0.5) => {
                self.key(Key::Enter).await
            }
            Phase::Done { .. } | Phase::Declined { .. } | Phase::OutOfOrder => {
                let d = Duration::from_secs(5 + self.rng.below(60));
                self.tick(d).await
            }
            _ => self.key(Key::Enter).await,
        }
    }

    /// Staff at the station: a grant, a page, ending the session, or quitting booth.
    async fn operator(&mut self) -> Result<(), String> {
        let action = self.rng.below(8);
        self.note(format!("operator action {action}"));
        self.send(Msg::Key(Key::Operator)).await?;
        let pin = if self.rng.chance(0.1) { "1357" } else { PIN };
        for c in pin.chars() {
            self.send(Msg::Key(Key::Char(c))).await?;
        }
        self.send(Msg::Key(Key::Enter)).await?;
        self.settle().await?;
        for _ in 0..action {
            self.send(Msg::Key(Key::Down)).await?;
        }
        self.send(Msg::Key(Key::Enter)).await?;
        self.settle().await?;
        // Close whatever page or menu is still open.
        for _ in 0..2 {
            let open = self
                .state()
                .is_some_and(|s| s.operator.step != booth::app::state::OperatorStep::Closed);
            if open {
                self.send(Msg::Key(Key::Esc)).await?;
            }
        }
        Ok(())
    }
}
