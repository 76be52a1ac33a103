//! The two VT ioctls booth makes, and the only `unsafe` code in booth. Neither rustix nor nix
//! offers VT_LOCKSWITCH as a safe function (both make the caller vouch for the opcode with
//! `unsafe`), and the one crate that wraps it (`vt`) works only on `/dev/console`, which the
//! unprivileged `booth` user cannot open. So the vouching is done here, once, for three opcodes
//! that pass no memory: two without an argument, one with a number.
#![allow(unsafe_code)]

use std::os::fd::BorrowedFd;

use rustix::ioctl::{IntegerSetter, NoArg, Opcode, ioctl};

/// From `<linux/vt.h>`: bring a VT to the front; forbid and allow switching away from it.
const VT_ACTIVATE: Opcode = 0x5606;
const VT_LOCKSWITCH: Opcode = 0x560B;
const VT_UNLOCKSWITCH: Opcode = 0x560C;

/// Asks the console to bring VT `number` to the front; the switch itself follows a moment
/// later. EPERM unless `vt` is the caller's controlling terminal or it has CAP_SYS_TTY_CONFIG.
pub(super) fn activate(vt: BorrowedFd<'_>, number: u16) -> rustix::io::Result<()> {
    // SAFETY: VT_ACTIVATE is a valid opcode whose argument is the VT number itself, passed by
    // value (`IntegerSetter`): the kernel reads no memory through it and range-checks it
    // (ENXIO).
    unsafe {
        ioctl(
            vt,
            IntegerSetter::<VT_ACTIVATE>::new_usize(usize::from(number)),
        )
    }
}

/// Forbids VT switching on the whole console (Alt+Fn, Ctrl+Alt+Fn, `chvt`). EPERM without
/// CAP_SYS_TTY_CONFIG; ENOTTY when `vt` is not a virtual terminal.
pub(super) fn lock_switch(vt: BorrowedFd<'_>) -> rustix::io::Result<()> {
    // SAFETY: VT_LOCKSWITCH is a valid opcode that takes no argument: the kernel reads and
    // writes no memory through it (`NoArg` passes a null pointer), it only sets a flag of the
    // console. On any other device the opcode is refused (ENOTTY).
    unsafe { ioctl(vt, NoArg::<VT_LOCKSWITCH>::new()) }
}

/// Allows VT switching again; the same conditions as [`lock_switch`].
pub(super) fn unlock_switch(vt: BorrowedFd<'_>) -> rustix::io::Result<()> {
    // SAFETY: as for VT_LOCKSWITCH: no argument, no memory accessed, only the console's flag.
    unsafe { ioctl(vt, NoArg::<VT_UNLOCKSWITCH>::new()) }
}
