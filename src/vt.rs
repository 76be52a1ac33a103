//! The Linux virtual terminal (VT) the kiosk runs on, and the lock on VT switching it holds
//! there, so that Alt+Fn, Ctrl+Alt+Fn and `chvt` cannot take a candidate off booth's screen.
//!
//! The lock is the kernel's (VT_LOCKSWITCH): one flag for the whole console, which only a
//! process with CAP_SYS_TTY_CONFIG may set or clear (booth.service grants booth exactly that).
//! A [`SwitchLock`] clears it when dropped; the terminal guard owns one, so every way out of
//! the kiosk that unwinds (an operator's quit, SIGTERM, a panic on the UI task) lets the
//! console switch again. A death that runs no destructor (SIGKILL, abort) leaves the console
//! locked until booth's next start and end, or the next boot.
//!
//! Also the device-number rule the doctor judges other processes' terminals by ([`vt_number`]).

mod ioctl;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The device major of /dev/tty0..63 (the VTs) and /dev/ttyS* (serial ports, minors 64..).
const TTY_MAJOR: u32 = 4;
/// The kernel's MAX_NR_CONSOLES; minor 0 is /dev/tty0, "whichever VT is in front".
const LAST_VT: u32 = 63;

/// The VT number of a terminal device (major, minor), when it is a virtual terminal.
pub fn vt_number(major: u32, minor: u32) -> Option<u16> {
    // invariant: the range check keeps `minor` at most 63, so it fits a u16.
    (major == TTY_MAJOR && (1..=LAST_VT).contains(&minor)).then_some(minor as u16)
}

/// The VT number of an open file, when it is a virtual terminal.
pub fn vt_of(fd: BorrowedFd<'_>) -> Option<u16> {
    use rustix::fs::{FileType, fstat, major, minor};
    let stat = fstat(fd).ok()?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::CharacterDevice {
        return None;
    }
    vt_number(major(stat.st_rdev), minor(stat.st_rdev))
}

/// What a lock needs of a VT: its number for the log, and the kernel's switch. Tests stand in
/// for the kernel with their own.
pub trait Switching {
    fn number(&self) -> u16;
    fn set_locked(&self, locked: bool) -> rustix::io::Result<()>;
}

/// A virtual terminal booth holds open (its own copy of the descriptor, so the lock can be
/// released whatever becomes of standard input).
#[derive(Debug)]
pub struct Vt {
    fd: OwnedFd,
    number: u16,
}

impl Vt {
    /// booth's own terminal, when it is a VT: standard input, else standard output.
    pub fn own() -> Option<Vt> {
        let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
        [stdin.as_fd(), stdout.as_fd()].into_iter().find_map(|fd| {
            let number = vt_of(fd)?;
            let fd = fd.try_clone_to_owned().ok()?;
            Some(Vt { fd, number })
        })
    }
}

impl Switching for Vt {
    fn number(&self) -> u16 {
        self.number
    }

    fn set_locked(&self, locked: bool) -> rustix::io::Result<()> {
        if locked {
            ioctl::lock_switch(self.fd.as_fd())
        } else {
            ioctl::unlock_switch(self.fd.as_fd())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "booth may not lock VT switching on tty{vt}: it lacks the capability CAP_SYS_TTY_CONFIG"
    )]
    NoCapability { vt: u16 },
    #[error("cannot lock VT switching on tty{vt}")]
    Failed {
        vt: u16,
        #[source]
        source: std::io::Error,
    },
}

/// VT switching forbidden on the whole console until this is dropped.
#[derive(Debug)]
pub struct SwitchLock<V: Switching = Vt> {
    vt: V,
}

impl<V: Switching> SwitchLock<V> {
    /// Locks VT switching while `vt` is in front.
    pub fn lock(vt: V) -> Result<SwitchLock<V>, LockError> {
        match vt.set_locked(true) {
            Ok(()) => Ok(SwitchLock { vt }),
            Err(rustix::io::Errno::PERM) => Err(LockError::NoCapability { vt: vt.number() }),
            Err(errno) => Err(LockError::Failed {
                vt: vt.number(),
                source: errno.into(),
            }),
        }
    }

    /// The VT the console is held on.
    pub fn vt(&self) -> u16 {
        self.vt.number()
    }
}

impl<V: Switching> Drop for SwitchLock<V> {
    fn drop(&mut self) {
        let vt = self.vt.number();
        match self.vt.set_locked(false) {
            Ok(()) => tracing::info!(vt, "VT switching unlocked"),
            Err(errno) => tracing::error!(
                vt,
                error = %std::io::Error::from(errno),
                "cannot unlock VT switching: the console stays on this VT until booth starts \
                 and ends again, or the next boot"
            ),
        }
    }
}

