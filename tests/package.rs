//! The Debian package (`make deb`: cargo-deb with Cargo.toml's `[package.metadata.deb]`),
//! made here from the binary this test run was built with, so that `make test` compiles
//! nothing twice: the binary is linked into a scratch target directory as
//! `release/booth`, where cargo-deb looks, and packaged with `--no-build --strip --fast`.
//! `make deb` does the same from a release build.
//!
//! Checked: what the package holds and where (the binary, the unit, the conffile, the sample
//! interview and video, the README the unit's Documentation= names, the console settings);
//! `systemd-analyze verify` on the unit as installed (under `--root`, beside the host's own
//! units); the maintainer scripts, run against a scratch root (DPKG_ROOT) with every command
//! that would change the machine replaced by a stub that logs it: install creates the `booth`
//! user in `video` and `audio` and the state directory, and upgrade, remove and purge leave
//! `/var/lib/booth` exactly as it was; and lintian, which must report no error.
//!
//! Needs cargo-deb 3.8.0, lintian and systemd's tools (`scripts/setup.sh test` installs them).

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The package, built once for all the tests here, and its contents and control files.
struct Built {
    deb: PathBuf,
    root: PathBuf,
    control: PathBuf,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(build)
}

fn build() -> Built {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("package");
    let _ = std::fs::remove_dir_all(&work);
    let release = work.join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_booth"));
    if std::fs::hard_link(binary, release.join("booth")).is_err() {
        std::fs::copy(binary, release.join("booth")).unwrap();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["deb", "--no-build", "--strip", "--fast", "-o"])
        .arg(work.join("out"))
        .env("CARGO_TARGET_DIR", work.join("target"))
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo deb failed (cargo-deb 3.8.0 comes with `scripts/setup.sh test`, or \
         `cargo install cargo-deb --version 3.8.0 --locked`):\n{}",
        common::station::text(&out)
    );
    let deb = work.join(format!("out/booth_{VERSION}-1_amd64.deb"));
    assert!(deb.is_file(), "no {}", deb.display());
    let (root, control) = (work.join("root"), work.join("control"));
    common::run_ok(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root),
        "dpkg",
    );
    common::run_ok(
        Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control),
        "dpkg",
    );
    Built { deb, root, control }
}

