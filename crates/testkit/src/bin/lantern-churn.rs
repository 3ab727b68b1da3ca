//! A writer for crash tests: opens (or creates) the deployment in the data
//! folder given as its one argument and, until it is killed, registers
//! people and ingests evidence files of random sizes. After each commit it
//! prints one line, so the test knows what was acknowledged:
//!
//! ```text
//! PERSON <id>
//! EVIDENCE <id> <sha256>
//! ```
//!
//! `crates/testkit/tests/crash.rs` kills it with SIGKILL at random moments.

use std::io::Write;
use std::sync::Arc;

use lantern_domain::clock::{Clock, SystemClock};
use lantern_domain::person::{NameInput, PersonInput};
use lantern_store::{AuditContext, NewEvidence, Store, StoredObject};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: lantern-churn DATA_DIR"));
    lantern_app::prepare_data_dir(&dir).expect("data dir");
    let (keys, _) = lantern_app::load_or_create_keys(&dir).expect("keys");
    let keys = Arc::new(keys);
    let store: Arc<dyn Store> =
        Arc::new(lantern_store_sqlite::open(&dir.join("lantern.db"), keys.clone()).expect("store"));
    let vault =
        lantern_vault::objects::ObjectVault::open(&lantern_vault::objects::Location::Local(dir.join("objects")), keys)
            .expect("vault");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut out = std::io::stdout().lock();
    let mut seed = [0u8; 8];
    lantern_vault::random_bytes(&mut seed).expect("random");
    let mut state = u64::from_le_bytes(seed) | 1;
    let mut next = move || {
        // xorshift64: cheap varied sizes and contents.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    loop {
        let ctx = AuditContext::system("churn", SystemClock.now());
        let draft = PersonInput {
            names: vec![NameInput {
                text: format!("Churn Person {}", next() % 100_000),
                ..Default::default()
            }],
            ..Default::default()
        }
        .parse(ctx.at.date())
        .expect("draft");
        let p = store.create_person(&draft, &ctx).expect("person");
        writeln!(out, "PERSON {}", p.id).expect("stdout");
        out.flush().expect("stdout");

        let size = (next() % 1_500_000) as usize;
        let fill = next();
        let content: Vec<u8> = (0..size)
            .map(|i| (fill.wrapping_add(i as u64 * 31) >> 3) as u8)
            .collect();
        let pieces: Vec<Result<bytes::Bytes, std::convert::Infallible>> = content
            .chunks(100_000)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        let ingested = runtime
            .block_on(vault.ingest(futures_util::stream::iter(pieces), u64::MAX))
            .expect("ingest");
        let sha256 = hex::encode(ingested.sha256);
        let added = store
            .add_evidence(
                &NewEvidence {
                    object: StoredObject {
                        name: ingested.name,
                        sha256: sha256.clone(),
                        size: ingested.size,
                        wrapped_key: ingested.wrapped_key,
                    },
                    title: "Churn file".into(),
                    media_type: "application/octet-stream".into(),
                    details: Default::default(),
                    received_from: None,
                    received_how: None,
                    derived_from: None,
                },
                &ctx,
            )
            .expect("evidence");
        writeln!(out, "EVIDENCE {} {sha256}", added.evidence.id).expect("stdout");
        out.flush().expect("stdout");
    }
}
