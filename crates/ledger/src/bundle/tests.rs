//! The tamper suite: an untouched bundle passes; each alteration is
//! refused with the reason that names it.

use std::collections::BTreeMap;
use std::io::Cursor;

use serde_json::json;

use super::*;
use crate::entry::{Commitments, ENTRY_VERSION};
use crate::note::NoteSigner;
use crate::{consistency_proof, inclusion_proof, root};

const ORIGIN: &str = "lantern.test/log";
const FILE: &[u8] = b"a scanned letter, synthetic";

/// A bundle as its parts, so tests can alter any of them.
type Parts = BTreeMap<String, Vec<u8>>;

struct Fixture {
    parts: Parts,
    key: NoteVerifier,
}

fn entry(
    kind: &str,
    record_kind: &str,
    id: &str,
    fields: &[(&str, Value)],
    seed: u8,
) -> (Entry, BTreeMap<String, Disclosed>) {
    let mut c = Commitments::new();
    let mut disclosed = BTreeMap::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        let salt = [seed.wrapping_add(i as u8); 32];
        c.add(name, value, salt);
        disclosed.insert(
            name.to_string(),
            Disclosed {
                value: value.clone(),
                salt: hex(&salt),
            },
        );
    }
    let (fields, _) = c.finish();
    (
        Entry {
            v: ENTRY_VERSION,
            kind: kind.into(),
            at: "2026-11-01T10:00:00Z".into(),
            record_kind: record_kind.into(),
            record_id: id.into(),
            version: Some(1),
            fields,
        },
        disclosed,
    )
}

fn file_sha() -> String {
    hex(&Sha256::digest(FILE))
}

/// Five entries: a testimony, an unrelated audit event, an evidence record,
/// another unrelated one, then the dossier; an earlier checkpoint at size 2.
fn fixture_with(seed: [u8; 32]) -> Fixture {
    fixture_full(seed, None)
}

/// The fixture, its dossier entry lacking `missing` when given.
fn fixture_full(seed: [u8; 32], missing: Option<&str>) -> Fixture {
    let signer = NoteSigner::new(ORIGIN, &seed).unwrap();
    let (testimony, t_fields) = entry(
        "record.created",
        "testimony",
        "t1",
        &[
            ("narrative", json!("روایت شاهد: ما را در انبار نگه داشتند")),
            ("source", json!("Witness: Zahra Ahmadi")),
            ("language", json!("fa")),
        ],
        10,
    );
    let (noise, _) = entry("audit", "audit", "7", &[("action", json!("login"))], 20);
    let (evidence, e_fields) = entry(
        "record.created",
        "evidence",
        "e1",
        &[("sha256", json!(file_sha())), ("title", json!("Letter"))],
        30,
    );
    let (noise2, _) = entry("audit", "audit", "8", &[("action", json!("login"))], 40);
    let mut entries = vec![testimony, noise, evidence, noise2];
    let leaves_before: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.canonical())).collect();
    let records = json!([
        {"index": 0, "leaf": hex(&leaves_before[0])},
        {"index": 2, "leaf": hex(&leaves_before[2])},
    ]);
    let (dossier, d_fields) = entry(
        DOSSIER_ENTRY,
        "dossier",
        "d1",
        &[
            ("created_at", json!("2026-11-02T09:00:00Z")),
            ("created_by", json!("documenter")),
            ("expires", json!("2027-06-30")),
            ("files", json!([{"sha256": file_sha(), "size": FILE.len()}])),
            ("language", json!("en")),
            ("purpose", json!("Hearing on detention conditions")),
            ("recipient", json!("Committee on Human Rights")),
            ("records", records),
            ("redaction", json!(["witness_identity"])),
            ("title", json!("Detention testimony")),
        ]
        .into_iter()
        .filter(|(name, _)| Some(*name) != missing)
        .collect::<Vec<_>>(),
        50,
    );
    entries.push(dossier);
    let bytes: Vec<Vec<u8>> = entries.iter().map(Entry::canonical).collect();
    let leaves: Vec<Hash> = bytes.iter().map(|b| leaf_hash(b)).collect();
    let checkpoint = signer.sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 5,
            root: root(&leaves),
        }
        .body(),
    );
    let earlier = signer.sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 2,
            root: root(&leaves[..2]),
        }
        .body(),
    );
    let mut parts = Parts::new();
    for index in [0u64, 2, 4] {
        let proof = TlogProof {
            entry: bytes[index as usize].clone(),
            index,
            hashes: inclusion_proof(&leaves, index).unwrap(),
            checkpoint: checkpoint.clone(),
        };
        parts.insert(proof_path(index), proof.format().into_bytes());
    }
    let mut t_shown = t_fields.clone();
    t_shown.remove("source");
    let manifest = Manifest {
        format: FORMAT.into(),
        dossier: EntryPart {
            index: 4,
            disclosed: d_fields,
            redacted: vec![],
        },
        records: vec![
            EntryPart {
                index: 0,
                disclosed: t_shown,
                redacted: vec!["source".into()],
            },
            EntryPart {
                index: 2,
                disclosed: e_fields,
                redacted: vec![],
            },
        ],
        files: vec![FilePart {
            sha256: file_sha(),
            size: FILE.len() as u64,
            included: true,
        }],
        consistency: vec![ConsistencyPart {
            checkpoint: earlier,
            proof: consistency_proof(&leaves, 2)
                .unwrap()
                .iter()
                .map(|h| B64.encode(h))
                .collect(),
        }],
    };
    parts.insert(MANIFEST.into(), serde_json::to_vec_pretty(&manifest).unwrap());
    parts.insert(CHECKPOINT.into(), checkpoint.into_bytes());
    parts.insert(KEY.into(), signer.verifier_key().into_bytes());
    parts.insert(file_path(&file_sha()), FILE.to_vec());
    Fixture {
        parts,
        key: NoteVerifier::parse(&signer.verifier_key()).unwrap(),
    }
}

