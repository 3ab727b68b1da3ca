//! The fields of a record besides its names, and how two records compare on
//! them, in the manner of Fellegi and Sunter ("A theory for record linkage",
//! JASA 64, 1969).
//!
//! Each field is compared at one of a few **levels** (the same day of birth;
//! one year apart; …). For each level, `m` is the chance of seeing it when
//! the two records are the same person and `u` the chance when they are
//! not; the level's **weight** is `log2(m / u)`: positive when it speaks for
//! a match, negative against, zero when a field is missing on either side
//! (no evidence). Weights of different fields add up, which assumes the
//! fields disagree independently of each other given the truth.
//!
//! `u` comes from the registry itself ([`Matcher`](crate::Matcher) draws
//! random pairs of its records), and for places, nationalities and parents'
//! names from how often the very value (for a parent, the first word of the
//! name) occurs there: being born in a town few registered people come from
//! proves more than sharing the capital. The default `m`
//! ([`DEFAULT_M`]) comes from labelled pairs of the record-level set built
//! from the `*.fit` name files; [`estimate_m`] re-estimates it by
//! expectation–maximisation over candidate pairs, with the names'
//! probability as the prior.

use std::sync::Arc;

use crate::keys::{tokens, Token};

/// The fields compared besides names, as given (any may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// Sex: `f`/`female`/`زن` or `m`/`male`/`مرد` (anything else is unknown).
    pub sex: Option<String>,
    /// Birth date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a range `YYYY..YYYY`.
    pub birth_date: Option<String>,
    /// Birth place, in any script.
    pub birth_place: Option<String>,
    /// Nationality (a code or a name, written alike on both sides).
    pub nationality: Option<String>,
    /// Father's name.
    pub father_name: Option<String>,
    /// Mother's name.
    pub mother_name: Option<String>,
}

impl Details {
    /// True when no field is given.
    pub fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// A field compared besides names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Sex.
    Sex,
    /// Birth date, by its precision.
    BirthDate,
    /// Birth place.
    BirthPlace,
    /// Nationality.
    Nationality,
    /// Father's name.
    FatherName,
    /// Mother's name.
    MotherName,
}

/// Every field, in the order of the weight tables.
pub const FIELDS: [Field; 6] = [
    Field::Sex,
    Field::BirthDate,
    Field::BirthPlace,
    Field::Nationality,
    Field::FatherName,
    Field::MotherName,
];

/// The most levels a field has.
pub const LEVELS: usize = 6;

impl Field {
    /// A stable code for labels and files.
    pub fn code(self) -> &'static str {
        match self {
            Field::Sex => "sex",
            Field::BirthDate => "birth_date",
            Field::BirthPlace => "birth_place",
            Field::Nationality => "nationality",
            Field::FatherName => "father_name",
            Field::MotherName => "mother_name",
        }
    }

    /// The codes of this field's levels, from the strongest agreement to
    /// disagreement.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Sex => &["same", "different"],
            Field::BirthDate => &["same-day", "same-year", "1-year", "2-3-years", "4-5-years", "further"],
            Field::BirthPlace | Field::Nationality | Field::FatherName | Field::MotherName => {
                &["same", "close", "different"]
            }
        }
    }
}

/// A birth date as a span of years, with month and day when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Birth {
    from: i32,
    to: i32,
    day: Option<(u8, u8)>,
}

impl Birth {
    /// Parses the forms [`Details::birth_date`] accepts; `None` otherwise.
    pub(crate) fn parse(text: &str) -> Option<Birth> {
        // Persian and Arabic-Indic digits read as ASCII ones.
        let folded: String = text
            .trim()
            .chars()
            .map(|c| match c {
                '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
                '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
                c => c,
            })
            .collect();
        let t = folded.as_str();
        if let Some((a, b)) = t.split_once("..") {
            let (from, to) = (year(a)?, year(b)?);
            return (from <= to).then_some(Birth { from, to, day: None });
        }
        let parts: Vec<&str> = t.split('-').collect();
        let y = year(parts.first()?)?;
        let number = |p: &str, max: u8| p.parse::<u8>().ok().filter(|n| (1..=max).contains(n));
        match parts.as_slice() {
            [_] => Some(Birth {
                from: y,
                to: y,
                day: None,
            }),
            [_, m] => number(m, 12).map(|_| Birth {
                from: y,
                to: y,
                day: None,
            }),
            [_, m, d] => Some(Birth {
                from: y,
                to: y,
                day: Some((number(m, 12)?, number(d, 31)?)),
            }),
            _ => None,
        }
    }

