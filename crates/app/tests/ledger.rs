//! Tampering with the log, the checkpoints or the records is detected by
//! `lantern ledger audit`, with a reason that names what was touched.

mod common;

use std::path::Path;
use std::process::Command;

fn lantern(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lantern"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("LANTERN_LOG", "error")
        .output()
        .expect("run lantern");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A data folder with people, audit events and two checkpoints.
fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = lantern(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "reg",
            "--display-name",
            "R",
            "--role",
            "registrar",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = lantern(dir.path(), &["ledger", "checkpoint"]);
    assert!(ok && out.contains("\n\n\u{2014} lantern.local/ledger "), "{out}");
    let (ok, out) = lantern(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "aud",
            "--display-name",
            "A",
            "--role",
            "auditor",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = lantern(dir.path(), &["ledger", "checkpoint"]);
    assert!(ok, "{out}");
    let (ok, out) = lantern(dir.path(), &["ledger", "audit"]);
    assert!(
        ok && out.contains("No problem found") && out.contains("2 checkpoints"),
        "{out}"
    );
    dir
}

fn tamper(dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(dir.join("lantern.db")).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; DROP TRIGGER IF EXISTS ledger_entries_no_update; DROP TRIGGER IF EXISTS ledger_entries_no_delete;
         DROP TRIGGER IF EXISTS ledger_checkpoints_no_update; DROP TRIGGER IF EXISTS ledger_checkpoints_no_delete;
         DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS ledger_salts_no_delete;
         DROP TRIGGER IF EXISTS ledger_nodes_no_update; DROP TRIGGER IF EXISTS ledger_nodes_no_delete;",
    )
    .unwrap();
    conn.execute_batch(sql).unwrap();
}

fn audit_fails_with(dir: &Path, needles: &[&str]) {
    let (ok, out) = lantern(dir, &["ledger", "audit"]);
    assert!(!ok, "audit passed after tampering:\n{out}");
    for n in needles {
        assert!(out.contains(n), "expected {n:?} in:\n{out}");
    }
}

#[test]
fn an_untouched_log_passes_and_the_key_is_printed() {
    let dir = populated();
    let (ok, out) = lantern(dir.path(), &["ledger", "key"]);
    assert!(ok && out.trim().starts_with("lantern.local/ledger+"), "{out}");
    let (ok, out) = lantern(dir.path(), &["ledger", "checkpoint"]);
    assert!(ok && out.contains("has not grown"), "{out}");
}

#[test]
fn a_changed_entry_is_detected() {
    let dir = populated();
    tamper(
        dir.path(),
        "UPDATE ledger_entries SET entry = CAST(REPLACE(CAST(entry AS TEXT), 'audit', 'audiT') AS BLOB) WHERE seq = 0;",
    );
    audit_fails_with(
        dir.path(),
        &[
            "entry 0: its content does not match its stored hash",
            "checkpoint at size 1",
        ],
    );
}

#[test]
fn a_deleted_entry_is_detected() {
    let dir = populated();
    tamper(
        dir.path(),
        "DELETE FROM ledger_entries WHERE seq = (SELECT MAX(seq) FROM ledger_entries);",
    );
    audit_fails_with(
        dir.path(),
        &["checkpoint at size 2: the log has only 1 entries (entries were removed)"],
    );
}

#[test]
fn reordered_entries_are_detected() {
    let dir = populated();
    tamper(
        dir.path(),
        "UPDATE ledger_entries SET seq = -1 WHERE seq = 0; UPDATE ledger_entries SET seq = 0 WHERE seq = 1;
         UPDATE ledger_entries SET seq = 1 WHERE seq = -1;",
    );
    audit_fails_with(
        dir.path(),
        &["checkpoint at size 1: the entries now stored give a different root"],
    );
}

#[test]
fn a_replaced_checkpoint_is_detected() {
    let dir = populated();
    tamper(dir.path(), "UPDATE ledger_checkpoints SET note = REPLACE(note, char(10) || '2' || char(10), char(10) || '3' || char(10)) WHERE size = 2;");
    audit_fails_with(
        dir.path(),
        &["checkpoint at size 2: the signature by key lantern.local/ledger does not verify"],
    );
}

#[test]
fn a_checkpoint_signed_with_another_key_is_detected() {
    let dir = populated();
    let other = lantern_ledger::note::NoteSigner::new("lantern.local/ledger", &[42u8; 32]).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("lantern.db")).unwrap();
    let note: String = conn
        .query_row("SELECT note FROM ledger_checkpoints WHERE size = 2", [], |r| r.get(0))
        .unwrap();
    let body = &note[..note.find("\n\n").unwrap() + 1];
    let forged = other.sign(body).replace('\'', "''");
    drop(conn);
    tamper(
        dir.path(),
        &format!("UPDATE ledger_checkpoints SET note = '{forged}' WHERE size = 2;"),
    );
    audit_fails_with(
        dir.path(),
        &["checkpoint at size 2: the note carries no signature by key lantern.local/ledger"],
    );
}

