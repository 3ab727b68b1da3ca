//! Deduplication: clusters of records that are likely one person.
//!
//! Every record is searched against the others ([`Matcher::duplicates_of`]);
//! a pair's probability is the higher of its two directions. Pairs from
//! [`LINK`] join clusters, strongest first, by average linkage: two
//! clusters merge only when the mean probability over all pairs between
//! them (a pair never proposed counts as 0) reaches [`LINK`] too. A chain
//! of resemblances (A like B, B like C, A unlike C), which one very common
//! name produces in any large registry, therefore does not make one
//! cluster; no cluster grows past [`MAX_CLUSTER`]. Pairs between
//! [`REVIEW`] and [`LINK`], and links refused by those guards, are listed
//! for a person to review rather than decided.

use std::collections::{BTreeMap, HashMap};

use crate::Matcher;

/// The probability from which a pair links two records.
pub const LINK: f64 = 0.5;

/// The probability from which an unlinked pair is listed for review.
pub const REVIEW: f64 = 0.2;

/// The most records one cluster may gather.
pub const MAX_CLUSTER: usize = 20;

/// Candidates looked at per record.
const TOP: usize = 10;

/// The outcome of a deduplication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Clusters of two or more records: each member with its mean
    /// probability of being the same person as the other members.
    pub clusters: Vec<Vec<(String, f64)>>,
    /// Pairs not linked that a person should look at, strongest first.
    pub review: Vec<(String, String, f64)>,
}

