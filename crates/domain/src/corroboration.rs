//! Corroboration: whether the accounts of one event are independent of
//! each other, and whether two events are likely the same one recorded
//! twice.
//!
//! Two accounts are *not* independent when they come from the same witness,
//! rest on the same document (the same file, by its SHA-256) or the same
//! external report, or tell the story in nearly the same words (a copied or
//! coordinated statement adds no weight of its own). These are flags for
//! the documenter's judgement, not findings: the view shows the reasons.
//!
//! Near-copies are found by word shingles (runs of three normalised words)
//! and their Jaccard resemblance (Broder, "On the resemblance and
//! containment of documents", 1997).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::testimony::{TestimonyId, Witness};
use crate::text::search_key;

/// Resemblance from which two narratives count as near-copies.
pub const NEAR_COPY: f64 = 0.5;
/// Words per shingle.
const SHINGLE: usize = 3;
/// Title resemblance (shared words) from which two events may be one.
const SAME_TITLE: f64 = 0.5;

/// What corroboration needs of one account of an event.
#[derive(Debug, Clone)]
pub struct Account {
    /// The testimony.
    pub id: TestimonyId,
    /// Its witness.
    pub witness: Witness,
    /// Its narrative.
    pub narrative: String,
    /// SHA-256 of every file it cites.
    pub files: BTreeSet<String>,
    /// Its external reports (citations or links).
    pub reports: BTreeSet<String>,
}

/// Why two accounts are not independent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Dependence {
    /// Both come from the same witness.
    SameWitness,
    /// Both cite the same file.
    SameDocument {
        /// Its SHA-256.
        sha256: String,
    },
    /// Both cite the same external report.
    SameReport {
        /// Its citation or link, as written in the first account.
        report: String,
    },
    /// The narratives are near-copies of each other.
    NearCopy {
        /// Their resemblance, 0 to 1.
        resemblance: f64,
    },
}

/// Two accounts and why they are not independent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// One account.
    pub a: TestimonyId,
    /// The other.
    pub b: TestimonyId,
    /// Every reason found.
    pub reasons: Vec<Dependence>,
}

/// The corroboration of one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Corroboration {
    /// The pairs of accounts that are not independent.
    pub pairs: Vec<Pair>,
    /// Groups of accounts that depend on each other (directly or through
    /// another); every account is in exactly one group. The number of
    /// groups is the number of independent accounts.
    pub groups: Vec<Vec<TestimonyId>>,
}

fn same_witness(a: &Witness, b: &Witness) -> bool {
    match (a, b) {
        (Witness::Registered { person: x }, Witness::Registered { person: y }) => x == y,
        (Witness::Sealed { name: x, .. }, Witness::Sealed { name: y, .. }) => search_key(x) == search_key(y),
        _ => false,
    }
}

