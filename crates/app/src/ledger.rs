//! The log's signing key, checkpoints, and the full audit of the log
//! against its checkpoints and the records.

use std::path::Path;

use anyhow::Context;
use lantern_domain::clock::Clock;
use lantern_ledger::entry::Entry;
use lantern_ledger::note::{Checkpoint, NoteSigner, NoteVerifier};
use lantern_ledger::{leaf_hash, node_hash, Hash};
use lantern_store::Store;
use lantern_vault::Keyring;

/// Purpose under which the signing key is sealed by the master key.
const KEY_PURPOSE: &str = "ledger-signing";

/// Loads the log's Ed25519 signing key, creating it on first start. The key
/// is stored sealed under the master key (`keys/ledger.key`).
pub fn load_or_create_signer(dir: &Path, keys: &Keyring, origin: &str) -> anyhow::Result<NoteSigner> {
    let path = dir.join("keys").join("ledger.key");
    let seed: [u8; 32] = if path.exists() {
        let sealed = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let plain = keys.open(KEY_PURPOSE, origin, &sealed).with_context(|| {
            format!(
                "{}: cannot open the ledger key (wrong master key, or ledger_origin changed?)",
                path.display()
            )
        })?;
        plain[..].try_into().context("the ledger key is not 32 bytes")?
    } else {
        let mut seed = [0u8; 32];
        lantern_vault::random_bytes(&mut seed)?;
        let sealed = keys.seal(KEY_PURPOSE, origin, &seed)?;
        write_private(&path, &sealed)?;
        seed
    };
    Ok(NoteSigner::new(origin, &seed)?)
}

/// Seals the ledger signing key again under the keyring's newest
/// generation (after a rotation).
pub fn reseal_signer(dir: &Path, keys: &Keyring, origin: &str) -> anyhow::Result<()> {
    let path = dir.join("keys").join("ledger.key");
    if !path.exists() {
        return Ok(());
    }
    let sealed = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let plain = keys
        .open(KEY_PURPOSE, origin, &sealed)
        .with_context(|| format!("{}: cannot open the ledger key", path.display()))?;
    write_private(&path, &keys.seal(KEY_PURPOSE, origin, &plain)?)
}

/// Writes an owner-only file atomically: a crash leaves either no file or
/// the whole file, never a truncated key.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// Root of the first `n` leaves, computed incrementally: a stack of
/// perfect-subtree roots ("compact range") so all checkpoints are checked in
/// one pass over the log.
#[derive(Default)]
struct CompactRange {
    /// (height, root) of perfect subtrees, left to right.
    stack: Vec<(u32, Hash)>,
    size: u64,
}

impl CompactRange {
    fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(h, left)) = self.stack.last() {
            if h != node.0 {
                break;
            }
            self.stack.pop();
            node = (h + 1, node_hash(&left, &node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// The RFC 9162 root of the leaves pushed so far.
    fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return lantern_ledger::empty_root();
        };
        for &(_, left) in iter {
            acc = node_hash(&left, &acc);
        }
        acc
    }
}

/// What an audit found.
#[derive(Debug, Default)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Evidence objects read back and compared with their recorded hash.
    pub objects: usize,
    /// What is wrong, one line each.
    pub problems: Vec<String>,
}