/// What the kiosk does when it takes the screen: on a VT, lock switching away from it. Says
/// in the log, once, why not when it cannot; booth runs on either way.
pub fn hold() -> Option<SwitchLock> {
    match Vt::own() {
        Some(vt) => hold_on(vt),
        None => {
            tracing::info!("booth's terminal is not a virtual terminal: no VT switching to lock");
            None
        }
    }
}

/// [`hold`] on a given VT.
pub fn hold_on<V: Switching>(vt: V) -> Option<SwitchLock<V>> {
    match SwitchLock::lock(vt) {
        Ok(lock) => {
            tracing::info!(
                vt = lock.vt(),
                "VT switching locked while booth runs on this VT"
            );
            Some(lock)
        }
        Err(e @ LockError::NoCapability { .. }) => {
            tracing::warn!(
                error = %e,
                fix = "grant it in booth.service: AmbientCapabilities=CAP_SYS_TTY_CONFIG \
                       (see assets/booth.service and `booth doctor`)",
                "VT switching stays unlocked: Alt+F2 and the like can leave booth's screen"
            );
            None
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                cause = ?std::error::Error::source(&e),
                "VT switching stays unlocked"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A VT whose kernel says `answer` to locking, and notes every call.
    #[derive(Clone, Debug)]
    struct FakeVt {
        calls: Arc<Mutex<Vec<bool>>>,
        answer: Option<rustix::io::Errno>,
    }

    impl FakeVt {
        fn new(answer: Option<rustix::io::Errno>) -> FakeVt {
            FakeVt {
                calls: Arc::default(),
                answer,
            }
        }

        fn calls(&self) -> Vec<bool> {
            self.calls.lock().map(|c| c.clone()).unwrap_or_default()
        }
    }

    impl Switching for FakeVt {
        fn number(&self) -> u16 {
            1
        }

        fn set_locked(&self, locked: bool) -> rustix::io::Result<()> {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(locked);
            }
            match (locked, self.answer) {
                (true, Some(errno)) => Err(errno),
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn only_ttys_1_to_63_are_virtual_terminals() {
        assert_eq!(vt_number(4, 1), Some(1));
        assert_eq!(vt_number(4, 63), Some(63));
        // /dev/tty0 is "the VT in front", /dev/ttyS0 a serial port, /dev/pts/1 a pseudo-terminal.
        assert_eq!(vt_number(4, 0), None);
        assert_eq!(vt_number(4, 64), None);
        assert_eq!(vt_number(136, 1), None);
    }

    #[test]
    fn files_and_other_devices_are_not_virtual_terminals() -> crate::TestResult {
        let file = tempfile::tempfile()?;
        assert_eq!(vt_of(file.as_fd()), None);
        let null = std::fs::File::open("/dev/null")?;
        assert_eq!(vt_of(null.as_fd()), None);
        Ok(())
    }

    #[test]
    fn the_lock_is_released_when_dropped() {
        let vt = FakeVt::new(None);
        let lock = hold_on(vt.clone());
        assert!(lock.is_some());
        assert_eq!(vt.calls(), [true]);
        drop(lock);
        assert_eq!(vt.calls(), [true, false]);
    }

    #[test]
    fn a_panic_unwinding_past_the_lock_releases_it() {
        let vt = FakeVt::new(None);
        let held = vt.clone();
        let outcome = std::panic::catch_unwind(move || {
            let _lock = hold_on(held);
            panic!("the UI task panicked");
        });
        assert!(outcome.is_err());
        assert_eq!(vt.calls(), [true, false]);
    }

    #[test]
    fn without_the_capability_booth_runs_unlocked_and_unlocks_nothing() {
        let vt = FakeVt::new(Some(rustix::io::Errno::PERM));
        assert!(matches!(
            SwitchLock::lock(vt.clone()),
            Err(LockError::NoCapability { vt: 1 })
        ));
        assert!(hold_on(vt.clone()).is_none());
        // Two attempts, and never an unlock of a lock that was not taken.
        assert_eq!(vt.calls(), [true, true]);
    }

    #[test]
    fn other_refusals_keep_the_kernels_reason() {
        let vt = FakeVt::new(Some(rustix::io::Errno::NOTTY));
        match SwitchLock::lock(vt) {
            Err(LockError::Failed { vt: 1, source }) => {
                assert_eq!(
                    source.raw_os_error(),
                    Some(rustix::io::Errno::NOTTY.raw_os_error())
                );
            }
            other => panic!("expected Failed, got {other:?}"),
        }
    }
}
