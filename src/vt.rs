//! The Linux virtual terminal (VT) the kiosk runs on, and the lock on VT switching it holds
//! there, so that Alt+Fn, Ctrl+Alt+Fn and `chvt` cannot take a candidate off booth's screen.
//!
//! The lock is the kernel's (VT_LOCKSWITCH): one flag for the whole console, which only a
//! process with CAP_SYS_TTY_CONFIG may set or clear (booth.service grants booth exactly that).
//! Since it holds whichever VT is in front, booth first brings its own there (someone may have
//! switched away while booth was restarting); if that fails, it does not lock.
//! A [`SwitchLock`] clears it when dropped; the terminal guard owns one, so every way out of
//! the kiosk that unwinds (an operator's quit, SIGTERM, a panic on the UI task) lets the
//! console switch again. A death that runs no destructor (SIGKILL, abort) leaves the console
//! locked until booth's next start and end, or the next boot.
//!
//! Also the device-number rule the doctor judges other processes' terminals by ([`vt_number`]).

mod ioctl;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// The device major of /dev/tty0..63 (the VTs) and /dev/ttyS* (serial ports, minors 64..).
const TTY_MAJOR: u32 = 4;
/// The kernel's MAX_NR_CONSOLES; minor 0 is /dev/tty0, "whichever VT is in front".
const LAST_VT: u32 = 63;
/// Where the kernel says which VT is in front (`tty1`).
const FRONT: &str = "/sys/class/tty/tty0/active";
/// How long a VT switch may take before booth gives up bringing its own to the front: the
/// kernel switches at once, unless the VT in front belongs to a program that must agree.
const FRONT_WAIT: Duration = Duration::from_secs(2);
const FRONT_POLL: Duration = Duration::from_millis(20);

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

/// What a lock needs of a VT: its number, which VT is in front, and the kernel's switches.
/// Tests stand in for the kernel with their own.
pub trait Switching {
    fn number(&self) -> u16;
    /// The VT in front of the console; `None` when the kernel does not say.
    fn front(&self) -> Option<u16>;
    /// Asks for this VT to come to the front.
    fn activate(&self) -> rustix::io::Result<()>;
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

    fn front(&self) -> Option<u16> {
        let name = std::fs::read_to_string(FRONT).ok()?;
        let number = name.trim().strip_prefix("tty")?.parse().ok()?;
        vt_number(TTY_MAJOR, number)
    }

    fn activate(&self) -> rustix::io::Result<()> {
        ioctl::activate(self.fd.as_fd(), self.number)
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
    #[error("booth's tty{vt} could not be brought to the front (tty{front} stays there)")]
    NotInFront { vt: u16, front: u16 },
    #[error("cannot bring booth's tty{vt} to the front")]
    Activate {
        vt: u16,
        #[source]
        source: std::io::Error,
    },
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
    /// Brings `vt` to the front if another VT is there, then locks VT switching.
    pub fn lock(vt: V) -> Result<SwitchLock<V>, LockError> {
        bring_to_front(&vt)?;
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

/// Makes `vt` the VT in front, waiting at most [`FRONT_WAIT`] for the switch. When the kernel
/// does not say which VT is in front, it is taken to be booth's.
fn bring_to_front<V: Switching>(vt: &V) -> Result<(), LockError> {
    let number = vt.number();
    let Some(front) = vt.front().filter(|&f| f != number) else {
        return Ok(());
    };
    vt.activate().map_err(|errno| LockError::Activate {
        vt: number,
        source: errno.into(),
    })?;
    let asked = Instant::now();
    loop {
        match vt.front() {
            Some(now) if now == number => {
                tracing::info!(vt = number, from = front, "brought booth's VT to the front");
                return Ok(());
            }
            Some(now) if asked.elapsed() >= FRONT_WAIT => {
                return Err(LockError::NotInFront {
                    vt: number,
                    front: now,
                });
            }
            None => return Ok(()),
            Some(_) => std::thread::sleep(FRONT_POLL),
        }
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

    /// tty1 as the kernel would treat it: `answer` to locking, `front` the VT in front (which
    /// activating makes tty1 unless `stuck`), every call noted.
    #[derive(Clone, Debug)]
    struct FakeVt {
        calls: Arc<Mutex<Vec<&'static str>>>,
        front: Arc<Mutex<Option<u16>>>,
        stuck: bool,
        answer: Option<rustix::io::Errno>,
    }

    impl FakeVt {
        fn new(answer: Option<rustix::io::Errno>) -> FakeVt {
            FakeVt {
                calls: Arc::default(),
                front: Arc::new(Mutex::new(Some(1))),
                stuck: false,
                answer,
            }
        }

        fn in_front(self, front: Option<u16>) -> FakeVt {
            if let Ok(mut f) = self.front.lock() {
                *f = front;
            }
            self
        }

        fn note(&self, call: &'static str) {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(call);
            }
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().map(|c| c.clone()).unwrap_or_default()
        }
    }

    impl Switching for FakeVt {
        fn number(&self) -> u16 {
            1
        }

        fn front(&self) -> Option<u16> {
            self.front.lock().ok().and_then(|f| *f)
        }

        fn activate(&self) -> rustix::io::Result<()> {
            self.note("activate");
            if !self.stuck
                && let Ok(mut f) = self.front.lock()
            {
                *f = Some(1);
            }
            Ok(())
        }

        fn set_locked(&self, locked: bool) -> rustix::io::Result<()> {
            self.note(if locked { "lock" } else { "unlock" });
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
        assert_eq!(vt.calls(), ["lock"]);
        drop(lock);
        assert_eq!(vt.calls(), ["lock", "unlock"]);
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
        assert_eq!(vt.calls(), ["lock", "unlock"]);
    }

    #[test]
    fn booths_vt_is_brought_to_the_front_before_the_console_is_locked() {
        // Someone switched to tty2 while booth was restarting.
        let vt = FakeVt::new(None).in_front(Some(2));
        let lock = hold_on(vt.clone());
        assert_eq!(lock.as_ref().map(SwitchLock::vt), Some(1));
        assert_eq!(vt.calls(), ["activate", "lock"]);
        assert_eq!(vt.front(), Some(1));
        // A kernel that does not say which VT is in front: locked as it is.
        let blind = FakeVt::new(None).in_front(None);
        assert!(hold_on(blind.clone()).is_some());
        assert_eq!(blind.calls(), ["lock", "unlock"]);
    }

    #[test]
    fn a_vt_that_will_not_come_to_the_front_is_not_locked_there() {
        let vt = FakeVt {
            stuck: true,
            ..FakeVt::new(None).in_front(Some(3))
        };
        let started = Instant::now();
        match SwitchLock::lock(vt.clone()) {
            Err(LockError::NotInFront { vt: 1, front: 3 }) => {}
            other => panic!("expected NotInFront, got {other:?}"),
        }
        assert!(started.elapsed() >= FRONT_WAIT);
        // Locking now would hold the console on tty3, away from the kiosk.
        assert_eq!(vt.calls(), ["activate"]);
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
        assert_eq!(vt.calls(), ["lock", "lock"]);
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
