//! Each console check on prepared folders standing in for `/`: a station set up as the README
//! says (with the files shipped in `assets/`), a stock Debian one, and each door on its own.

use std::path::{Path, PathBuf};

use super::files::{self, Process};
use super::*;
use crate::doctor::Verdict;

/// A folder standing in for a station's `/`.
struct Station {
    dir: tempfile::TempDir,
}

/// `/proc/<pid>/stat`'s tty_nr for a device (major, minor).
fn tty_nr(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

const TTY1: (u32, u32) = (4, 1);
const PTS3: (u32, u32) = (136, 3);
/// CapEff with CAP_SYS_TTY_CONFIG alone, as booth.service grants it.
const CAPS_TTY_CONFIG: &str = "0000000004000000";

impl Station {
    fn new() -> crate::TestResult<Station> {
        Ok(Station {
            dir: tempfile::tempdir()?,
        })
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, path: &str, text: &str) -> crate::TestResult<PathBuf> {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
        std::fs::write(&path, text)?;
        Ok(path)
    }

    fn link(&self, path: &str, target: &str) -> crate::TestResult {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
        std::os::unix::fs::symlink(target, path)?;
        Ok(())
    }

    fn asset(&self, asset: &str, path: &str) -> crate::TestResult {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets")
                .join(asset),
        )?;
        self.write(path, &text)?;
        Ok(())
    }

    /// A process in `/proc` with its name, controlling terminal and effective capabilities.
    fn process(
        &self,
        pid: u32,
        name: &str,
        tty: Option<(u32, u32)>,
        caps: &str,
    ) -> crate::TestResult {
        let nr = tty.map_or(0, |(major, minor)| tty_nr(major, minor));
        self.write(
            &format!("proc/{pid}/stat"),
            &format!("{pid} ({name}) S 1 {pid} {pid} {nr} {pid} 4194560 1 0 0 0\n"),
        )?;
        self.write(
            &format!("proc/{pid}/status"),
            &format!("Name:\t{name}\nCapInh:\t0000000000000000\nCapEff:\t{caps}\n"),
        )?;
        Ok(())
    }

    /// Debian's own settings: getty on tty1, SysRq 438 from systemd's 50-default.conf, the
    /// kernel leaving Ctrl+Alt+Del to systemd.
    fn debian(&self) -> crate::TestResult {
        self.link(
            "etc/systemd/system/getty.target.wants/getty@tty1.service",
            "/usr/lib/systemd/system/getty@.service",
        )?;
        self.write(
            "usr/lib/systemd/logind.conf",
            "[Login]\n#NAutoVTs=6\n#ReserveVT=6\n",
        )?;
        self.write(
            "usr/lib/sysctl.d/50-default.conf",
            "kernel.sysrq = 0x01b6\n",
        )?;
        self.write("proc/sys/kernel/sysrq", "438\n")?;
        self.write("proc/sys/kernel/ctrl-alt-del", "0\n")?;
        Ok(())
    }

    /// Debian set up as the README says, with the files from assets/.
    fn set_up(&self) -> crate::TestResult {
        self.debian()?;
        self.asset("booth.service", "etc/systemd/system/booth.service")?;
        self.asset("logind-booth.conf", "etc/systemd/logind.conf.d/booth.conf")?;
        self.asset("system-booth.conf", "etc/systemd/system.conf.d/booth.conf")?;
        self.asset("sysctl-booth.conf", "etc/sysctl.d/90-booth.conf")?;
        self.link("etc/systemd/system/ctrl-alt-del.target", "/dev/null")?;
        self.write("proc/sys/kernel/sysrq", "16\n")?;
        Ok(())
    }

    fn check(&self, name: &str, kiosk: Option<u32>) -> crate::TestResult<Check> {
        checks(self.root(), kiosk)
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("no {name} check").into())
    }
}

fn assert_warns(check: &Check, words: &[&str]) -> crate::TestResult {
    assert_eq!(check.verdict, Verdict::Warning, "{check:?}");
    for w in words {
        assert!(check.finding.contains(w), "{w:?} not in {check:?}");
    }
    let fix = check.fix.as_deref().ok_or("no fix")?;
    assert!(!fix.contains('\n'), "{fix}");
    Ok(())
}