fn fixture() -> Fixture {
    fixture_with([7; 32])
}

fn zip(parts: &Parts) -> Vec<u8> {
    let mut w = BundleWriter::new(Cursor::new(Vec::new()));
    for (path, bytes) in parts {
        w.add(path, bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn check(parts: &Parts, pinned: Option<&NoteVerifier>) -> Report {
    let mut source = ZipSource::new(Cursor::new(zip(parts))).unwrap();
    verify(&mut source, pinned)
}

fn manifest(parts: &Parts) -> Manifest {
    serde_json::from_slice(&parts[MANIFEST]).unwrap()
}

fn set_manifest(parts: &mut Parts, m: &Manifest) {
    parts.insert(MANIFEST.into(), serde_json::to_vec(m).unwrap());
}

/// The report's problems as text, for messages and matching.
fn problems(r: &Report) -> String {
    r.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_untouched_bundle_passes_and_reports_what_it_holds() {
    let f = fixture();
    let r = check(&f.parts, Some(&f.key));
    assert!(r.ok(), "{}", problems(&r));
    assert_eq!(r.records.len(), 2);
    assert_eq!(r.records[0].redacted, vec!["source".to_string()]);
    assert!(!r.records[0].shown.contains_key("source"));
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.extends, vec![2]);
    assert_eq!(r.expires(), Some("2027-06-30"));
    assert_eq!(r.checkpoint.as_ref().map(|c| c.size), Some(5));
    // Without a pinned key the bundle's own key is used and named.
    let r = check(&f.parts, None);
    assert!(r.ok(), "{}", problems(&r));
    assert_eq!(r.key.as_deref(), Some(key_label(&f.key).as_str()));
}

#[test]
fn an_unpacked_bundle_verifies_too() {
    let f = fixture();
    let dir = std::env::temp_dir().join(format!("lantern-bundle-{}", std::process::id()));
    for (path, bytes) in &f.parts {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let r = verify(&mut DirSource(dir.clone()), Some(&f.key));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(r.ok(), "{}", problems(&r));
    assert!(DirSource(dir).file("../etc/passwd").is_none());
}

#[test]
fn an_edited_disclosed_field_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.records[0].disclosed.get_mut("narrative").unwrap().value = json!("a different account");
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(
        r.problems,
        vec![Problem::FieldMismatch {
            index: 0,
            field: "narrative".into()
        }]
    );
}

#[test]
fn a_redacted_field_revealed_with_a_wrong_salt_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.records[0].redacted.clear();
    m.records[0].disclosed.insert(
        "source".into(),
        Disclosed {
            value: json!("Witness: Zahra Ahmadi"),
            salt: hex(&[99; 32]),
        },
    );
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(
        r.problems,
        vec![Problem::FieldMismatch {
            index: 0,
            field: "source".into()
        }]
    );
}

#[test]
fn a_field_neither_shown_nor_redacted_or_made_up_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.records[0].redacted.clear();
    m.records[1].redacted.push("witness".into());
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert!(r.problems.contains(&Problem::Unaccounted {
        index: 0,
        field: "source".into()
    }));
    assert!(r.problems.contains(&Problem::UnknownField {
        index: 2,
        field: "witness".into()
    }));
}

#[test]
fn a_swapped_evidence_file_is_refused() {
    let mut f = fixture();
    f.parts.insert(file_path(&file_sha()), b"another letter".to_vec());
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(r.problems.len(), 1, "{}", problems(&r));
    assert!(
        matches!(&r.problems[0], Problem::File { sha256, why } if *sha256 == file_sha() && why.contains("replaced")),
        "{}",
        problems(&r)
    );
    // Removing the file while still claiming it is included is refused too.
    f.parts.remove(&file_path(&file_sha()));
    let r = check(&f.parts, Some(&f.key));
    assert!(problems(&r).contains("is missing"), "{}", problems(&r));
}

#[test]
fn a_file_can_be_given_by_hash_only() {
    let mut f = fixture();
    f.parts.remove(&file_path(&file_sha()));
    let mut m = manifest(&f.parts);
    m.files[0].included = false;
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert!(r.ok(), "{}", problems(&r));
    assert!(!r.files[0].included);
}

#[test]
fn a_file_not_in_the_dossier_entry_is_refused() {
    let mut f = fixture();
    let other = hex(&Sha256::digest(b"planted"));
    f.parts.insert(file_path(&other), b"planted".to_vec());
    let mut m = manifest(&f.parts);
    m.files.push(FilePart {
        sha256: other.clone(),
        size: 7,
        included: true,
    });
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(
        r.problems,
        vec![Problem::File {
            sha256: other,
            why: "not listed in the dossier entry".into()
        }]
    );
}

#[test]
fn a_dropped_record_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.records.remove(1);
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(
        r.problems,
        vec![Problem::Records(
            "entry 2 is listed in the dossier entry but missing from the bundle".into()
        )]
    );
}

