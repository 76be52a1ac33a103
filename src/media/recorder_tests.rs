//! The recorder's timeline: 90 kHz tick rounding.

use super::*;

#[test]
fn ticks_round_to_nearest() {
    let t = Instant::now();
    assert_eq!(ticks(t, t), 0);
    assert_eq!(ticks(t, t + Duration::from_secs(1)), 90_000);
    assert_eq!(ticks(t, t + Duration::from_nanos(33_333_333)), 3000);
    assert_eq!(ticks(t + Duration::from_secs(1), t), 0);
}
