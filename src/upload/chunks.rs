//! How many bytes the next PATCH carries. An upload starts with the configured chunk; once a
//! chunk has gone through, the next is sized to take about [`TARGET`] at the rate the last one
//! achieved, between the configured chunk and the configured maximum.
//!
//! Why not a fixed size: every PATCH costs a round trip and the server's per-request work
//! while the link sits idle. On a fast link a small fixed chunk wastes a large share of it (on
//! loopback to the Node reference server, 8 MiB chunks lose about a fifth of the throughput to
//! one PATCH); on a slow link a large fixed chunk puts minutes of sending at risk when the
//! connection drops before a checksum-verifying server accepts it. Sizing by time bounds both.

use std::time::Duration;

/// About how long one PATCH should take once the link's rate is known.
pub const TARGET: Duration = Duration::from_secs(2);
/// A chunk is at most this many times the one before it, so one lucky measurement on a
/// short chunk cannot jump straight to the maximum.
const MAX_GROWTH: u64 = 4;
/// A chunk takes the rest of the file with it when the rest is at most this fraction of it.
const TAIL_SHARE: u64 = 4;
/// Chunks are whole MiB (when above one MiB), which keeps logs and server-side offsets tidy.
const ROUND: u64 = 1 << 20;

/// The next chunk's size for one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSizer {
    min: u64,
    max: u64,
    next: u64,
}

impl ChunkSizer {
    /// Starts at `min`; never goes above `max` (raised to `min` if it is smaller).
    pub fn new(min: u64, max: u64) -> Self {
        let min = min.max(1);
        ChunkSizer {
            min,
            max: max.max(min),
            next: min,
        }
    }

    /// The size of the next PATCH, given `left` bytes still to send. A tail of less than a
    /// [`TAIL_SHARE`] of the chunk goes with it (within the maximum): on a distant server
    /// each PATCH costs a round trip with the link idle, and a small last one is all cost.
    pub fn next(&self, left: u64) -> u64 {
        if left <= self.next + self.next / TAIL_SHARE && left <= self.max {
            left
        } else {
            self.next.min(left)
        }
    }

    /// A chunk of `len` bytes was accepted after `took`: size the next one from that rate.
    pub fn sent(&mut self, len: u64, took: Duration) {
        if len < self.next || took.is_zero() {
            // The tail of the file, or a clock that did not move: nothing to learn.
            return;
        }
        let rate = len as f64 / took.as_secs_f64();
        let want = (rate * TARGET.as_secs_f64()) as u64;
        let want = want.min(len.saturating_mul(MAX_GROWTH));
        let want = if want > ROUND {
            want / ROUND * ROUND
        } else {
            want
        };
        self.next = want.clamp(self.min, self.max);
    }

    /// After trouble (a dropped connection, a stall, a server error), start small again.
    pub fn restart(&mut self) {
        self.next = self.min;
    }

    /// A chunk of `len` bytes failed in transit (a dropped connection, a stall, or a proxy
    /// limiting bodies that answered 413 and closed before the client saw the answer): the
    /// maximum comes down to half of it, never below the configured chunk, so a link or proxy
    /// that cannot take large chunks settles on one that it can.
    pub fn failed(&mut self, len: u64) {
        if len > self.min {
            self.max = self.max.min((len / 2).max(self.min));
            self.next = self.next.min(self.max);
        }
    }

