//! Locking a std mutex the one way booth does: riding over poisoning. Every mutex in booth
//! guards plain values (maps, a file handle, a sink) that a panicking holder cannot leave
//! half-changed in a way a later holder could misread, so a panic elsewhere must not take
//! the station down with it.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, taking the data over from a holder that panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::lock;

    #[test]
    fn a_poisoned_mutex_still_hands_over_its_data() -> crate::TestResult {
        let m = Arc::new(Mutex::new(1));
        let held = m.clone();
        let panicked = std::thread::spawn(move || {
            let mut g = lock(&held);
            *g = 2;
            panic!("a holder dies");
        })
        .join();
        assert!(panicked.is_err());
        assert!(m.is_poisoned());
        assert_eq!(*lock(&m), 2);
        Ok(())
    }
}
