//! What this process has cost so far, read from `/proc/self` (no libc calls): CPU time of all
//! threads and the peak resident memory. Used by `booth record --json` and `booth bench`.

use std::fs;

/// Linux reports utime/stime in USER_HZ ticks, which is 100 on every architecture booth runs on.
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds of the whole process (all threads), 10 ms resolution.
pub fn cpu_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) are utime and stime; `rest` starts at field 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// Peak resident set size in KiB (`VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_and_memory() -> crate::TestResult {
        let before = cpu_seconds().ok_or("no CPU time")?;
        // Burn CPU until the counter moves; on a loaded machine that takes longer than the
        // same work's wall time, so the loop waits on the counter, with a wall-time cap only
        // against a counter that never moves.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        let mut after = before;
        while after - before < 0.05 && start.elapsed().as_secs() < 60 {
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            after = cpu_seconds().ok_or("no CPU time")?;
        }
        std::hint::black_box(x);
        assert!(after - before >= 0.05, "{before} -> {after}");
        assert!(peak_rss_kib().ok_or("no peak RSS")? > 1000);
        Ok(())
    }
}