    /// Years between the two spans (0 when they overlap).
    fn distance(&self, other: &Birth) -> i32 {
        (other.from - self.to).max(self.from - other.to).max(0)
    }
}

fn year(text: &str) -> Option<i32> {
    let t = text.trim();
    (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

/// A place or nationality, normalised for comparison and counting.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub(crate) tokens: Vec<Token>,
    /// The skeletons of its words joined: the same for a place written in
    /// either script or in another spelling (the key values are counted by).
    pub(crate) key: String,
}

impl Value {
    pub(crate) fn new(text: &str) -> Option<Value> {
        let tokens = tokens(text);
        let key: String = tokens.iter().map(|t| t.skeleton.as_str()).collect();
        let key = if key.is_empty() {
            tokens.iter().map(|t| t.text.as_str()).collect()
        } else {
            key
        };
        (!key.is_empty()).then_some(Value { tokens, key })
    }
}

/// The parsed fields of a record or a query.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    sex: Option<bool>,
    birth: Option<Birth>,
    /// The place and nationality: a registered record's share the copy in
    /// the matcher's table of values (see `Matcher::add`), as thousands of
    /// records give each (a copy per record was a sixth of the index at a
    /// million records).
    pub(crate) place: Option<Arc<Value>>,
    pub(crate) nationality: Option<Arc<Value>>,
    /// The parents' names: a registered record's share the copy in the
    /// matcher's table of parents' names (see `Matcher::add`).
    father: Arc<[Token]>,
    mother: Arc<[Token]>,
}

/// The skeleton (else the spelling) of a name's first word that is not a
/// particle.
fn first_word_key(name: &[Token]) -> Option<&str> {
    let t = name.iter().find(|t| !t.particle)?;
    Some(if t.skeleton.is_empty() { &t.text } else { &t.skeleton })
}

