//! The SQLite backend against the store conformance suite, plus what only
//! SQLite can show (the append-only triggers, encryption at rest).

use std::sync::Arc;

use lantern_store::{AuditContext, Store};
use lantern_store_sqlite::SqliteStore;
use lantern_vault::Keyring;

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        lantern_store_sqlite::open(&dir.path().join("lantern.db"), Arc::new(Keyring::generate().unwrap())).unwrap();
    (dir, store)
}

#[test]
fn conformance() {
    let dirs = std::sync::Mutex::new(Vec::new());
    lantern_store::conformance::run_all(&|| {
        let (dir, store) = fresh();
        dirs.lock().unwrap().push(dir);
        Box::new(store)
    });
}

#[test]
fn match_people_in_pages() {
    let (_dir, store) = fresh();
    lantern_store::conformance::match_people_in_pages_of_any_size(&store, &|page, each| {
        store.match_people_in_pages(page, each)
    });
}

#[test]
fn key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    lantern_store::conformance::key_rotation_reseals_every_sealed_value(&|keys| {
        Box::new(lantern_store_sqlite::open(&dir.path().join("lantern.db"), keys).unwrap())
    });
}

#[test]
fn audit_and_history_are_append_only_in_the_database() {
    let (dir, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    let draft = lantern_domain::person::PersonInput {
        names: vec![lantern_domain::person::NameInput {
            text: "Test Person".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
    .parse(time::OffsetDateTime::now_utc().date())
    .unwrap();
    store.create_person(&draft, &ctx).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("lantern.db")).unwrap();
    for sql in [
        "UPDATE audit_events SET detail = 'changed'",
        "DELETE FROM audit_events",
        "UPDATE person_versions SET actor_name = 'someone else'",
        "DELETE FROM person_versions",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn protected_fields_are_encrypted_at_rest() {
    let (dir, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    let draft = lantern_domain::person::PersonInput {
        names: vec![lantern_domain::person::NameInput {
            text: "Test Person".into(),
            ..Default::default()
        }],
        contact: "brother's phone +00 1234 998877".into(),
        ..Default::default()
    }
    .parse(time::OffsetDateTime::now_utc().date())
    .unwrap();
    let p = store.create_person(&draft, &ctx).unwrap();
    let case = store.create_case(p.id, false, &ctx).unwrap();
    store
        .add_case_note(
            case.id,
            &lantern_store::NewCaseNote {
                kind: lantern_domain::case::NoteKind::Decision,
                about: None,
                confidential: false,
                text: "decision reasons quokka".into(),
            },
            &ctx,
        )
        .unwrap();
    drop(store);
    let mut bytes = std::fs::read(dir.path().join("lantern.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("lantern.db-wal")) {
        bytes.extend(wal);
    }
    // With the space: hex commitments elsewhere in the file may hold the digits.
    assert!(
        !bytes.windows(11).any(|w| w == b"1234 998877"),
        "contact stored in clear"
    );
    assert!(!bytes.windows(6).any(|w| w == b"quokka"), "case note stored in clear");
    assert!(
        bytes.windows(11).any(|w| w == b"Test Person"),
        "sanity: plain fields are found"
    );
}

#[test]
fn edited_rows_are_found_by_comparing_with_the_log() {
    let (dir, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    let draft = lantern_domain::person::PersonInput {
        names: vec![lantern_domain::person::NameInput {
            text: "Original Name".into(),
            ..Default::default()
        }],
        birth_date: "1970".into(),
        ..Default::default()
    }
    .parse(time::OffsetDateTime::now_utc().date())
    .unwrap();
    let p = store.create_person(&draft, &ctx).unwrap();
    store.create_person(&draft, &ctx).unwrap();
    assert!(store.check_records().unwrap().is_empty());
    // Someone with access to the database file edits rows behind Lantern's back.
    let conn = rusqlite::Connection::open(dir.path().join("lantern.db")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;
         UPDATE audit_events SET actor_name = 'someone else' WHERE seq = 1;
         DELETE FROM audit_events WHERE seq = 2;",
    )
    .unwrap();
    let core: String = conn
        .query_row("SELECT core FROM people WHERE id = ?1", [p.id.to_string()], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute(
        "UPDATE people SET core = ?2 WHERE id = ?1",
        [p.id.to_string(), core.replace("1970", "1975")],
    )
    .unwrap();
    let found = store.check_records().unwrap();
    let said: Vec<String> = found
        .iter()
        .map(|d| format!("{} {}: {}", d.record_kind, d.record_id, d.what))
        .collect();
    assert!(
        said.iter()
            .any(|s| s.starts_with(&format!("person {}: field birth_date differs", p.id))),
        "{said:?}"
    );
    assert!(
        said.iter().any(|s| s.starts_with("audit 1: field actor_name differs")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|s| s == "audit 2: in the log but missing from the database"),
        "{said:?}"
    );
    assert_eq!(found.len(), 3, "{said:?}");
}

#[test]
fn a_copy_read_in_small_chunks_is_whole() {
    let (_dir, store) = fresh();
    lantern_store::conformance::sample_registry(&store, 12);
    // Chunks of 1 and 7 rows: every table, and keys of one and of several
    // columns (name tokens shared by many people), cross chunk boundaries.
    for chunk in [1, 7] {
        let target_dir = tempfile::tempdir().unwrap();
        let target = lantern_store_sqlite::Sqlite::open(&target_dir.path().join("copy.db")).unwrap();
        let copied = lantern_store_sql::copy::copy_records_chunked(store.backend(), &target, chunk).unwrap();
        assert_eq!(
            copied,
            lantern_store_sql::copy::census(&target).unwrap(),
            "chunk {chunk}"
        );
        assert_eq!(copied, lantern_store_sql::copy::census(store.backend()).unwrap());
        assert!(copied.rows("name_tokens") > 2 * chunk as u64 && copied.rows("family_links") > chunk as u64);
        // The pairs of name words are rebuilt, not copied: the same.
        use lantern_store_sql::{Backend, ConnExt};
        let pairs = "SELECT COUNT(*) FROM name_pairs";
        let here: i64 = store.backend().read(|tx| tx.query_value(pairs, &[])).unwrap();
        let there: i64 = target.read(|tx| tx.query_value(pairs, &[])).unwrap();
        assert!(here > 12 && here == there, "{here} pairs, {there} in the copy");
        assert!(copied.ledger_size > 7);
    }
}

#[test]
fn the_log_comparison_finds_edits_in_every_chunk_of_a_large_registry() {
    // More people than the comparison reads at once (1,000), so rows on
    // both sides of a chunk's edge are checked against their own entries.
    let (dir, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    let today = time::OffsetDateTime::now_utc().date();
    let drafts: Vec<_> = (0..2_100)
        .map(|i| {
            lantern_domain::person::PersonInput {
                names: vec![lantern_domain::person::NameInput {
                    text: format!("Person Number{i}"),
                    ..Default::default()
                }],
                birth_date: "1970".into(),
                ..Default::default()
            }
            .parse(today)
            .unwrap()
        })
        .collect();
    store.import_people(&drafts, &ctx).unwrap();
    assert_eq!(store.check_records().unwrap(), Vec::new());
    let conn = rusqlite::Connection::open(dir.path().join("lantern.db")).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM people ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The first and last of the first chunk, the first of the second and
    // the very last are edited behind Lantern's back; one row is removed.
    let edited = [&ids[0], &ids[999], &ids[1000], &ids[2099]];
    for id in edited {
        conn.execute(
            "UPDATE people SET core = replace(core, '1970', '1971') WHERE id = ?1",
            [id],
        )
        .unwrap();
    }
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute("DELETE FROM people WHERE id = ?1", [&ids[1500]]).unwrap();
    // Audit rows too, past the first chunk of them.
    let audit_rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit_events", [], |r| r.get(0))
        .unwrap();
    assert!(audit_rows > 2_000, "{audit_rows} audit rows");
    let last_audit: i64 = conn
        .query_row("SELECT MAX(seq) FROM audit_events", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;
         UPDATE audit_events SET actor_name = 'someone else' WHERE seq = {last_audit};
         DELETE FROM audit_events WHERE seq = 1200;"
    ))
    .unwrap();
    let said: Vec<String> = store
        .check_records()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}: {}", d.record_kind, d.record_id, d.what))
        .collect();
    for id in edited {
        assert!(
            said.iter()
                .any(|s| s.starts_with(&format!("person {id}: field birth_date differs"))),
            "{id} not found in {said:?}"
        );
    }
    assert!(said.contains(&format!(
        "person {}: in the log but missing from the database",
        ids[1500]
    )));
    assert!(
        said.iter()
            .any(|s| s.starts_with(&format!("audit {last_audit}: field actor_name differs"))),
        "{said:?}"
    );
    assert!(said.contains(&"audit 1200: in the log but missing from the database".to_string()));
    assert_eq!(said.len(), 7, "{said:?}");
}

#[test]
fn a_search_by_words_that_are_all_common_still_finds_everyone() {
    // More people with one family name than a search by several words
    // reads from one word's range before it tries another word (8,000).
    let (_dir, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    let today = time::OffsetDateTime::now_utc().date();
    let person = |name: String| {
        lantern_domain::person::PersonInput {
            names: vec![lantern_domain::person::NameInput {
                text: name,
                ..Default::default()
            }],
            birth_date: "1970".into(),
            ..Default::default()
        }
        .parse(today)
        .unwrap()
    };
    let mut drafts: Vec<_> = (0..8_100).map(|i| person(format!("Ahmadizadeh Number{i}"))).collect();
    drafts.push(person("Ahmadizadeh Navid".into()));
    drafts.push(person("Karimi Navid".into()));
    store.import_people(&drafts, &ctx).unwrap();
    let search = |q: &str| {
        let page = store
            .search_people(&lantern_store::PersonQuery {
                name: Some(q.into()),
                ..Default::default()
            })
            .unwrap();
        let names: Vec<String> = page
            .items
            .iter()
            .map(|p| p.primary_name.text.as_str().to_string())
            .collect();
        (page.total, page.total_is_lower_bound, names)
    };
    // The longest word is the common one: the rare one is read first and
    // the common one looked up for its people.
    assert_eq!(
        search("ahmadizadeh navid"),
        (1, false, vec!["Ahmadizadeh Navid".to_string()])
    );
    // Number12, Number120 to Number129, Number1200 to Number1299.
    let (total, lower, names) = search("ahmadizadeh number12");
    assert_eq!((total, lower, names.len()), (111, false, 50));
    let mut expected: Vec<String> = std::iter::once(12)
        .chain(120..130)
        .chain(1200..1300)
        .map(|i| format!("Ahmadizadeh Number{i}"))
        .collect();
    expected.sort();
    assert_eq!(names, expected[..50]);
    // Every word common: the longest read whole, the count capped.
    let (total, lower, names) = search("numb ahmadizadeh");
    assert_eq!((total, lower, names.len()), (1_000, true, 50));
    let mut expected: Vec<String> = (0..8_100).map(|i| format!("Ahmadizadeh Number{i}")).collect();
    expected.sort();
    assert_eq!(names, expected[..50]);
}

#[test]
fn the_ascii_spellings_migration_folds_stored_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lantern.db");
    let keys = Arc::new(Keyring::generate().unwrap());
    let store = lantern_store_sqlite::open(&path, keys.clone()).unwrap();
    lantern_store_sql::migration_cases::ascii_spellings_fold_stored_keys(store, &|store| {
        drop(store);
        // Version 24 folds the keys.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 23")
            .unwrap();
        lantern_store_sqlite::open(&path, keys.clone()).unwrap()
    });
}

#[test]
fn the_ascii_spellings_migrations_fold_every_letter_the_search_key_spells() {
    // The migrations fold keys stored before the search key spelled these
    // letters; a letter added to `ascii_spelling` later needs a migration of
    // its own, which this test asks for.
    let folds = |sql: &str| -> std::collections::BTreeMap<char, String> {
        // Outside the comments, the only quoted texts are the folds, each
        // written `'ł', 'l'`.
        let code: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
        let quoted: Vec<&str> = code.split('\'').skip(1).step_by(2).collect();
        quoted
            .chunks_exact(2)
            .map(|pair| {
                let mut from = pair[0].chars();
                let letter = from.next().unwrap();
                assert!(from.next().is_none(), "one letter at a time: {}", pair[0]);
                (letter, pair[1].to_string())
            })
            .collect()
    };
    let sqlite = folds(include_str!("../migrations/0024_ascii_spellings.sql"));
    let postgres = folds(include_str!("../../store-postgres/migrations/0019_ascii_spellings.sql"));
    assert_eq!(sqlite, postgres);
    let spelled: std::collections::BTreeMap<char, String> = ('\u{00C0}'..='\u{02FF}')
        .chain('\u{1E00}'..='\u{1EFF}')
        .filter_map(|c| Some((c, lantern_domain::text::ascii_spelling(c)?.to_string())))
        .collect();
    assert_eq!(sqlite, spelled);
}
