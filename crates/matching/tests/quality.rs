//! Quality floor on real name data the matcher was not fitted on: if a
//! change makes search across scripts or spellings worse, this fails. The
//! floors sit a little below what the matcher reaches (the figures are
//! printed; see docs/matching.md for the full evaluation beside the
//! yardstick).

use std::collections::BTreeMap;

use lantern_matching::{Matcher, Record};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Recall at 1 and 10, and how many true top candidates have p ≥ 0.5.
fn measure(registry: &[(String, String)], queries: &[(String, String)]) -> (f64, f64, f64) {
    let mut m = Matcher::new();
    for (id, name) in registry {
        m.add(Record::new(id.clone(), &[name.as_str()]));
    }
    let (mut at1, mut at10, mut confident) = (0, 0, 0);
    for (truth, q) in queries {
        let found = m.search(&[q.as_str()], 10);
        if found.first().is_some_and(|c| &c.id == truth) {
            at1 += 1;
            if found[0].probability >= 0.5 {
                confident += 1;
            }
        }
        if found.iter().any(|c| &c.id == truth) {
            at10 += 1;
        }
    }
    let n = queries.len() as f64;
    (at1 as f64 / n, at10 as f64 / n, confident as f64 / n)
}

/// The Wikidata dev pairs: per Arabic-script form (spaces removed), its
/// Latin spellings seen at least twice, with how often.
fn wikidata_groups() -> BTreeMap<String, BTreeMap<String, u32>> {
    let text = std::fs::read_to_string(format!("{DATA}/wikidata-arabic-latin.dev.tsv")).unwrap();
    let mut groups: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        let count = parts.get(2).and_then(|c| c.parse::<u32>().ok()).unwrap_or(0);
        if parts.len() == 3 && count >= 2 {
            *groups
                .entry(parts[1].replace(' ', ""))
                .or_default()
                .entry(parts[0].to_string())
                .or_default() += count;
        }
    }
    groups
}

#[test]
fn arabic_script_queries_find_latin_registrations() {
    // google-ar2en: one Latin spelling registered per Arabic-script name.
    let text = std::fs::read_to_string(format!("{DATA}/google-ar2en.dev.txt")).unwrap();
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, l)| (a.to_string(), l.to_string()))
        .collect();
    let registry: Vec<(String, String)> = pairs.iter().map(|(_, l)| (l.clone(), l.clone())).collect();
    let queries: Vec<(String, String)> = pairs.iter().map(|(a, l)| (l.clone(), a.clone())).collect();
    let (r1, r10, _) = measure(&registry, &queries);
    println!(
        "google-ar2en dev: recall@1 {r1:.3}, recall@10 {r10:.3} over {} queries",
        queries.len()
    );
    assert!(r10 >= 0.93, "recall@10 {r10:.3}");
    assert!(r1 >= 0.89, "recall@1 {r1:.3}");
}

#[test]
fn latin_spellings_find_arabic_script_registrations() {
    // Wikidata: Arabic-script forms seen with at least two Latin spellings
    // (each seen twice or more) registered; every spelling is a query.
    let groups = wikidata_groups();
    let registry: Vec<(String, String)> = groups.keys().map(|a| (a.clone(), a.clone())).collect();
    let queries: Vec<(String, String)> = groups
        .iter()
        .flat_map(|(a, latins)| latins.keys().map(move |l| (a.clone(), l.clone())))
        .collect();
    let (r1, r10, confident) = measure(&registry, &queries);
    println!(
        "wikidata dev, latin to arabic: recall@1 {r1:.3}, recall@10 {r10:.3}, confident top hits {confident:.3} over {} queries",
        queries.len()
    );
    assert!(r10 >= 0.94, "recall@10 {r10:.3}");
    assert!(r1 >= 0.85, "recall@1 {r1:.3}");
}

#[test]
fn latin_spellings_find_other_latin_spellings() {
    // Wikidata again, one script: per Arabic-script form with at least two
    // Latin spellings (each seen twice or more), its most frequent
    // spelling is registered and every other spelling is a query.
    let groups = wikidata_groups();
    let (mut registry, mut queries) = (Vec::new(), Vec::new());
    for (arabic, latins) in groups.iter().filter(|(_, l)| l.len() >= 2) {
        let canonical = latins
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(l, _)| l.clone())
            .unwrap();
        registry.push((arabic.clone(), canonical.clone()));
        for l in latins.keys().filter(|l| **l != canonical) {
            queries.push((arabic.clone(), l.clone()));
        }
    }
    let (r1, r10, _) = measure(&registry, &queries);
    println!(
        "wikidata dev, latin to latin: recall@1 {r1:.3}, recall@10 {r10:.3} over {} queries",
        queries.len()
    );
    assert!(r10 >= 0.95, "recall@10 {r10:.3}");
    assert!(r1 >= 0.83, "recall@1 {r1:.3}");
}

#[test]
fn latin_spellings_of_unregistered_names_raise_few_false_alarms() {
    // The registry of the test above without one Arabic-script form in
    // five: every Latin spelling of those left out is a query for someone
    // not registered, and a first candidate given p >= 0.5 is a false alarm.
    let groups = wikidata_groups();
    let (mut registry, mut absent) = (Vec::new(), Vec::new());
    for (i, (arabic, latins)) in groups.iter().filter(|(_, l)| l.len() >= 2).enumerate() {
        if i % 5 == 0 {
            absent.extend(latins.keys().cloned());
            continue;
        }
        let canonical = latins
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(l, _)| l.clone())
            .unwrap();
        registry.push((arabic.clone(), canonical));
    }
    let mut m = Matcher::new();
    for (id, name) in &registry {
        m.add(Record::new(id.clone(), &[name.as_str()]));
    }
    let alarms = absent
        .iter()
        .filter(|q| m.search(&[q.as_str()], 1).first().is_some_and(|c| c.probability >= 0.5))
        .count();
    let per_1000 = alarms as f64 * 1000.0 / absent.len() as f64;
    println!(
        "wikidata dev, latin to latin, not registered: {per_1000:.1} false alarms per 1,000 over {} queries",
        absent.len()
    );
    // 51.5 with the first candidate's margin measured from 0.6, 72.7
    // while names of one script were joined by their skeletons.
    assert!(per_1000 <= 20.0, "{per_1000:.1} false alarms per 1,000");
}
