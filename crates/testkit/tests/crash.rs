//! Crash safety: a writer that registers people and ingests evidence files
//! (`lantern-churn`) is killed with SIGKILL at random moments, many times,
//! on the same data folder. Afterwards the log must verify, every
//! acknowledged record and file must be present and intact, and no partial
//! object may be visible in the storage.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lantern_domain::evidence::EvidenceId;
use lantern_domain::person::PersonId;
use lantern_store::Store;

const KILLS: usize = 12;

#[test]
fn killed_writers_lose_nothing_they_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut people = Vec::new();
    let mut evidence = Vec::new();
    let mut seed = [0u8; 8];
    lantern_vault::random_bytes(&mut seed).unwrap();
    let mut rng = u64::from_le_bytes(seed) | 1;
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lantern-churn"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Read acknowledgements on a thread; kill after a random delay,
        // counted from the first acknowledgement (the start is slow).
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the writer acknowledged nothing");
        let mut lines = vec![first];
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_millis(20 + rng % 400);
        let started = Instant::now();
        while started.elapsed() < delay {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(5)) {
                lines.push(l);
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["PERSON", id] => people.push(PersonId::parse("id", id).unwrap()),
                ["EVIDENCE", id, sha] => evidence.push((EvidenceId::parse("id", id).unwrap(), sha.to_string())),
                _ => panic!("round {round}: unexpected line {line:?}"),
            }
        }
    }
    assert!(people.len() > KILLS && !evidence.is_empty(), "the writers did work");

    // Reopen as the server would.
    let (keys, created) = lantern_app::load_or_create_keys(dir.path()).unwrap();
    assert!(!created);
    let keys = Arc::new(keys);
    let store: Arc<dyn Store> =
        Arc::new(lantern_store_sqlite::open(&dir.path().join("lantern.db"), keys.clone()).unwrap());
    let vault = lantern_vault::objects::ObjectVault::open(
        &lantern_vault::objects::Location::Local(dir.path().join("objects")),
        keys.clone(),
    )
    .unwrap();
    let signer = lantern_app::ledger::load_or_create_signer(dir.path(), &keys, "crash.test/ledger").unwrap();
    let verifier = lantern_ledger::note::NoteVerifier::parse(&signer.verifier_key()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut report = lantern_app::ledger::audit(store.as_ref(), &verifier).unwrap();
    runtime
        .block_on(lantern_app::ledger::check_objects(store.clone(), &vault, &mut report))
        .unwrap();
    assert!(report.clean(), "{:?}", report.problems);
    assert_eq!(report.entries, store.ledger_size().unwrap());

    for id in &people {
        assert!(
            store.person(*id).unwrap().is_some(),
            "acknowledged person {id} is missing"
        );
    }
    for (id, sha) in &evidence {
        let e = store
            .evidence(*id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged evidence {id} is missing"));
        assert_eq!(&e.sha256, sha);
    }
    // Every catalogued object is whole (checked above); what else the
    // storage lists are complete objects whose record was never committed
    // (the sweep removes them), at most one per kill, and never a partial
    // upload: those stay under the storage's temporary names.
    let catalogued: std::collections::HashSet<String> =
        store.vault_objects().unwrap().into_iter().map(|o| o.name).collect();
    let listed = runtime.block_on(vault.list()).unwrap();
    for (name, _) in &listed {
        assert!(
            name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit()),
            "a partial or foreign object is visible: {name}"
        );
    }
    let unrecorded = listed.iter().filter(|(n, _)| !catalogued.contains(n)).count();
    assert!(
        unrecorded <= KILLS,
        "{unrecorded} unrecorded objects after {KILLS} kills"
    );
    assert_eq!(listed.len() - unrecorded, catalogued.len());
    // The parts of interrupted uploads are swept (here without waiting).
    vault.sweep_partial(Duration::ZERO).unwrap();
    let mut files = Vec::new();
    let mut dirs = vec![dir.path().join("objects")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert_eq!(files.len(), listed.len(), "files left beside the objects: {files:?}");
}
