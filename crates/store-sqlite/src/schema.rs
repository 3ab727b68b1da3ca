//! Embedded migrations, applied in order and recorded in `user_version`.

use lantern_store::StoreResult;
use rusqlite::Connection;

use crate::db;

/// The migrations, in order; the n-th brings the schema to version n.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_photos.sql"),
    include_str!("../migrations/0003_password_change.sql"),
    include_str!("../migrations/0004_ledger.sql"),
    include_str!("../migrations/0005_ordered_indexes.sql"),
    include_str!("../migrations/0006_ledger_nodes.sql"),
    include_str!("../migrations/0007_cases.sql"),
    include_str!("../migrations/0008_interviews.sql"),
    include_str!("../migrations/0009_case_notes.sql"),
    include_str!("../migrations/0010_availability.sql"),
    include_str!("../migrations/0011_tracing.sql"),
    include_str!("../migrations/0012_interviewer_languages.sql"),
    include_str!("../migrations/0013_evidence.sql"),
    include_str!("../migrations/0014_reseal.sql"),
    include_str!("../migrations/0015_messages.sql"),
    include_str!("../migrations/0016_visits.sql"),
    include_str!("../migrations/0017_testimonies.sql"),
    include_str!("../migrations/0018_candidate_data.sql"),
    include_str!("../migrations/0019_request_photos.sql"),
    include_str!("../migrations/0020_token_order.sql"),
    include_str!("../migrations/0021_token_order_index.sql"),
    include_str!("../migrations/0022_people_counts.sql"),
    include_str!("../migrations/0023_name_pairs.sql"),
    include_str!("../migrations/0024_ascii_spellings.sql"),
];

/// Brings the schema up to date, each step in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(db)? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(db)?;
        tx.commit().map_err(db)?;
    }
    Ok(())
}