#[test]
fn a_station_set_up_with_the_shipped_files_passes_every_console_check() -> crate::TestResult {
    let s = Station::new()?;
    s.set_up()?;
    let all = checks(s.root(), None);
    let names: Vec<&str> = all.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["console", "vt-lock", "gettys", "ctrl-alt-del", "sysrq"]
    );
    for c in &all {
        assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
        assert_eq!(c.fix, None);
    }
    assert_eq!(
        all[0].finding,
        "booth.service puts the kiosk on tty1 (it is not running now)"
    );
    assert!(
        all[1].finding.contains("grants CAP_SYS_TTY_CONFIG"),
        "{:?}",
        all[1]
    );
    // getty@tty1 stays enabled: it is booth's own VT, and booth.service conflicts with it.
    assert!(all[2].finding.contains("booth's is tty1"), "{:?}", all[2]);
    // 90-booth.conf comes after Debian's 50-default.conf.
    assert_eq!(all[4].details["at_boot"], 16);
    Ok(())
}

#[test]
fn a_stock_debian_station_has_every_door_open() -> crate::TestResult {
    let s = Station::new()?;
    s.debian()?;
    let all = checks(s.root(), None);
    for c in &all {
        assert_eq!(c.verdict, Verdict::Warning, "{c:?}");
    }
    assert_warns(&all[0], &["booth.service is not installed"])?;
    assert_warns(&all[1], &["nothing grants the kiosk CAP_SYS_TTY_CONFIG"])?;
    assert_warns(
        &all[2],
        &[
            "login prompt on tty2–tty6",
            "NAutoVTs=6",
            "tty6 (ReserveVT=6)",
        ],
    )?;
    assert_warns(
        &all[3],
        &[
            "ctrl-alt-del.target is not masked",
            "7 times within 2 s it does reboot-force",
        ],
    )?;
    assert_warns(
        &all[4],
        &[
            "kernel.sysrq = 438",
            "reboot or power off",
            "remount",
            "booth included",
        ],
    )?;
    assert!(
        !all[4].finding.contains("kill every process"),
        "{:?}",
        all[4]
    );
    Ok(())
}

#[test]
fn gettys_enabled_or_running_on_another_vt_are_doors() -> crate::TestResult {
    let s = Station::new()?;
    s.set_up()?;
    s.link(
        "etc/systemd/system/getty.target.wants/getty@tty3.service",
        "/usr/lib/systemd/system/getty@.service",
    )?;
    s.process(700, "agetty", Some((4, 4)), "0000000000000000")?;
    // A getty on booth's own VT and a shell on a pseudo-terminal are not doors.
    s.process(701, "agetty", Some(TTY1), "0000000000000000")?;
    s.process(702, "getty-not", Some(PTS3), "0000000000000000")?;
    let c = s.check("gettys", None)?;
    assert_warns(
        &c,
        &["getty@tty3.service enabled", "a login prompt runs on tty4"],
    )?;
    assert!(!c.finding.contains("NAutoVTs"), "{c:?}");

    // Masked, the enabled unit no longer counts; logind's own numbers come back from a
    // later drop-in.
    s.link("etc/systemd/system/getty@tty3.service", "/dev/null")?;
    std::fs::remove_dir_all(s.root().join("proc/700"))?;
    assert_eq!(s.check("gettys", None)?.verdict, Verdict::Ok);
    s.write(
        "run/systemd/logind.conf.d/zz-late.conf",
        "[Login]\nReserveVT=5\n",
    )?;
    assert_warns(
        &s.check("gettys", None)?,
        &["keeps one on tty5 (ReserveVT=5)"],
    )?;
    Ok(())
}