#[test]
fn reordered_records_are_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.records.swap(0, 1);
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(r.problems.len(), 1, "{}", problems(&r));
    assert!(problems(&r).contains("records reordered"), "{}", problems(&r));
}

#[test]
fn an_added_record_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    let mut extra = m.records[0].clone();
    extra.index = 1;
    m.records.push(extra);
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert!(
        problems(&r).contains("entry 1 is in the bundle but not listed"),
        "{}",
        problems(&r)
    );
}

#[test]
fn a_replaced_checkpoint_is_refused() {
    let mut f = fixture();
    // A checkpoint of another size, signed by the same key: the proofs lead elsewhere.
    let signer = NoteSigner::new(ORIGIN, &[7; 32]).unwrap();
    let other = signer.sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 6,
            root: [1; 32],
        }
        .body(),
    );
    f.parts.insert(CHECKPOINT.into(), other.into_bytes());
    let r = check(&f.parts, Some(&f.key));
    let elsewhere = r
        .problems
        .iter()
        .filter(|p| matches!(p, Problem::Proof { why, .. } if why.contains("another checkpoint than the bundle's")))
        .count();
    assert_eq!(elsewhere, 3, "{}", problems(&r));
    // A checkpoint edited by hand: its signature fails.
    let mut g = fixture();
    let text = String::from_utf8(g.parts[CHECKPOINT].clone()).unwrap();
    g.parts
        .insert(CHECKPOINT.into(), text.replacen("\n5\n", "\n6\n", 1).into_bytes());
    let r = check(&g.parts, Some(&g.key));
    assert!(
        matches!(&r.problems[..], [Problem::Checkpoint(why)] if why.contains("does not verify")),
        "{}",
        problems(&r)
    );
}