impl Facts {
    /// Parses what can be parsed; an unreadable field counts as missing.
    pub(crate) fn new(d: &Details) -> Facts {
        fn text(f: &Option<String>) -> Option<&str> {
            f.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        Facts {
            sex: text(&d.sex).and_then(|s| match s.to_lowercase().as_str() {
                "f" | "female" | "woman" | "زن" | "مونث" => Some(true),
                "m" | "male" | "man" | "مرد" | "مذکر" => Some(false),
                _ => None,
            }),
            birth: text(&d.birth_date).and_then(Birth::parse),
            place: text(&d.birth_place).and_then(Value::new).map(Arc::new),
            nationality: text(&d.nationality).and_then(Value::new).map(Arc::new),
            father: text(&d.father_name).map(tokens).unwrap_or_default().into(),
            mother: text(&d.mother_name).map(tokens).unwrap_or_default().into(),
        }
    }

    /// The first word of the father's name (its skeleton), the part that
    /// tells fathers apart: the family name mostly repeats the person's own.
    pub(crate) fn father_key(&self) -> Option<&str> {
        first_word_key(&self.father)
    }

    /// … and of the mother's name.
    pub(crate) fn mother_key(&self) -> Option<&str> {
        first_word_key(&self.mother)
    }

    /// The place and the nationality, when given.
    #[cfg(test)]
    pub(crate) fn values(&self) -> [Option<&Value>; 2] {
        [self.place.as_deref(), self.nationality.as_deref()]
    }

    /// The place and the nationality, to be replaced by shared copies.
    pub(crate) fn values_mut(&mut self) -> [&mut Option<Arc<Value>>; 2] {
        [&mut self.place, &mut self.nationality]
    }

    /// The father's and the mother's name (empty when not given), to be
    /// replaced by shared copies.
    pub(crate) fn parents_mut(&mut self) -> [&mut Arc<[Token]>; 2] {
        [&mut self.father, &mut self.mother]
    }

    /// The father's and the mother's name (empty when not given).
    pub(crate) fn parents(&self) -> [&[Token]; 2] {
        [&self.father, &self.mother]
    }

    /// What [`nearness`] compares of these fields.
    pub(crate) fn near(&self) -> Near {
        Near {
            sex: self.sex,
            birth: self.birth,
        }
    }

    /// The birth year (the middle of a range), when known.
    pub(crate) fn birth_year(&self) -> Option<i32> {
        self.birth.map(|b| b.from + (b.to - b.from) / 2)
    }

    /// True when nothing is known besides names.
    pub(crate) fn is_empty(&self) -> bool {
        self.sex.is_none()
            && self.birth.is_none()
            && self.place.is_none()
            && self.nationality.is_none()
            && self.father.is_empty()
            && self.mother.is_empty()
    }
}

/// The level two records reach on each field; `None` when either side
/// lacks it. (A search and deduplication find the same levels from
/// numbers, without reading the records: `Matcher::cheap_levels` and
/// `Matcher::parent_levels`.)
pub(crate) fn compare(a: &Facts, b: &Facts) -> [Option<u8>; 6] {
    let name = |x: &[Token], y: &[Token]| (!x.is_empty() && !y.is_empty()).then(|| similarity_level(x, y));
    let father = name(&a.father, &b.father);
    let mother = name(&a.mother, &b.mother);
    let [sex, birth] = near_levels(a.near(), b.near());
    let value = |x: &Option<Arc<Value>>, y: &Option<Arc<Value>>| match (x, y) {
        (Some(x), Some(y)) if x.key == y.key => Some(0),
        (Some(x), Some(y)) => Some(similarity_level(&x.tokens, &y.tokens)),
        _ => None,
    };
    let place = value(&a.place, &b.place);
    let nationality = value(&a.nationality, &b.nationality);
    [sex, birth, place, nationality, father, mother]
}

/// The levels of the sex and birth-date comparisons (as in [`compare`]).
pub(crate) fn near_levels(a: Near, b: Near) -> [Option<u8>; 2] {
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) => Some(u8::from(x != y)),
        _ => None,
    };
    let birth = match (a.birth, b.birth) {
        (Some(x), Some(y)) => Some(match x.distance(&y) {
            0 if x.day.is_some() && x.day == y.day => 0,
            0 => 1,
            1 => 2,
            2 | 3 => 3,
            4 | 5 => 4,
            _ => 5,
        }),
        _ => None,
    };
    [sex, birth]
}

/// The fields [`nearness`] compares, copied out of [`Facts`] so that a
/// search ranking tens of thousands of blocked records reads a few bytes of
/// each, not their whole fields.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Near {
    sex: Option<bool>,
    birth: Option<Birth>,
}

/// How far a record's cheapest fields stand from the query's, for choosing
/// which of too many blocked records to score: the years between the birth
/// dates (5 when either is unknown, at most 10), plus 5 when the sexes
/// differ. Lower is nearer. A rough order only: the record's weight is
/// computed from every field once it is scored.
pub(crate) fn nearness(a: Near, b: Near) -> u8 {
    let years = match (a.birth, b.birth) {
        (Some(x), Some(y)) => x.distance(&y).clamp(0, 10) as u8,
        _ => 5,
    };
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) if x != y => 5,
        _ => 0,
    };
    years + sex
}

/// Same (0), close (1) or different (2), by name similarity taken both ways
/// (a father's name given as one word meets the registered full name).
pub(crate) fn similarity_level(a: &[Token], b: &[Token]) -> u8 {
    level_of(crate::name_similarity(a, b).max(crate::name_similarity(b, a)))
}