/// Clusters the matcher's records, using up to `threads` threads for the
/// searches.
pub fn dedupe(m: &Matcher, threads: usize) -> Outcome {
    let ids: Vec<&str> = m.ids().collect();
    // Draw u once before the threads share the matcher.
    let _ = m.u();
    let chunk = ids.len().div_ceil(threads.max(1)).max(1);
    let found: Vec<Vec<(usize, String, f64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .enumerate()
            .map(|(n, part)| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for (k, id) in part.iter().enumerate() {
                        for c in m.duplicates_of(id, TOP) {
                            if c.probability >= REVIEW {
                                out.push((n * chunk + k, c.id, c.probability));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let pairs = found
        .into_iter()
        .flatten()
        .filter_map(|(a, other, p)| Some((a, *index.get(other.as_str())?, p)));
    cluster(&ids, pairs)
}

/// Clusters records (`ids`) from their scored pairs (indices into `ids`).
fn cluster(ids: &[&str], scored: impl Iterator<Item = (usize, usize, f64)>) -> Outcome {
    // Each pair once, at the higher of its two directions.
    let mut pairs: HashMap<(usize, usize), f64> = HashMap::new();
    for (a, b, p) in scored {
        let key = (a.min(b), a.max(b));
        let e = pairs.entry(key).or_insert(0.0);
        *e = e.max(p);
    }
    let mut edges: Vec<((usize, usize), f64)> = pairs.iter().map(|(k, p)| (*k, *p)).collect();
    edges.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let p = |a: usize, b: usize| pairs.get(&(a.min(b), a.max(b))).copied().unwrap_or(0.0);

    let mut cluster_of: Vec<usize> = (0..ids.len()).collect();
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut review = Vec::new();
    for &((a, b), prob) in &edges {
        let (ca, cb) = (cluster_of[a], cluster_of[b]);
        if ca == cb {
            continue;
        }
        if prob < LINK {
            review.push((a, b, prob));
            continue;
        }
        let one = |c: usize, x: usize| members.get(&c).cloned().unwrap_or_else(|| vec![x]);
        let (ma, mb) = (one(ca, a), one(cb, b));
        let linkage = ma
            .iter()
            .flat_map(|x| mb.iter().map(move |y| (*x, *y)))
            .map(|(x, y)| p(x, y))
            .sum::<f64>()
            / (ma.len() * mb.len()) as f64;
        if ma.len() + mb.len() > MAX_CLUSTER || linkage < LINK {
            review.push((a, b, prob));
            continue;
        }
        members.remove(&cb);
        for &x in &mb {
            cluster_of[x] = ca;
        }
        let mut merged = ma;
        merged.extend(mb);
        members.insert(ca, merged);
    }
    let mut clusters: Vec<Vec<(String, f64)>> = members
        .into_values()
        .map(|ms| {
            let mut out: Vec<(String, f64)> = ms
                .iter()
                .map(|&x| {
                    let others = ms.iter().filter(|&&y| y != x).map(|&y| p(x, y)).sum::<f64>();
                    (ids[x].to_string(), others / (ms.len() - 1) as f64)
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        })
        .collect();
    clusters.sort_by(|a, b| a[0].0.cmp(&b[0].0));
    let review = review
        .into_iter()
        .filter(|(a, b, _)| cluster_of[*a] != cluster_of[*b])
        .map(|(a, b, prob)| (ids[a].to_string(), ids[b].to_string(), prob))
        .collect();
    Outcome { clusters, review }
}

/// Pairwise precision and recall of clusters against the true groups
/// (`record id → group`; records without a group are alone).
pub fn pairwise_quality(clusters: &[Vec<(String, f64)>], truth: &BTreeMap<String, String>) -> (f64, f64) {
    let mut found = 0usize;
    let mut right = 0usize;
    for c in clusters {
        for (i, (a, _)) in c.iter().enumerate() {
            for (b, _) in &c[i + 1..] {
                found += 1;
                right += usize::from(truth.get(a).is_some_and(|g| truth.get(b) == Some(g)));
            }
        }
    }
    let mut sizes: HashMap<&String, usize> = HashMap::new();
    for g in truth.values() {
        *sizes.entry(g).or_default() += 1;
    }
    let true_pairs: usize = sizes.values().map(|n| n * (n - 1) / 2).sum();
    let share = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (share(right, found), share(right, true_pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Details;
    use crate::Record;

    fn details(birth: &str, father: &str) -> Details {
        Details {
            birth_date: Some(birth.into()),
            father_name: Some(father.into()),
            sex: Some("m".into()),
            ..Details::default()
        }
    }

    #[test]
    fn the_same_person_registered_twice_is_one_cluster() {
        let mut m = Matcher::new();
        m.add(Record::with_details("a", &["مسعود کریمی"], &details("1970", "علی")));
        m.add(Record::with_details("b", &["Masoud Karimi"], &details("1970", "Ali")));
        m.add(Record::with_details("c", &["Zahra Hosseini"], &details("1985", "Reza")));
        m.add(Record::with_details(
            "d",
            &["Fatemeh Ahmadi"],
            &details("1990", "Hassan"),
        ));
        let out = dedupe(&m, 2);
        assert_eq!(out.clusters.len(), 1, "{out:?}");
        let ids: Vec<&str> = out.clusters[0].iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(out.clusters[0].iter().all(|(_, p)| *p >= LINK));
    }

    #[test]
    fn a_common_name_does_not_chain_different_people_together() {
        // Eight "Mohammad Rezaei", sons of a Kaveh, born in Qom three years
        // apart: each resembles the next (over 0.5), not the one after
        // (six years apart). Linked pair by pair, they would make one
        // cluster of eight.
        let mut m = Matcher::new();
        for i in 0..30 {
            let other = Details {
                birth_date: Some((1930 + i).to_string()),
                father_name: Some(format!("Father{i}")),
                ..Details::default()
            };
            m.add(Record::with_details(
                format!("x{i}"),
                &[&format!("Other{i} Person{i}")],
                &other,
            ));
        }
        for i in 0..8 {
            let son = Details {
                birth_place: Some("Qom".into()),
                ..details(&(1950 + i * 3).to_string(), "Kaveh")
            };
            m.add(Record::with_details(format!("m{i}"), &["Mohammad Rezaei"], &son));
        }
        let out = dedupe(&m, 1);
        assert!(!out.clusters.is_empty(), "neighbours do link: {out:?}");
        let largest = out.clusters.iter().map(Vec::len).max().unwrap_or(0);
        assert!(largest <= 2, "{out:?}");
        assert!(!out.review.is_empty(), "the refused links are left for review");
    }

    #[test]
    fn average_linkage_refuses_a_chain() {
        // a is like b and b like c, but a was never proposed for c: the
        // strongest pair links, the chain goes to review.
        let ids = ["a", "b", "c", "d", "e"];
        let out = cluster(&ids, [(0, 1, 0.9), (1, 2, 0.8), (3, 4, 0.3)].into_iter());
        assert_eq!(out.clusters, vec![vec![("a".to_string(), 0.9), ("b".to_string(), 0.9)]]);
        assert_eq!(
            out.review,
            vec![
                ("b".to_string(), "c".to_string(), 0.8),
                ("d".to_string(), "e".to_string(), 0.3)
            ]
        );
        // When every pair of the three resembles the others, they are one.
        let out = cluster(&ids, [(0, 1, 0.9), (1, 2, 0.8), (0, 2, 0.7)].into_iter());
        assert_eq!(out.clusters.len(), 1);
        assert_eq!(out.clusters[0].len(), 3);
        assert!(out.review.is_empty());
    }

    #[test]
    fn no_cluster_grows_past_the_limit() {
        let ids: Vec<String> = (0..MAX_CLUSTER + 5).map(|i| format!("p{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let n = ids.len();
        let all = (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b, 0.95)));
        let out = cluster(&refs, all);
        assert!(
            out.clusters.iter().all(|c| c.len() <= MAX_CLUSTER),
            "{:?}",
            out.clusters
        );
        assert!(!out.review.is_empty());
    }

    #[test]
    fn pairwise_quality_counts_pairs_inside_clusters() {
        let truth: BTreeMap<String, String> = [("a", "1"), ("b", "1"), ("c", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let clusters = vec![vec![
            ("a".to_string(), 0.9),
            ("b".to_string(), 0.9),
            ("c".to_string(), 0.5),
        ]];
        let (precision, recall) = pairwise_quality(&clusters, &truth);
        assert!((precision - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(recall, 1.0);
    }
}
