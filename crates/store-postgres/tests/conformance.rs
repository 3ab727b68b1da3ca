//! The PostgreSQL backend against the store conformance suite, plus what
//! only the database can show (append-only triggers, gapless audit numbers,
//! encryption at rest). These tests need a server: `scripts/test.sh` starts
//! one and runs them with `--include-ignored`.

use std::sync::Arc;

use lantern_store::{AuditContext, Store};
use lantern_store_postgres::{fresh_test_database, PostgresStore};
use lantern_vault::Keyring;

const NEEDS: &str = "needs a PostgreSQL server in LANTERN_TEST_POSTGRES (scripts/test.sh starts one)";

fn fresh() -> (String, PostgresStore) {
    let url = fresh_test_database()
        .expect("create a test database")
        .unwrap_or_else(|| panic!("{NEEDS}"));
    let store = lantern_store_postgres::open(&url, Arc::new(Keyring::generate().unwrap())).expect("open");
    (url, store)
}

fn person(contact: &str) -> lantern_domain::person::PersonDraft {
    lantern_domain::person::PersonInput {
        names: vec![lantern_domain::person::NameInput {
            text: "Test Person".into(),
            ..Default::default()
        }],
        contact: contact.into(),
        ..Default::default()
    }
    .parse(time::OffsetDateTime::now_utc().date())
    .unwrap()
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn conformance() {
    lantern_store::conformance::run_all(&|| Box::new(fresh().1));
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn match_people_in_pages() {
    let store = fresh().1;
    lantern_store::conformance::match_people_in_pages_of_any_size(&store, &|page, each| {
        store.match_people_in_pages(page, each)
    });
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn key_rotation() {
    lantern_store::conformance::key_rotation_reseals_every_sealed_value(&|keys| {
        let url = fresh_test_database()
            .expect("create a test database")
            .unwrap_or_else(|| panic!("{NEEDS}"));
        Box::new(lantern_store_postgres::open(&url, keys).expect("open"))
    });
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn audit_history_and_log_are_append_only_in_the_database() {
    let (url, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    store.create_person(&person(""), &ctx).unwrap();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE audit_events SET detail = 'changed'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE person_versions SET actor_name = 'someone else'",
        "DELETE FROM person_versions",
        "UPDATE ledger_entries SET entry = ''::bytea",
        "DELETE FROM ledger_nodes",
    ] {
        let err = client.batch_execute(sql).unwrap_err();
        let said = err.as_db_error().map(|e| e.message().to_string()).unwrap_or_default();
        assert!(said.contains("append-only"), "{sql}: {err:?}");
    }
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn audit_numbers_have_no_gaps_after_a_rollback() {
    let (url, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    store.create_person(&person(""), &ctx).unwrap();
    // A transaction that wrote an audit row and was then rolled back (as
    // when a later step of a change fails) must not leave a hole.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = client.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO audit_events (at, actor_name, action, record_kind, request_id, detail)
         VALUES ('2026-01-01T00:00:00.000000Z', 'x', 'x', 'x', 'x', '')",
    )
    .unwrap();
    tx.rollback().unwrap();
    store.create_person(&person(""), &ctx).unwrap();
    let seqs: Vec<i64> = client
        .query("SELECT seq FROM audit_events ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert!(store.check_records().unwrap().is_empty());
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn protected_fields_are_encrypted_at_rest() {
    let (url, store) = fresh();
    let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
    let p = store
        .create_person(&person("brother's phone +00 1234 998877"), &ctx)
        .unwrap();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let row = client
        .query_one("SELECT core, protected FROM people WHERE id = $1", &[&p.id.to_string()])
        .unwrap();
    let core: String = row.get(0);
    let sealed: Vec<u8> = row.get(1);
    assert!(core.contains("Test Person"), "sanity: plain fields are found");
    assert!(
        !sealed.windows(11).any(|w| w == b"1234 998877"),
        "contact stored in clear"
    );
    assert_eq!(
        store.read_protected(p.id, &ctx).unwrap().contact.as_deref(),
        Some("brother's phone +00 1234 998877")
    );
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn concurrent_writers_keep_the_log_whole() {
    let (_url, store) = fresh();
    let store = Arc::new(store);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let ctx = AuditContext::system("test", time::OffsetDateTime::now_utc());
                for _ in 0..10 {
                    store.create_person(&person(""), &ctx).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 80 people, each with a record entry and an audit entry.
    let size = store.ledger_size().unwrap();
    assert_eq!(size, 160);
    let leaves = store.ledger_leaf_hashes(size).unwrap();
    assert_eq!(store.ledger_root(size).unwrap(), lantern_ledger::root(&leaves));
    assert!(store.check_records().unwrap().is_empty());
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn a_copy_read_in_small_chunks_is_whole() {
    let (_, store) = fresh();
    lantern_store::conformance::sample_registry(&store, 12);
    // Chunks of 7 rows: reads after the first compare row values of one and
    // of several key columns, typed by PostgreSQL.
    let target_url = fresh_test_database()
        .expect("create a test database")
        .unwrap_or_else(|| panic!("{NEEDS}"));
    let target = lantern_store_postgres::Postgres::connect(&target_url).expect("target");
    let copied = lantern_store_sql::copy::copy_records_chunked(store.backend(), &target, 7).unwrap();
    assert_eq!(copied, lantern_store_sql::copy::census(&target).unwrap());
    assert!(copied.rows("name_tokens") > 14 && copied.rows("family_links") > 7);
    use lantern_store_sql::{Backend, ConnExt};
    // The pairs of name words are rebuilt, not copied: the same.
    let pairs = "SELECT COUNT(*) FROM name_pairs";
    let here: i64 = store.backend().read(|tx| tx.query_value(pairs, &[])).unwrap();
    let there: i64 = target.read(|tx| tx.query_value(pairs, &[])).unwrap();
    assert!(here > 12 && here == there, "{here} pairs, {there} in the copy");
    // The copy leaves the planner statistics of what it filled.
    let analysed: i64 = target
        .read(|tx| tx.query_value("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'ledger_salts'", &[]))
        .unwrap();
    assert!(analysed > 0, "no statistics for the copied log");
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn the_store_can_be_dropped_where_async_tasks_run() {
    // The server's state, and the store in it, is dropped on a thread that
    // drives async tasks when the server shuts down; closing the pooled
    // connections there must not panic (it aborted `lantern serve` on Ctrl-C).
    let (_, store) = fresh();
    store.stats().expect("a pooled connection");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    runtime.block_on(async move {
        tokio::spawn(async move { drop(store) })
            .await
            .expect("dropped without a panic");
    });
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn a_connection_keeps_a_bounded_number_of_prepared_statements() {
    use lantern_store_sql::{Backend, ConnExt};
    let url = fresh_test_database()
        .expect("create a test database")
        .unwrap_or_else(|| panic!("{NEEDS}"));
    let pg = lantern_store_postgres::Postgres::connect(&url).unwrap();
    // Statements written per call (as a page's offset is): each a new text.
    let (sum, prepared) = pg
        .read(|tx| {
            let mut sum = 0i64;
            for i in 0..600i64 {
                sum += tx.query_value::<i64>(&format!("SELECT CAST({i} AS BIGINT) + ?1"), &[1i64.into()])?;
            }
            let prepared = tx.query_value::<i64>("SELECT COUNT(*) FROM pg_prepared_statements", &[])?;
            Ok((sum, prepared))
        })
        .unwrap();
    assert_eq!(sum, (1..=600).sum::<i64>(), "every statement answered");
    assert!(
        prepared <= 300,
        "{prepared} statements prepared on one connection (the cache keeps 256)"
    );
}

#[test]
#[ignore = "needs a PostgreSQL server (scripts/test.sh)"]
fn the_ascii_spellings_migration_folds_stored_keys() {
    use lantern_store_sql::Backend;
    let url = fresh_test_database()
        .expect("create a test database")
        .unwrap_or_else(|| panic!("{NEEDS}"));
    let keys = Arc::new(Keyring::generate().unwrap());
    let store = lantern_store_postgres::open(&url, keys.clone()).expect("open");
    lantern_store_sql::migration_cases::ascii_spellings_fold_stored_keys(store, &|store| {
        // Version 19 folds the keys.
        store
            .backend()
            .write(|tx| tx.execute("DELETE FROM lantern_schema WHERE version >= 19", &[]))
            .unwrap();
        drop(store);
        lantern_store_postgres::open(&url, keys.clone()).expect("open again")
    });
}