/// The level of [`similarity_level`] from the higher of the two
/// similarities.
pub(crate) fn level_of(s: f64) -> u8 {
    if s >= 0.95 {
        0
    } else if s >= 0.85 {
        1
    } else {
        2
    }
}

/// Probabilities per field and level (`m` or `u`), in the order of
/// [`FIELDS`] and [`Field::levels`].
pub type Table = [[f64; LEVELS]; 6];

/// `m`: the chance of each level when the two records are the same person,
/// counted over the labelled pairs (each query beside the person it is for)
/// of the record-level set built from the `*.fit` name files by `match-fit
/// fit`; rerun it when comparisons change.
pub const DEFAULT_M: Table = [
    [0.9900, 0.0100, 0.0000, 0.0000, 0.0000, 0.0000],
    [0.1506, 0.4445, 0.2050, 0.1156, 0.0655, 0.0188],
    [0.7950, 0.0342, 0.1708, 0.0000, 0.0000, 0.0000],
    [0.9569, 0.0002, 0.0429, 0.0000, 0.0000, 0.0000],
    [0.8879, 0.0478, 0.0643, 0.0000, 0.0000, 0.0000],
    [0.8723, 0.0356, 0.0922, 0.0000, 0.0000, 0.0000],
];

/// `u` for a registry too small to draw pairs from, and the weak prior the
/// drawn pairs are blended with (worth 50 pairs, so ten records do not
/// decide the weights alone): half the people of each sex, births spread
/// over seventy years, few places and parents' names in common. In a
/// registry of thousands the drawn pairs outweigh it.
pub const PRIOR_U: Table = [
    [0.5, 0.5, 0.0, 0.0, 0.0, 0.0],
    [0.0005, 0.014, 0.028, 0.055, 0.05, 0.85],
    [0.05, 0.02, 0.93, 0.0, 0.0, 0.0],
    [0.3, 0.02, 0.68, 0.0, 0.0, 0.0],
    [0.02, 0.03, 0.95, 0.0, 0.0, 0.0],
    [0.02, 0.03, 0.95, 0.0, 0.0, 0.0],
];

/// Pseudo-pairs of [`PRIOR_U`] blended into the counts of drawn pairs.
const PRIOR_PAIRS: f64 = 50.0;

/// Counts of levels over pairs, turned into `u`.
#[derive(Debug, Clone, Default)]
pub(crate) struct LevelCounts([[f64; LEVELS]; 6]);

impl LevelCounts {
    pub(crate) fn add(&mut self, levels: &[Option<u8>; 6]) {
        for (f, l) in levels.iter().enumerate() {
            if let Some(l) = l {
                self.0[f][*l as usize] += 1.0;
            }
        }
    }

    /// `u` per field and level: the drawn pairs blended with [`PRIOR_U`].
    pub(crate) fn u(&self) -> Table {
        let mut u = PRIOR_U;
        for (f, field) in FIELDS.iter().enumerate() {
            let n: f64 = self.0[f].iter().sum();
            for l in 0..field.levels().len() {
                u[f][l] = (self.0[f][l] + PRIOR_PAIRS * PRIOR_U[f][l]) / (n + PRIOR_PAIRS);
            }
        }
        u
    }
}

/// The smallest probability a level is given, so that no single field can
/// rule a candidate out for ever (a wrongly recorded sex happens).
const FLOOR: f64 = 0.002;

/// The weight of one level: `log2(m / u)`.
pub(crate) fn weight(m: f64, u: f64) -> f64 {
    (m.max(FLOOR) / u.max(FLOOR * 0.01)).log2()
}

/// How the names' probability, the fields' weights and the number of
/// namesakes make the probability returned: `log2 odds = A·log2
/// odds(names) + B·agreement + B'·disagreement + C + D·log2(1 +
/// namesakes)`, where `agreement` sums the positive field weights and
/// `disagreement` the negative ones (in bits). The names' calibration was
/// fitted on name lists where every name is someone else; in a registry
/// many people share a name, and a name shared by many proves less (the
/// term frequency of the name): `A`, `C` and `D` correct for that. `B` and
/// `B'` say how far agreeing and disagreeing fields count: fields that are
/// not quite independent agree together by chance more often than their
/// weights say, while one firm disagreement (a birth twenty years apart)
/// tells two namesakes apart. Fitted by logistic regression on the
/// record-level set built from the `*.fit` name files (`match-fit fit`).
pub const COMBINE: [f64; 5] = [0.9112, 0.8610, 0.9210, 1.8847, -0.9112];