/// The fields of a Debian control file (continuation lines dropped).
fn control_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn same_file(packaged: &Path, source: &str) {
    assert_eq!(
        std::fs::read(packaged).unwrap_or_else(|e| panic!("{}: {e}", packaged.display())),
        std::fs::read(repo().join(source)).unwrap(),
        "{} is not {source}",
        packaged.display()
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_package_holds_the_station_with_its_conffile_and_documentation() {
    let b = built();
    let fields = control_fields(&std::fs::read_to_string(b.control.join("control")).unwrap());
    assert_eq!(fields["Package"], "booth");
    assert_eq!(fields["Version"], format!("{VERSION}-1"));
    assert_eq!(fields["Architecture"], "amd64");
    for needed in ["adduser", "libasound2", "libc6"] {
        assert!(fields["Depends"].contains(needed), "{fields:?}");
    }
    // The changelog's newest entry is this version.
    let changelog = std::fs::read_to_string(repo().join("assets/debian/changelog")).unwrap();
    assert!(
        changelog.starts_with(&format!("booth ({VERSION}-1) ")),
        "assets/debian/changelog does not start with version {VERSION}-1"
    );

    let r = &b.root;
    let binary = r.join("usr/bin/booth");
    assert_eq!(mode(&binary), 0o755);
    let out = common::run_ok(Command::new(&binary).arg("--version"), "booth");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("booth {VERSION}")
    );
    // Only /etc/booth/config.toml is the operator's to edit; dpkg keeps their changes.
    let conffiles = std::fs::read_to_string(b.control.join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/booth/config.toml");
    same_file(&r.join("etc/booth/config.toml"), "config.toml");
    same_file(
        &r.join("usr/share/booth/interview.toml"),
        "assets/interview.toml",
    );
    same_file(
        &r.join("usr/share/booth/question-2.mp4"),
        "assets/question-2.mp4",
    );
    // The words on screen, read at start from the install (a station may override them).
    for lang in ["en", "de", "pl"] {
        same_file(
            &r.join(format!("usr/share/booth/i18n/{lang}.toml")),
            &format!("assets/i18n/{lang}.toml"),
        );
    }
    same_file(&r.join("usr/share/doc/booth/README.md"), "README.md");
    assert!(r.join("usr/share/doc/booth/copyright").is_file());
    // The console's doors, as vendor settings an operator may override in /etc.
    same_file(
        &r.join("usr/lib/systemd/logind.conf.d/booth.conf"),
        "assets/logind-booth.conf",
    );
    same_file(
        &r.join("usr/lib/systemd/system.conf.d/booth.conf"),
        "assets/system-booth.conf",
    );
    same_file(
        &r.join("usr/lib/sysctl.d/90-booth.conf"),
        "assets/sysctl-booth.conf",
    );
    same_file(
        &r.join("usr/lib/systemd/system/booth.service"),
        "assets/booth.service",
    );
    // The sample interview is whole where it is installed (its video beside it).
    booth::interview::Interview::load(&r.join("usr/share/booth/interview.toml"))
        .unwrap_or_else(|e| panic!("the packaged sample interview: {e}"));
    // The packaged config is valid for the packaged binary.
    let data = tempfile::tempdir().unwrap();
    common::run_ok(
        Command::new(&binary)
            .args(["status", "--json", "--config"])
            .arg(r.join("etc/booth/config.toml"))
            .arg("--data-dir")
            .arg(data.path()),
        "booth",
    );
    for script in ["postinst", "prerm", "postrm"] {
        assert_eq!(mode(&b.control.join(script)), 0o755, "{script}");
    }
    // systemd is not running here, so the scripts' calls to it are read, not run: the kiosk is
    // stopped only on removal, and never started, restarted or enabled by the package.
    let script = |name: &str| {
        let text = std::fs::read_to_string(b.control.join(name)).unwrap();
        let code: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        code.join("\n")
    };
    let prerm = script("prerm");
    let stops: Vec<&str> = prerm.lines().filter(|l| l.contains("stop")).collect();
    assert!(
        !stops.is_empty() && prerm.contains("[ \"$1\" = remove ]"),
        "prerm must stop the kiosk on remove, and only then:\n{prerm}"
    );
    for name in ["postinst", "prerm", "postrm"] {
        let text = script(name);
        for word in ["restart", "deb-systemd-invoke start", "try-restart"] {
            assert!(!text.contains(word), "{name} runs `{word}`:\n{text}");
        }
    }
}

#[test]
fn the_unit_as_installed_passes_systemd_analyze_verify() {
    let b = built();
    // The host's own units (targets the unit orders itself against) beside the package's.
    let root = b.root.parent().unwrap().join("verify-root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("usr/lib/systemd")).unwrap();
    common::run_ok(
        Command::new("cp")
            .arg("-a")
            .arg("/usr/lib/systemd/system")
            .arg(root.join("usr/lib/systemd/")),
        "coreutils",
    );
    common::run_ok(
        Command::new("cp")
            .arg("-a")
            .arg(b.root.join("."))
            .arg(&root),
        "coreutils",
    );
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
    let out = common::run(
        Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.display()))
            .arg("booth.service"),
        "systemd",
    );
    let text = common::station::text(&out);
    assert!(out.status.success(), "systemd-analyze verify: {text}");
    assert!(!text.contains("booth.service:"), "{text}");

    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/booth.service")).unwrap();
    let value = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in the unit"))
            .to_string()
    };
    let doc = value("Documentation");
    let doc = doc
        .strip_prefix("file://")
        .expect("a file:// Documentation=");
    assert!(
        root.join(doc.trim_start_matches('/')).is_file(),
        "Documentation={doc} is not a file the package installs"
    );
    let exec = value("ExecStart");
    let program = exec.split_whitespace().next().unwrap();
    assert_eq!(program, "/usr/bin/booth", "{exec}");
}

/// A scratch root and stubs for every command the scripts may use to change the machine.
struct Scripts {
    dir: tempfile::TempDir,
}

