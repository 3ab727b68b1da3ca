//! Checks of the data migrations both backends carry (the same SQL on
//! each), for each backend's tests to run: only the backend knows how to
//! take a database back to the version before a migration.

use lantern_domain::person::{NameInput, PersonId, PersonInput};
use lantern_store::{AuditContext, PersonQuery, Store};
use time::OffsetDateTime;

use crate::{params, Backend, SqlStore};

/// Every stored search key, one line per row of the three tables that
/// hold them (people's sort keys, their words, their words' pairs), sorted.
fn stored_keys<B: Backend>(store: &SqlStore<B>) -> Vec<String> {
    store
        .backend()
        .read(|tx| {
            let mut lines = Vec::new();
            for sql in [
                "SELECT 'person ' || id || ': ' || sort_key FROM people",
                "SELECT 'word ' || person_id || ': ' || token || ' / ' || sort_key FROM name_tokens",
                "SELECT 'pair ' || person_id || ': ' || first || ' ' || second || ' / ' || sort_key FROM name_pairs",
            ] {
                for row in tx.query(sql, &[])? {
                    lines.push(row.get::<String>(0)?);
                }
            }
            lines.sort();
            Ok(lines)
        })
        .expect("read the stored keys")
}

/// The people a search by name finds.
fn found<B: Backend>(store: &SqlStore<B>, name: &str) -> Vec<PersonId> {
    let query = PersonQuery {
        name: Some(name.to_string()),
        ..Default::default()
    };
    store
        .search_people(&query)
        .expect("search")
        .items
        .iter()
        .map(|s| s.id)
        .collect()
}

/// Keys stored before search keys spelled in ASCII the Latin letters
/// Unicode does not decompose (ı, ł …; `lantern_domain::text::ascii_spelling`)
/// are folded by the migration to what the names give now, to the last
/// row: two words of one person that fold alike become one, and their
/// pairs are made again in the new byte order. `back` takes the database
/// to the schema version before that migration and opens it again, which
/// migrates it.
pub fn ascii_spellings_fold_stored_keys<B: Backend>(store: SqlStore<B>, back: &dyn Fn(SqlStore<B>) -> SqlStore<B>) {
    let now = OffsetDateTime::now_utc();
    let ctx = AuditContext::system("test", now);
    let register = |names: &[&str]| {
        let draft = PersonInput {
            names: names
                .iter()
                .map(|n| NameInput {
                    text: n.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .parse(now.date())
        .expect("valid draft");
        store.create_person(&draft, &ctx).expect("register").id
    };
    let aydin = register(&["Aydın Yıldız"]);
    let lukasz = register(&["Łukasz Nowak", "Lukasz Nowak"]);
    register(&["Reza Karimi"]);
    let folded = stored_keys(&store);
    assert_eq!(found(&store, "aydin"), [aydin]);
    assert_eq!(found(&store, "yildiz ayd"), [aydin]);
    assert_eq!(found(&store, "lukasz now"), [lukasz]);

    // The keys as the code before the migration stored them: the letters
    // as typed, Łukasz and Lukasz two words, the pairs made from the words
    // (as migration 0023 of SQLite, 0017 of PostgreSQL, first made them).
    store
        .backend()
        .write(|tx| {
            for (ascii, typed) in [("aydin", "aydın"), ("yildiz", "yıldız")] {
                tx.execute(
                    "UPDATE name_tokens SET token = ?2 WHERE token = ?1",
                    params![ascii, typed],
                )?;
            }
            let typed = "replace(replace(replace(sort_key, 'aydin', 'aydın'), 'yildiz', 'yıldız'), 'lukasz', 'łukasz')";
            tx.execute(&format!("UPDATE people SET sort_key = {typed}"), &[])?;
            tx.execute(&format!("UPDATE name_tokens SET sort_key = {typed}"), &[])?;
            tx.execute(
                "INSERT INTO name_tokens (token, person_id, sort_key)
                 SELECT 'łukasz', person_id, sort_key FROM name_tokens WHERE token = 'lukasz'",
                &[],
            )?;
            tx.execute("DELETE FROM name_pairs", &[])?;
            tx.execute(
                "INSERT INTO name_pairs (first, second, person_id, sort_key)
                 SELECT a.token, b.token, a.person_id, a.sort_key
                 FROM name_tokens a JOIN name_tokens b ON b.person_id = a.person_id AND a.token < b.token",
                &[],
            )?;
            Ok(())
        })
        .expect("store the keys the old way");
    assert_ne!(stored_keys(&store), folded);
    assert!(
        found(&store, "aydin").is_empty(),
        "the old keys miss the ASCII spelling"
    );

    let store = back(store);
    assert_eq!(stored_keys(&store), folded);
    assert_eq!(found(&store, "aydin"), [aydin]);
    assert_eq!(found(&store, "yildiz ayd"), [aydin]);
    assert_eq!(found(&store, "lukasz now"), [lukasz]);
}