// The search leaves candidates out by an upper bound that holds only if
// the probability never falls with more evidence for a match.
const _: () = assert!(COMBINE[0] > 0.0 && COMBINE[1] > 0.0 && COMBINE[2] >= 0.0);

/// The probability of a candidate from its names' probability, the sums of
/// its agreeing (≥ 0) and disagreeing (≤ 0) fields' weights in bits, and
/// its number of namesakes (see [`COMBINE`]). Never falls as `names` or
/// `agreement` grow, nor as `disagreement` nears 0.
pub fn combine(names: f64, agreement: f64, disagreement: f64, namesakes: u32) -> f64 {
    combine_with(&COMBINE, names, agreement, disagreement, namesakes)
}

/// [`combine`] with other coefficients (in the order of [`COMBINE`]), as
/// deduplication fits its own (`crate::dedupe::COMBINE`).
pub fn combine_with(coefficients: &[f64; 5], names: f64, agreement: f64, disagreement: f64, namesakes: u32) -> f64 {
    let [a, b, b2, c, d] = *coefficients;
    let logit = a * log2_odds(names) + b * agreement + b2 * disagreement + c + d * (f64::from(namesakes) + 1.0).log2();
    1.0 / (1.0 + (-logit).exp2())
}

/// `log2(p / (1 - p))`, kept finite.
pub fn log2_odds(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).log2()
}

/// One field's contribution to a candidate's probability.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWeight {
    /// The field.
    pub field: Field,
    /// The level reached (one of [`Field::levels`]).
    pub level: &'static str,
    /// The weight, in bits: `log2(m / u)`; +1 doubles the odds of a match.
    pub weight: f64,
}

/// One candidate pair as EM sees it: the names' probability and the levels.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Probability of a match before the fields are weighed (the prior:
    /// [`combine`] of the names' probability and no weight).
    pub prior: f64,
    /// The level of each field, `None` when missing on either side.
    pub levels: [Option<u8>; 6],
    /// The `u` of each present level for this pair (term frequencies make
    /// it differ from pair to pair).
    pub u: [f64; 6],
}

