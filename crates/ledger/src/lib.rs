//! Lantern's tamper-evident log: an append-only Merkle tree as specified by
//! RFC 6962 section 2.1 and RFC 9162 section 2.1, with SHA-256.
//!
//! - leaf hash: `SHA-256(0x00 ‖ entry)`; interior node: `SHA-256(0x01 ‖ left ‖ right)`;
//!   the root of the empty tree is `SHA-256()`.
//! - [`inclusion_proof`] and [`consistency_proof`] produce the audit paths of
//!   RFC 9162 sections 2.1.3.1 and 2.1.4.1; [`verify_inclusion`] and
//!   [`verify_consistency`] implement the verification algorithms of
//!   sections 2.1.3.2 and 2.1.4.2.
//!
//! Verification is strict: every proof hash and leaf hash must be 32 bytes,
//! an index must be below the tree size, proofs must have exactly the length
//! the sizes imply (no extra and no missing hash), and a failure says which
//! of these checks failed. This matters because independent verifiers in
//! other languages do not all check lengths.
//!
//! [`bundle`] writes and verifies dossier bundles. [`entry`] defines the entries (canonical, with salted commitments to
//! record fields) and [`note`] the signed checkpoints (C2SP
//! `tlog-checkpoint` in a `signed-note`).

pub mod bundle;
pub mod entry;
pub mod note;
pub mod proof;
pub mod tree;

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Hash of a log entry (leaf), RFC 9162 section 2.1.1.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// Hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of the empty tree: the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (for `n` ≥ 2): where
/// RFC 9162 splits a list of `n` leaves.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle Tree Hash of a list of leaf hashes (RFC 9162 section 2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Why a proof or a request for one was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A tree of size 0 has no leaves to prove and no useful consistency.
    #[error("the tree size is 0")]
    EmptyTree,
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The size.
        size: u64,
    },
    /// The first size of a consistency proof is larger than the second.
    #[error("the earlier size {size1} is larger than the later size {size2}")]
    SizesReversed {
        /// Earlier size.
        size1: u64,
        /// Later size.
        size2: u64,
    },
    /// A hash is not 32 bytes long.
    #[error("{what} is {len} bytes long, not 32")]
    BadHashLength {
        /// Which hash.
        what: String,
        /// Its length.
        len: usize,
    },
    /// The proof has more or fewer hashes than the sizes require.
    #[error("the proof has {got} hashes where {want} are required")]
    WrongProofLength {
        /// Hashes given.
        got: usize,
        /// Hashes required.
        want: usize,
    },
    /// The proof does not lead to the given root.
    #[error("the proof leads to root {computed}, not to the expected {expected}")]
    RootMismatch {
        /// Hex of the computed root.
        computed: String,
        /// Hex of the expected root.
        expected: String,
    },
    /// The two roots of a consistency check of equal sizes differ.
    #[error("the trees have the same size but different roots")]
    DifferentRootsSameSize,
}

