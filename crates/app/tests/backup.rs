//! Backups, restores and moving a deployment between databases: round trips
//! while the server keeps writing, and every refusal that protects what is
//! already there. The PostgreSQL cases need a server (`scripts/test.sh`
//! starts one and runs them with `--include-ignored`).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use lantern_app::backup::{backup, migrate_store, restore};
use lantern_app::settings::{FileSettings, SettingArgs, Settings};
use lantern_domain::clock::{Clock, SystemClock};
use lantern_store::{AuditContext, Store};

const PASSPHRASE: &str = "a long backup passphrase";

fn settings(data_dir: &Path, database_url: Option<&str>) -> Settings {
    let mut s = Settings::resolve(&SettingArgs::default(), &FileSettings::default());
    s.data_dir = data_dir.to_path_buf();
    s.database_url = database_url.unwrap_or("").to_string();
    s
}

/// A deployment with demo people, a signed checkpoint, and its store.
fn deployment(data_dir: &Path, database_url: Option<&str>) -> (Settings, Arc<dyn Store>) {
    let s = settings(data_dir, database_url);
    lantern_app::prepare_data_dir(data_dir).unwrap();
    let (keys, _) = lantern_app::load_or_create_keys(data_dir).unwrap();
    let signer = lantern_app::ledger::load_or_create_signer(data_dir, &keys, &s.ledger_origin).unwrap();
    let store = lantern_app::open_store(&s, std::sync::Arc::new(keys)).unwrap();
    lantern_app::load_demo(store.as_ref(), &SystemClock, 40).unwrap();
    common::add_evidence(&s, store.as_ref(), b"a synthetic scanned letter");
    common::add_evidence(&s, store.as_ref(), &vec![9u8; 200_000]);
    lantern_store::sign_checkpoint(store.as_ref(), &signer, time::OffsetDateTime::now_utc()).unwrap();
    (s, store)
}

fn person(name: &str) -> lantern_domain::person::PersonDraft {
    lantern_domain::person::PersonInput {
        names: vec![lantern_domain::person::NameInput {
            text: name.into(),
            ..Default::default()
        }],
        contact: "a protected detail".into(),
        ..Default::default()
    }
    .parse(time::OffsetDateTime::now_utc().date())
    .unwrap()
}

fn postgres_database() -> String {
    lantern_store_postgres::fresh_test_database()
        .expect("create a test database")
        .expect("needs a PostgreSQL server in LANTERN_TEST_POSTGRES (scripts/test.sh starts one)")
}

fn error_of<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    format!("{:#}", r.unwrap_err())
}

#[test]
fn a_backup_taken_while_writing_restores_whole_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (source, store) = deployment(&dir.path().join("a"), None);
    let before = store.stats().unwrap().people;
    // The server keeps registering people while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let ctx = AuditContext::system("test", SystemClock.now());
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                store.create_person(&person("Writer Person"), &ctx).unwrap();
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    let manifest = backup(&source, &dir.path().join("bk"), PASSPHRASE, SystemClock.now()).unwrap();
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(written > 0, "the writer ran during the backup");

    let restored_settings = settings(&dir.path().join("b"), None);
    let done = restore(&restored_settings, &dir.path().join("bk"), PASSPHRASE).unwrap();
    assert!(done.audit.clean(), "{:?}", done.audit.problems);
    assert_eq!(done.audit.checkpoints, 1);
    // Both evidence objects came along, sealed, and were read back.
    assert_eq!(manifest.objects.len(), 2);
    assert_eq!(done.audit.objects, 2);
    assert_eq!(
        std::fs::read_dir(restored_settings.data_dir.join("objects").join("objects"))
            .unwrap()
            .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
            .count(),
        2
    );
    // The snapshot is consistent: each person with its audit event and log entries.
    assert_eq!(done.census.ledger_size, manifest.ledger_size);
    assert_eq!(hex::encode(done.census.ledger_root), manifest.ledger_root);
    let people = done.census.rows("people");
    assert_eq!(people, manifest.tables["people"]);
    assert!(people >= before && people <= before + written as u64);
    assert_eq!(done.census.rows("sessions"), 0, "live sessions are not restored");

    // The restored deployment opens with the restored keys and reads
    // protected fields sealed before the backup.
    let (keys, created) = lantern_app::load_or_create_keys(&restored_settings.data_dir).unwrap();
    assert!(!created, "the master key came from the backup");
    let restored = lantern_app::open_store(&restored_settings, std::sync::Arc::new(keys)).unwrap();
    let someone = restored
        .search_people(&lantern_store::PersonQuery {
            name: Some("Writer".into()),
            ..Default::default()
        })
        .unwrap()
        .items[0]
        .id;
    let ctx = AuditContext::system("test", SystemClock.now());
    assert_eq!(
        restored.read_protected(someone, &ctx).unwrap().contact.as_deref(),
        Some("a protected detail")
    );
}