/// The word shingles of a text, normalised as names are.
pub fn shingles(text: &str) -> BTreeSet<Vec<String>> {
    let words: Vec<String> = search_key(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if words.len() < SHINGLE {
        return if words.is_empty() {
            BTreeSet::new()
        } else {
            [words].into()
        };
    }
    words.windows(SHINGLE).map(<[String]>::to_vec).collect()
}

/// Jaccard resemblance of two sets; 0 when both are empty.
fn jaccard<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// How much two narratives share, 0 (nothing) to 1 (the same words in the
/// same order), by their shingles.
pub fn resemblance(a: &str, b: &str) -> f64 {
    jaccard(&shingles(a), &shingles(b))
}

/// Finds the accounts of an event that are not independent and groups
/// them.
pub fn corroborate(accounts: &[Account]) -> Corroboration {
    let shingled: Vec<BTreeSet<Vec<String>>> = accounts.iter().map(|a| shingles(&a.narrative)).collect();
    let reports: Vec<BTreeMap<String, &String>> = accounts
        .iter()
        .map(|a| a.reports.iter().map(|r| (search_key(r), r)).collect())
        .collect();
    let mut pairs = Vec::new();
    // Union-find over account positions.
    let mut parent: Vec<usize> = (0..accounts.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..accounts.len() {
        for j in i + 1..accounts.len() {
            let (a, b) = (&accounts[i], &accounts[j]);
            let mut reasons = Vec::new();
            if same_witness(&a.witness, &b.witness) {
                reasons.push(Dependence::SameWitness);
            }
            for sha in a.files.intersection(&b.files) {
                reasons.push(Dependence::SameDocument { sha256: sha.clone() });
            }
            for (key, report) in &reports[i] {
                if reports[j].contains_key(key) {
                    reasons.push(Dependence::SameReport {
                        report: (*report).clone(),
                    });
                }
            }
            let r = jaccard(&shingled[i], &shingled[j]);
            if r >= NEAR_COPY {
                reasons.push(Dependence::NearCopy {
                    resemblance: (r * 100.0).round() / 100.0,
                });
            }
            if !reasons.is_empty() {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri] = rj;
                pairs.push(Pair {
                    a: a.id,
                    b: b.id,
                    reasons,
                });
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<TestimonyId>> = BTreeMap::new();
    for (i, a) in accounts.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(a.id);
    }
    Corroboration {
        pairs,
        groups: groups.into_values().collect(),
    }
}

/// What duplicate detection needs of an event.
#[derive(Debug, Clone)]
pub struct EventKey<'a> {
    /// Title.
    pub title: &'a str,
    /// Earliest and latest year it may have happened in, if known.
    pub years: Option<(i32, i32)>,
    /// General place.
    pub place: Option<&'a str>,
}

/// True when two events are likely the same one recorded twice: titles
/// sharing at least half their words, years that overlap (or are not
/// known for one), and the same general place (or none given for one).
pub fn likely_same_event(a: &EventKey<'_>, b: &EventKey<'_>) -> bool {
    let words = |t: &str| -> BTreeSet<String> {
        search_key(t)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let titles = jaccard(&words(a.title), &words(b.title)) >= SAME_TITLE;
    let years = match (a.years, b.years) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
        _ => true,
    };
    let places = match (a.place, b.place) {
        (Some(x), Some(y)) => search_key(x) == search_key(y),
        _ => true,
    };
    titles && years && places
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(n: u128, witness: &str, narrative: &str) -> Account {
        Account {
            id: TestimonyId(uuid::Uuid::from_u128(n)),
            witness: Witness::Sealed {
                name: witness.into(),
                contact: None,
            },
            narrative: narrative.into(),
            files: BTreeSet::new(),
            reports: BTreeSet::new(),
        }
    }

    const STORY: &str = "ما را شبانه به بلوک چهار بردند و تا صبح در حیاط نگه داشتند، بعد به اتاق‌ها فرستادند.";

    #[test]
    fn independent_accounts_form_their_own_groups() {
        let c = corroborate(&[
            account(1, "Witness one", STORY),
            account(
                2,
                "Witness two",
                "I was in the clinic when the guards came and took my brother away.",
            ),
            account(3, "Witness three", "نامه‌هایم هرگز به خانواده نرسید."),
        ]);
        assert!(c.pairs.is_empty());
        assert_eq!(c.groups.len(), 3);
    }

    #[test]
    fn a_near_copy_is_flagged_even_with_small_edits_and_other_letter_forms() {
        // The same statement with Arabic letter forms, one word changed and
        // one added: copied, not independent.
        let copy = "ما را شبانه به بلوك چهار بردند و تا صبح در حياط نگه داشتند، بعد به اتاق‌ها فرستادند ما.";
        let r = resemblance(STORY, copy);
        assert!(r >= NEAR_COPY, "{r}");
        let c = corroborate(&[account(1, "A", STORY), account(2, "B", copy)]);
        assert_eq!(c.groups.len(), 1);
        assert!(matches!(c.pairs[0].reasons[..], [Dependence::NearCopy { resemblance }] if resemblance >= NEAR_COPY));
        // A different account of the same night shares words, not runs.
        let other = "شب بود که ما را از بلوک دو به حیاط بردند؛ من تا صبح چیزی ندیدم.";
        assert!(resemblance(STORY, other) < NEAR_COPY);
    }

    #[test]
    fn the_same_witness_document_or_report_ties_accounts_together() {
        let mut a = account(1, "Zahra Karimi", "First account, given in 2024.");
        let mut b = account(
            2,
            "zahra  karimi",
            "Second account, years later, in other words entirely.",
        );
        let mut c = account(3, "Someone else", "A third account, quite separate.");
        let d = account(4, "A fourth", "Nothing shared with the others at all.");
        a.files.insert("ab".repeat(32));
        c.files.insert("ab".repeat(32));
        b.reports.insert("Report of the Special Rapporteur, 2019".into());
        c.reports.insert("report of the special rapporteur, 2019".into());
        let r = corroborate(&[a, b, c, d]);
        assert_eq!(r.pairs.len(), 3);
        assert_eq!(r.pairs[0].reasons, vec![Dependence::SameWitness]);
        assert!(matches!(&r.pairs[1].reasons[..], [Dependence::SameDocument { .. }]));
        assert!(matches!(&r.pairs[2].reasons[..], [Dependence::SameReport { .. }]));
        // 1–2 by the witness, 1–3 by the file, 2–3 by the report: one group,
        // and the fourth account on its own.
        assert_eq!(r.groups.len(), 2);
        assert!(r.groups.iter().any(|g| g.len() == 3));
    }

    #[test]
    fn a_registered_witness_is_the_same_only_as_the_same_person() {
        let p = crate::person::PersonId::new();
        let mut a = account(1, "x", "one story here told");
        let mut b = account(2, "x", "another story entirely different");
        a.witness = Witness::Registered { person: p };
        b.witness = Witness::Registered { person: p };
        assert_eq!(corroborate(&[a.clone(), b.clone()]).groups.len(), 1);
        b.witness = Witness::Registered {
            person: crate::person::PersonId::new(),
        };
        assert_eq!(corroborate(&[a, b]).groups.len(), 2);
    }

    #[test]
    fn events_recorded_twice_are_recognised() {
        let a = EventKey {
            title: "Night transfer from block 4",
            years: Some((2019, 2019)),
            place: Some("North camp"),
        };
        let b = EventKey {
            title: "Transfer from block 4 at night",
            years: Some((2018, 2020)),
            place: Some("north  camp"),
        };
        assert!(likely_same_event(&a, &b));
        assert!(likely_same_event(
            &a,
            &EventKey {
                years: None,
                place: None,
                ..b.clone()
            }
        ));
        assert!(!likely_same_event(
            &a,
            &EventKey {
                years: Some((2021, 2022)),
                ..b.clone()
            }
        ));
        assert!(!likely_same_event(
            &a,
            &EventKey {
                place: Some("East camp"),
                ..b.clone()
            }
        ));
        assert!(!likely_same_event(
            &a,
            &EventKey {
                title: "Visits refused",
                ..b
            }
        ));
    }
}