impl Scripts {
    fn new() -> Scripts {
        let dir = tempfile::tempdir().unwrap();
        let stubs = dir.path().join("stubs");
        std::fs::create_dir(&stubs).unwrap();
        let log = "printf '%s\\n' \"$(basename \"$0\") $*\" >> \"$STUB_LOG\"\n";
        let stub = |name: &str, body: &str| {
            let path = stubs.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{log}{body}")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        for name in [
            "adduser",
            "addgroup",
            "deluser",
            "useradd",
            "usermod",
            "chown",
            "systemctl",
            "deb-systemd-invoke",
        ] {
            stub(name, "exit 0\n");
        }
        // Its questions are answered no: the unit was never enabled here.
        stub(
            "deb-systemd-helper",
            "case \"$*\" in *debian-installed*|*was-enabled*) exit 1;; esac\nexit 0\n",
        );
        // What exists on the machine the scripts think they run on.
        stub(
            "getent",
            "case \" $STUB_NAMES \" in *\" $1:$2 \"*) echo \"$2:x:0:\"; exit 0;; esac\nexit 2\n",
        );
        stub("id", "echo \"$STUB_BOOTH_GROUPS\"\n");
        std::fs::create_dir(dir.path().join("root")).unwrap();
        Scripts { dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("root/var/lib/booth")
    }

    /// Runs a maintainer script; returns (what the stubs were asked to do, its stderr).
    fn run(&self, script: &str, args: &[&str], names: &str, groups: &str) -> (String, String) {
        let log = self.dir.path().join("stub.log");
        let _ = std::fs::remove_file(&log);
        let out = Command::new("/bin/sh")
            .arg(built().control.join(script))
            .args(args)
            // No sbin on the PATH: a command without a stub fails instead of changing the host.
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.dir.path().join("stubs").display()),
            )
            .env("DPKG_ROOT", self.dir.path().join("root"))
            .env("STUB_LOG", &log)
            .env("STUB_NAMES", names)
            .env("STUB_BOOTH_GROUPS", groups)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script} {args:?}: {}",
            common::station::text(&out)
        );
        (
            std::fs::read_to_string(&log).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Every file and directory under `dir`: its mode and contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        out.insert(d.clone(), (mode(&d), Vec::new()));
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.insert(path.clone(), (mode(&path), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn the_maintainer_scripts_make_the_user_and_never_touch_var_lib_booth() {
    let s = Scripts::new();
    let no_user = "group:video group:audio";
    let user = "passwd:booth group:booth group:video group:audio";

    // A first install: the user in its groups, and the state directory.
    let (did, _) = s.run("postinst", &["configure"], no_user, "");
    for wanted in [
        "addgroup --system --quiet booth",
        "adduser --system --quiet --ingroup booth --home /var/lib/booth --no-create-home",
        "adduser --quiet booth video",
        "adduser --quiet booth audio",
        &format!("chown booth:booth {}", s.state().display()),
    ] {
        assert!(did.contains(wanted), "no `{wanted}` in:\n{did}");
    }
    assert_eq!(mode(&s.state()), 0o700);
    assert!(!did.contains("enable booth.service"), "{did}");
    assert!(
        !did.contains("start"),
        "a fresh install must not start the kiosk:\n{did}"
    );

    // A station's day: sessions and answers waiting, and the operator's own mode.
    std::fs::create_dir_all(s.state().join("outbox/answers")).unwrap();
    std::fs::create_dir_all(s.state().join("sessions/s1")).unwrap();
    std::fs::write(s.state().join("outbox/answers/a--q1--1.mp4"), b"answer").unwrap();
    std::fs::write(
        s.state().join("outbox/0b8a.json"),
        b"{\"state\":\"queued\"}",
    )
    .unwrap();
    std::fs::write(s.state().join("sessions/s1/progress.json"), b"{}").unwrap();
    std::fs::set_permissions(s.state(), std::fs::Permissions::from_mode(0o750)).unwrap();
    let before = snapshot(&s.state());
    let old = format!("{VERSION}-0");

    // An upgrade in the middle of that day: nothing stopped, nothing created, nothing moved.
    let mut did = String::new();
    for (script, args) in [
        ("prerm", vec!["upgrade", old.as_str()]),
        ("postrm", vec!["upgrade", old.as_str()]),
        ("postinst", vec!["configure", old.as_str()]),
    ] {
        did += &s.run(script, &args, user, "booth video audio").0;
    }
    for unwanted in ["adduser", "addgroup", "chown", "stop", "restart"] {
        assert!(
            !did.contains(unwanted),
            "an upgrade ran `{unwanted}`:\n{did}"
        );
    }
    assert_eq!(
        snapshot(&s.state()),
        before,
        "an upgrade changed /var/lib/booth"
    );

    // A user made by hand without the audio group gets it, and only it.
    let (did, _) = s.run("postinst", &["configure", &old], user, "booth video");
    assert!(did.contains("adduser --quiet booth audio"), "{did}");
    assert!(!did.contains("booth video"), "{did}");

    // Remove, then purge: the data stays, and purge says what it leaves.
    s.run("prerm", &["remove"], user, "booth video audio");
    s.run("postrm", &["remove"], user, "booth video audio");
    let (did, said) = s.run("postrm", &["purge"], user, "booth video audio");
    assert_eq!(
        snapshot(&s.state()),
        before,
        "remove or purge changed /var/lib/booth"
    );
    assert!(!did.contains("deluser"), "{did}");
    for words in [
        "Kept on purpose",
        "/var/lib/booth",
        "outbox",
        "the user and group `booth`",
    ] {
        assert!(
            said.contains(words),
            "purge does not say {words:?}:\n{said}"
        );
    }
}

#[test]
fn lintian_reports_no_errors() {
    let b = built();
    let out = common::run(
        Command::new("lintian")
            .args(["--fail-on", "error", "--no-tag-display-limit"])
            .arg(&b.deb),
        "lintian",
    );
    let text = common::station::text(&out);
    assert!(out.status.success(), "lintian: {text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("E: ")).collect();
    assert!(errors.is_empty(), "{text}");
    // Warnings are printed for whoever runs this with --nocapture.
    print!("{}", String::from_utf8_lossy(&out.stdout));
}
