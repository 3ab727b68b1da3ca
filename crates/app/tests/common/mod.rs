//! What several test files of the `lantern` crate share.

use std::sync::Arc;

use lantern_app::settings::Settings;
use lantern_domain::clock::{Clock, SystemClock};
use lantern_store::Store;

/// Stores `content` in the deployment's vault and records it as evidence;
/// returns the record's id and the object's name.
pub fn add_evidence(settings: &Settings, store: &dyn Store, content: &[u8]) -> (String, String) {
    let (keys, _) = lantern_app::load_or_create_keys(&settings.data_dir).unwrap();
    let vault = lantern_app::open_vault(settings, Arc::new(keys)).unwrap();
    let body = futures_util::stream::iter(vec![Ok::<_, std::convert::Infallible>(bytes::Bytes::copy_from_slice(
        content,
    ))]);
    let ingested = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(vault.ingest(body, u64::MAX))
        .unwrap();
    let name = ingested.name.clone();
    let new = lantern_store::NewEvidence {
        object: lantern_store::StoredObject {
            name: ingested.name,
            sha256: hex::encode(ingested.sha256),
            size: ingested.size,
            wrapped_key: ingested.wrapped_key,
        },
        title: "A synthetic document".into(),
        media_type: "application/pdf".into(),
        details: Default::default(),
        received_from: Some("a witness".into()),
        received_how: None,
        derived_from: None,
    };
    let added = store
        .add_evidence(&new, &lantern_store::AuditContext::system("test", SystemClock.now()))
        .unwrap();
    (added.evidence.id.to_string(), name)
}