#[test]
fn an_edited_audit_row_is_detected() {
    let dir = populated();
    tamper(
        dir.path(),
        "UPDATE audit_events SET actor_name = 'nobody' WHERE seq = 1;",
    );
    audit_fails_with(dir.path(), &["audit 1: field actor_name differs from log entry 0"]);
}

#[test]
fn a_proof_file_verifies_offline_and_tampering_is_named() {
    let dir = populated();
    let (_, key) = lantern(dir.path(), &["ledger", "key"]);
    let (ok, proof) = lantern(dir.path(), &["ledger", "prove", "1"]);
    assert!(ok && proof.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{proof}");
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("entry-1.tlog-proof");
    std::fs::write(&path, &proof).unwrap();
    let key_file = files.path().join("lantern.vkey");
    std::fs::write(&key_file, key.trim()).unwrap();
    // Verification needs neither the server nor the data folder.
    let nowhere = files.path().join("no-data-here");
    let (ok, report) = lantern(
        &nowhere,
        &["verify", path.to_str().unwrap(), "--key", key_file.to_str().unwrap()],
    );
    assert!(ok, "{report}");
    assert!(
        report.contains("Entry 1 is included") && report.contains("Result: VALID"),
        "{report}"
    );
    assert!(!nowhere.exists(), "verify must not create a data folder");
    // A changed entry no longer leads to the signed root.
    let lines: Vec<&str> = proof.lines().collect();
    let extra = lines[1].trim_start_matches("extra ");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let entry = String::from_utf8(b64.decode(extra).unwrap()).unwrap();
    let changed = proof.replace(extra, &b64.encode(entry.replace("\"audit\"", "\"other\"")));
    std::fs::write(&path, changed).unwrap();
    let (ok, report) = lantern(&nowhere, &["verify", path.to_str().unwrap(), "--key", key.trim()]);
    assert!(
        !ok && report.contains("✗ The entry's inclusion in the checkpointed log") && report.contains("NOT VALID"),
        "{report}"
    );
    // A truncated proof is refused for its length.
    let mut truncated: Vec<&str> = proof.split('\n').collect();
    truncated.remove(3);
    std::fs::write(&path, truncated.join("\n")).unwrap();
    let (ok, report) = lantern(&nowhere, &["verify", path.to_str().unwrap(), "--key", key.trim()]);
    assert!(!ok && report.contains("hashes where"), "{report}");
    // Another log's key does not accept it.
    std::fs::write(&path, &proof).unwrap();
    let other = lantern_ledger::note::NoteSigner::new("lantern.local/ledger", &[1u8; 32])
        .unwrap()
        .verifier_key();
    let (ok, report) = lantern(&nowhere, &["verify", path.to_str().unwrap(), "--key", &other]);
    assert!(!ok && report.contains("no signature by key"), "{report}");
    // Consistency between the two stored checkpoints.
    let (ok, out) = lantern(dir.path(), &["ledger", "consistency", "1", "2"]);
    assert!(
        ok && out.contains("Verified: the later log extends the earlier one"),
        "{out}"
    );
}

#[test]
fn a_changed_subtree_hash_is_detected() {
    let dir = populated();
    tamper(
        dir.path(),
        "UPDATE ledger_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0;",
    );
    audit_fails_with(
        dir.path(),
        &["stored subtree hash at level 1, index 0 does not match the entries"],
    );
}

#[test]
fn killed_while_writing_the_log_stays_consistent() {
    // The demo loader writes households, people, links, audit events and
    // their log entries in many transactions. Killed (SIGKILL) at several
    // points, each data folder must open again, and its log must verify
    // against every record: no half-written transaction is visible.
    for (round, delay_ms) in [40u64, 150, 400, 800, 1500].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_lantern"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--listen", "127.0.0.1:0", "serve", "--demo", "--demo-people", "20000"])
            .env("LANTERN_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let (ok, out) = lantern(dir.path(), &["ledger", "checkpoint"]);
        assert!(ok, "round {round}: {out}");
        let (ok, out) = lantern(dir.path(), &["ledger", "audit"]);
        assert!(
            ok && out.contains("No problem found"),
            "round {round} (killed after {delay_ms} ms):\n{out}"
        );
        if delay_ms >= 1500 {
            // Sanity: the kill came while the loader was writing.
            let entries: u64 = out
                .split("Checked ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            assert!(
                entries > 0,
                "round {round}: nothing was written before the kill:\n{out}"
            );
        }
    }
}

/// Records an evidence file in the data folder; returns the record's id
/// and the object's path on disk.
fn add_evidence(dir: &Path) -> (String, std::path::PathBuf) {
    use lantern_app::settings::{FileSettings, SettingArgs, Settings};
    let mut settings = Settings::resolve(&SettingArgs::default(), &FileSettings::default());
    settings.data_dir = dir.to_path_buf();
    let (keys, _) = lantern_app::load_or_create_keys(dir).unwrap();
    let store = lantern_app::open_store(&settings, std::sync::Arc::new(keys)).unwrap();
    let (id, name) = common::add_evidence(&settings, store.as_ref(), &vec![b'e'; 150_000]);
    let path = dir.join("objects").join("objects").join(&name[..2]).join(&name);
    assert!(path.exists());
    (id, path)
}