#[test]
fn another_key_is_refused() {
    // A whole bundle re-made and signed with another key: consistent in
    // itself, refused against the key the reader expects.
    let forged = fixture_with([8; 32]);
    let genuine = fixture();
    let r = check(&forged.parts, Some(&genuine.key));
    assert!(
        matches!(&r.problems[..], [Problem::OtherKey { .. }]),
        "{}",
        problems(&r)
    );
    // The key file swapped alone: the checkpoint's signature fails.
    let mut f = fixture();
    f.parts.insert(KEY.into(), forged.parts[KEY].clone());
    let r = check(&f.parts, None);
    assert!(
        matches!(&r.problems[..], [Problem::Checkpoint(why)] if why.contains("no signature by key")),
        "{}",
        problems(&r)
    );
}

#[test]
fn a_truncated_proof_is_refused() {
    let mut f = fixture();
    let path = proof_path(2);
    let text = String::from_utf8(f.parts[&path].clone()).unwrap();
    let (head, cp) = text.split_once("\n\n").unwrap();
    let mut lines: Vec<&str> = head.lines().collect();
    lines.pop();
    f.parts
        .insert(path, format!("{}\n\n{cp}", lines.join("\n")).into_bytes());
    let r = check(&f.parts, Some(&f.key));
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::Proof { index: 2, why } if why.contains("hashes where"))),
        "{}",
        problems(&r)
    );
    // A missing proof file is named.
    f.parts.remove(&proof_path(0));
    let r = check(&f.parts, Some(&f.key));
    assert!(
        r.problems.contains(&Problem::Missing(proof_path(0))),
        "{}",
        problems(&r)
    );
}

#[test]
fn a_changed_expiry_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.dossier.disclosed.get_mut("expires").unwrap().value = json!("2030-01-01");
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert_eq!(
        r.problems,
        vec![Problem::FieldMismatch {
            index: 4,
            field: "expires".into()
        }]
    );
    assert_eq!(r.expires(), None, "an expiry that does not verify is not reported");
}

#[test]
fn a_withheld_dossier_field_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.dossier.disclosed.remove("expires");
    m.dossier.redacted.push("expires".into());
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert!(problems(&r).contains("may be withheld"), "{}", problems(&r));
}

#[test]
fn a_broken_consistency_proof_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.consistency[0].proof.pop();
    set_manifest(&mut f.parts, &m);
    let r = check(&f.parts, Some(&f.key));
    assert!(
        matches!(&r.problems[..], [Problem::Consistency { position: 1, .. }]),
        "{}",
        problems(&r)
    );
}

#[test]
fn a_manifest_of_another_format_or_none_is_refused() {
    let mut f = fixture();
    let mut m = manifest(&f.parts);
    m.format = "lantern-dossier/9".into();
    set_manifest(&mut f.parts, &m);
    assert!(problems(&check(&f.parts, None)).contains("lantern-dossier/9"));
    f.parts.remove(MANIFEST);
    assert_eq!(check(&f.parts, None).problems, vec![Problem::Missing(MANIFEST.into())]);
}

#[test]
fn a_dossier_entry_without_its_fields_is_refused() {
    let f = fixture_full([7; 32], Some("expires"));
    let r = check(&f.parts, Some(&f.key));
    assert!(
        matches!(&r.problems[..], [Problem::Dossier(why)] if why.contains("a dossier to exactly")),
        "{}",
        problems(&r)
    );
    assert!(
        r.dossier.is_empty(),
        "an incomplete dossier entry is not reported as the dossier"
    );
}
