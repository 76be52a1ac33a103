//! A simulated station (in the spirit of FoundationDB's simulator and TigerBeetle's VOPR): the
//! real `update`, the real executor, the real outbox and upload service delivering to a
//! `dir:` platform stand-in, synthetic camera and microphone recording for real — driven by
//! a seeded random schedule of candidate keys, time, operator actions, idle resets, full or
//! failing disks (injected at booth's file layer), interview-file edits, and crashes at random
//! effect boundaries followed by a restart from what is on disk. After every step the
//! station's invariants are checked (see `Sim::check`); at the end the outbox is drained and
//! every answer a candidate sent must have arrived exactly once, intact.
//!
//! `BOOTH_SIM_SEED=<n>` replays one seed (a failure prints it), `BOOTH_SIM_SEEDS=<n>` runs n
//! other seeds, `BOOTH_SIM_STEPS=<n>` sets the steps per seed and `BOOTH_SIM_TRAIL=<n>` how
//! many past actions a failure prints (`make soak` runs a million steps); `BOOTH_SIM_KEEP=1`
//! keeps a failed station's folder. A replay follows the same schedule of choices; what real
//! threads do within a step (how many frames a take holds, whether a delivery finished) varies
//! from run to run, so a replay can take another path after a while — the seed still names
//! the schedule that found the failure.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sim_support;

use sim_support::{Sim, SimReport};

/// Seeds `make test` runs, and steps for each (10 000 in all).
const SEEDS: [u64; 4] = [1, 2, 3, 0x5eed_b007];
const STEPS: u64 = 2_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_station_loses_nothing_and_crosses_no_session() {
    let steps = std::env::var("BOOTH_SIM_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(STEPS);
    let many: Option<u64> = std::env::var("BOOTH_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let seeds: Vec<u64> = match (std::env::var("BOOTH_SIM_SEED"), many) {
        (Ok(s), _) => vec![s.parse().expect("BOOTH_SIM_SEED is a number")],
        (Err(_), Some(n)) => (1..=n).map(|i| i * 0x9e37_79b9 + 7).collect(),
        (Err(_), None) => SEEDS.to_vec(),
    };
    sim_support::install_panic_watch();
    let mut total = SimReport::default();
    // Every seed runs even after one fails: a soak reports all it found, not the first.
    let mut failures = Vec::new();
    for seed in seeds {
        let report = match Sim::new(seed).await {
            Ok(sim) => sim.run(steps).await,
            Err(e) => Err(format!("seed {seed}: cannot set up: {e}")),
        };
        match report {
            Ok(r) => {
                println!("seed {seed}: {r}");
                total.add(&r);
            }
            Err(failure) => {
                println!("{failure}\nreplay with BOOTH_SIM_SEED={seed}");
                failures.push(seed);
            }
        }
    }
    println!("all seeds: {total}");
    assert!(
        failures.is_empty(),
        "seeds that failed (see above): {failures:?}"
    );
    // The schedule must have reached the joints it exists for.
    assert!(total.sent > 0 && total.delivered == total.sent, "{total}");
    assert!(
        total.crashes > 0 && total.wipes > 0 && total.set_aside_sessions > 0,
        "{total}"
    );
    assert!(total.practice > 0, "no practice take was recorded: {total}");
}
