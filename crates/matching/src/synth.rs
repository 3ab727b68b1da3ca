//! A synthetic record-level evaluation set: made-up people whose names come
//! from real name data (each name in Arabic script and in its Latin
//! spellings), with sex, birth dates of several precisions, birth places,
//! nationalities and parents' names; and queries that are copies of some of
//! them written another way (the other script, another spelling, a typo,
//! words swapped, fields missing, the birth year off by a few years), plus
//! queries for people who are not registered, a third of them namesakes of
//! someone who is.
//!
//! Nothing here is a real person: every record is drawn at random. The sets
//! are written in the evaluation format (`registry.csv`, `queries.csv`,
//! `truth.csv`) so the yardstick's `match-eval.py` and other matchers
//! (Splink) can be run on the same files.

use std::collections::BTreeMap;

use crate::batch::Row;
use crate::fields::Details;

/// One name: its Arabic-script form and its Latin spellings (most common
/// first).
#[derive(Debug, Clone)]
pub struct NameForm {
    /// Arabic-script form.
    pub arabic: String,
    /// Latin spellings, at least one.
    pub latin: Vec<String>,
}

/// Reads name forms from the name data: Wikidata rows `latin<TAB>arabic
/// letters spaced<TAB>count` (spellings seen at least twice) and Google rows
/// `arabic<TAB>latin`.
pub fn name_forms(wikidata: &str, google: &str) -> Vec<NameForm> {
    let mut by_arabic: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for line in wikidata.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        if let [latin, arabic, count] = parts.as_slice() {
            let count: u32 = count.trim().parse().unwrap_or(0);
            if count >= 2 && !latin.trim().is_empty() {
                by_arabic
                    .entry(arabic.replace(' ', ""))
                    .or_default()
                    .push((count, latin.trim().to_string()));
            }
        }
    }
    for line in google.lines() {
        if let Some((arabic, latin)) = line.split_once('\t') {
            let spellings = by_arabic.entry(arabic.trim().to_string()).or_default();
            if !spellings.iter().any(|(_, l)| l == latin.trim()) {
                spellings.push((1, latin.trim().to_string()));
            }
        }
    }
    by_arabic
        .into_iter()
        .filter(|(a, l)| !a.is_empty() && !l.is_empty())
        .map(|(arabic, mut latin)| {
            latin.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            NameForm {
                arabic,
                latin: latin.into_iter().map(|(_, l)| capitalise(&l)).collect(),
            }
        })
        .collect()
}

fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A small reproducible random source (xorshift64*, Vigna 2016): the sets
/// must come out the same on every machine, and so must the random pairs
/// the matcher draws to estimate `u`.
pub struct Draw(u64);

