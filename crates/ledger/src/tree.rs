//! Proofs from stored nodes: O(log n) reads per proof instead of a
//! recomputation over every leaf.
//!
//! Every *perfect* subtree of the log — `2^level` leaves starting at
//! `index · 2^level` — has its hash stored once, when its last leaf is
//! appended ([`nodes_completed_by`]). Any tree hash RFC 9162 needs (the root
//! of a tree of any size, the siblings on an audit path, the subtrees of a
//! consistency proof) is made of O(log n) of those nodes, because the
//! recursion always splits a range at a power of two that is aligned.

use crate::{node_hash, Hash, ProofError};

/// Read access to the stored perfect-subtree hashes.
pub trait NodeStore {
    /// The hash of the perfect subtree at `level` and `index`.
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError>;
}

/// The nodes that appending leaf number `index` (with hash `leaf`)
/// completes: the leaf itself and each ancestor whose right edge it is.
/// `left` gives the already stored left siblings.
pub fn nodes_completed_by(
    index: u64,
    leaf: Hash,
    left: &dyn Fn(u32, u64) -> Result<Hash, ProofError>,
) -> Result<Vec<(u32, u64, Hash)>, ProofError> {
    let mut out = vec![(0, index, leaf)];
    let (mut level, mut i, mut hash) = (0u32, index, leaf);
    while i & 1 == 1 {
        let sibling = left(level, i - 1)?;
        hash = node_hash(&sibling, &hash);
        level += 1;
        i >>= 1;
        out.push((level, i, hash));
    }
    Ok(out)
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `[start, end)`, for the ranges RFC 9162 recursion meets.
pub fn range_hash(store: &dyn NodeStore, start: u64, end: u64) -> Result<Hash, ProofError> {
    let n = end - start;
    if n.is_power_of_two() && start.is_multiple_of(n) {
        return store.node(n.trailing_zeros(), start / n);
    }
    let k = split(n);
    Ok(node_hash(
        &range_hash(store, start, start + k)?,
        &range_hash(store, start + k, end)?,
    ))
}

/// The root of the tree of the first `size` leaves.
pub fn root_of(store: &dyn NodeStore, size: u64) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(crate::empty_root());
    }
    range_hash(store, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` (RFC 9162
/// section 2.1.3.1), from stored nodes.
pub fn inclusion_proof_of(store: &dyn NodeStore, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    let mut pending = Vec::new();
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            pending.push((start + k, end));
            end = start + k;
        } else {
            pending.push((start, start + k));
            start += k;
            m -= k;
        }
    }
    // The path lists siblings from the leaf upwards.
    for (a, b) in pending.into_iter().rev() {
        out.push(range_hash(store, a, b)?);
    }
    Ok(out)
}

/// The consistency proof between sizes `size1` and `size2` (RFC 9162
/// section 2.1.4.1), from stored nodes.
pub fn consistency_proof_of(store: &dyn NodeStore, size1: u64, size2: u64) -> Result<Vec<Hash>, ProofError> {
    if size1 == 0 {
        return Err(ProofError::EmptyTree);
    }
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    let mut pending = Vec::new();
    let (mut start, mut end, mut m, mut complete) = (0u64, size2, size1, true);
    loop {
        let n = end - start;
        if m == n {
            if !complete {
                pending.push((start, end));
            }
            break;
        }
        let k = split(n);
        if m <= k {
            pending.push((start + k, end));
            end = start + k;
        } else {
            pending.push((start, start + k));
            start += k;
            m -= k;
            complete = false;
        }
    }
    pending
        .into_iter()
        .rev()
        .map(|(a, b)| range_hash(store, a, b))
        .collect()
}

/// Perfect-subtree hashes kept in memory (tests, benchmarks, and building
/// proofs from a list of leaves).
#[derive(Debug, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let index = self.levels.first().map_or(0, |l| l.len() as u64);
        let levels = &self.levels;
        let nodes =
            nodes_completed_by(index, leaf, &|level, i| Ok(levels[level as usize][i as usize])).unwrap_or_default();
        for (level, _, hash) in nodes {
            if self.levels.len() <= level as usize {
                self.levels.push(Vec::new());
            }
            self.levels[level as usize].push(hash);
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
}

impl NodeStore for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or(ProofError::IndexOutOfRange {
                index,
                size: self.size(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{consistency_proof, inclusion_proof, leaf_hash, root};

    #[test]
    fn node_proofs_equal_the_recursive_definition() {
        let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let mut tree = MemoryTree::new();
        for (n, leaf) in leaves.iter().enumerate() {
            tree.push(*leaf);
            let size = n as u64 + 1;
            assert_eq!(root_of(&tree, size).unwrap(), root(&leaves[..=n]), "root {size}");
        }
        for size in 1..=70u64 {
            let l = &leaves[..size as usize];
            for i in 0..size {
                assert_eq!(
                    inclusion_proof_of(&tree, i, size).unwrap(),
                    inclusion_proof(l, i).unwrap(),
                    "incl {i}/{size}"
                );
            }
            for m in 1..=size {
                assert_eq!(
                    consistency_proof_of(&tree, m, size).unwrap(),
                    consistency_proof(l, m).unwrap(),
                    "cons {m}->{size}"
                );
            }
        }
    }
}
