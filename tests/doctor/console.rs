//! The doctor's console checks against a folder standing in for `/`.

use super::*;

#[test]
fn the_consoles_open_doors_are_warnings_with_a_fix_each() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "video = \"test\"\naudio = \"tone\"",
        &format!("endpoint = \"dir:{}\"", dir.path().join("out").display()),
    );
    // A bare Debian: nothing installed, SysRq as Debian leaves it.
    let root = dir.path().join("bare");
    std::fs::create_dir_all(root.join("proc/sys/kernel")).unwrap();
    std::fs::write(root.join("proc/sys/kernel/sysrq"), "438\n").unwrap();
    let out = common::run(
        common::booth()
            .args(["doctor", "--config"])
            .arg(&cfg)
            .arg("--root")
            .arg(&root),
        "booth",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    for name in ["console", "vt-lock", "gettys", "ctrl-alt-del", "sysrq"] {
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("WARNING {name}: ")))
            .unwrap_or_else(|| panic!("no warning for {name}:\n{text}"));
        assert!(
            lines[at + 1].trim_start().starts_with("fix: "),
            "{name} has no fix:\n{text}"
        );
    }
    assert!(text.contains("kernel.sysrq = 438"), "{text}");
    // No booth.service, no sandbox to judge.
    assert!(
        text.contains("ok      sandbox: booth.service is not installed"),
        "{text}"
    );
    // Warnings only: ready, with warnings.
    assert_eq!(out.status.code(), Some(1), "{text}");

    // The same station set up as the README says: every console check is ok.
    let root = locked_down_root(dir.path());
    let (_, report) = doctor_under(&cfg, &root, &[]);
    for name in ["console", "vt-lock", "gettys", "ctrl-alt-del", "sysrq"] {
        assert_eq!(verdict(&report, name), "ok", "{report:#}");
    }
    // But the shipped unit lets booth write only in /var/lib/booth: the dir: endpoint (and the
    // data directory) in the test folder are out of its reach, whatever the doctor itself can
    // write from outside the unit.
    let sandbox = check(&report, "sandbox");
    assert_eq!(sandbox["verdict"], "failure", "{sandbox:#}");
    let out = dir.path().join("out");
    assert!(
        sandbox["finding"]
            .as_str()
            .unwrap()
            .contains(&format!("the dir: endpoint {} is ", out.display())),
        "{sandbox:#}"
    );
    assert!(
        sandbox["fix"].as_str().unwrap().contains("ReadWritePaths="),
        "{sandbox:#}"
    );
    // The operator's drop-in opens them.
    let_the_unit_write(&root, dir.path());
    let (_, report) = doctor_under(&cfg, &root, &[]);
    assert_eq!(verdict(&report, "sandbox"), "ok", "{report:#}");
}