#[test]
fn a_changed_evidence_object_record_or_custody_event_is_detected() {
    let dir = populated();
    let (id, object) = add_evidence(dir.path());
    let (ok, out) = lantern(dir.path(), &["ledger", "audit"]);
    assert!(ok && out.contains("1 evidence objects"), "{out}");
    // One flipped byte in the stored object.
    let original = std::fs::read(&object).unwrap();
    let mut flipped = original.clone();
    flipped[100_000] ^= 0x10;
    std::fs::write(&object, &flipped).unwrap();
    audit_fails_with(dir.path(), &["the sealed value does not open: altered"]);
    std::fs::write(&object, &original).unwrap();
    // An edited record, and a custody event removed.
    tamper(
        dir.path(),
        &format!(
            "DROP TRIGGER evidence_no_update; UPDATE evidence SET title = 'Another photograph' WHERE id = '{id}';
             DROP TRIGGER custody_events_no_delete; DELETE FROM custody_events WHERE seq = 0;"
        ),
    );
    audit_fails_with(
        dir.path(),
        &[
            &format!("evidence {id}: field title differs from log entry"),
            "custody 0: in the log but missing from the database",
        ],
    );
}

#[test]
fn a_missing_key_file_is_not_replaced_for_a_database_with_records() {
    let dir = populated();
    let key = dir.path().join("keys").join("master.key");
    std::fs::rename(&key, dir.path().join("master.key.away")).unwrap();
    let (ok, out) = lantern(dir.path(), &["ledger", "audit"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("is missing, but the database already holds records"),
        "{out}"
    );
    assert!(!key.exists(), "a new key was created");
    std::fs::rename(dir.path().join("master.key.away"), &key).unwrap();
    let (ok, out) = lantern(dir.path(), &["ledger", "audit"]);
    assert!(ok, "{out}");
}

/// Records an event, a testimony about it and a dossier of it in the data
/// folder; returns their ids.
fn add_testimony(dir: &Path) -> (String, String, String) {
    use lantern_app::settings::{FileSettings, SettingArgs, Settings};
    use lantern_domain::testimony as t;
    let mut settings = Settings::resolve(&SettingArgs::default(), &FileSettings::default());
    settings.data_dir = dir.to_path_buf();
    let (keys, _) = lantern_app::load_or_create_keys(dir).unwrap();
    let store = lantern_app::open_store(&settings, std::sync::Arc::new(keys)).unwrap();
    let ctx = lantern_store::AuditContext::system("test", time::OffsetDateTime::now_utc());
    let event = store
        .create_event(
            &t::EventDraft::parse("Night transfer", "2019", "", "North camp", "Block 4", "", ctx.at.date()).unwrap(),
            &ctx,
        )
        .unwrap();
    let testimony = store
        .create_testimony(
            &t::TestimonyDraft {
                witness: t::Witness::Sealed {
                    name: "Witness name".into(),
                    contact: None,
                },
                pseudonym: "Witness T".into(),
                given_on: ctx.at.date(),
                language: "fa".into(),
                narrative: "ما را شبانه بردند".into(),
                events: vec![event.id],
                acts: vec![],
                sources: vec![],
                evidence: vec![],
                reliability: t::Reliability::Medium,
                reliability_note: None,
                confidential: Default::default(),
            },
            &ctx,
        )
        .unwrap();
    let recipient = store
        .create_recipient("Committee", t::RecipientKind::Parliamentarian, "en", &[], &ctx)
        .unwrap();
    let dossier = store
        .create_dossier(
            &t::DossierDraft {
                title: "Night transfer".into(),
                recipient: recipient.id,
                purpose: "Hearing".into(),
                expires: ctx.at.date() + time::Duration::days(30),
                redaction: Default::default(),
                testimonies: vec![],
                events: vec![event.id],
                evidence: vec![],
                people: vec![],
                include_files: false,
            },
            &ctx,
        )
        .unwrap();
    (event.id.to_string(), testimony.id.to_string(), dossier.id.to_string())
}

#[test]
fn a_changed_testimony_event_or_dossier_is_detected() {
    let dir = populated();
    let (event, testimony, dossier) = add_testimony(dir.path());
    let (ok, out) = lantern(dir.path(), &["ledger", "audit"]);
    assert!(ok, "{out}");
    tamper(
        dir.path(),
        &format!(
            "DROP TRIGGER testimonies_fixed; UPDATE testimonies SET pseudonym = 'Someone else' WHERE id = '{testimony}';
             DROP TRIGGER events_fixed; UPDATE events SET place = 'South camp' WHERE id = '{event}';
             DROP TRIGGER dossiers_fixed; UPDATE dossiers SET purpose = 'Another purpose' WHERE id = '{dossier}';"
        ),
    );
    audit_fails_with(
        dir.path(),
        &[
            &format!("testimony {testimony}: pseudonym differs from its commitment"),
            &format!("event {event}: place differs from its commitment"),
            &format!("dossier {dossier}: purpose differs from its commitment"),
        ],
    );
}
