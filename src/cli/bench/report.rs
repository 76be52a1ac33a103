//! The bench's report as steps: each step (a scene's transcode, a live comparison, the upload
//! figures, start-up) carries either its figures, with the load average around it, or the
//! typed reason it has none — so one failing step never hides the others' figures, and the
//! exit code still says that something failed. Also the small statistics every step shares.

use serde::Serialize;

use super::BenchError;
use crate::logging::console;

/// A step's figures and the machine's 1-minute load average when it started and ended (the
/// machine is shared: a figure is only read next to the load it was taken under).
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Measured<T> {
    #[serde(flatten)]
    pub figure: T,
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
}

/// One step of the bench: `{"measured": {...}}` or `{"failed": {...}}` in the JSON.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(super) enum Step<T> {
    Measured(Measured<T>),
    Failed(StepFailure),
}

/// What kind of failure a step met, kept typed for whoever reads the JSON.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum FailureKind {
    /// A program (ffmpeg, curl, node, booth itself) or a file could not be started or made.
    Spawn,
    /// A program ran and failed.
    Failed,
    /// A program's output did not say what the bench needed.
    Parse,
}

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct StepFailure {
    pub step: String,
    pub kind: FailureKind,
    /// The program or resource that failed, when there is one.
    pub program: Option<String>,
    /// The sentence for people (the error and its causes).
    pub message: String,
}

impl StepFailure {
    pub fn new(step: &str, error: &BenchError) -> Self {
        let (kind, program) = match error {
            BenchError::Spawn { program, .. } => (FailureKind::Spawn, Some(program.clone())),
            BenchError::Failed { program, .. } => (FailureKind::Failed, Some(program.clone())),
            BenchError::Parse(_) => (FailureKind::Parse, None),
        };
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        StepFailure {
            step: step.to_string(),
            kind,
            program,
            message,
        }
    }
}

impl<T> Step<T> {
    pub fn failure(&self) -> Option<&StepFailure> {
        match self {
            Step::Measured(_) => None,
            Step::Failed(f) => Some(f),
        }
    }

    pub fn figure(&self) -> Option<&T> {
        match self {
            Step::Measured(m) => Some(&m.figure),
            Step::Failed(_) => None,
        }
    }
}

/// Runs one step, keeping its figure or its failure (said on the console at once, so a long
/// bench shows it when it happens).
pub(super) fn step<T>(name: &str, f: impl FnOnce() -> Result<T, BenchError>) -> Step<T> {
    let load_before = load_average();
    match f() {
        Ok(figure) => Step::Measured(Measured {
            figure,
            load_before,
            load_after: load_average(),
        }),
        Err(e) => {
            let failure = StepFailure::new(name, &e);
            console(&format!("bench: step '{name}' failed: {}", failure.message));
            Step::Failed(failure)
        }
    }
}

/// The 1-minute load average from /proc/loadavg.
pub(super) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The load average around a step, for the table: "load 2.1–3.4".
pub(super) fn load_text<T>(m: &Measured<T>) -> String {
    let f = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.1}"));
    format!("load {}–{}", f(m.load_before), f(m.load_after))
}

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `a / b`, with a zero or negative denominator giving 0 rather than infinity (a figure that
/// could not be taken shows as 0, never as a huge ratio that passes or fails a floor).
pub(super) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// `a[i] / b[i]` for each pair, in order.
pub(super) fn paired_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| ratio(*x, *y)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn ratios_pair_rounds_and_never_divide_by_zero() {
        assert_eq!(
            paired_ratios(&[2.0, 3.0, 5.0], &[1.0, 0.0, 10.0]),
            vec![2.0, 0.0, 0.5]
        );
        assert_eq!(ratio(1.0, -1.0), 0.0);
    }

    #[test]
    fn a_failed_step_keeps_its_kind_program_and_message() -> crate::TestResult {
        let s: Step<u32> = step("upload", || {
            Err(BenchError::Failed {
                program: "curl".into(),
                detail: "exit 7".into(),
            })
        });
        let f = s.failure().ok_or("the step did not fail")?;
        assert_eq!(f.kind, FailureKind::Failed);
        assert_eq!(f.program.as_deref(), Some("curl"));
        assert_eq!(f.step, "upload");
        assert!(f.message.contains("exit 7"), "{}", f.message);
        let json = serde_json::to_value(&s)?;
        assert_eq!(json["failed"]["kind"], "failed");
        assert_eq!(json["failed"]["program"], "curl");
        Ok(())
    }

    #[test]
    fn a_measured_step_flattens_its_figure_beside_the_load() -> crate::TestResult {
        #[derive(Serialize)]
        struct Figure {
            ratio: f64,
        }
        let s = step("x", || Ok(Figure { ratio: 0.5 }));
        assert!(s.failure().is_none());
        let json = serde_json::to_value(&s)?;
        assert_eq!(json["measured"]["ratio"], 0.5);
        assert!(json["measured"].get("load_before").is_some());
        Ok(())
    }
}
