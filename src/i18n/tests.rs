use super::files::placeholders;
use super::*;
use std::collections::BTreeSet;

/// Polish-style plural forms English has no key for.
fn extra_plural_form(k: &str) -> bool {
    k.ends_with(".few") || k.ends_with(".many")
}

#[test]
fn every_language_has_every_key_with_the_same_placeholders() {
    let builtin = Languages::builtin();
    let all = builtin.all();
    assert_eq!(all.len(), BUILTIN.len(), "a language file failed to parse");
    let en = &all[0];
    let en_keys: BTreeSet<&str> = en.keys().collect();
    for t in &all[1..] {
        let keys: BTreeSet<&str> = t.keys().collect();
        let missing: Vec<_> = en_keys.difference(&keys).collect();
        let extra: Vec<_> = keys
            .difference(&en_keys)
            .filter(|k| !extra_plural_form(k))
            .collect();
        assert!(missing.is_empty(), "{}.toml lacks {missing:?}", t.code);
        assert!(
            extra.is_empty(),
            "{}.toml has unknown keys {extra:?}",
            t.code
        );
        for k in &keys {
            let english = if extra_plural_form(k) {
                let base = k.rsplit_once('.').map_or(*k, |(b, _)| b);
                en.get(&format!("{base}.other")).to_string()
            } else {
                en.get(k).to_string()
            };
            assert_eq!(
                placeholders(&english),
                placeholders(t.get(k)),
                "{}.toml: placeholders of '{k}' differ",
                t.code
            );
            assert!(
                !t.get(k).trim().is_empty(),
                "{}.toml: '{k}' is empty",
                t.code
            );
        }
    }
}

#[test]
fn polish_has_all_three_plural_forms_of_every_plural() {
    let pl = Languages::builtin().for_language("pl");
    assert_eq!(pl.code, "pl");
    let plurals: Vec<String> = pl
        .keys()
        .filter_map(|k| k.strip_suffix(".other").map(str::to_string))
        // "help.other" is a text of its own, not a plural form.
        .filter(|base| pl.has(&format!("{base}.one")))
        .collect();
    assert!(!plurals.is_empty());
    for base in plurals {
        for form in ["one", "few", "many"] {
            assert!(
                pl.has(&format!("{base}.{form}")),
                "pl.toml lacks {base}.{form}"
            );
        }
    }
    assert_eq!(pl.plural("time.seconds", 1, &[]), "1 sekunda");
    assert_eq!(pl.plural("time.seconds", 3, &[]), "3 sekundy");
    assert_eq!(pl.plural("time.seconds", 5, &[]), "5 sekund");
    assert_eq!(pl.plural("time.seconds", 12, &[]), "12 sekund");
    assert_eq!(pl.plural("time.seconds", 22, &[]), "22 sekundy");
    assert_eq!(pl.plural("time.minutes", 25, &[]), "25 minut");
    // English and German have no few/many: 3 takes "other".
    let de = Languages::builtin().for_language("de");
    assert_eq!(de.plural("time.seconds", 3, &[]), "3 Sekunden");
}

#[test]
fn lookup_formats_and_plurals() {
    let de = for_language("de-CH");
    assert_eq!(de.code, "de");
    assert_eq!(de.name(), "Deutsch");
    assert_eq!(
        de.fmt("header.question_of", &[("n", &2), ("total", &4)]),
        "Frage 2 von 4"
    );
    let en = for_language("en");
    assert_eq!(en.plural("time.seconds", 1, &[]), "1 second");
    assert_eq!(en.plural("time.seconds", 90, &[]), "90 seconds");
    assert_eq!(for_language("xx").code, "en");
    assert_eq!(for_language("PL").name(), "Polski");
    // Unknown keys read as themselves rather than failing.
    assert_eq!(en.get("no.such.key"), "no.such.key");
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> crate::TestResult {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), text)?;
    Ok(())
}

#[test]
fn a_station_file_corrects_one_text_and_adds_a_language() -> crate::TestResult {
    let tmp = tempfile::tempdir()?;
    let (install, station) = (tmp.path().join("share"), tmp.path().join("etc/i18n"));
    write(&install, "de.toml", "[review]\nsend = \"Antwort senden\"\n")?;
    write(
        &station,
        "de.toml",
        "[review]\nsend = \"Diese Antwort abschicken\"\n",
    )?;
    write(
        &station,
        "fr.toml",
        "[meta]\nname = \"Français\"\n[review]\nsend = \"Envoyer\"\n",
    )?;
    let loaded = load(&[install.clone(), station.clone()]);
    let langs = &loaded.languages;
    // The later folder wins, key by key; the rest of German stays.
    let de = langs.for_language("de");
    assert_eq!(de.get("review.send"), "Diese Antwort abschicken");
    assert_eq!(de.get("header.questions"), "Fragen");
    let fr = langs.find("fr").ok_or("fr not added")?;
    assert_eq!(fr.name(), "Français");
    // What French lacks shows in English, and doctor is told which.
    assert_eq!(fr.get("header.questions"), "Questions");
    let codes: Vec<&str> = langs.all().iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, ["en", "de", "pl", "fr"]);
    assert_eq!(loaded.files.len(), 3);
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    let missing = &loaded.problems[0];
    assert!(matches!(missing, I18nError::Missing { code, .. } if code == "fr"));
    assert!(!missing.rejects_file());
    Ok(())
}

