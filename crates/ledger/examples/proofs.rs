//! Proof benchmark: builds a tree of N leaves in memory (perfect-subtree
//! nodes, as the store keeps them), then generates and verifies 10,000
//! inclusion proofs and 1,000 consistency proofs, and prints the timings.
//!
//! ```sh
//! cargo run --release -p lantern-ledger --example proofs -- 10000000
//! ```

use std::time::Instant;

use lantern_ledger::tree::{consistency_proof_of, inclusion_proof_of, root_of, MemoryTree};
use lantern_ledger::{leaf_hash, verify_consistency, verify_inclusion};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let t = Instant::now();
    let mut tree = MemoryTree::new();
    for i in 0..n {
        tree.push(leaf_hash(&i.to_le_bytes()));
    }
    println!("tree of {n} leaves built in {:.2} s", t.elapsed().as_secs_f64());
    let root = root_of(&tree, n).expect("root");
    // A fixed pseudo-random sequence of indices (xorshift), no dependency.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let indices: Vec<u64> = (0..10_000).map(|_| next() % n).collect();
    let t = Instant::now();
    let proofs: Vec<Vec<Vec<u8>>> = indices
        .iter()
        .map(|&i| {
            inclusion_proof_of(&tree, i, n)
                .expect("proof")
                .iter()
                .map(|h| h.to_vec())
                .collect()
        })
        .collect();
    let generate = t.elapsed();
    let t = Instant::now();
    for (i, p) in indices.iter().zip(&proofs) {
        verify_inclusion(*i, n, &leaf_hash(&i.to_le_bytes()), p, &root).expect("verifies");
    }
    let verify = t.elapsed();
    println!(
        "10000 inclusion proofs: generated in {:.3} s, verified in {:.3} s ({} hashes each)",
        generate.as_secs_f64(),
        verify.as_secs_f64(),
        proofs[0].len()
    );
    let t = Instant::now();
    for _ in 0..1_000 {
        let m = 1 + next() % n;
        let p: Vec<Vec<u8>> = consistency_proof_of(&tree, m, n)
            .expect("proof")
            .iter()
            .map(|h| h.to_vec())
            .collect();
        let old = root_of(&tree, m).expect("root");
        verify_consistency(m, n, &old, &root, &p).expect("verifies");
    }
    println!(
        "1000 consistency proofs generated and verified in {:.3} s",
        t.elapsed().as_secs_f64()
    );
}
