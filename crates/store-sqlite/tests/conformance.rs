//! The SQLite backend against the store conformance suite, plus what only
//! SQLite can show (the append-only triggers, encryption at rest).

use std::sync::Arc;

use lantern_store::{AuditContext, Store};
use lantern_store_sqlite::SqliteStore;
use lantern_vault::Keyring;

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("lantern.db"), Arc::new(Keyring::generate().unwrap())).unwrap();
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
    store.create_person(&draft, &ctx).unwrap();
    drop(store);
    let mut bytes = std::fs::read(dir.path().join("lantern.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("lantern.db-wal")) {
        bytes.extend(wal);
    }
    assert!(!bytes.windows(6).any(|w| w == b"998877"), "contact stored in clear");
    assert!(
        bytes.windows(11).any(|w| w == b"Test Person"),
        "sanity: plain fields are found"
    );
}