/// Estimates `m` by expectation–maximisation over candidate pairs, `u`
/// held fixed (from the registry), starting from `start`: each round gives
/// every pair the probability of being a match from its prior and the
/// current weights (scaled as [`combine`] scales them, so the model
/// estimated is the one that gives the probabilities), then sets `m` to the
/// share of each level among the pairs so weighted. Levels are smoothed by half a pair, so an unseen
/// level keeps a small chance.
pub fn estimate_m(pairs: &[Pair], start: &Table, rounds: usize) -> Table {
    let mut m = *start;
    for _ in 0..rounds {
        let mut counts = [[0.5f64; LEVELS]; 6];
        for p in pairs {
            let mut logit = log2_odds(p.prior);
            for (f, l) in p.levels.iter().enumerate() {
                if let Some(l) = l {
                    // Weighed as the probabilities returned weigh them.
                    let w = weight(m[f][*l as usize], p.u[f]);
                    logit += if w > 0.0 { COMBINE[1] } else { COMBINE[2] } * w;
                }
            }
            let g = 1.0 / (1.0 + (-logit).exp2());
            for (f, l) in p.levels.iter().enumerate() {
                if let Some(l) = l {
                    counts[f][*l as usize] += g;
                }
            }
        }
        for (f, field) in FIELDS.iter().enumerate() {
            let n = field.levels().len();
            let total: f64 = counts[f][..n].iter().sum();
            for l in 0..n {
                m[f][l] = counts[f][l] / total;
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sex: &str, birth: &str, place: &str, father: &str) -> Facts {
        let s = |t: &str| (!t.is_empty()).then(|| t.to_string());
        Facts::new(&Details {
            sex: s(sex),
            birth_date: s(birth),
            birth_place: s(place),
            father_name: s(father),
            ..Details::default()
        })
    }

    #[test]
    fn birth_dates_compare_by_their_precision() {
        let level = |a: &str, b: &str| compare(&facts("", a, "", ""), &facts("", b, "", ""))[1];
        assert_eq!(level("1975-03-02", "1975-03-02"), Some(0));
        assert_eq!(level("1975-03-02", "1975"), Some(1), "a year only is no worse");
        assert_eq!(level("1975-03-02", "1975-04-02"), Some(1));
        assert_eq!(level("1975", "1976"), Some(2));
        assert_eq!(level("1975", "1972"), Some(3));
        assert_eq!(
            level("1970..1974", "1975"),
            Some(2),
            "a range counts from its nearer end"
        );
        assert_eq!(level("1970..1980", "1975"), Some(1));
        assert_eq!(level("1975", "1980"), Some(4));
        assert_eq!(level("1975", "1990"), Some(5));
        assert_eq!(level("1975", ""), None, "missing is no evidence");
        assert_eq!(level("19x5", "1975"), None, "unreadable counts as missing");
        assert_eq!(level("۱۹۷۵", "1976"), Some(2), "Persian digits");
    }

    #[test]
    fn places_and_parents_compare_across_scripts() {
        let l = compare(
            &facts("f", "", "مشهد", "محمد"),
            &facts("F", "", "Mashhad", "Mohammad Karimi"),
        );
        assert_eq!(l[0], Some(0));
        assert_eq!(l[2], Some(0), "the same place in two scripts");
        assert_eq!(l[4], Some(0), "a one-word father's name meets the full name");
        let l = compare(&facts("m", "", "Tabriz", "Ali"), &facts("f", "", "Shiraz", "Hassan"));
        assert_eq!((l[0], l[2], l[4]), (Some(1), Some(2), Some(2)));
    }

    #[test]
    fn weights_speak_for_agreement_and_against_disagreement() {
        let u = LevelCounts::default().u();
        for (f, field) in FIELDS.iter().enumerate() {
            let n = field.levels().len();
            assert!(weight(DEFAULT_M[f][0], u[f][0]) > 0.0, "{field:?} agreement");
            assert!(weight(DEFAULT_M[f][n - 1], u[f][n - 1]) < 0.0, "{field:?} disagreement");
        }
    }

    #[test]
    fn the_probability_never_falls_with_more_evidence_for() {
        // The search leaves out candidates by an upper bound that relies on
        // this.
        assert!(combine(0.5, 3.0, -1.0, 0) > combine(0.4, 3.0, -1.0, 0));
        assert!(combine(0.5, 3.0, -1.0, 0) > combine(0.5, 2.0, -1.0, 0));
        assert!(combine(0.5, 3.0, -1.0, 0) > combine(0.5, 3.0, -2.0, 0));
    }

    #[test]
    fn em_recovers_m_from_pairs() {
        // Matches (prior 0.99) agree on sex 95 % of the time, non-matches
        // (prior 0.01) half the time; EM starting from a poor guess gets
        // close to 0.95.
        let mut pairs = Vec::new();
        for i in 0..2000 {
            let matched = i % 2 == 0;
            let agree = if matched { i % 40 != 0 } else { i % 4 < 2 };
            pairs.push(Pair {
                prior: if matched { 0.99 } else { 0.01 },
                levels: [Some(u8::from(!agree)), None, None, None, None, None],
                u: [0.5; 6],
            });
        }
        let mut start = DEFAULT_M;
        start[0] = [0.6, 0.4, 0.0, 0.0, 0.0, 0.0];
        let m = estimate_m(&pairs, &start, 30);
        assert!((m[0][0] - 0.95).abs() < 0.03, "{:?}", m[0]);
    }
}
