//! Durable log appends on SQLite: prints entries per second, asserts nothing.
//!
//! Each entry is an audit event with its log entry, the salts of its nine
//! field commitments and the subtree hashes it completes, written as the
//! server writes them (`synchronous = FULL`, so a committed batch is on
//! disk). Batches of `BATCH` entries share one transaction.
//!
//! ```sh
//! cargo run --release -p lantern-store-sqlite --example appends -- 100000 1000
//! ```

use std::sync::Arc;
use std::time::Instant;

use lantern_domain::audit::AuditAction;
use lantern_store::{AuditContext, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(100_000, |a| a.parse().expect("entries"));
    let batch: usize = args.next().map_or(1_000, |a| a.parse().expect("batch size"));
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = Arc::new(lantern_vault::Keyring::generate().expect("keys"));
    let store = lantern_store_sqlite::open(&dir.path().join("bench.db"), keys).expect("store");
    let ctx = AuditContext::system("bench", time::OffsetDateTime::now_utc());
    let events: Vec<_> = (0..batch)
        .map(|i| ctx.event(AuditAction::Login, "user", Some(format!("user-{i}")), "benchmark entry"))
        .collect();
    let start_size = store.ledger_size().expect("size");
    let started = Instant::now();
    let mut written = 0;
    while written < total {
        let n = batch.min(total - written);
        store.record_batch(&events[..n]).expect("append");
        written += n;
    }
    let took = started.elapsed();
    let size = store.ledger_size().expect("size");
    assert_eq!(size - start_size, total as u64);
    let one = Instant::now();
    for e in events.iter().take(200) {
        store.record_batch(std::slice::from_ref(e)).expect("append");
    }
    let single = one.elapsed() / 200;
    println!(
        "{total} entries in batches of {batch}: {:.2} s, {:.0} entries/s durable; \
         one entry per transaction: {:.2} ms each ({:.0}/s)",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        single.as_secs_f64() * 1e3,
        1.0 / single.as_secs_f64()
    );
}
