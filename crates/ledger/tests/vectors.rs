//! The reference test vectors of transparency-dev/merkle: every proof that
//! must verify does, every one that must be refused is.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or_default())
        .expect("base64")
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default()
}

#[test]
fn all_reference_vectors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tlog-vectors");
    let mut all = Vec::new();
    files(&root, &mut all);
    all.sort();
    let (mut inclusion, mut consistency, mut rejected) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &all {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let result = if v.get("leafIdx").is_some() {
            inclusion += 1;
            lantern_ledger::verify_inclusion(
                v["leafIdx"].as_u64().unwrap(),
                v["treeSize"].as_u64().unwrap(),
                &b64(&v["leafHash"]),
                &proof(&v["proof"]),
                &b64(&v["root"]),
            )
        } else {
            consistency += 1;
            lantern_ledger::verify_consistency(
                v["size1"].as_u64().unwrap(),
                v["size2"].as_u64().unwrap(),
                &b64(&v["root1"]),
                &b64(&v["root2"]),
                &proof(&v["proof"]),
            )
        };
        if want_err {
            rejected += 1;
        }
        if result.is_err() != want_err {
            failures.push(format!(
                "{}: wantErr={want_err}, got {result:?}",
                path.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    assert!(
        inclusion > 50 && consistency > 50 && rejected > 100,
        "{inclusion} {consistency} {rejected}"
    );
}