fn as_hash(what: impl Into<String>, bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes.try_into().map_err(|_| ProofError::BadHashLength {
        what: what.into(),
        len: bytes.len(),
    })
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inclusion proof (audit path) of leaf `index` in the tree of `leaves`
/// (RFC 9162 section 2.1.3.1).
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    if size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        let n = d.len();
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            path(m, &d[..k], out);
            out.push(root(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    path(index as usize, leaves, &mut out);
    Ok(out)
}

/// The consistency proof between the first `size1` leaves and all of
/// `leaves` (RFC 9162 section 2.1.4.1).
pub fn consistency_proof(leaves: &[Hash], size1: u64) -> Result<Vec<Hash>, ProofError> {
    let size2 = leaves.len() as u64;
    if size1 == 0 {
        return Err(ProofError::EmptyTree);
    }
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    fn subproof(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        let n = d.len();
        if m == n {
            if !complete {
                out.push(root(d));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            subproof(m, &d[..k], complete, out);
            out.push(root(&d[k..]));
        } else {
            subproof(m - k, &d[k..], false, out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    subproof(size1 as usize, leaves, true, &mut out);
    Ok(out)
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size`.
fn inclusion_len(index: u64, size: u64) -> usize {
    // The path climbs from the leaf to the root; at each level the node has a
    // sibling unless it is the last node of a level with an odd count.
    let (mut fn_, mut sn, mut len) = (index, size - 1, 0);
    while sn > 0 {
        if fn_ & 1 == 1 || fn_ != sn {
            len += 1;
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    len
}

/// Verifies that `leaf_hash` is at `index` in the tree of `size` whose root
/// is `root`, given the proof (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), ProofError> {
    if size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let leaf = as_hash("the leaf hash", leaf_hash)?;
    let expected = as_hash("the root", root)?;
    let want = inclusion_len(index, size);
    if proof.len() != want {
        return Err(ProofError::WrongProofLength { got: proof.len(), want });
    }
    let mut path = Vec::with_capacity(proof.len());
    for (i, p) in proof.iter().enumerate() {
        path.push(as_hash(format!("proof hash {i}"), p)?);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in &path {
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if r != expected {
        return Err(ProofError::RootMismatch {
            computed: hex(&r),
            expected: hex(&expected),
        });
    }
    Ok(())
}

/// Verifies that the tree of `size2` with root `root2` extends the tree of
/// `size1` with root `root1`, given the proof (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[Vec<u8>],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        // Every tree extends the empty tree: a proof of it shows nothing.
        return Err(ProofError::EmptyTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                got: proof.len(),
                want: 0,
            });
        }
        // The same size: the roots must be the same bytes. (The reference
        // test vectors compare them as given, whatever their length.)
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::DifferentRootsSameSize)
        };
    }
    let first = as_hash("the earlier root", root1)?;
    let second = as_hash("the later root", root2)?;
    let mut path = Vec::with_capacity(proof.len());
    for (i, p) in proof.iter().enumerate() {
        path.push(as_hash(format!("proof hash {i}"), p)?);
    }
    // Step 1: if size1 is a power of two, the earlier root starts the path.
    if size1.is_power_of_two() {
        path.insert(0, first);
    }
    // Expected length: the bits below the lowest common level, plus the levels above.
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let want = {
        let (mut f, mut s, mut n) = (fn_, sn, 1);
        while s > 0 {
            if f & 1 == 1 || f != s {
                n += 1;
            }
            f >>= 1;
            s >>= 1;
        }
        n
    };
    if path.len() != want {
        let given = if size1.is_power_of_two() {
            path.len() - 1
        } else {
            path.len()
        };
        let required = if size1.is_power_of_two() { want - 1 } else { want };
        return Err(ProofError::WrongProofLength {
            got: given,
            want: required,
        });
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                got: proof.len(),
                want: proof.len() - 1,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if fr != first {
        return Err(ProofError::RootMismatch {
            computed: hex(&fr),
            expected: hex(&first),
        });
    }
    if sr != second {
        return Err(ProofError::RootMismatch {
            computed: hex(&sr),
            expected: hex(&second),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn every_inclusion_proof_verifies_and_tampering_fails() {
        for n in 1..=40usize {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n as u64 {
                let p: Vec<Vec<u8>> = inclusion_proof(&l, i).unwrap().iter().map(|h| h.to_vec()).collect();
                verify_inclusion(i, n as u64, &l[i as usize], &p, &r).unwrap_or_else(|e| panic!("{n} {i}: {e}"));
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[0][5] ^= 1;
                    assert!(matches!(
                        verify_inclusion(i, n as u64, &l[i as usize], &bad, &r),
                        Err(ProofError::RootMismatch { .. })
                    ));
                    let mut short = p.clone();
                    short.pop();
                    assert!(matches!(
                        verify_inclusion(i, n as u64, &l[i as usize], &short, &r),
                        Err(ProofError::WrongProofLength { .. })
                    ));
                }
                let mut long = p.clone();
                long.push(vec![0; 32]);
                assert!(matches!(
                    verify_inclusion(i, n as u64, &l[i as usize], &long, &r),
                    Err(ProofError::WrongProofLength { .. })
                ));
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_tampering_fails() {
        for n in 1..=33usize {
            let l = leaves(n);
            let r2 = root(&l);
            for m in 1..=n {
                let r1 = root(&l[..m]);
                let p: Vec<Vec<u8>> = consistency_proof(&l, m as u64)
                    .unwrap()
                    .iter()
                    .map(|h| h.to_vec())
                    .collect();
                verify_consistency(m as u64, n as u64, &r1, &r2, &p).unwrap_or_else(|e| panic!("{m}->{n}: {e}"));
                if !p.is_empty() {
                    let mut bad = p.clone();
                    let last = bad.len() - 1;
                    bad[last][0] ^= 0x80;
                    assert!(
                        verify_consistency(m as u64, n as u64, &r1, &r2, &bad).is_err(),
                        "{m}->{n} tampered"
                    );
                    let mut short = p.clone();
                    short.pop();
                    assert!(
                        verify_consistency(m as u64, n as u64, &r1, &r2, &short).is_err(),
                        "{m}->{n} short"
                    );
                }
                let mut long = p.clone();
                long.push(vec![7; 32]);
                assert!(
                    verify_consistency(m as u64, n as u64, &r1, &r2, &long).is_err(),
                    "{m}->{n} long"
                );
            }
        }
    }

    #[test]
    fn refuses_bad_lengths_indices_and_sizes() {
        let l = leaves(5);
        let r = root(&l);
        let p: Vec<Vec<u8>> = inclusion_proof(&l, 2).unwrap().iter().map(|h| h.to_vec()).collect();
        let mut short_hash = p.clone();
        short_hash[1].pop();
        assert!(matches!(
            verify_inclusion(2, 5, &l[2], &short_hash, &r),
            Err(ProofError::BadHashLength { .. })
        ));
        assert!(matches!(
            verify_inclusion(5, 5, &l[2], &p, &r),
            Err(ProofError::IndexOutOfRange { .. })
        ));
        assert_eq!(verify_inclusion(0, 0, &l[0], &[], &r), Err(ProofError::EmptyTree));
        assert!(matches!(
            verify_inclusion(2, 5, &l[2][..31], &p, &r),
            Err(ProofError::BadHashLength { .. })
        ));
        assert!(matches!(
            verify_consistency(3, 2, &r, &r, &[]),
            Err(ProofError::SizesReversed { .. })
        ));
        assert_eq!(
            inclusion_proof(&l, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
    }
}
