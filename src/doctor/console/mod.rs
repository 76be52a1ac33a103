//! The doctor's checks of the Linux console: the doors by which a candidate at the keyboard
//! could leave booth's screen or end the interview. Each is ok or a warning with a one-line
//! fix, never a failure (a station with a door open still records):
//!
//! - `console`: the kiosk runs on a virtual terminal (its own screen and keyboard);
//! - `vt-lock`: it may lock VT switching there (CAP_SYS_TTY_CONFIG, see [`crate::vt`]);
//! - `gettys`: no login prompt waits on another VT (logind's `NAutoVTs`/`ReserveVT`, getty
//!   units enabled, gettys running);
//! - `ctrl-alt-del`: Ctrl+Alt+Del reboots nothing (`ctrl-alt-del.target` masked, systemd's
//!   `CtrlAltDelBurstAction=none`, the kernel not rebooting by itself);
//! - `sysrq`: Magic SysRq cannot reboot, kill or remount read-only, now or after a boot;
//!
//! and, beside them, `sandbox`: the unit lets the kiosk write where its configuration says
//! (a failure when not: answers would wait for ever).
//!
//! Everything is read under a folder standing in for `/`: `/` on a station, a prepared folder
//! in tests. The settings that close these doors ship in `assets/` (see the README).

mod files;
mod sandbox;
#[cfg(test)]
mod tests;

pub(super) use sandbox::check as sandbox;

use std::path::Path;

use serde_json::json;

use super::Check;
use files::{Process, Settings};

/// The kiosk's systemd unit, as `assets/booth.service` is installed.
const UNIT: &str = "booth.service";
const CAP_SYS_TTY_CONFIG: u32 = 26;
const CAP_NAME: &str = "CAP_SYS_TTY_CONFIG";
/// logind's defaults for `NAutoVTs` and `ReserveVT`.
const LOGIND_DEFAULT_VTS: u32 = 6;

const INSTALL_UNIT: &str = "install assets/booth.service as /etc/systemd/system/booth.service \
                            (README: Setting up a booth), which puts the kiosk on tty1";
const GRANT: &str = "add AmbientCapabilities=CAP_SYS_TTY_CONFIG under [Service] in booth.service \
                     (as in assets/booth.service), then sudo systemctl daemon-reload && sudo \
                     systemctl restart booth";

/// Where the kiosk is, as these checks see it: the running one (from `/proc`) and the unit
/// that starts it.
struct Booth {
    kiosk: Option<Process>,
    unit: Option<Settings>,
}

impl Booth {
    fn read(root: &Path, kiosk_pid: Option<u32>) -> Booth {
        Booth {
            kiosk: kiosk_pid.and_then(|pid| Process::read(root, pid)),
            unit: Settings::unit(root, UNIT),
        }
    }

    /// The VT the kiosk is on, or will be on when the unit starts it.
    fn vt(&self) -> Option<u16> {
        match &self.kiosk {
            Some(kiosk) => kiosk.vt(),
            None => self.unit.as_ref().and_then(unit_vt),
        }
    }
}

/// The VT a unit runs its program on: standard input on a terminal, and that terminal a VT.
fn unit_vt(unit: &Settings) -> Option<u16> {
    let input = unit.last("Service", "StandardInput")?;
    if !input.starts_with("tty") {
        return None;
    }
    // systemd's default terminal is /dev/console, which is no particular VT.
    let path = unit.last("Service", "TTYPath").unwrap_or("/dev/console");
    let number = path.strip_prefix("/dev/tty")?.parse().ok()?;
    crate::vt::vt_number(4, number)
}

/// The console checks, judging `root` as the station's `/`; `kiosk_pid` is the running
/// kiosk's process, if there is one.
pub(super) fn checks(root: &Path, kiosk_pid: Option<u32>) -> Vec<Check> {
    let booth = Booth::read(root, kiosk_pid);
    vec![
        console(&booth),
        vt_lock(&booth),
        gettys(root, &booth),
        ctrl_alt_del(root),
        sysrq(root),
    ]
}

/// A terminal in words: `tty2`, `pts/3`, `ttyS0`.
fn terminal_name(tty: Option<(u32, u32)>) -> String {
    match tty {
        None => "no terminal".to_string(),
        Some((4, minor)) if minor >= 64 => format!("ttyS{}", minor - 64),
        Some((4, minor)) => format!("tty{minor}"),
        Some((major, minor)) if (136..=143).contains(&major) => {
            format!("pts/{}", (major - 136) * 256 + minor)
        }
        Some((major, minor)) => format!("the terminal {major}:{minor}"),
    }
}