#[test]
fn a_backup_whose_name_keys_an_older_version_made_restores_rekeyed() {
    let dir = tempfile::tempdir().unwrap();
    let (source, store) = deployment(&dir.path().join("a"), None);
    // Two names of one person that today's search key makes the same
    // words (Aydın and Aydin: aydin), which an older version kept apart.
    let draft = lantern_domain::person::PersonInput {
        names: ["Yıldız Aydın", "Yildiz Aydin"]
            .iter()
            .map(|n| lantern_domain::person::NameInput {
                text: n.to_string(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
    .parse(time::OffsetDateTime::now_utc().date())
    .unwrap();
    let ctx = AuditContext::system("test", SystemClock.now());
    let id = store.create_person(&draft, &ctx).unwrap().id;
    let bk = dir.path().join("bk");
    backup(&source, &bk, PASSPHRASE, SystemClock.now()).unwrap();

    // The backup as a version before schema 24 wrote it: the letters as
    // typed in the keys, so four words where there are two now, and the
    // manifest counting them.
    let records = bk.join("records.db");
    let tokens: i64 = {
        let db = rusqlite::Connection::open(&records).unwrap();
        let person = id.to_string();
        db.execute(
            "INSERT INTO name_tokens (token, person_id, sort_key)
             SELECT replace(replace(token, 'yildiz', 'yıldız'), 'aydin', 'aydın'), person_id, sort_key
             FROM name_tokens WHERE person_id = ?1",
            [&person],
        )
        .unwrap();
        for table in ["people", "name_tokens"] {
            db.execute(
                &format!("UPDATE {table} SET sort_key = 'yıldız aydın' WHERE sort_key = 'yildiz aydin'"),
                [],
            )
            .unwrap();
        }
        db.execute_batch("PRAGMA user_version = 23").unwrap();
        db.query_row("SELECT COUNT(*) FROM name_tokens", [], |r| r.get(0))
            .unwrap()
    };
    let manifest_path = bk.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["tables"]["name_tokens"].as_i64().unwrap() + 2, tokens);
    manifest["tables"]["name_tokens"] = tokens.into();
    use sha2::Digest;
    manifest["files"]["records.db"] = hex::encode(sha2::Sha256::digest(std::fs::read(&records).unwrap())).into();
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let restored_settings = settings(&dir.path().join("b"), None);
    let done = restore(&restored_settings, &bk, PASSPHRASE).unwrap();
    assert!(done.audit.clean(), "{:?}", done.audit.problems);
    assert_eq!(
        done.census.rows("name_tokens") + 2,
        tokens as u64,
        "the words are folded"
    );
    let (keys, _) = lantern_app::load_or_create_keys(&restored_settings.data_dir).unwrap();
    let restored = lantern_app::open_store(&restored_settings, std::sync::Arc::new(keys)).unwrap();
    let found = restored
        .search_people(&lantern_store::PersonQuery {
            name: Some("yildiz aydin".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.items.iter().map(|s| s.id).collect::<Vec<_>>(), [id]);
}

#[test]
fn damaged_or_locked_backups_restore_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _store) = deployment(&dir.path().join("a"), None);
    let bk = dir.path().join("bk");
    assert!(error_of(backup(&source, &bk, "short", SystemClock.now())).contains("at least 12"));
    backup(&source, &bk, PASSPHRASE, SystemClock.now()).unwrap();
    assert!(error_of(backup(&source, &bk, PASSPHRASE, SystemClock.now())).contains("already exists"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&bk), 0o700);
        for file in ["records.db", "keys.enc", "manifest.json"] {
            assert_eq!(mode(&bk.join(file)), 0o600, "{file}");
        }
    }
    let keys = std::fs::read(bk.join("keys.enc")).unwrap();
    let master = std::fs::read_to_string(source.data_dir.join("keys").join("master.key")).unwrap();
    let secret = master.split_whitespace().last().unwrap().to_string();
    let as_base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, master.as_bytes());
    for form in [secret, as_base64] {
        let needle = &form.as_bytes()[form.len() - 24..];
        assert!(!keys.windows(24).any(|w| w == needle), "the master key is sealed");
    }

    let fresh = |name: &str| settings(&dir.path().join(name), None);
    // A wrong passphrase.
    let err = error_of(restore(&fresh("b"), &bk, "another long passphrase"));
    assert!(err.contains("passphrase does not open"), "{err}");
    assert!(!dir.path().join("b").join("keys").join("master.key").exists());
    // A different ledger origin would not open the signing key.
    let mut other_origin = fresh("b");
    other_origin.ledger_origin = "elsewhere.example/ledger".into();
    assert!(error_of(restore(&other_origin, &bk, PASSPHRASE)).contains("ledger origin"));
    // Into a data folder that already has keys (the source's own).
    assert!(error_of(restore(&source, &bk, PASSPHRASE)).contains("already has a master key"));
    // Into a database that already holds records: the source's database,
    // from a fresh data folder.
    let mut into_used = fresh("c");
    into_used.database_url = format!("sqlite://{}", source.data_dir.join("lantern.db").display());
    let err = error_of(restore(&into_used, &bk, PASSPHRASE));
    assert!(err.contains("not empty"), "{err}");
    assert!(!dir.path().join("c").join("keys").join("master.key").exists());
    // One changed byte in an evidence object.
    let object = std::fs::read_dir(bk.join("objects").join("objects"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = std::fs::read(&object).unwrap();
    let mut flipped = original.clone();
    flipped[40] ^= 1;
    std::fs::write(&object, &flipped).unwrap();
    let err = error_of(restore(&fresh("e"), &bk, PASSPHRASE));
    assert!(err.contains("does not match the manifest"), "{err}");
    assert!(
        !dir.path().join("e").join("lantern.db").exists(),
        "something was restored"
    );
    std::fs::write(&object, &original).unwrap();
    // One changed byte in the records.
    let records = bk.join("records.db");
    let mut bytes = std::fs::read(&records).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&records, bytes).unwrap();
    let err = error_of(restore(&fresh("d"), &bk, PASSPHRASE));
    assert!(err.contains("damaged or was altered"), "{err}");
}

#[test]
fn migrate_store_refuses_the_database_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _store) = deployment(&dir.path().join("a"), None);
    let same = format!("sqlite://{}", source.data_dir.join("lantern.db").display());
    assert!(error_of(migrate_store(&source, &same, None)).contains("already uses"));
    let in_use = source.data_dir.join("objects").display().to_string();
    let copy = format!("sqlite://{}", dir.path().join("copy.db").display());
    assert!(error_of(migrate_store(&source, &copy, Some(&in_use))).contains("already uses"));
    // The records and, with --objects-to, the evidence objects move; each
    // object is read back from its new place against its record.
    let moved = dir.path().join("moved-objects");
    let done = migrate_store(&source, &copy, Some(&moved.display().to_string())).unwrap();
    assert!(done.audit.clean(), "{:?}", done.audit.problems);
    assert_eq!(done.audit.objects, 2);
    assert_eq!(
        std::fs::read_dir(moved.join("objects"))
            .unwrap()
            .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
            .count(),
        2
    );
    assert!(error_of(migrate_store(&source, &copy, None)).contains("not empty"));
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn sqlite_moves_to_postgres_and_back_through_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (source, store) = deployment(&dir.path().join("a"), None);
    let size = store.ledger_size().unwrap();
    let root = store.ledger_root(size).unwrap();
    let people = store.stats().unwrap().people;

    // SQLite to PostgreSQL, then serve from PostgreSQL.
    let url = postgres_database();
    let done = migrate_store(&source, &url, None).unwrap();
    assert!(done.audit.clean(), "{:?}", done.audit.problems);
    assert_eq!((done.census.ledger_size, done.census.ledger_root), (size, root));
    let mut on_postgres = source.clone();
    on_postgres.database_url = url.clone();
    let (keys, _) = lantern_app::load_or_create_keys(&source.data_dir).unwrap();
    let moved = lantern_app::open_store(&on_postgres, std::sync::Arc::new(keys)).unwrap();
    let ctx = AuditContext::system("test", SystemClock.now());
    moved.create_person(&person("After The Move"), &ctx).unwrap();
    assert!(moved.check_records().unwrap().is_empty());

    // A backup of the PostgreSQL deployment restores into a new PostgreSQL
    // database and into SQLite, with the same log.
    let manifest = backup(&on_postgres, &dir.path().join("bk"), PASSPHRASE, SystemClock.now()).unwrap();
    assert_eq!(manifest.source, "postgres");
    assert_eq!(manifest.ledger_size, size + 2);
    for target in [Some(postgres_database()), None] {
        let name = if target.is_some() { "pg" } else { "lite" };
        let restored = settings(&dir.path().join(name), target.as_deref());
        let done = restore(&restored, &dir.path().join("bk"), PASSPHRASE).unwrap();
        assert!(done.audit.clean(), "{name}: {:?}", done.audit.problems);
        assert_eq!(hex::encode(done.census.ledger_root), manifest.ledger_root, "{name}");
        assert_eq!(done.census.rows("people"), people + 1, "{name}");
    }
}
