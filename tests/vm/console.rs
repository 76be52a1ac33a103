//! The kiosk on a virtual terminal of the guest's console (scenarios vt-* in guest.sh): while
//! it runs, `chvt 2` does not leave its tty1; once it has ended, by SIGTERM or by its own quit,
//! the console switches again; started while another VT is in front, it brings its own there
//! first; without CAP_SYS_TTY_CONFIG it says so and the console is not locked. The foreground VT is the kernel's word (/sys/class/tty/tty0/active).
//!
//! A panic is the one way out not shown here: booth has no way to make itself panic, and gets
//! none for a test. A panic in a worker thread is caught and logged while the kiosk (and its
//! lock) goes on, so the console is released by the exit that follows, one of those here; a
//! panic on the UI task unwinds through the terminal guard, which `vt::tests` shows releasing
//! the lock.

use super::Scenario;

/// What a vt-* scenario saw.
struct Console {
    /// The foreground VT before `chvt 2`, just after it, and after booth ended.
    before: String,
    during: String,
    after: String,
    /// `chvt 2`'s exit code while booth ran (124/143: cut short by `timeout`) and after.
    chvt_during: i32,
    chvt_after: i32,
}

fn console(s: &Scenario) -> Console {
    let code = |f: &str| -> i32 {
        let text = s.file(f);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{}: bad {f} {text:?}", s.name))
    };
    Console {
        before: s.file("vt-before").trim().to_string(),
        during: s.file("vt-during").trim().to_string(),
        after: s.file("vt-after").trim().to_string(),
        chvt_during: code("chvt-during"),
        chvt_after: code("chvt-after"),
    }
}

/// booth locked VT switching on tty1 once, `chvt 2` could not leave it, and after booth ended
/// (exit 0) the lock was gone: `chvt 2` went through.
fn held_then_released(s: &Scenario) {
    let log = s.log();
    let ctx = format!("{}\nlog:\n{log}", s.context());
    assert_eq!(s.exit(), 0, "{ctx}");
    let c = console(s);
    assert_eq!(c.before, "tty1", "booth was not started on tty1\n{ctx}");
    assert_eq!(
        c.during, "tty1",
        "chvt 2 left booth's VT while booth ran\n{ctx}"
    );
    assert_ne!(
        c.chvt_during, 0,
        "chvt 2 finished while booth held the console\n{ctx}"
    );
    assert_eq!(
        c.after, "tty2",
        "the console stayed locked after booth\n{ctx}"
    );
    assert_eq!(c.chvt_after, 0, "{ctx}");

    let locked = log
        .find("VT switching locked while booth runs on this VT")
        .unwrap_or_else(|| panic!("booth did not say it locked VT switching\n{ctx}"));
    let unlocked = log
        .find("VT switching unlocked")
        .unwrap_or_else(|| panic!("booth did not say it unlocked VT switching\n{ctx}"));
    assert!(locked < unlocked, "{ctx}");
    assert_eq!(log.matches("VT switching locked").count(), 1, "{ctx}");
    assert_eq!(log.matches("VT switching unlocked").count(), 1, "{ctx}");
    assert!(
        log[locked..]
            .lines()
            .next()
            .is_some_and(|l| l.contains("vt=1")),
        "{ctx}"
    );
    assert!(log.contains("booth run ended"), "{ctx}");
}

#[test]
fn vm_the_kiosk_holds_its_vt_until_sigterm() {
    let s = Scenario::get("vt-sigterm");
    held_then_released(&s);
    assert!(
        s.log().contains("signal received msg=Terminate"),
        "{}",
        s.log()
    );
}

#[test]
fn vm_the_kiosk_brings_its_vt_to_the_front_and_holds_it_until_it_quits() {
    let s = Scenario::get("vt-quit");
    // tty2 was in front when booth started; held_then_released finds tty1 in front.
    assert_eq!(s.file("vt-at-start").trim(), "tty2", "{}", s.context());
    held_then_released(&s);
    let log = s.log();
    assert!(
        log.contains("brought booth's VT to the front vt=1 from=2"),
        "{log}"
    );
    assert!(log.contains("signal received msg=Interrupt"), "{log}");
}

#[test]
fn vm_without_the_capability_the_kiosk_says_so_once_and_the_console_switches() {
    let s = Scenario::get("vt-nocap");
    let log = s.log();
    let ctx = format!("{}\nlog:\n{log}", s.context());
    assert_eq!(s.exit(), 0, "{ctx}");
    let c = console(&s);
    assert_eq!(
        (c.before.as_str(), c.during.as_str()),
        ("tty1", "tty2"),
        "{ctx}"
    );
    assert_eq!(c.chvt_during, 0, "{ctx}");
    assert_eq!(
        log.matches("VT switching stays unlocked").count(),
        1,
        "{ctx}"
    );
    assert!(log.contains("CAP_SYS_TTY_CONFIG"), "{ctx}");
    // Nothing was locked, so nothing is unlocked.
    assert!(!log.contains("VT switching locked"), "{ctx}");
    assert!(!log.contains("VT switching unlocked"), "{ctx}");
}