fn console(booth: &Booth) -> Check {
    const NAME: &str = "console";
    let details = json!({
        "kiosk_pid": booth.kiosk.as_ref().map(|k| k.pid),
        "kiosk_terminal": booth.kiosk.as_ref().map(|k| terminal_name(k.tty)),
        "unit_files": booth.unit.as_ref().map(|u| &u.files),
        "vt": booth.vt(),
    });
    match (&booth.kiosk, &booth.unit) {
        (Some(kiosk), _) => match kiosk.vt() {
            Some(vt) => Check::ok(
                NAME,
                format!("the kiosk (pid {}) runs on tty{vt}", kiosk.pid),
            ),
            None => Check::warning(
                NAME,
                format!(
                    "the kiosk (pid {}) runs on {}, not on a virtual terminal: the console's \
                     doors are not booth's to close",
                    kiosk.pid,
                    terminal_name(kiosk.tty)
                ),
                format!("start the kiosk from booth.service: {INSTALL_UNIT}"),
            ),
        },
        (None, Some(unit)) => match unit_vt(unit) {
            Some(vt) => Check::ok(
                NAME,
                format!("booth.service puts the kiosk on tty{vt} (it is not running now)"),
            ),
            None => Check::warning(
                NAME,
                "booth.service does not put the kiosk on a virtual terminal",
                "set StandardInput=tty and TTYPath=/dev/tty1 in booth.service, as in \
                 assets/booth.service",
            ),
        },
        (None, None) => Check::warning(
            NAME,
            "no kiosk is running and booth.service is not installed",
            INSTALL_UNIT,
        ),
    }
    .with(details)
}

const VT_LOCK: &str = "vt-lock";

fn vt_lock(booth: &Booth) -> Check {
    match (&booth.kiosk, &booth.unit) {
        (Some(kiosk), _) => kiosk_may_lock(kiosk),
        (None, Some(unit)) => unit_grants_lock(unit),
        (None, None) => Check::warning(
            VT_LOCK,
            format!("booth.service is not installed: nothing grants the kiosk {CAP_NAME}"),
            INSTALL_UNIT,
        ),
    }
}

/// Whether the running kiosk holds the capability (its effective set, from `/proc`).
fn kiosk_may_lock(kiosk: &Process) -> Check {
    const NAME: &str = VT_LOCK;
    let holds = kiosk.caps.map(|c| c & (1 << CAP_SYS_TTY_CONFIG) != 0);
    let details = json!({ "kiosk_pid": kiosk.pid, "cap_sys_tty_config": holds });
    let Some(vt) = kiosk.vt() else {
        return Check::warning(
            NAME,
            "no VT switching to lock: the kiosk is not on a virtual terminal",
            format!("start the kiosk from booth.service: {INSTALL_UNIT}"),
        )
        .with(details);
    };
    match holds {
        Some(true) => Check::ok(
            NAME,
            format!("the kiosk on tty{vt} holds {CAP_NAME}: VT switching is locked while it runs"),
        ),
        Some(false) => Check::warning(
            NAME,
            format!(
                "the kiosk on tty{vt} lacks {CAP_NAME}: Alt+F2 and the like switch away \
                 from it"
            ),
            GRANT,
        ),
        None => Check::warning(
            NAME,
            format!(
                "cannot read the kiosk's capabilities (/proc/{}/status)",
                kiosk.pid
            ),
            "run booth doctor as root or as the booth user",
        ),
    }
    .with(details)
}

/// Whether the unit would give the kiosk the capability: as root, or as another user with
/// ambient capabilities, and either way within the bounding set.
fn unit_grants_lock(unit: &Settings) -> Check {
    const NAME: &str = VT_LOCK;
    let user = unit.last("Service", "User").unwrap_or("root");
    let as_root = user == "root" || user == "0";
    let ambient =
        files::capability_in(&unit.all("Service", "AmbientCapabilities"), CAP_NAME, false);
    let bounded = files::capability_in(
        &unit.all("Service", "CapabilityBoundingSet"),
        CAP_NAME,
        true,
    );
    let details = json!({
        "unit_files": unit.files,
        "user": user,
        "ambient": ambient,
        "bounding_set_allows": bounded,
    });
    if bounded && (as_root || ambient) {
        Check::ok(
            NAME,
            format!("booth.service grants {CAP_NAME}: the kiosk locks VT switching while it runs"),
        )
    } else {
        let why = if bounded {
            format!("booth.service runs booth as {user} without AmbientCapabilities={CAP_NAME}")
        } else {
            format!("booth.service's CapabilityBoundingSet= leaves out {CAP_NAME}")
        };
        Check::warning(
            NAME,
            format!("{why}: the kiosk cannot lock VT switching"),
            GRANT,
        )
    }
    .with(details)
}