#[test]
fn ctrl_alt_del_needs_the_mask_the_burst_action_and_a_quiet_kernel() -> crate::TestResult {
    let s = Station::new()?;
    s.set_up()?;
    assert_eq!(s.check("ctrl-alt-del", None)?.verdict, Verdict::Ok);

    // Masked, but seven presses still force a reboot without system-booth.conf.
    std::fs::remove_file(s.root().join("etc/systemd/system.conf.d/booth.conf"))?;
    let c = s.check("ctrl-alt-del", None)?;
    assert_warns(&c, &["7 times within 2 s it does reboot-force"])?;
    assert!(!c.finding.contains("not masked"), "{c:?}");

    s.asset("system-booth.conf", "etc/systemd/system.conf.d/booth.conf")?;
    s.write("proc/sys/kernel/ctrl-alt-del", "1\n")?;
    assert_warns(
        &s.check("ctrl-alt-del", None)?,
        &["the kernel reboots at once by itself"],
    )?;
    Ok(())
}

#[test]
fn sysrq_is_judged_now_at_boot_and_on_the_kernel_command_line() -> crate::TestResult {
    let s = Station::new()?;
    s.set_up()?;
    assert_eq!(s.check("sysrq", None)?.verdict, Verdict::Ok);

    s.write("proc/sys/kernel/sysrq", "1\n")?;
    assert_warns(
        &s.check("sysrq", None)?,
        &["kernel.sysrq = 1", "do everything"],
    )?;
    s.write("proc/sys/kernel/sysrq", "64\n")?;
    assert_warns(&s.check("sysrq", None)?, &["kill every process"])?;

    // Set by hand to 16, but the boot would bring Debian's 438 back.
    s.write("proc/sys/kernel/sysrq", "16\n")?;
    std::fs::remove_file(s.root().join("etc/sysctl.d/90-booth.conf"))?;
    let c = s.check("sysrq", None)?;
    assert_warns(&c, &["16 now", "50-default.conf sets 438 at the next boot"])?;

    s.asset("sysctl-booth.conf", "etc/sysctl.d/90-booth.conf")?;
    s.write(
        "proc/cmdline",
        "BOOT_IMAGE=/vmlinuz root=/dev/sda1 sysrq_always_enabled quiet\n",
    )?;
    assert_warns(&s.check("sysrq", None)?, &["sysrq_always_enabled"])?;

    // A kernel without SysRq has no such door.
    let bare = Station::new()?;
    let c = bare.check("sysrq", None)?;
    assert_eq!(
        (c.verdict, c.finding.as_str()),
        (Verdict::Ok, "this kernel has no Magic SysRq")
    );
    Ok(())
}

#[test]
fn a_running_kiosk_is_judged_by_its_terminal_and_capabilities() -> crate::TestResult {
    let s = Station::new()?;
    s.set_up()?;
    s.process(4242, "booth", Some(TTY1), CAPS_TTY_CONFIG)?;
    let c = s.check("console", Some(4242))?;
    assert_eq!(
        (c.verdict, c.finding.as_str()),
        (Verdict::Ok, "the kiosk (pid 4242) runs on tty1")
    );
    let c = s.check("vt-lock", Some(4242))?;
    assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
    assert!(
        c.finding.contains("VT switching is locked while it runs"),
        "{c:?}"
    );

    // Started without the capability (an old unit, or by hand).
    s.process(4243, "booth", Some(TTY1), "0000000000000000")?;
    let c = s.check("vt-lock", Some(4243))?;
    assert_warns(&c, &["lacks CAP_SYS_TTY_CONFIG"])?;
    assert!(
        c.fix
            .as_deref()
            .ok_or("no fix")?
            .contains("AmbientCapabilities=CAP_SYS_TTY_CONFIG")
    );

    // In a terminal window: no console of its own.
    s.process(4244, "booth", Some(PTS3), CAPS_TTY_CONFIG)?;
    assert_warns(
        &s.check("console", Some(4244))?,
        &["runs on pts/3, not on a virtual terminal"],
    )?;
    assert_warns(
        &s.check("vt-lock", Some(4244))?,
        &["not on a virtual terminal"],
    )?;

    // The kiosk's VT is the one the gettys check spares.
    s.process(4245, "booth", Some((4, 2)), CAPS_TTY_CONFIG)?;
    s.link(
        "etc/systemd/system/getty.target.wants/getty@tty2.service",
        "/usr/lib/systemd/system/getty@.service",
    )?;
    let c = s.check("gettys", Some(4245))?;
    assert_warns(&c, &["getty@tty1.service enabled"])?;
    assert!(!c.finding.contains("tty2"), "{c:?}");
    let c = s.check("gettys", Some(4242))?;
    assert_warns(&c, &["getty@tty2.service enabled"])?;
    assert!(!c.finding.contains("tty1"), "{c:?}");
    Ok(())
}

