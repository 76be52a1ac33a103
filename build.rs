//! Records when booth was built, as `BOOTH_BUILD_UNIX` (seconds since 1970), so `booth doctor`
//! can tell a clock that runs before the build (a dead RTC battery, no NTP) from a sane one.
//! `SOURCE_DATE_EPOCH` wins when set, so reproducible builds stay reproducible.
//!
//! The script reruns only when it changes, so the value is the first build in a target
//! directory: never later than the real build, which is all a lower bound needs.

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    println!("cargo:rustc-env=BOOTH_BUILD_UNIX={now}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
}