#[test]
fn a_malformed_file_is_left_out_with_its_file_and_line() -> crate::TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("i18n");
    write(
        &dir,
        "de.toml",
        "[review]\nsend = \"Senden\"\nrecord_again = \"Nochmal\n",
    )?;
    write(&dir, "pl.toml", "[review]\nsend = 3\n")?;
    write(&dir, "Deutsch.toml", "[review]\nsend = \"x\"\n")?;
    let loaded = load(std::slice::from_ref(&dir));
    let shown: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(loaded.problems.len(), 3, "{shown:#?}");
    assert!(loaded.problems.iter().all(I18nError::rejects_file));
    let de = &loaded.problems[1];
    assert_eq!(de.path(), dir.join("de.toml"));
    assert_eq!(de.line(), Some(3), "{de}");
    assert!(shown[1].starts_with(&format!("{}:3:", dir.join("de.toml").display())));
    assert!(
        shown[2].contains("pl.toml:2: 'review.send' must be text"),
        "{}",
        shown[2]
    );
    assert!(shown[0].contains("must be a language code"), "{}", shown[0]);
    // The built-in words stay, untouched by the broken files.
    assert_eq!(loaded.languages, Languages::builtin());
    Ok(())
}

#[test]
fn unknown_keys_and_wrong_placeholders_are_left_out_alone() -> crate::TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("i18n");
    write(
        &dir,
        "en.toml",
        "[review]\nsend = \"Send it\"\nsnd = \"typo\"\n[header]\nquestion_of = \"Q {number}\"\n",
    )?;
    let loaded = load(std::slice::from_ref(&dir));
    let en = loaded.languages.for_language("en");
    assert_eq!(en.get("review.send"), "Send it");
    assert_eq!(en.get("header.question_of"), "Question {n} of {total}");
    let lines: Vec<Option<usize>> = loaded.problems.iter().map(I18nError::line).collect();
    assert_eq!(lines, [Some(5), Some(3)], "{:?}", loaded.problems);
    assert!(
        matches!(&loaded.problems[1], I18nError::UnknownKey { key, .. } if key == "review.snd")
    );
    assert!(loaded.problems[0].to_string().contains("{n} {total}"));
    Ok(())
}

#[test]
fn a_folder_that_does_not_exist_has_no_files() {
    let loaded = load(&[std::path::PathBuf::from("/nonexistent/booth/i18n")]);
    assert!(loaded.problems.is_empty());
    assert!(loaded.files.is_empty());
    assert_eq!(loaded.languages, Languages::builtin());
}

#[test]
fn the_install_and_the_station_folders_are_read_in_that_order() {
    let dirs = search_dirs(Some(std::path::Path::new("/etc/booth/config.toml")));
    assert_eq!(dirs.len(), 2);
    assert!(dirs[0].ends_with("share/booth/i18n"), "{dirs:?}");
    assert_eq!(dirs[1], std::path::Path::new("/etc/booth/i18n"));
    assert_eq!(search_dirs(None).len(), 1);
}
#[test]
fn no_english_sentence_is_left_in_the_screens() -> crate::TestResult {
    // A literal that starts like a sentence ("Press any key") in drawing code means a
    // string escaped the catalogue.
    let mut found = Vec::new();
    for entry in std::fs::read_dir("src/ui")? {
        let path = entry?.path();
        // Test-only files (snapshots, *_tests.rs) hold sample interview text, not screens.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".rs") || name.ends_with("snapshots.rs") || name.ends_with("tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path)?;
        let code = src.split("#[cfg(test)]").next().unwrap_or("");
        for (i, piece) in code.split('"').enumerate() {
            let mut chars = piece.chars();
            let sentence = i % 2 == 1
                && chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && piece.contains(' ');
            if sentence {
                found.push(format!("{}: {piece}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "untranslated text: {found:#?}");
    Ok(())
}

#[test]
fn the_ui_uses_only_keys_that_exist() -> crate::TestResult {
    // Every "section.key" literal passed to the lookups in src/ui and src/app must exist.
    let en = &languages()[0];
    let mut missing = Vec::new();
    for dir in ["src/ui", "src/app"] {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let src = std::fs::read_to_string(&path)?;
            for call in [".get(\"", ".fmt(\"", ".plural(\""] {
                for piece in src.split(call).skip(1) {
                    let key = &piece[..piece.find('"').unwrap_or(0)];
                    let plural = call == ".plural(\"";
                    let exists = if plural {
                        en.strings.contains_key(&format!("{key}.one"))
                    } else {
                        en.strings.contains_key(key)
                    };
                    if key.contains('.') && !exists {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from en.toml: {missing:#?}"
    );
    Ok(())
}