/// `tty2–tty6`, or `tty2, tty4`.
fn vt_list(vts: &[u16]) -> String {
    let contiguous = vts.windows(2).all(|w| w[1] == w[0] + 1);
    match vts {
        [first, .., last] if vts.len() > 2 && contiguous => format!("tty{first}–tty{last}"),
        _ => vts
            .iter()
            .map(|v| format!("tty{v}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The VT of a getty unit name: `getty@tty3.service`, `autovt@tty3.service`.
fn getty_unit_vt(unit: &str) -> Option<u16> {
    let rest = unit
        .strip_prefix("getty@tty")
        .or_else(|| unit.strip_prefix("autovt@tty"))?;
    let number = rest.strip_suffix(".service")?.parse().ok()?;
    crate::vt::vt_number(4, number)
}

fn gettys(root: &Path, booth: &Booth) -> Check {
    const NAME: &str = "gettys";
    // Without a kiosk or unit to say otherwise, booth's place is the first console.
    let own = booth.vt().unwrap_or(1);
    let logind = Settings::daemon(root, "logind.conf");
    let setting = |key| {
        logind
            .last("Login", key)
            .and_then(files::parse_number)
            .unwrap_or(LOGIND_DEFAULT_VTS)
    };
    let (auto, reserve) = (setting("NAutoVTs"), setting("ReserveVT"));
    let on_demand: Vec<u16> = (1..=auto.min(63))
        .filter_map(|n| crate::vt::vt_number(4, n))
        .filter(|&vt| vt != own)
        .collect();
    let reserved = crate::vt::vt_number(4, reserve).filter(|&vt| vt != own);
    let template_masked = files::masked(root, "getty@.service");
    let enabled: Vec<String> = files::wanted_units(root)
        .into_iter()
        .filter(|u| getty_unit_vt(u).is_some_and(|vt| vt != own))
        .filter(|u| !template_masked && !files::masked(root, u))
        .collect();
    let mut running: Vec<u16> = Process::all(root)
        .iter()
        .filter(|p| p.name.ends_with("getty"))
        .filter_map(Process::vt)
        .filter(|&vt| vt != own)
        .collect();
    running.sort_unstable();
    running.dedup();
    let details = json!({
        "booth_vt": own,
        "logind_files": logind.files,
        "n_auto_vts": auto,
        "reserve_vt": reserve,
        "enabled": enabled,
        "running_on": running,
    });
    let mut doors = Vec::new();
    if !on_demand.is_empty() {
        doors.push(format!(
            "logind opens a login prompt on {} for whoever switches there (NAutoVTs={auto})",
            vt_list(&on_demand)
        ));
    }
    if let Some(vt) = reserved {
        doors.push(format!("logind keeps one on tty{vt} (ReserveVT={reserve})"));
    }
    if !enabled.is_empty() {
        doors.push(format!("{} enabled", enabled.join(", ")));
    }
    if !running.is_empty() {
        doors.push(format!("a login prompt runs on {}", vt_list(&running)));
    }
    if doors.is_empty() {
        return Check::ok(
            NAME,
            format!("no login prompt on another virtual terminal (booth's is tty{own})"),
        )
        .with(details);
    }
    Check::warning(
        NAME,
        doors.join("; "),
        "install assets/logind-booth.conf as /etc/systemd/logind.conf.d/booth.conf, disable \
         any other getty (sudo systemctl disable getty@tty2), then reboot",
    )
    .with(details)
}

fn ctrl_alt_del(root: &Path) -> Check {
    const NAME: &str = "ctrl-alt-del";
    let masked = files::masked(root, "ctrl-alt-del.target");
    let system = Settings::daemon(root, "system.conf");
    // systemd's default: seven presses within two seconds force a reboot even when masked.
    let burst = system
        .last("Manager", "CtrlAltDelBurstAction")
        .unwrap_or("reboot-force")
        .to_string();
    let kernel = std::fs::read_to_string(root.join("proc/sys/kernel/ctrl-alt-del"))
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok());
    let details = json!({
        "target_masked": masked,
        "burst_action": burst,
        "system_files": system.files,
        "kernel_ctrl_alt_del": kernel,
    });
    let mut doors = Vec::new();
    if !masked {
        doors.push("ctrl-alt-del.target is not masked: Ctrl+Alt+Del reboots".to_string());
    }
    if burst != "none" {
        doors.push(format!(
            "pressed 7 times within 2 s it does {burst} (CtrlAltDelBurstAction)"
        ));
    }
    if kernel.is_some_and(|k| k > 0) {
        doors.push("the kernel reboots at once by itself (kernel.ctrl-alt-del = 1)".to_string());
    }
    if doors.is_empty() {
        return Check::ok(
            NAME,
            "Ctrl+Alt+Del does nothing (ctrl-alt-del.target masked, CtrlAltDelBurstAction=none)",
        )
        .with(details);
    }
    Check::warning(
        NAME,
        doors.join("; "),
        "sudo systemctl mask ctrl-alt-del.target, install assets/system-booth.conf as \
         /etc/systemd/system.conf.d/booth.conf and assets/sysctl-booth.conf as \
         /etc/sysctl.d/90-booth.conf, then sudo systemctl daemon-reexec && sudo sysctl --system",
    )
    .with(details)
}

/// What a `kernel.sysrq` value lets Alt+SysRq do that could end an interview; empty when
/// nothing.
fn sysrq_doors(value: u32) -> Vec<&'static str> {
    if value == 1 {
        return vec!["do everything (kernel.sysrq = 1 enables every function)"];
    }
    [
        (128, "reboot or power off (b, o)"),
        (64, "kill every process (e, i)"),
        (32, "remount every disk read-only (u)"),
        (4, "kill every program on the console, booth included (k)"),
    ]
    .into_iter()
    .filter(|(bit, _)| value & bit != 0)
    .map(|(_, what)| what)
    .collect()
}

fn sysrq(root: &Path) -> Check {
    const NAME: &str = "sysrq";
    let fix = "install assets/sysctl-booth.conf as /etc/sysctl.d/90-booth.conf, then sudo \
               sysctl --system";
    let live = std::fs::read_to_string(root.join("proc/sys/kernel/sysrq"))
        .ok()
        .and_then(|v| files::parse_number(&v));
    let always = std::fs::read_to_string(root.join("proc/cmdline")).is_ok_and(|c| {
        c.split_whitespace()
            .any(|w| w.starts_with("sysrq_always_enabled"))
    });
    let boot = files::sysctl_at_boot(root, "kernel.sysrq");
    let boot_value = boot.as_ref().and_then(|(v, _)| files::parse_number(v));
    let details = json!({
        "now": live,
        "always_enabled": always,
        "at_boot": boot_value,
        "at_boot_from": boot.as_ref().map(|(_, f)| f),
    });
    let Some(live) = live else {
        return Check::ok(NAME, "this kernel has no Magic SysRq").with(details);
    };
    if always {
        return Check::warning(
            NAME,
            "the kernel's command line has sysrq_always_enabled: Alt+SysRq can do everything",
            "remove sysrq_always_enabled from GRUB_CMDLINE_LINUX in /etc/default/grub, then \
             sudo update-grub and reboot",
        )
        .with(details);
    }
    let doors = sysrq_doors(live);
    if !doors.is_empty() {
        return Check::warning(
            NAME,
            format!("kernel.sysrq = {live}: Alt+SysRq can {}", doors.join(", ")),
            fix,
        )
        .with(details);
    }
    if let (Some(value), Some((_, file))) = (boot_value, &boot)
        && !sysrq_doors(value).is_empty()
    {
        return Check::warning(
            NAME,
            format!(
                "kernel.sysrq = {live} now, but {} sets {value} at the next boot: Alt+SysRq \
                 will {}",
                file.display(),
                sysrq_doors(value).join(", ")
            ),
            fix,
        )
        .with(details);
    }
    let finding = if live == 0 {
        "kernel.sysrq = 0: Magic SysRq is off".to_string()
    } else {
        format!("kernel.sysrq = {live}: Alt+SysRq cannot reboot, kill or remount")
    };
    Check::ok(NAME, finding).with(details)
}