impl Draw {
    /// A source from a seed.
    pub fn new(seed: u64) -> Draw {
        Draw(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// An index below `n` drawn with Zipf-like frequencies (rank `r` about
    /// `1/r` as likely): a few names very common, most rare, as in a real
    /// registry.
    pub fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        // Inverse of the continuous 1/r law over 1..=n.
        (((n as f64 + 1.0).powf(u)) as usize).saturating_sub(1).min(n - 1)
    }
}

/// A made-up person.
#[derive(Debug, Clone)]
struct Person {
    given: usize,
    family: usize,
    female: bool,
    year: i32,
    month: u8,
    day: u8,
    /// 0 day, 1 month, 2 year only.
    precision: u8,
    place: usize,
    nationality: usize,
    father: usize,
    mother: usize,
    mother_family: usize,
    /// Registered in Arabic script (else in Latin).
    arabic: bool,
    /// With the other script as an alias.
    alias: bool,
}

const NATIONALITIES: [(&str, u32); 8] = [
    ("IR", 40),
    ("AF", 25),
    ("IQ", 15),
    ("SY", 8),
    ("PK", 5),
    ("TR", 3),
    ("LB", 2),
    ("YE", 2),
];

/// How many different birth places the people come from.
const PLACES: usize = 400;

fn person(d: &mut Draw, names: usize, arabic: f64) -> Person {
    let mut total = d.below(100) as u32;
    let nationality = NATIONALITIES
        .iter()
        .position(|(_, w)| {
            let hit = total < *w;
            total = total.saturating_sub(*w);
            hit
        })
        .unwrap_or(0);
    Person {
        given: d.zipf(names),
        family: d.zipf(names),
        female: d.chance(0.5),
        year: 1940 + d.below(73) as i32,
        month: 1 + d.below(12) as u8,
        day: 1 + d.below(28) as u8,
        precision: if d.chance(0.5) {
            0
        } else if d.chance(0.2) {
            1
        } else {
            2
        },
        place: d.zipf(PLACES.min(names)),
        nationality,
        father: d.zipf(names),
        mother: d.zipf(names),
        mother_family: d.zipf(names),
        arabic: d.chance(arabic),
        alias: d.chance(0.3),
    }
}

/// How a name is written in one record.
#[derive(Clone, Copy)]
enum Script {
    Arabic,
    /// The Latin spelling with this index (wrapped to those known).
    Latin(usize),
}

fn write(form: &NameForm, script: Script) -> String {
    match script {
        Script::Arabic => form.arabic.clone(),
        Script::Latin(i) => form.latin[i % form.latin.len()].clone(),
    }
}

/// One typing error in a word: a letter dropped, doubled or two swapped.
fn typo(d: &mut Draw, word: &str) -> String {
    let mut c: Vec<char> = word.chars().collect();
    if c.len() < 4 {
        return word.to_string();
    }
    let i = 1 + d.below(c.len() - 2);
    match d.below(3) {
        0 => {
            c.remove(i);
        }
        1 => c.insert(i, c[i]),
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}

fn date(p: &Person, year: i32, precision: u8) -> String {
    match precision {
        0 => format!("{year:04}-{:02}-{:02}", p.month, p.day),
        1 => format!("{year:04}-{:02}", p.month),
        _ => format!("{year:04}"),
    }
}

fn registered(id: String, p: &Person, forms: &[NameForm]) -> Row {
    let script = if p.arabic { Script::Arabic } else { Script::Latin(0) };
    let other = if p.arabic { Script::Latin(0) } else { Script::Arabic };
    let full = |s: Script| format!("{} {}", write(&forms[p.given], s), write(&forms[p.family], s));
    let mut names = vec![full(script)];
    if p.alias {
        names.push(full(other));
    }
    Row {
        id,
        names,
        details: Details {
            sex: Some(if p.female { "f" } else { "m" }.into()),
            birth_date: Some(date(p, p.year, p.precision)),
            birth_place: Some(write(&forms[p.place], script)),
            nationality: Some(NATIONALITIES[p.nationality].0.into()),
            father_name: Some(full_of(forms, p.father, p.family, script)),
            mother_name: Some(full_of(forms, p.mother, p.mother_family, script)),
        },
    }
}

fn full_of(forms: &[NameForm], given: usize, family: usize, s: Script) -> String {
    format!("{} {}", write(&forms[given], s), write(&forms[family], s))
}

/// A query for a person: written as a family member or a partner
/// organisation would, with what they remember.
fn query(id: String, p: &Person, forms: &[NameForm], d: &mut Draw, arabic: f64) -> Row {
    // The other script more often than not, or another Latin spelling.
    let script = if p.arabic {
        if d.chance(0.7) {
            Script::Latin(d.below(4))
        } else {
            Script::Arabic
        }
    } else if d.chance(arabic) {
        Script::Arabic
    } else {
        Script::Latin(1 + d.below(3))
    };
    let mut given = write(&forms[p.given], script);
    let mut family = write(&forms[p.family], script);
    if d.chance(0.15) {
        if d.chance(0.5) {
            given = typo(d, &given);
        } else {
            family = typo(d, &family);
        }
    }
    let name = if d.chance(0.05) {
        given
    } else if d.chance(0.3) {
        format!("{family} {given}")
    } else {
        format!("{given} {family}")
    };
    let keep = |d: &mut Draw, p: f64| d.chance(p);
    let sex = keep(d, 0.7).then(|| {
        let female = if d.chance(0.01) { !p.female } else { p.female };
        if female { "f" } else { "m" }.to_string()
    });
    let birth_date = keep(d, 0.75).then(|| {
        let shift = match d.below(50) {
            0..=29 => 0,
            30..=39 => 1,
            40..=45 => 2 + d.below(2) as i32,
            46..=48 => 4 + d.below(2) as i32,
            _ => 10,
        };
        let sign = if d.chance(0.5) { 1 } else { -1 };
        let precision = if shift == 0 && d.chance(0.5) { p.precision } else { 2 };
        date(p, p.year + sign * shift, precision)
    });
    let birth_place = keep(d, 0.6).then(|| {
        let place = if d.chance(0.1) {
            d.zipf(PLACES.min(forms.len()))
        } else {
            p.place
        };
        write(&forms[place], script)
    });
    let nationality = keep(d, 0.7).then(|| {
        let n = if d.chance(0.05) {
            d.below(NATIONALITIES.len())
        } else {
            p.nationality
        };
        NATIONALITIES[n].0.to_string()
    });
    let father_name = keep(d, 0.6).then(|| {
        if d.chance(0.5) {
            write(&forms[p.father], script)
        } else {
            full_of(forms, p.father, p.family, script)
        }
    });
    let mother_name = keep(d, 0.3).then(|| write(&forms[p.mother], script));
    Row {
        id,
        names: vec![name],
        details: Details {
            sex,
            birth_date,
            birth_place,
            nationality,
            father_name,
            mother_name,
        },
    }
}

/// A record-level evaluation set.
#[derive(Debug, Clone)]
pub struct Set {
    /// The registered people.
    pub registry: Vec<Row>,
    /// The queries: first those for registered people, then the others.
    pub queries: Vec<Row>,
    /// For each query, the registered person it is for (none for the others).
    pub truth: Vec<(String, Option<String>)>,
}

/// Builds a set: `people` registered, `found` queries for some of them,
/// `missing` queries for people not registered (a third of them sharing the
/// names of someone registered).
pub fn build(forms: &[NameForm], people: usize, found: usize, missing: usize, seed: u64) -> Set {
    build_with(forms, people, found, missing, seed, 0.5)
}

/// [`build`] with `arabic` the share of people registered in Arabic script
/// (and of queries in Arabic script for those registered in Latin): 0.5 by
/// default, lower for a registry kept mostly in Latin letters.
pub fn build_with(forms: &[NameForm], people: usize, found: usize, missing: usize, seed: u64, arabic: f64) -> Set {
    let mut d = Draw::new(seed);
    let population: Vec<Person> = (0..people).map(|_| person(&mut d, forms.len(), arabic)).collect();
    let registry: Vec<Row> = population
        .iter()
        .enumerate()
        .map(|(i, p)| registered(format!("p{i}"), p, forms))
        .collect();
    let (mut queries, mut truth) = (Vec::new(), Vec::new());
    for q in 0..found {
        let i = d.below(people);
        let id = format!("q{q}");
        queries.push(query(id.clone(), &population[i], forms, &mut d, arabic));
        truth.push((id, Some(format!("p{i}"))));
    }
    for q in 0..missing {
        let mut p = person(&mut d, forms.len(), arabic);
        if q % 3 == 0 {
            let namesake = &population[d.below(people)];
            p.given = namesake.given;
            p.family = namesake.family;
        }
        let id = format!("n{q}");
        queries.push(query(id.clone(), &p, forms, &mut d, arabic));
        truth.push((id, None));
    }
    Set {
        registry,
        queries,
        truth,
    }
}

/// A registry with duplicates: `people` made-up people, and `copies`
/// second registrations of some of them, written as another registrar
/// would (another script or spelling, a typo, fields missing or off). Also
/// returns each record's true person (`record id → person`).
pub fn build_duplicates(
    forms: &[NameForm],
    people: usize,
    copies: usize,
    seed: u64,
) -> (Vec<Row>, BTreeMap<String, String>) {
    let mut rows: Vec<Row> = Vec::with_capacity(people + copies);
    let mut truth = BTreeMap::new();
    each_duplicate(forms, people, copies, seed, |row, person| {
        truth.insert(row.id.clone(), format!("g{person}"));
        rows.push(row);
    });
    (rows, truth)
}

/// The rows of [`build_duplicates`], the same for the same arguments,
/// handed one at a time to `take` with the number of their true person:
/// the people first (`p0` is person 0, and so on), then the copies (`d0`,
/// `d1`, …).
pub fn each_duplicate(forms: &[NameForm], people: usize, copies: usize, seed: u64, mut take: impl FnMut(Row, usize)) {
    let mut d = Draw::new(seed);
    let population: Vec<Person> = (0..people).map(|_| person(&mut d, forms.len(), 0.5)).collect();
    for (i, p) in population.iter().enumerate() {
        take(registered(format!("p{i}"), p, forms), i);
    }
    for k in 0..copies {
        let i = d.below(people);
        take(query(format!("d{k}"), &population[i], forms, &mut d, 0.5), i);
    }
}

/// The yardstick's measures (the definitions of `match-eval.py`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Share of queries for registered people whose person is ranked first.
    pub recall_at_1: f64,
    /// … among the first ten.
    pub recall_at_10: f64,
    /// Of top candidates with probability ≥ 0.5, the share that are right.
    pub precision: f64,
    /// Queries for unregistered people whose top candidate has probability
    /// ≥ 0.5, per 1,000 such queries.
    pub false_alarms: f64,
    /// Expected calibration error over every returned pair, ten bins.
    pub ece: f64,
}

/// Measures ranked candidates (`(query id, [(person id, probability)])`,
/// best first) against the truth.
pub fn evaluate(truth: &[(String, Option<String>)], ranked: &BTreeMap<String, Vec<(String, f64)>>) -> Quality {
    let (mut positives, mut negatives, mut at1, mut at10) = (0, 0, 0, 0);
    let (mut confident, mut right, mut alarms) = (0, 0, 0);
    let mut bins = [(0usize, 0.0f64, 0usize); 10];
    let mut pairs = 0;
    for (q, t) in truth {
        let found = ranked.get(q).map(Vec::as_slice).unwrap_or_default();
        for (id, p) in found {
            let b = &mut bins[((p * 10.0) as usize).min(9)];
            b.0 += 1;
            b.1 += p;
            b.2 += usize::from(t.as_ref() == Some(id));
            pairs += 1;
        }
        match t {
            Some(t) => {
                positives += 1;
                at1 += usize::from(found.first().is_some_and(|(id, _)| id == t));
                at10 += usize::from(found.iter().take(10).any(|(id, _)| id == t));
                if found.first().is_some_and(|(_, p)| *p >= 0.5) {
                    confident += 1;
                    right += usize::from(found[0].0 == *t);
                }
            }
            None => {
                negatives += 1;
                alarms += usize::from(found.first().is_some_and(|(_, p)| *p >= 0.5));
            }
        }
    }
    let share = |a: usize, b: usize| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    Quality {
        recall_at_1: share(at1, positives),
        recall_at_10: share(at10, positives),
        precision: share(right, confident),
        false_alarms: 1000.0 * share(alarms, negatives),
        ece: bins.iter().map(|b| (b.1 - b.2 as f64).abs()).sum::<f64>() / pairs.max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms() -> Vec<NameForm> {
        name_forms(
            "masoud\tم س ع و د\t5\nmassoud\tم س ع و د\t3\nzahra\tز ه ر ا\t4\nkarimi\tک ر ی م ی\t2\nrare\tر ا ر\t1\n",
            "علی\tali\n",
        )
    }

    #[test]
    fn name_forms_join_spellings_of_one_arabic_form() {
        let f = forms();
        let masoud = f.iter().find(|f| f.arabic == "مسعود").unwrap();
        assert_eq!(masoud.latin, ["Masoud", "Massoud"], "most common first");
        assert!(f.iter().all(|f| f.arabic != "رار"), "spellings seen once are noise");
        assert!(f.iter().any(|f| f.arabic == "علی" && f.latin == ["Ali"]));
    }

    #[test]
    fn sets_repeat_and_tell_the_truth() {
        let f = forms();
        let a = build(&f, 50, 20, 10, 7);
        let b = build(&f, 50, 20, 10, 7);
        assert_eq!(a.queries.len(), 30);
        assert_eq!(
            a.queries.iter().map(|q| &q.names).collect::<Vec<_>>(),
            b.queries.iter().map(|q| &q.names).collect::<Vec<_>>()
        );
        assert_eq!(a.truth.iter().filter(|(_, t)| t.is_none()).count(), 10);
        assert!(a.registry.iter().all(|r| r.details.birth_date.is_some()));
    }

    #[test]
    fn evaluation_counts_as_the_yardstick_does() {
        let truth = vec![
            ("q1".to_string(), Some("p1".to_string())),
            ("q2".to_string(), Some("p2".to_string())),
            ("n1".to_string(), None),
        ];
        let mut ranked = BTreeMap::new();
        ranked.insert("q1".into(), vec![("p1".to_string(), 0.9), ("p3".to_string(), 0.1)]);
        ranked.insert("q2".into(), vec![("p3".to_string(), 0.6), ("p2".to_string(), 0.3)]);
        ranked.insert("n1".into(), vec![("p1".to_string(), 0.7)]);
        let q = evaluate(&truth, &ranked);
        assert_eq!((q.recall_at_1, q.recall_at_10), (0.5, 1.0));
        assert_eq!(q.precision, 0.5);
        assert_eq!(q.false_alarms, 1000.0);
        // Bins: 0.1 (false), 0.3 (true), 0.6 (false), 0.7 (false), 0.9 (true).
        let ece = (0.1 + 0.7 + 0.6 + 0.7 + 0.1) / 5.0;
        assert!((q.ece - ece).abs() < 1e-9, "{}", q.ece);
    }
}