#[test]
fn the_unit_must_grant_the_capability_within_its_bounding_set() -> crate::TestResult {
    let s = Station::new()?;
    s.set_up()?;
    // A drop-in that takes the capability away again.
    s.write(
        "etc/systemd/system/booth.service.d/tighter.conf",
        "[Service]\nCapabilityBoundingSet=~CAP_SYS_TTY_CONFIG CAP_SYS_ADMIN\n",
    )?;
    assert_warns(
        &s.check("vt-lock", None)?,
        &["CapabilityBoundingSet= leaves out CAP_SYS_TTY_CONFIG"],
    )?;
    // A unit of its own, as the booth user without ambient capabilities, not on a VT.
    let own = Station::new()?;
    own.write(
        "etc/systemd/system/booth.service",
        "[Service]\nUser=booth\nExecStart=/usr/local/bin/booth run\n",
    )?;
    assert_warns(
        &own.check("vt-lock", None)?,
        &["runs booth as booth without AmbientCapabilities=CAP_SYS_TTY_CONFIG"],
    )?;
    assert_warns(
        &own.check("console", None)?,
        &["does not put the kiosk on a virtual terminal"],
    )?;
    // As root, with TTYPath on tty3 (the package's unit folder, written across lines).
    let root = Station::new()?;
    root.write(
        "usr/lib/systemd/system/booth.service",
        "[Service]\nExecStart=/usr/local/bin/booth \\\n  run\nStandardInput=tty\nTTYPath=/dev/tty3\n",
    )?;
    assert_eq!(root.check("vt-lock", None)?.verdict, Verdict::Ok);
    assert!(root.check("console", None)?.finding.contains("tty3"));
    Ok(())
}

#[test]
fn settings_files_are_read_as_systemd_and_the_kernel_read_them() -> crate::TestResult {
    let parsed = files::parse_ini("# c\n[A]\nK = v \\\n w\n; x=y\n[B]\nK=\n");
    assert_eq!(parsed.len(), 2);
    assert_eq!(
        (parsed[0].section.as_str(), parsed[0].value.as_str()),
        ("A", "v  w")
    );
    assert_eq!(
        (parsed[1].section.as_str(), parsed[1].value.as_str()),
        ("B", "")
    );

    let cap = "CAP_SYS_TTY_CONFIG";
    assert!(!files::capability_in(&[], cap, false));
    assert!(files::capability_in(&[], cap, true));
    assert!(files::capability_in(
        &["CAP_NET_RAW", "CAP_SYS_TTY_CONFIG"],
        cap,
        false
    ));
    assert!(!files::capability_in(
        &["CAP_SYS_TTY_CONFIG", ""],
        cap,
        false
    ));
    assert!(files::capability_in(&["~CAP_SYS_ADMIN"], cap, false));
    assert!(!files::capability_in(
        &["CAP_SYS_TTY_CONFIG", "~CAP_SYS_TTY_CONFIG"],
        cap,
        true
    ));

    assert_eq!(files::parse_number("0x01b6"), Some(438));
    assert_eq!(files::parse_number(" 16\n"), Some(16));
    assert_eq!(files::parse_number("lots"), None);

    // A process name may hold spaces and parentheses.
    let s = Station::new()?;
    s.write(
        "proc/9/stat",
        &format!("9 (a) b (c)) S 1 9 9 {} 9 0\n", tty_nr(136, 300)),
    )?;
    let p = Process::read(s.root(), 9).ok_or("not read")?;
    assert_eq!(
        (p.name.as_str(), p.tty, p.caps),
        ("a) b (c)", Some((136, 300)), None)
    );
    assert_eq!(terminal_name(p.tty), "pts/300");
    assert_eq!(vt_list(&[2, 3, 4, 5]), "tty2–tty5");
    assert_eq!(vt_list(&[2, 4]), "tty2, tty4");
    Ok(())
}