    /// The server (or a proxy in front of it) refused a chunk as too large: never send more
    /// than the configured chunk again. Returns false when the refused chunk was not above
    /// it, so shrinking cannot help.
    pub fn refused_as_too_large(&mut self, len: u64) -> bool {
        if len <= self.min {
            return false;
        }
        self.max = self.min;
        self.next = self.min;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn starts_at_the_configured_chunk_and_stops_at_the_end() {
        let s = ChunkSizer::new(8 * MIB, 64 * MIB);
        assert_eq!(s.next(100 * MIB), 8 * MIB);
        assert_eq!(s.next(3 * MIB), 3 * MIB);
    }

    #[test]
    fn a_small_tail_goes_with_the_chunk_before_it_within_the_maximum() {
        let s = ChunkSizer::new(8 * MIB, 64 * MIB);
        assert_eq!(s.next(10 * MIB), 10 * MIB);
        assert_eq!(s.next(10 * MIB + 1), 8 * MIB);
        // A maximum set for a proxy's body limit holds even for the tail.
        let capped = ChunkSizer::new(8 * MIB, 8 * MIB);
        assert_eq!(capped.next(9 * MIB), 8 * MIB);
    }

    #[test]
    fn a_fast_link_grows_by_at_most_four_times_up_to_the_maximum() {
        let mut s = ChunkSizer::new(8 * MIB, 64 * MIB);
        // 8 MiB in 20 ms: 400 MiB/s would want 800 MiB per 2 s.
        s.sent(8 * MIB, Duration::from_millis(20));
        assert_eq!(s.next(u64::MAX), 32 * MIB);
        s.sent(32 * MIB, Duration::from_millis(80));
        assert_eq!(s.next(u64::MAX), 64 * MIB);
        s.sent(64 * MIB, Duration::from_millis(160));
        assert_eq!(s.next(u64::MAX), 64 * MIB);
    }

    #[test]
    fn chunks_aim_at_two_seconds_in_whole_mib() {
        let mut s = ChunkSizer::new(MIB, 1024 * MIB);
        // 10 MiB/s: 20 MiB per 2 s.
        s.sent(MIB, Duration::from_millis(100));
        assert_eq!(s.next(u64::MAX), 4 * MIB, "growth is capped at 4x");
        s.sent(4 * MIB, Duration::from_millis(400));
        assert_eq!(s.next(u64::MAX), 16 * MIB);
        s.sent(16 * MIB, Duration::from_millis(1600));
        assert_eq!(s.next(u64::MAX), 20 * MIB);
        // 3.3 MiB/s rounds down to a whole MiB: 6.6 → 6 MiB.
        s.sent(20 * MIB, Duration::from_secs(6));
        assert_eq!(s.next(u64::MAX), 6 * MIB);
    }

    #[test]
    fn a_slow_link_never_goes_below_the_configured_chunk() {
        let mut s = ChunkSizer::new(8 * MIB, 64 * MIB);
        // 1 Mbit/s: 8 MiB takes 67 s.
        s.sent(8 * MIB, Duration::from_secs(67));
        assert_eq!(s.next(u64::MAX), 8 * MIB);
    }

    #[test]
    fn the_tail_and_a_frozen_clock_teach_nothing() {
        let mut s = ChunkSizer::new(8 * MIB, 64 * MIB);
        s.sent(MIB, Duration::from_micros(1));
        assert_eq!(s.next(u64::MAX), 8 * MIB);
        s.sent(8 * MIB, Duration::ZERO);
        assert_eq!(s.next(u64::MAX), 8 * MIB);
    }

    #[test]
    fn trouble_restarts_small_and_413_pins_the_configured_chunk() {
        let mut s = ChunkSizer::new(8 * MIB, 64 * MIB);
        s.sent(8 * MIB, Duration::from_millis(20));
        assert_eq!(s.next(u64::MAX), 32 * MIB);
        s.restart();
        assert_eq!(s.next(u64::MAX), 8 * MIB);
        s.sent(8 * MIB, Duration::from_millis(20));
        assert!(s.refused_as_too_large(32 * MIB));
        s.sent(8 * MIB, Duration::from_millis(20));
        assert_eq!(s.next(u64::MAX), 8 * MIB, "no growth after a 413");
        assert!(!s.refused_as_too_large(8 * MIB), "shrinking cannot help");
    }

    #[test]
    fn a_grown_chunk_lost_in_transit_halves_the_maximum() {
        let mut s = ChunkSizer::new(MIB, 64 * MIB);
        s.sent(MIB, Duration::from_millis(1));
        assert_eq!(s.next(u64::MAX), 4 * MIB);
        s.failed(4 * MIB);
        s.restart();
        s.sent(MIB, Duration::from_millis(1));
        assert_eq!(s.next(u64::MAX), 2 * MIB);
        s.failed(2 * MIB);
        s.sent(MIB, Duration::from_millis(1));
        assert_eq!(s.next(u64::MAX), MIB, "settled on the configured chunk");
        // A configured-size chunk that fails changes nothing.
        s.failed(MIB);
        assert_eq!(s.next(u64::MAX), MIB);
    }

    #[test]
    fn fixed_chunks_when_the_maximum_is_the_chunk() {
        let mut s = ChunkSizer::new(8 * MIB, 8 * MIB);
        s.sent(8 * MIB, Duration::from_millis(1));
        assert_eq!(s.next(u64::MAX), 8 * MIB);
        assert_eq!(ChunkSizer::new(16 * MIB, 4 * MIB).next(u64::MAX), 16 * MIB);
    }
}
