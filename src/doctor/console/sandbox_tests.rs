//! The unit as shipped (assets/booth.service) against configurations that write inside and
//! outside its sandbox, and the drop-in that lets it write to a share.

use std::path::Path;

use super::*;
use crate::doctor::Verdict;

fn station() -> crate::TestResult<tempfile::TempDir> {
    let root = tempfile::tempdir()?;
    let unit = root.path().join("etc/systemd/system/booth.service");
    std::fs::create_dir_all(unit.parent().ok_or("no parent")?)?;
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/booth.service"),
        &unit,
    )?;
    Ok(root)
}

fn dropin(root: &Path, name: &str, text: &str) -> crate::TestResult {
    let dir = root.join("etc/systemd/system/booth.service.d");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), text)?;
    Ok(())
}

fn config(text: &str) -> crate::TestResult<Config> {
    Ok(Config::parse(text, Path::new("/etc/booth/config.toml"))?)
}

#[test]
fn the_shipped_unit_lets_the_default_station_write() -> crate::TestResult {
    let root = station()?;
    let c = check(root.path(), &config("")?);
    assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
    assert_eq!(c.details["paths"][0]["rule"], "/var/lib/booth");
    Ok(())
}

#[test]
fn a_share_outside_the_state_directory_fails_until_a_dropin_opens_it() -> crate::TestResult {
    let root = station()?;
    let share = config(
        "[upload]\nendpoint = \"dir:/srv/share/answers\"\n\
         [monitoring]\ntextfile = \"/var/lib/prometheus/node-exporter/booth.prom\"\n",
    )?;
    // `booth doctor` outside the unit sees a writable share; the kiosk inside it would not.
    let c = check(root.path(), &share);
    assert_eq!(c.verdict, Verdict::Failure, "{c:?}");
    assert!(
        c.finding
            .contains("the dir: endpoint /srv/share/answers is read-only under booth.service"),
        "{}",
        c.finding
    );
    assert!(
        c.finding
            .contains("/var/lib/prometheus/node-exporter is read-only"),
        "{}",
        c.finding
    );
    let fix = c.fix.ok_or("no fix")?;
    assert!(
        fix.contains("ReadWritePaths=/srv/share/answers /var/lib/prometheus/node-exporter"),
        "{fix}"
    );

    // The drop-in the fix asks for.
    dropin(
        root.path(),
        "paths.conf",
        "[Service]\nReadWritePaths=/srv/share/answers\n\
         ReadWritePaths=-/var/lib/prometheus/node-exporter\n",
    )?;
    let c = check(root.path(), &share);
    assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
    assert_eq!(c.details["unit_files"].as_array().map(Vec::len), Some(2));

    // A later empty assignment empties the list again.
    dropin(root.path(), "reset.conf", "[Service]\nReadWritePaths=\n")?;
    assert_eq!(check(root.path(), &share).verdict, Verdict::Failure);
    Ok(())
}

#[test]
fn private_tmp_and_protected_homes_cannot_be_opened_by_a_dropin() -> crate::TestResult {
    let root = station()?;
    dropin(
        root.path(),
        "paths.conf",
        "[Service]\nReadWritePaths=/tmp/answers /home/staff/answers\n",
    )?;
    let c = check(
        root.path(),
        &config("[upload]\nendpoint = \"dir:/tmp/answers\"\n")?,
    );
    assert_eq!(c.verdict, Verdict::Failure, "{c:?}");
    assert!(c.finding.contains("private to the unit"), "{}", c.finding);
    let c = check(
        root.path(),
        &config("[station]\ndata_dir = \"/home/staff/booth\"\n")?,
    );
    assert!(
        c.finding
            .contains("the data directory /home/staff/booth is hidden"),
        "{}",
        c.finding
    );
    Ok(())
}

#[test]
fn without_the_unit_there_is_no_sandbox_to_judge() -> crate::TestResult {
    let root = tempfile::tempdir()?;
    let c = check(
        root.path(),
        &config("[upload]\nendpoint = \"dir:/srv/share\"\n")?,
    );
    assert_eq!(c.verdict, Verdict::Ok);
    assert!(c.finding.contains("not installed"), "{}", c.finding);
    Ok(())
}

#[test]
fn protect_system_levels_and_the_deepest_rule_decide() -> crate::TestResult {
    let view = |text: &str| -> crate::TestResult<View> {
        let root = tempfile::tempdir()?;
        let unit = root.path().join("etc/systemd/system/booth.service");
        std::fs::create_dir_all(unit.parent().ok_or("no parent")?)?;
        std::fs::write(&unit, text)?;
        Ok(View::of(
            &Settings::unit(root.path(), UNIT).ok_or("no unit")?,
        ))
    };
    let full = view("[Service]\nProtectSystem=full\nReadOnlyPaths=/srv/ro\n")?;
    assert_eq!(full.access(Path::new("/etc/booth")).0, Access::ReadOnly);
    assert_eq!(full.access(Path::new("/srv/share")).0, Access::Writable);
    assert_eq!(full.access(Path::new("/srv/ro/x")).0, Access::ReadOnly);
    let none = view("[Service]\nUser=booth\n")?;
    assert_eq!(none.access(Path::new("/usr/x")), (Access::Writable, None));
    let strict = view(
        "[Service]\nProtectSystem=strict\nReadWritePaths=/srv\nInaccessiblePaths=/srv/secret\n",
    )?;
    assert_eq!(strict.access(Path::new("/srv/a")).0, Access::Writable);
    assert_eq!(
        strict.access(Path::new("/srv/secret/a")).0,
        Access::Inaccessible
    );
    assert_eq!(strict.access(Path::new("/opt/a")).0, Access::ReadOnly);
    Ok(())
}