impl AuditReport {
    /// True when nothing was wrong.
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads every catalogued evidence object back (authenticating each chunk)
/// and compares its content's SHA-256 with the catalogue, which the ledger
/// audit has compared with the log.
pub async fn check_objects(
    store: std::sync::Arc<dyn Store>,
    vault: &lantern_vault::objects::ObjectVault,
    report: &mut AuditReport,
) -> anyhow::Result<()> {
    let objects = tokio::task::spawn_blocking(move || store.vault_objects()).await??;
    for o in objects {
        report.objects += 1;
        let Some(expected) = lantern_vault::objects::hash_from_hex(&o.sha256) else {
            report
                .problems
                .push(format!("object {}: the recorded hash is not a SHA-256", o.name));
            continue;
        };
        match vault.check(&o.name, &o.wrapped_key, expected).await {
            Ok(size) if size == o.size => {}
            Ok(size) => report.problems.push(format!(
                "object {}: {size} bytes of content, the record says {}",
                o.name, o.size
            )),
            Err(e) => report.problems.push(format!("object {}: {e}", o.name)),
        }
    }
    Ok(())
}

/// Stored subtree hashes the audit reads at once.
const NODE_PAGE: usize = 100_000;

/// Recomputes the tree from the stored entries, checks each entry's stored
/// hash and canonical form, each checkpoint's root and signature, and every
/// record against its latest entry.
///
/// A server may keep writing while the audit runs: it judges the log as it
/// was when the audit read its size (checkpoints first, so none signed in
/// between can claim more entries than were read), and leaves out what is
/// appended after.
pub fn audit(store: &dyn Store, verifier: &NoteVerifier) -> anyhow::Result<AuditReport> {
    let mut report = AuditReport::default();
    let checkpoints = store.checkpoints()?;
    let size = store.ledger_size()?;
    let mut range = CompactRange::default();
    // The subtree hashes the entries imply, to compare with the stored ones
    // that proofs are built from.
    let mut recomputed = lantern_ledger::tree::MemoryTree::new();
    let mut pending = checkpoints.iter().peekable();
    let mut check_due = |range: &CompactRange, report: &mut AuditReport| {
        while let Some(c) = pending.peek() {
            if c.size != range.size {
                break;
            }
            report.checkpoints += 1;
            match verifier.verify(&c.note).map(Checkpoint::parse_body) {
                Err(e) => report.problems.push(format!("checkpoint at size {}: {e}", c.size)),
                Ok(Err(e)) => report.problems.push(format!("checkpoint at size {}: {e}", c.size)),
                Ok(Ok(body)) => {
                    if body.size != c.size || body.root != c.root || body.origin != verifier.name {
                        report.problems.push(format!(
                            "checkpoint at size {}: the signed note says size {} and another root than the stored row",
                            c.size, body.size
                        ));
                    }
                    if range.root() != body.root {
                        report.problems.push(format!(
                            "checkpoint at size {}: the entries now stored give a different root (an entry was changed, removed or reordered since it was signed)",
                            c.size
                        ));
                    }
                }
            }
            pending.next();
        }
    };
    const CHUNK: u64 = 10_000;
    let mut start = 0;
    while start < size {
        let end = (start + CHUNK).min(size);
        let entries = store.ledger_entries(start, end)?;
        let mut expected = start;
        for e in entries {
            if e.seq != expected {
                report
                    .problems
                    .push(format!("entries {expected} to {} are missing", e.seq - 1));
                expected = e.seq;
            }
            if leaf_hash(&e.entry) != e.leaf_hash {
                report
                    .problems
                    .push(format!("entry {}: its content does not match its stored hash", e.seq));
            }
            if Entry::parse(&e.entry).is_none() {
                report.problems.push(format!("entry {}: not a canonical entry", e.seq));
            }
            range.push(leaf_hash(&e.entry));
            recomputed.push(leaf_hash(&e.entry));
            report.entries += 1;
            check_due(&range, &mut report);
            expected += 1;
        }
        if expected < end {
            report
                .problems
                .push(format!("entries {expected} to {} are missing", end - 1));
        }
        start = end;
    }
    for c in pending {
        report.problems.push(format!(
            "checkpoint at size {}: the log has only {} entries (entries were removed)",
            c.size, report.entries
        ));
    }
    check_nodes(store, &recomputed, size, &mut report)?;
    for d in store.check_records()? {
        report
            .problems
            .push(format!("{} {}: {}", d.record_kind, d.record_id, d.what));
    }
    Ok(report)
}

/// Compares every stored subtree hash with the one the first `size`
/// entries imply (`recomputed`), and counts them: each complete subtree of
/// those entries must be stored, and none over entries that do not exist.
/// Hashes over entries appended since `size` was read (a server writing
/// while the audit runs) are not judged, unless the log is still shorter
/// than they cover once all are read.
fn check_nodes(
    store: &dyn Store,
    recomputed: &lantern_ledger::tree::MemoryTree,
    size: u64,
    report: &mut AuditReport,
) -> anyhow::Result<()> {
    use lantern_ledger::tree::NodeStore;
    let mut stored_nodes = 0u64;
    // Past `size` when read: the end of the entries each covers.
    let mut later: Vec<(u32, u64, u64)> = Vec::new();
    // A page at a time: a log of millions of entries has twice as many
    // stored nodes, too many to hold at once beside the recomputed tree.
    let mut after = None;
    loop {
        let page = store.ledger_nodes(after, NODE_PAGE)?;
        let Some(&(level, index, _)) = page.last() else {
            break;
        };
        after = Some((level, index));
        for (level, index, hash) in page {
            let end = index.saturating_add(1).checked_shl(level).unwrap_or(u64::MAX);
            if end > size {
                later.push((level, index, end));
                continue;
            }
            stored_nodes += 1;
            match recomputed.node(level, index) {
                Ok(h) if h == hash => {}
                Ok(_) => report.problems.push(format!(
                    "stored subtree hash at level {level}, index {index} does not match the entries (proofs built from it would fail)"
                )),
                Err(_) => report.problems.push(format!(
                    "stored subtree hash at level {level}, index {index} belongs to no stored entry"
                )),
            }
        }
    }
    if !later.is_empty() {
        let now = store.ledger_size()?;
        for (level, index, _) in later.into_iter().filter(|(_, _, end)| *end > now) {
            report.problems.push(format!(
                "stored subtree hash at level {level}, index {index} belongs to no stored entry"
            ));
        }
    }
    let expected_nodes: u64 = (0..64).map(|level| report.entries >> level).sum();
    if stored_nodes < expected_nodes {
        report.problems.push(format!(
            "{} stored subtree hashes are missing (proofs would fail)",
            expected_nodes - stored_nodes
        ));
    }
    Ok(())
}

/// The proof file (C2SP tlog-proof) of entry `index` against the latest
/// checkpoint, signing a new checkpoint first if none covers the entry.
pub fn prove(store: &dyn Store, signer: &NoteSigner, clock: &dyn Clock, index: u64) -> anyhow::Result<String> {
    let size = store.ledger_size()?;
    anyhow::ensure!(index < size, "entry {index} does not exist: the log has {size} entries");
    let mut latest = store.latest_checkpoint()?;
    if latest.as_ref().is_none_or(|c| c.size <= index) {
        latest = lantern_store::sign_checkpoint(store, signer, clock.now())?;
    }
    let cp = latest.context("no checkpoint could be signed")?;
    let entry = store
        .ledger_entries(index, index + 1)?
        .pop()
        .context("the entry is missing from the log")?;
    let proof = lantern_ledger::proof::TlogProof {
        entry: entry.entry,
        index,
        hashes: store.ledger_inclusion_proof(index, cp.size)?,
        checkpoint: cp.note,
    };
    Ok(proof.format())
}

/// A consistency proof between two stored checkpoints, checked before it
/// is printed.
pub fn consistency(store: &dyn Store, old: u64, new: u64) -> anyhow::Result<String> {
    let checkpoints = store.checkpoints()?;
    let find = |size: u64| {
        checkpoints
            .iter()
            .find(|c| c.size == size)
            .with_context(|| format!("no checkpoint of size {size} is stored"))
    };
    let (a, b) = (find(old)?, find(new)?);
    let proof = store.ledger_consistency_proof(old, new)?;
    let as_vecs: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
    lantern_ledger::verify_consistency(old, new, &a.root, &b.root, &as_vecs)?;
    use base64::Engine;
    let mut out = format!(
        "Consistency proof from size {old} to size {new} ({} hashes):
",
        proof.len()
    );
    for h in &proof {
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
        out.push('\n');
    }
    out.push_str(&format!(
        "\nEarlier checkpoint:\n{}\nLater checkpoint:\n{}\nVerified: the later log extends the earlier one.\n",
        a.note, b.note
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn append(store: &dyn Store, n: usize) {
        let ctx = lantern_store::AuditContext::system("test", time::OffsetDateTime::now_utc());
        for _ in 0..n {
            store
                .record_audit(&ctx.event(lantern_domain::audit::AuditAction::Login, "user", None, ""))
                .unwrap();
        }
    }

    /// The tree of the first `size` entries, as the audit recomputes it.
    fn recomputed(store: &dyn Store, size: u64) -> lantern_ledger::tree::MemoryTree {
        let mut tree = lantern_ledger::tree::MemoryTree::new();
        for e in store.ledger_entries(0, size).unwrap() {
            tree.push(leaf_hash(&e.entry));
        }
        tree
    }

    #[test]
    fn entries_appended_while_the_audit_runs_are_not_problems() {
        let dir = tempfile::tempdir().unwrap();
        crate::prepare_data_dir(dir.path()).unwrap();
        let (keys, _) = crate::load_or_create_keys(dir.path()).unwrap();
        let store = lantern_store_sqlite::open(&dir.path().join("lantern.db"), Arc::new(keys)).unwrap();
        append(&store, 5);
        let size = store.ledger_size().unwrap();
        let tree = recomputed(&store, size);
        // A server writes after the audit read the entries, before it
        // reads the stored subtree hashes (those over the new entries too).
        append(&store, 6);
        assert!(store.ledger_size().unwrap() > size);
        let mut report = AuditReport {
            entries: size,
            ..AuditReport::default()
        };
        check_nodes(&store, &tree, size, &mut report).unwrap();
        assert!(report.clean(), "{:?}", report.problems);
        // A subtree hash over entries that do not exist, even now, is one.
        let now = store.ledger_size().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("lantern.db")).unwrap();
        conn.execute(
            "INSERT INTO ledger_nodes (level, idx, hash) VALUES (0, ?1, ?2)",
            rusqlite::params![now as i64 + 3, vec![7u8; 32]],
        )
        .unwrap();
        let mut report = AuditReport {
            entries: size,
            ..AuditReport::default()
        };
        check_nodes(&store, &tree, size, &mut report).unwrap();
        let wanted = format!("level 0, index {} belongs to no stored entry", now + 3);
        assert!(
            report.problems.len() == 1 && report.problems[0].contains(&wanted),
            "{:?}",
            report.problems
        );
        // And the whole audit of the log as it is now finds that one only.
        let signer = load_or_create_signer(
            dir.path(),
            &crate::load_or_create_keys(dir.path()).unwrap().0,
            "test.example/log",
        )
        .unwrap();
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        let report = audit(&store, &verifier).unwrap();
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    }

    #[test]
    fn compact_range_matches_the_recursive_root() {
        let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut range = CompactRange::default();
        assert_eq!(range.root(), lantern_ledger::root(&[]));
        for (n, leaf) in leaves.iter().enumerate() {
            range.push(*leaf);
            assert_eq!(range.root(), lantern_ledger::root(&leaves[..=n]), "size {}", n + 1);
        }
    }
}
