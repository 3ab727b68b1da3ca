//! Deduplication: clusters of records that are likely one person.
//!
//! A pass of its own, not one search per record: in a registry of
//! millions a search costs milliseconds, and a search per record would
//! take hours. Every record gives **block keys** (`block_keys`): for
//! each two words of a name, a key per pair of their forms (skeleton,
//! skeleton with one consonant dropped, dictionary group; not two dropped
//! forms), so two names meet whatever their script, word order or a typo
//! in either word; the whole name joined (compounds); and each word alone,
//! which pairs a one-word name with the longer names holding its word. A
//! small block (up to 30 members, `SMALL_BLOCK`) pairs every two of its
//! members. In a large one a record is paired only if the block is among
//! its 4 smallest (`LEADS`), and then with its nearest born within 5
//! years (`YEARS`), with those whose father has the same first name, and,
//! knowing neither, with those born in the same place (`Block::pair`).
//! Each pair is scored once, both ways, as a search would score it: the
//! names' probability from their score and its margin over the record's
//! other proposed candidates, the other fields' weights, the number of
//! namesakes ([`Evidence`]), combined by coefficients fitted for this pass
//! ([`COMBINE`]).
//!
//! Pairs from [`LINK`] join clusters, strongest first, by average linkage:
//! two clusters merge only when the mean probability over all pairs between
//! them (a pair never proposed counts as 0) reaches [`LINK`] too. A chain
//! of resemblances (A like B, B like C, A unlike C), which one very common
//! name produces in any large registry, therefore does not make one
//! cluster; no cluster grows past [`MAX_CLUSTER`]. Pairs between
//! [`REVIEW`] and [`LINK`], and links refused by those guards, are listed
//! for a person to review rather than decided.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::{
    calibrate, dropped_keys, fields, fnv, joined_skeleton, own_keys, Matcher, NameMemo, Token, ValueNumbers, WordMemo,
    FNV_OFFSET, NAMESAKE,
};

/// The probability from which a pair links two records.
pub const LINK: f64 = 0.5;

/// The probability from which an unlinked pair is listed for review.
pub const REVIEW: f64 = 0.2;

/// The second stage's coefficients for deduplication (in the order of
/// [`fields::COMBINE`]): a pair's evidence is not a search's (its
/// candidates are those the blocks gave, not every record sharing a key),
/// so it has its own, fitted by logistic regression on second
/// registrations made up from the `*.fit` name files (`match-fit
/// fit-dedupe`).
pub const COMBINE: [f64; 5] = [1.1041, 0.6612, 1.1240, 4.1210, -1.2166];

// A pair is left out by an upper bound (its fields at their most) that
// holds only if the probability never falls with more evidence for a match.
const _: () = assert!(COMBINE[0] > 0.0 && COMBINE[1] > 0.0 && COMBINE[2] >= 0.0);

/// The most records one cluster may gather.
pub const MAX_CLUSTER: usize = 20;

/// Birth years apart within which two members of a block are paired: the
/// widest level of the birth-date comparison.
const YEARS: u64 = 5;

/// The most members of one block a record is paired with on each side of
/// it in birth order (the nearest born first).
const NEIGHBOURS: usize = 20;

/// In how many of its large blocks (the smallest) a record is paired.
const LEADS: usize = 4;

/// How many of the records sharing one word with a longer name it is
/// paired with: not to find it, but so that its best candidate's margin
/// over the next is measured against partial matches too, as a search's is.
const SAMPLE: usize = 3;

/// Blocks up to this size pair every two of their members.
const SMALL_BLOCK: usize = 30;

/// The most words of one name paired with each other for block keys.
const PAIRED_WORDS: usize = 5;

/// Marks the keys of single words: they pair a one-word name with the
/// names that contain its word, never two longer names with each other.
const WORD: u64 = 1 << 63;

/// A member's birth year when unknown (sorts last).
const UNKNOWN: u64 = (1 << 14) - 1;

/// One record in a block, packed so that sorting a block's entries orders
/// it by birth year, then by father's name: the year (14 bits, [`UNKNOWN`]
/// when unknown), a hash of the father's first name (17 bits, 0 when
/// unknown), whether the name is a single word (1 bit), the slot (32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Member(u64);

impl Member {
    const FATHER: u64 = (1 << 17) - 1;

    fn new(facts: &fields::Facts, single: bool, slot: u32) -> Member {
        Member::pack(facts.birth_year(), facts.father_key(), single, slot)
    }

    fn pack(year: Option<i32>, father: Option<&str>, single: bool, slot: u32) -> Member {
        let year = year.map_or(UNKNOWN, |y| (y.clamp(0, 9999) + 1) as u64);
        let father = father.map_or(0, |f| key_hash(b'F', &[f]) % Self::FATHER + 1);
        Member(year << 50 | father << 33 | u64::from(single) << 32 | u64::from(slot))
    }

    fn year(self) -> u64 {
        self.0 >> 50
    }

    fn father(self) -> u64 {
        self.0 >> 33 & Self::FATHER
    }

    fn single(self) -> bool {
        self.0 >> 32 & 1 == 1
    }

    fn slot(self) -> u32 {
        self.0 as u32
    }
}

/// The outcome of a deduplication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Clusters of two or more records: each member with its mean
    /// probability of being the same person as the other members.
    pub clusters: Vec<Vec<(String, f64)>>,
    /// Pairs not linked that a person should look at, strongest first.
    pub review: Vec<(String, String, f64)>,
}

/// Clusters the matcher's records, using up to `threads` threads.
pub fn dedupe(m: &Matcher, threads: usize) -> Outcome {
    let found = proposed_evidence(m, threads, |e| e.probability() >= REVIEW);
    let ids: Vec<&str> = (0..m.facts.len() as u32).map(|slot| m.ids.get(slot)).collect();
    cluster(&ids, found.into_iter().map(|(a, b, e)| (a, b, e.probability())))
}

/// 64-bit FNV-1a over a tag and some parts, a separator between them that
/// UTF-8 never contains.
fn key_hash(tag: u8, parts: &[&str]) -> u64 {
    let mut h = fnv(FNV_OFFSET, u64::from(tag));
    for p in parts {
        h = p.bytes().fold(fnv(h, 0xFF), |h, b| fnv(h, u64::from(b)));
    }
    h
}

/// The block keys of one record, each once, with whether the record's
/// name is a single word there (see [`WORD`]). A word's keys are those the
/// search's index gives it (skeleton, the skeleton with one consonant
/// dropped, dictionary groups): two names meet in a pair's block when
/// each of two words meets, whatever the order of the words, except
/// through two forms with a consonant dropped. Those pairs of keys (a typo
/// in each of two words) are many (two words of five consonants have 25),
/// and they proposed pairs that were not the same person: without them
/// deduplication at 1,100,000 took 6 to 9 % less time and 100 MB less
/// memory at its peak, with the same pairwise precision and recall to the
/// third decimal (at 110,000 too).
fn block_keys<'a>(names: impl IntoIterator<Item = &'a [Token]>) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    // A word's keys, each with whether it is only a dropped form.
    let keys = |t: &Token| -> Vec<(String, bool)> {
        let (mut own, mut dropped) = (HashSet::new(), HashSet::new());
        own_keys(t, &mut own);
        dropped_keys(t, &mut dropped);
        let only_dropped: Vec<(String, bool)> = dropped
            .into_iter()
            .filter(|k| !own.contains(k))
            .map(|k| (k, true))
            .collect();
        own.into_iter().map(|k| (k, false)).chain(only_dropped).collect()
    };
    for name in names {
        let joined = joined_skeleton(name);
        if !joined.is_empty() {
            out.push((key_hash(b'J', &[&joined]) & !WORD, false));
        }
        let words: Vec<Vec<(String, bool)>> = name
            .iter()
            .filter(|t| !t.particle)
            .take(PAIRED_WORDS)
            .map(keys)
            .collect();
        let single = words.len() == 1;
        for w in &words {
            out.extend(w.iter().map(|(k, _)| (key_hash(b'W', &[k]) | WORD, single)));
        }
        for (i, x) in words.iter().enumerate() {
            for y in &words[i + 1..] {
                for ((a, a_dropped), (b, b_dropped)) in x.iter().flat_map(|a| y.iter().map(move |b| (a, b))) {
                    if *a_dropped && *b_dropped {
                        continue;
                    }
                    let (a, b) = if a <= b { (a, b) } else { (b, a) };
                    out.push((key_hash(b'P', &[a, b]) & !WORD, false));
                }
            }
        }
    }
    // A key once, as a single word's if it is one anywhere.
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    out.dedup_by_key(|k| k.0);
    out
}

/// The pairs of slots the blocks propose, each once (`a << 32 | b`, a < b),
/// sorted.
fn proposed_pairs(m: &Matcher, threads: usize) -> Vec<u64> {
    let live: Vec<u32> = (0..m.facts.len() as u32).filter(|i| m.alive[*i as usize]).collect();
    // A hash of each record's birth place (0 when unknown).
    let place: Vec<u32> = m
        .facts
        .iter()
        .map(|f| {
            f.place
                .as_ref()
                .map_or(0, |p| (key_hash(b'L', &[&p.key]) as u32).max(1))
        })
        .collect();
    let place = &place;
    // Block entries, a shard of the keys per thread, sorted: a block is a
    // run of entries with one key. Each thread reads every record and keeps
    // its shard's keys, so no entries are handed between threads.
    let live = &live;
    let shards: Vec<Vec<(u64, Member)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|shard| {
                scope.spawn(move || {
                    let mut entries = Vec::new();
                    for &slot in live {
                        let facts = &m.facts[slot as usize];
                        for (key, single) in block_keys(m.names_of(slot)) {
                            if key % threads as u64 == shard {
                                entries.push((key, Member::new(facts, single, slot)));
                            }
                        }
                    }
                    entries.sort_unstable();
                    entries
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let lead = leading_blocks(m.facts.len(), &shards);
    let lead = &lead;
    let found: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .into_iter()
            .map(|entries| scope.spawn(move || shard_pairs(entries, place, lead)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let total = found.iter().map(Vec::len).sum::<usize>();
    let mut found = found.into_iter();
    let mut pairs = found.next().unwrap_or_default();
    pairs.reserve_exact(total - pairs.len());
    for more in found {
        pairs.extend_from_slice(&more);
    }
    pairs.sort_unstable();
    pairs.dedup();
    // What the repeats held goes back before the next stage's arrays come.
    pairs.shrink_to_fit();
    pairs
}

/// The pairs one shard's blocks propose (see [`proposed_pairs`]), each
/// once, sorted. Its entries are consumed as it goes: the blocks are
/// paired from the last, and the entries behind them are given back as the
/// pairs grow (at a million records the entries and the pairs together
/// were the pass's peak of memory).
fn shard_pairs(mut entries: Vec<(u64, Member)>, place: &[u32], lead: &[u32]) -> Vec<u64> {
    let mut pairs: Vec<u64> = Vec::new();
    let mut end = entries.len();
    while end > 0 {
        let key = entries[end - 1].0;
        let mut start = end - 1;
        while start > 0 && entries[start - 1].0 == key {
            start -= 1;
        }
        let block = Block {
            run: &entries[start..end],
            word: key & WORD != 0,
            place,
            lead,
        };
        block.pair(&mut |a, b| {
            let (a, b) = (a.min(b), a.max(b));
            // A pair comes from each key its two records share: dropping
            // repeats before the list grows keeps it near the distinct
            // pairs, and it grows by a quarter, not twice as large, as a
            // list twice as large as its pairs was most of the peak.
            if pairs.len() == pairs.capacity() && pairs.len() >= 1 << 16 {
                pairs.sort_unstable();
                pairs.dedup();
                if pairs.len() > pairs.capacity() / 4 * 3 {
                    pairs.reserve_exact(pairs.capacity() / 4 + pairs.capacity() - pairs.len());
                }
            }
            pairs.push(u64::from(a) << 32 | u64::from(b));
        });
        end = start;
        let behind = entries.capacity() - end;
        if behind >= 1 << 16 && behind >= entries.capacity() / 8 {
            entries.truncate(end);
            entries.shrink_to_fit();
        }
    }
    drop(entries);
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// For each slot, the size of the largest large block (more than
/// [`SMALL_BLOCK`] members) in which the record leads: its [`LEADS`]
/// smallest large blocks (0 when it is in none). A record's larger blocks
/// hold what its smaller ones do and more of everyone else; pairing it in
/// every one of them would cost most of the pass and find little more.
fn leading_blocks(slots: usize, shards: &[Vec<(u64, Member)>]) -> Vec<u32> {
    // Per slot its LEADS smallest large blocks so far, ascending, and how
    // many it has (a list of every slot's blocks would be, at a million
    // records, the pass's largest array).
    let mut smallest = vec![([u32::MAX; LEADS], 0u8); slots];
    for run in shards
        .iter()
        .flat_map(|entries| entries.chunk_by(|a, b| a.0 == b.0))
        .filter(|run| run.len() > SMALL_BLOCK)
    {
        let size = run.len() as u32;
        for e in run {
            let (sizes, count) = &mut smallest[e.1.slot() as usize];
            let at = sizes.partition_point(|s| *s <= size);
            if at < LEADS {
                sizes.copy_within(at..LEADS - 1, at + 1);
                sizes[at] = size;
            }
            *count = count.saturating_add(1);
        }
    }
    smallest
        .iter()
        .map(|(sizes, count)| match usize::from(*count).min(LEADS) {
            0 => 0,
            n => sizes[n - 1],
        })
        .collect()
}

/// One block: its entries (sorted by birth year, unknown last, then by
/// father's name; see [`Member`]), whether it is a single word's (see
/// [`WORD`]), each slot's birth place and [`leading_blocks`].
struct Block<'a> {
    run: &'a [(u64, Member)],
    word: bool,
    place: &'a [u32],
    lead: &'a [u32],
}

impl Block<'_> {
    /// Pairs the members. A small block pairs all its members, whatever
    /// their birth years (a year off by ten is for the scoring to weigh).
    /// In a large one a member that leads there ([`leading_blocks`]) is
    /// paired with its nearest born within [`YEARS`], at most
    /// [`NEIGHBOURS`] on each side, and with up to as many of those whose
    /// father's first name is the same (the way in for a member of unknown
    /// birth year), or, knowing neither, born in the same place. In a
    /// large block of one word (a common given or family name) a one-word
    /// name is paired with its nearest born, a longer name with [`SAMPLE`]
    /// others.
    fn pair(&self, emit: &mut impl FnMut(u32, u32)) {
        let run = self.run;
        let member = |i: usize| run[i].1;
        let n = run.len();
        if n <= SMALL_BLOCK {
            for i in 0..n {
                for j in i + 1..n {
                    emit(member(i).slot(), member(j).slot());
                }
            }
            return;
        }
        let known = run.partition_point(|e| e.1.year() != UNKNOWN);
        let mut near = |i: usize, others: &mut dyn Iterator<Item = usize>, most: usize| {
            for j in others.take(most) {
                if member(i).year().abs_diff(member(j).year()) > YEARS {
                    break;
                }
                emit(member(i).slot(), member(j).slot());
            }
        };
        let leads = |m: Member| n as u32 <= self.lead[m.slot() as usize];
        for i in 0..known {
            match (self.word, member(i).single()) {
                (true, false) => near(i, &mut (i + 1..known), SAMPLE),
                (false, _) if !leads(member(i)) => {}
                _ => {
                    near(i, &mut (i + 1..known), NEIGHBOURS);
                    near(i, &mut (0..i).rev(), NEIGHBOURS);
                }
            }
        }
        if self.word {
            return;
        }
        // Those with the same father's first name; knowing neither birth
        // year nor father, those born in the same place.
        type Key<'k> = &'k dyn Fn(Member) -> u32;
        let companions = |key: Key, starts: &dyn Fn(Member) -> bool, emit: &mut dyn FnMut(u32, u32)| {
            let mut by: Vec<(u32, Member)> = run.iter().map(|e| (key(e.1), e.1)).filter(|(k, _)| *k != 0).collect();
            by.sort_unstable();
            for same in by.chunk_by(|a, b| a.0 == b.0) {
                for (i, (_, a)) in same.iter().enumerate().filter(|(_, (_, a))| starts(*a)) {
                    for (_, b) in &same[i.saturating_sub(NEIGHBOURS)..(i + 1 + NEIGHBOURS).min(same.len())] {
                        if b != a {
                            emit(a.slot(), b.slot());
                        }
                    }
                }
            }
        };
        companions(&|m| m.father() as u32, &leads, emit);
        companions(
            &|m| self.place[m.slot() as usize],
            &|m| leads(m) && m.year() == UNKNOWN && m.father() == 0,
            emit,
        );
    }
}

/// What one proposed pair's probability is computed from: the evidence of
/// a search for one of the records that met the other, taken in the
/// direction in which the names' probability is higher.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The names' calibrated probability ([`crate::calibrate`]) from their
    /// score and its margin over the record's other proposed candidates.
    pub names: f64,
    /// The weight of the fields that agree, in bits (≥ 0).
    pub agreement: f64,
    /// The weight of the fields that disagree, in bits (≤ 0).
    pub disagreement: f64,
    /// How many of the record's other proposed candidates' names match
    /// as well (within 0.02).
    pub namesakes: u32,
}

impl Evidence {
    /// The probability that the pair is one person ([`COMBINE`]).
    pub fn probability(&self) -> f64 {
        fields::combine_with(&COMBINE, self.names, self.agreement, self.disagreement, self.namesakes)
    }
}

/// The pairs the blocks propose, with their evidence: for fitting
/// [`COMBINE`] (`match-fit fit-dedupe`) and for looking into a result.
pub fn proposals(m: &Matcher, threads: usize) -> Vec<(&str, &str, Evidence)> {
    let id = |slot: usize| m.ids.get(slot as u32);
    proposed_evidence(m, threads, |_| true)
        .into_iter()
        .map(|(a, b, e)| (id(a), id(b), e))
        .collect()
}

/// The pairs the blocks propose, scored ([`evidence`]), on up to `threads`
/// threads.
fn proposed_evidence(
    m: &Matcher,
    threads: usize,
    keep: impl Fn(&Evidence) -> bool + Sync,
) -> Vec<(usize, usize, Evidence)> {
    let threads = threads.max(1);
    // Draw u once before the threads share the matcher.
    let _ = m.u();
    evidence(m, proposed_pairs(m, threads), threads, keep)
}

/// The evidence of each pair (`pairs` as [`proposed_pairs`] gives them)
/// that `keep` keeps, with the pair's slots. Each direction is scored as a
/// search for one record would score the other among the candidates the
/// blocks gave it.
fn evidence(
    m: &Matcher,
    pairs: Vec<u64>,
    threads: usize,
    keep: impl Fn(&Evidence) -> bool + Sync,
) -> Vec<(usize, usize, Evidence)> {
    let n = m.facts.len();
    let (start, partners) = partner_runs(n, pairs);
    let (start, partners) = (&start, &partners);
    let of = |q: usize| &partners[start[q]..start[q + 1]];
    let scores = name_scores(m, start, partners, threads);
    let scores = &scores;
    // For margins and namesakes, as `Matcher::scored_parsed` has them: each
    // record's two best scores, and for each of its partners how many others
    // score within `NAMESAKE` of it (from the record's scores sorted, one
    // record at a time: a sorted copy of them all would double the pass's
    // largest array).
    let best_two: Vec<(f32, f32)> = each(n, threads, |q, out| {
        let (mut first, mut second) = (0.0f32, 0.0f32);
        for &s in &scores[start[q]..start[q + 1]] {
            if s > first {
                (first, second) = (s, first);
            } else if s > second {
                second = s;
            }
        }
        out.push((first, second));
    });
    let namesakes: Vec<u16> = by_record(start, threads, |q, out: &mut [u16]| {
        let own = &scores[start[q]..start[q + 1]];
        let mut ranked = own.to_vec();
        ranked.sort_unstable_by(|x, y| y.total_cmp(x));
        for (&s, count) in own.iter().zip(out) {
            let s64 = f64::from(s);
            let lo = ranked.partition_point(|x| f64::from(*x) > s64 + NAMESAKE);
            let hi = ranked.partition_point(|x| f64::from(*x) >= s64 - NAMESAKE);
            *count = u16::try_from(hi.saturating_sub(lo + 1)).unwrap_or(u16::MAX);
        }
    });
    let (best_two, namesakes) = (&best_two, &namesakes);
    // The names' probability and namesakes of record q searching, with its
    // entry `e` (a partner) the candidate.
    let direction = |q: usize, e: usize| -> (f64, u32) {
        let s = scores[e];
        let (first, second) = best_two[q];
        let s = f64::from(s);
        let margin = crate::margin(s, f64::from(first), f64::from(second));
        (calibrate(s, margin), u32::from(namesakes[e]))
    };
    // The most each record's fields could add (see `Matcher::max_weights`):
    // a pair that could not be kept even so is not compared field by field.
    let most: Vec<(f64, f64)> = each(n, threads, |i, out| {
        let w = m.max_weights(&m.facts[i]);
        out.push((w.iter().sum(), w[4] + w[5]));
    });
    let briefs = Briefs::new(m);
    let briefs = &briefs;
    spread_with(
        n,
        threads,
        RUN,
        || Stage::new(n),
        |stage, a, out| {
            let Stage {
                back,
                values,
                theirs,
                parent_words,
            } = stage;
            let mine = of(a);
            let above = mine.partition_point(|&b| (b as usize) < a);
            // First what each partner above `a` holds of the pair, read from
            // all over memory: loads that do not wait on one another, which
            // the processor overlaps, where the loop below would wait for
            // each in turn (this was most of the stage at a million).
            theirs.clear();
            for &b in &mine[above..] {
                let b = b as usize;
                let entry = start[b] + place_among(of(b), a, &mut back[b]);
                theirs.push(Side {
                    names: direction(b, entry),
                    most: most[b],
                    brief: briefs.of(b),
                });
            }
            // Fields compare the same either way, so each record's memo of
            // parents' names serves all its pairs (its partners share
            // them), whichever side the pair is weighed from.
            let asked = m.facts[a].parents();
            let mut memo = NameMemo::new(asked, parent_words);
            let own = briefs.of(a);
            for ((k, &b), other) in mine.iter().enumerate().skip(above).zip(theirs.iter()) {
                let b = b as usize;
                // Weighed from the side whose search finds the other likelier.
                let this = Side {
                    names: direction(a, start[a] + k),
                    most: most[a],
                    brief: own,
                };
                let (q, asking) = if this.names.0 >= other.names.0 {
                    (a, &this)
                } else {
                    (b, other)
                };
                let ((names, namesakes), (all, parents)) = (asking.names, asking.most);
                let mut e = Evidence {
                    names,
                    agreement: all,
                    disagreement: 0.0,
                    namesakes,
                };
                if !keep(&e) {
                    continue;
                }
                let (pos, neg) = briefs.weigh(&own, &other.brief, &asking.brief, values);
                (e.agreement, e.disagreement) = (pos + parents, neg);
                // The parents' names cost most to compare: only when they
                // could still make the pair kept.
                if !keep(&e) {
                    continue;
                }
                let parent_levels = m.parent_levels(asked, &m.slots[b], &mut memo);
                let (ppos, pneg) = m.weigh(&m.facts[q], &parent_levels);
                (e.agreement, e.disagreement) = (pos + ppos, neg + pneg);
                if keep(&e) {
                    out.push((a, b, e));
                }
            }
        },
    )
}

/// Where record `a` stands among record `b`'s partners (`run`, ascending;
/// `a` is one of them), for a thread that meets `b`'s partners below `b`
/// in ascending order (as [`spread_with`] hands records out): after one
/// search, `cursor` (`b`'s, `u32::MAX` before the first) says where to
/// look on, past the partners other threads took. (With a binary search
/// for each pair in the names' stage as well, the pass at a million
/// records took 7 % longer.)
fn place_among(run: &[u32], a: usize, cursor: &mut u32) -> usize {
    let mut place = match *cursor {
        u32::MAX => run.partition_point(|&x| (x as usize) < a),
        next => next as usize,
    };
    while run[place] as usize != a {
        place += 1;
    }
    *cursor = place as u32 + 1;
    place
}

/// Each of `n` records' partners in `pairs` (as [`proposed_pairs`] gives
/// them: sorted, each the lower slot in the high half), one run per record
/// in the order of their slots: record `q`'s run is
/// `partners[start[q]..start[q + 1]]`. The pairs are sorted, so those that
/// end at a record (partners below it) come before those that start there
/// (partners above it).
fn partner_runs(n: usize, pairs: Vec<u64>) -> (Vec<usize>, Vec<u32>) {
    let split = |p: u64| ((p >> 32) as usize, p as u32 as usize);
    let mut start = vec![0usize; n + 1];
    for &p in &pairs {
        let (a, b) = split(p);
        start[a + 1] += 1;
        start[b + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut partners = vec![0u32; start[n]];
    for &p in &pairs {
        let (a, b) = split(p);
        partners[fill[a]] = b as u32;
        fill[a] += 1;
        partners[fill[b]] = a as u32;
        fill[b] += 1;
    }
    (start, partners)
}

/// The names' score of each pair both ways, in the layout of `partners`
/// (see [`evidence`]): `scores[start[q] + k]` is what record `q`'s search
/// scores its `k`-th partner. Each pair is compared once, from its lower
/// record, both ways at once ([`NameMemo::both`]); every distinct name and
/// word that record meets among its partners above it is compared once.
fn name_scores(m: &Matcher, start: &[usize], partners: &[u32], threads: usize) -> Vec<f32> {
    let of = |q: usize| &partners[start[q]..start[q + 1]];
    // Each entry is written once, by whichever thread takes the pair's
    // lower record; atomics let two threads write into one record's run.
    let scores: Vec<AtomicU32> = (0..partners.len()).map(|_| AtomicU32::new(0)).collect();
    let n = start.len() - 1;
    let fresh = || Names {
        cursor: vec![u32::MAX; n],
        ..Names::default()
    };
    spread(n, threads, RUN, fresh, |state, a| {
        let Names {
            words,
            ids,
            starts,
            back,
            cursor,
        } = state;
        let mine = of(a);
        let above = mine.partition_point(|&b| (b as usize) < a);
        let theirs = &mine[above..];
        // The partners' names first, and where `a` stands among each
        // partner's partners (those below it come first), in a pass of
        // their own (as in `Matcher::scored_parsed`): reads from all over
        // memory that do not wait on one another.
        ids.clear();
        starts.clear();
        back.clear();
        for &b in theirs {
            starts.push(ids.len());
            ids.extend_from_slice(m.name_ids_of(b));
            let b = b as usize;
            back.push(start[b] + place_among(of(b), a, &mut cursor[b]));
        }
        starts.push(ids.len());
        let own: Vec<&[Token]> = m.names_of(a as u32).collect();
        let mut memo = NameMemo::new(own.iter().copied(), words);
        for k in 0..theirs.len() {
            let (mut forward, mut reverse) = (0.0f64, 0.0f64);
            for (qi, x) in own.iter().enumerate() {
                for &y in &ids[starts[k]..starts[k + 1]] {
                    let (f, r) = memo.both(qi, x, y, &m.names);
                    forward = forward.max(f);
                    reverse = reverse.max(r);
                }
            }
            debug_assert_eq!(partners[back[k]] as usize, a);
            scores[start[a] + above + k].store((forward as f32).to_bits(), Ordering::Relaxed);
            scores[back[k]].store((reverse as f32).to_bits(), Ordering::Relaxed);
        }
    });
    // The same size and alignment: collected in place.
    scores.into_iter().map(|s| f32::from_bits(s.into_inner())).collect()
}

/// One thread's state in [`name_scores`]: its memo of words, and the
/// current record's partners above it: their names (their numbers, and
/// where each partner's begin), and the record's entry in each one's run;
/// per record, where the next partner below it that this thread meets is
/// to be looked for in its run (`u32::MAX`: not yet looked up).
#[derive(Default)]
struct Names {
    words: WordMemo,
    ids: Vec<u32>,
    starts: Vec<usize>,
    back: Vec<usize>,
    cursor: Vec<u32>,
}

/// One thread's state in the fields stage of [`evidence`].
struct Stage {
    /// Per record, where the place of the next partner below it that this
    /// thread meets is to be looked for in its list of partners
    /// (`u32::MAX`: not yet looked up).
    back: Vec<u32>,
    /// Levels of two different birth places, and of two nationalities,
    /// already compared, by their numbers (the smaller in the high half;
    /// see [`Briefs`]).
    values: [HashMap<u64, u8, crate::BuildSlot>; 2],
    /// For the current record, what each partner above it holds of their
    /// pair: its names' probability and namesakes with the record as
    /// candidate, the most its fields could add, its [`Brief`].
    theirs: Vec<Side>,
    /// The words of the current record's parents' names compared with
    /// its partners' parents' words.
    parent_words: WordMemo,
}

/// One side of a pair as the fields stage weighs it: the names'
/// probability and namesakes of its search for the other, the most its
/// fields could add (all, and the parents' names), its [`Brief`].
#[derive(Debug, Clone, Copy)]
struct Side {
    names: (f64, u32),
    most: (f64, f64),
    brief: Brief,
}

impl Stage {
    fn new(n: usize) -> Self {
        Stage {
            back: vec![u32::MAX; n],
            values: Default::default(),
            theirs: Vec::new(),
            parent_words: WordMemo::default(),
        }
    }
}

/// What the fields stage of [`evidence`] reads first of every record, a
/// few bytes each instead of its whole fields (which a pass over tens of
/// millions of pairs would fetch from all over memory): a [`Brief`] per
/// record, with the weights of each level.
struct Briefs<'a> {
    records: Vec<Brief>,
    /// The words of the values by text number ([`crate::ValueTable`]).
    values: &'a crate::ValueTable,
    /// Per field (birth place, nationality) and key number, the weight of
    /// agreeing on that value: a common one proves less.
    agree: [Vec<f64>; 2],
    /// The weight of each field and level otherwise (the `u` drawn from
    /// random pairs).
    level: [[f64; fields::LEVELS]; 4],
}

/// One record's sex and birth date, and its birth place and nationality by
/// number, as its slot holds them.
#[derive(Debug, Clone, Copy)]
struct Brief {
    near: fields::Near,
    values: [ValueNumbers; 2],
}

/// The fields [`Briefs`] holds, in the order of [`fields::FIELDS`]: birth
/// place and nationality follow sex and birth date.
const VALUE_FIELDS: [usize; 2] = [2, 3];

impl<'a> Briefs<'a> {
    fn new(m: &'a Matcher) -> Self {
        let none = fields::Facts::default();
        let mut level = [[0.0; fields::LEVELS]; 4];
        for (f, row) in level.iter_mut().enumerate() {
            for (l, w) in row.iter_mut().enumerate().take(fields::FIELDS[f].levels().len()) {
                *w = m.level_weight(f, l, &none);
            }
        }
        // The `u` of an agreeing value is its key's, whichever record
        // holds it: weighed from the first that does.
        let keys = m.values.keys.len() + 1;
        let mut agree = [vec![f64::NAN; keys], vec![f64::NAN; keys]];
        for (slot, facts) in m.slots.iter().zip(&m.facts) {
            for (i, numbers) in slot.values.iter().enumerate() {
                let w = &mut agree[i][numbers.key as usize];
                if numbers.key != 0 && w.is_nan() {
                    *w = m.level_weight(VALUE_FIELDS[i], 0, facts);
                }
            }
        }
        Briefs {
            records: m
                .slots
                .iter()
                .map(|s| Brief {
                    near: s.near,
                    values: s.values,
                })
                .collect(),
            values: &m.values,
            agree,
            level,
        }
    }

    /// Record `slot`'s brief.
    fn of(&self, slot: usize) -> Brief {
        self.records[slot]
    }

    /// The weights of the fields of two records' briefs `a` and `b`
    /// (positive and negative apart, as [`Matcher::weigh`] gives them),
    /// weighed for `q` (one of the two). `seen` remembers the levels of
    /// values compared.
    fn weigh(&self, a: &Brief, b: &Brief, q: &Brief, seen: &mut [HashMap<u64, u8, crate::BuildSlot>; 2]) -> (f64, f64) {
        let [sex, birth] = fields::near_levels(a.near, b.near);
        let mut weights = [None; 4];
        weights[0] = sex.map(|l| self.level[0][usize::from(l)]);
        weights[1] = birth.map(|l| self.level[1][usize::from(l)]);
        for (i, f) in VALUE_FIELDS.into_iter().enumerate() {
            let (x, y) = (a.values[i], b.values[i]);
            if x.key == 0 || y.key == 0 {
                continue;
            }
            let level = if x.key == y.key {
                0
            } else {
                let (x, y) = (x.text.min(y.text), x.text.max(y.text));
                *seen[i].entry(u64::from(x) << 32 | u64::from(y)).or_insert_with(|| {
                    let words = |n: u32| self.values.words(n);
                    fields::similarity_level(words(x), words(y))
                })
            };
            weights[f] = Some(if level == 0 {
                self.agree[i][q.values[i].key as usize]
            } else {
                self.level[f][usize::from(level)]
            });
        }
        crate::split_sum(weights.into_iter().flatten())
    }
}

/// One value per entry of a CSR layout (record `i` owns
/// `start[i]..start[i + 1]`), filled in place by `f(i, its entries)` on up
/// to `threads` threads, each taking a run of whole records: no per-thread
/// copies to join, which at a million records would briefly double the
/// array.
fn by_record<T: Default + Clone + Send>(start: &[usize], threads: usize, f: impl Fn(usize, &mut [T]) + Sync) -> Vec<T> {
    let n = start.len() - 1;
    let mut out = vec![T::default(); start[n]];
    let chunk = n.div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let mut rest: &mut [T] = &mut out;
        for from in (0..n).step_by(chunk) {
            let to = (from + chunk).min(n);
            let (mine, others) = std::mem::take(&mut rest).split_at_mut(start[to] - start[from]);
            rest = others;
            scope.spawn(move || {
                let mut mine = mine;
                for i in from..to {
                    let (own, next) = std::mem::take(&mut mine).split_at_mut(start[i + 1] - start[i]);
                    f(i, own);
                    mine = next;
                }
            });
        }
    });
    out
}

/// What `f` gives for each of `0..len` (it pushes any number of results),
/// in order, on up to `threads` threads.
fn each<R: Send>(len: usize, threads: usize, f: impl Fn(usize, &mut Vec<R>) + Sync) -> Vec<R> {
    spread_with(len, threads, RUN, || (), |_, i, out| f(i, out))
}

/// `f(state, i)` for each of `0..len`, as [`spread_with`] runs it.
fn spread<S>(len: usize, threads: usize, run: usize, init: impl Fn() -> S + Sync, f: impl Fn(&mut S, usize) + Sync) {
    spread_with::<S, ()>(len, threads, run, init, |state, i, _| f(state, i));
}

/// What `f(state, i, out)` pushes for each of `0..len`, in the order of
/// `i`, on up to `threads` threads, each with a state of its own (made by
/// `init`), taking `run` ascending `i` at a time as it finishes the last:
/// work that is uneven along `0..len` (a record's pairs are scored from
/// their lower record, so the first records have the most) is shared out
/// evenly. Each thread meets its `i` in ascending order.
fn spread_with<S, R: Send>(
    len: usize,
    threads: usize,
    run: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize, &mut Vec<R>) + Sync,
) -> Vec<R> {
    let run = run.max(1);
    let next = AtomicUsize::new(0);
    let (init, f, next) = (&init, &f, &next);
    let mut runs: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(move || {
                    let (mut state, mut done) = (init(), Vec::new());
                    loop {
                        let from = next.fetch_add(run, Ordering::Relaxed);
                        if from >= len {
                            break;
                        }
                        let mut out = Vec::new();
                        for i in from..(from + run).min(len) {
                            f(&mut state, i, &mut out);
                        }
                        done.push((from, out));
                    }
                    done
                })
            })
            .collect();
        // A thread that panicked passes its panic on: its results are not
        // dropped in silence.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    runs.sort_unstable_by_key(|(from, _)| *from);
    runs.into_iter().flat_map(|(_, out)| out).collect()
}

/// Records per run of [`spread_with`]: a few thousand runs in a large
/// registry.
const RUN: usize = 1024;

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

    #[test]
    fn by_record_fills_each_record_its_own_entries_on_any_number_of_threads() {
        // Records with 2, 0, 3, 1 and 0 entries.
        let start = [0, 2, 2, 5, 6, 6];
        for threads in [1, 2, 3, 8] {
            let filled: Vec<(usize, usize)> = by_record(&start, threads, |i, own: &mut [(usize, usize)]| {
                for (k, e) in own.iter_mut().enumerate() {
                    *e = (i, k);
                }
            });
            assert_eq!(
                filled,
                [(0, 0), (0, 1), (2, 0), (2, 1), (2, 2), (3, 0)],
                "{threads} threads"
            );
        }
        assert!(by_record::<u8>(&[0], 2, |_, _| unreachable!()).is_empty());
    }

    #[test]
    fn spread_gives_each_index_once_in_ascending_runs_and_results_in_order() {
        for (len, threads, run) in [(0, 2, 4), (1, 2, 1), (10, 1, 3), (10, 3, 1), (100, 2, 7), (37, 8, 64)] {
            let met: Vec<AtomicU32> = (0..len).map(|_| AtomicU32::new(0)).collect();
            let descending = AtomicU32::new(0);
            spread(
                len,
                threads,
                run,
                || None,
                |last: &mut Option<usize>, i| {
                    met[i].fetch_add(1, Ordering::Relaxed);
                    if last.is_some_and(|l| l >= i) {
                        descending.fetch_add(1, Ordering::Relaxed);
                    }
                    *last = Some(i);
                },
            );
            assert!(
                met.iter().all(|m| m.load(Ordering::Relaxed) == 1),
                "{len} on {threads} threads by {run}"
            );
            assert_eq!(descending.into_inner(), 0, "{len} on {threads} threads by {run}");
            // Results in the order of the indices, whichever thread made
            // them (each run slowed down, so that the threads take turns).
            let pushed = spread_with(
                len,
                threads,
                run,
                || (),
                |_, i, out| {
                    if i % run == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    out.extend([i, i]);
                },
            );
            assert_eq!(pushed, (0..len).flat_map(|i| [i, i]).collect::<Vec<_>>());
        }
    }

    #[test]
    fn names_are_scored_both_ways_as_a_search_scores_them() {
        // Names that score differently either way round (a word the other
        // lacks is no evidence to the one asking), in two scripts, with
        // aliases and particles, sharing words.
        let people: [&[&str]; 8] = [
            &["Ali Karimi"],
            &["Ali Reza Karimi", "Alireza Karimi"],
            &["علی کریمی"],
            &["Karimi"],
            &["Mohammad al-Hosseini", "Mohammad Hoseyni"],
            &["محمد حسینی"],
            &["Hosseini Zahra"],
            &["Ali"],
        ];
        let mut m = Matcher::new();
        for (i, names) in people.iter().enumerate() {
            m.add(Record::new(i.to_string(), names));
        }
        let n = people.len();
        // Every two records a pair, but the last record with none.
        let pairs: Vec<u64> = (0..n - 1)
            .flat_map(|a| (a + 1..n - 1).map(move |b| (a as u64) << 32 | b as u64))
            .collect();
        let (start, partners) = partner_runs(n, pairs);
        let expected: Vec<f32> = (0..n)
            .flat_map(|q| {
                let m = &m;
                partners[start[q]..start[q + 1]].iter().map(move |&c| {
                    let mut best = 0.0f64;
                    for x in m.names_of(q as u32) {
                        for y in m.names_of(c) {
                            best = best.max(crate::name_similarity(x, y));
                        }
                    }
                    best as f32
                })
            })
            .collect();
        // Pairs that score differently either way: a swap would show.
        let entry =
            |q: usize, c: u32| start[q] + partners[start[q]..start[q + 1]].iter().position(|&x| x == c).unwrap();
        assert!(
            (0..n - 1).any(|a| (a + 1..n - 1).any(|b| expected[entry(a, b as u32)] != expected[entry(b, a as u32)]))
        );
        for threads in [1, 2, 3] {
            assert_eq!(
                name_scores(&m, &start, &partners, threads),
                expected,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn a_record_is_found_among_its_partners_past_those_other_threads_took() {
        let run = [1, 3, 4, 7, 9, 12, 20];
        // Met in ascending order with gaps (4 and 9 taken by another
        // thread), the cursor starting unset.
        let mut cursor = u32::MAX;
        let found: Vec<usize> = [3, 7, 12, 20]
            .iter()
            .map(|&a| place_among(&run, a, &mut cursor))
            .collect();
        assert_eq!(found, [1, 3, 5, 6]);
        // The first met anywhere is found by a search.
        let mut cursor = u32::MAX;
        assert_eq!(place_among(&run, 9, &mut cursor), 4);
        assert_eq!(cursor, 5);
    }

    #[test]
    fn names_are_scored_both_ways_across_runs_shared_by_threads() {
        // More records than one run holds (see RUN), so that threads take
        // runs in turn and each meets a record's partners below it with
        // gaps (those the other threads took).
        let given = ["Ali", "Reza", "علی", "Zahra", "Maryam", "محمد", "Hassan"];
        let family = ["Karimi", "Hosseini", "کریمی", "Ahmadi", "Rahimi", "حسینی"];
        let n = 3 * RUN + 17;
        let mut m = Matcher::new();
        for i in 0..n {
            let name = format!("{} {}", given[i % given.len()], family[i / given.len() % family.len()]);
            m.add(Record::new(i.to_string(), &[&name]));
        }
        // Near neighbours, and partners far off in either direction.
        let mut pairs: Vec<u64> = (0..n)
            .flat_map(|a| {
                [1, 2, 5, RUN - 1, RUN + 3, 2 * RUN + 7]
                    .into_iter()
                    .map(move |d| (a, (a + d) % n))
            })
            .map(|(a, b)| (a.min(b) as u64) << 32 | a.max(b) as u64)
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let (start, partners) = partner_runs(n, pairs);
        let expected: Vec<f32> = (0..n)
            .flat_map(|q| {
                let m = &m;
                partners[start[q]..start[q + 1]].iter().map(move |&c| {
                    let (x, y) = (m.names_of(q as u32).next().unwrap(), m.names_of(c).next().unwrap());
                    crate::name_similarity(x, y) as f32
                })
            })
            .collect();
        for threads in [2, 3] {
            assert_eq!(
                name_scores(&m, &start, &partners, threads),
                expected,
                "{threads} threads"
            );
        }
    }

    fn details(birth: &str, father: &str) -> Details {
        Details {
            birth_date: Some(birth.into()),
            father_name: Some(father.into()),
            sex: Some("m".into()),
            ..Details::default()
        }
    }

    #[test]
    fn brief_fields_weigh_as_the_whole_comparison_does() {
        // Places with one key in two scripts but other words (تهران and
        // Tehran meet Tabriz differently), different keys close enough to
        // agree (Mashad, Mashhad: weighed by the asking side's value, the
        // one commoner than the other) or close (Kerman, Kermanshah), and
        // fields missing on either side.
        let people = [
            ("1970", Some("m"), Some("Tehran"), Some("Iran")),
            ("1971", Some("m"), Some("تهران"), Some("ایران")),
            ("1970-05-02", Some("f"), Some("Tabriz"), Some("Iraq")),
            ("1980", None, Some("Kermanshah"), None),
            ("1965", Some("f"), None, Some("Iran")),
            ("1970-05", Some("m"), Some("Kerman"), Some("Afghanistan")),
            ("1970-05-02", Some("m"), Some("Mashad"), Some("عراق")),
            ("1990", Some("f"), Some("Mashhad"), Some("Iraq")),
            ("1991", Some("f"), Some("Mashhad"), None),
        ];
        let mut m = Matcher::new();
        for (i, (birth, sex, place, nationality)) in people.iter().enumerate() {
            let details = Details {
                birth_date: Some(birth.to_string()),
                sex: sex.map(str::to_string),
                birth_place: place.map(str::to_string),
                nationality: nationality.map(str::to_string),
                ..Details::default()
            };
            m.add(Record::with_details(i.to_string(), &["Ali Karimi"], &details));
        }
        let key = |slot: usize| m.facts[slot].place.as_ref().map(|p| p.key.clone());
        assert_ne!(key(6), key(7));
        let briefs = Briefs::new(&m);
        let mut seen = Default::default();
        let mut levels_met = HashSet::new();
        for a in 0..people.len() {
            for b in 0..people.len() {
                let (fa, fb) = (&m.facts[a], &m.facts[b]);
                let levels = fields::compare(fa, fb);
                levels_met.extend(levels[2..4].iter().flatten().copied());
                for q in [a, b] {
                    assert_eq!(
                        briefs.weigh(&briefs.of(a), &briefs.of(b), &briefs.of(q), &mut seen),
                        m.weigh(&m.facts[q], &levels),
                        "{a} and {b} weighed for {q}"
                    );
                }
            }
        }
        // Places and nationalities met at every level: same, close and different.
        assert_eq!(levels_met, HashSet::from([0, 1, 2]));
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

    /// The pairs one block makes, as sorted `(a, b)` with a < b.
    fn pairs_of(members: Vec<Member>, word: bool, lead: &[u32]) -> Vec<(u32, u32)> {
        let mut run: Vec<(u64, Member)> = members.into_iter().map(|m| (7, m)).collect();
        run.sort_unstable();
        let place = vec![0u32; lead.len()];
        let block = Block {
            run: &run,
            word,
            place: &place,
            lead,
        };
        let mut out = Vec::new();
        block.pair(&mut |a, b| out.push((a.min(b), a.max(b))));
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn a_small_block_pairs_everyone_a_large_one_the_nearest_born() {
        let small: Vec<Member> = (0..5)
            .map(|i| Member::pack(Some(1950 + 10 * i), None, false, i as u32))
            .collect();
        assert_eq!(
            pairs_of(small, false, &[0; 5]).len(),
            10,
            "every two, whatever their years"
        );

        // Slot 0 born in 1970; slots 1.. a crowd born 1900-1999.
        let n = SMALL_BLOCK * 3;
        let mut large = vec![Member::pack(Some(1970), Some("KVH"), false, 0)];
        large.extend((1..n).map(|i| Member::pack(Some(1900 + (i % 100) as i32), None, false, i as u32)));
        // Slot n: birth year unknown, same father as slot 0.
        large.push(Member::pack(None, Some("KVH"), false, n as u32));
        // Slot n + 1: neither known.
        large.push(Member::pack(None, None, false, n as u32 + 1));
        let lead = vec![u32::MAX; n + 2];
        let pairs = pairs_of(large, false, &lead);
        let with = |slot: u32| -> Vec<u32> {
            pairs
                .iter()
                .filter_map(|&(a, b)| (a == slot).then_some(b).or((b == slot).then_some(a)))
                .collect()
        };
        let year = |slot: u32| 1900 + (slot as usize % 100) as i32;
        let of_zero = with(0);
        assert!(of_zero.contains(&(n as u32)), "same father, year unknown");
        assert!(of_zero
            .iter()
            .filter(|&&s| s != n as u32)
            .all(|&s| (year(s) - 1970).abs() <= YEARS as i32));
        assert!(of_zero.len() <= 2 * NEIGHBOURS + 1, "{}", of_zero.len());
        assert!(with(n as u32 + 1).is_empty(), "nothing to go by in a large block");

        // Where no one leads (each has smaller blocks), no one starts a pair.
        let mut large = vec![Member::pack(Some(1970), None, false, 0)];
        large.extend((1..n).map(|i| Member::pack(Some(1900 + (i % 100) as i32), None, false, i as u32)));
        let pairs = pairs_of(large, false, &vec![0; n]);
        assert!(pairs.is_empty(), "{pairs:?}");
    }

    #[test]
    fn a_large_block_of_one_word_pairs_one_word_names() {
        let n = SMALL_BLOCK * 20;
        let mut members: Vec<Member> = (0..n)
            .map(|i| Member::pack(Some(1970 + (i % 21) as i32), None, false, i as u32))
            .collect();
        members.push(Member::pack(Some(1980), None, true, n as u32));
        let pairs = pairs_of(members, true, &vec![u32::MAX; n + 1]);
        let single = pairs.iter().filter(|(a, b)| *a == n as u32 || *b == n as u32).count();
        assert_eq!(
            single,
            2 * NEIGHBOURS,
            "the one-word name meets its nearest on each side"
        );
        // Each longer name meets a sample only.
        assert!(pairs.len() <= single + n * SAMPLE, "{}", pairs.len());
    }

    #[test]
    fn names_meet_in_a_block_whatever_their_order_script_or_a_typo() {
        let keys = |name: &str| -> HashSet<u64> {
            block_keys(Record::new("x", &[name]).names.iter().map(Vec::as_slice))
                .into_iter()
                .filter(|(k, _)| k & WORD == 0)
                .map(|(k, _)| k)
                .collect()
        };
        let masoud = keys("Masoud Karimi");
        for other in ["Karimi Masoud", "مسعود کریمی", "Masoud Kazimi"] {
            assert!(!masoud.is_disjoint(&keys(other)), "{other}");
        }
        assert!(masoud.is_disjoint(&keys("Zahra Hosseini")));
        // A consonant missing from each of the two words (Masoud as Maoud,
        // Karimi as Kaimi) is too far for a pair's block: the two dropped
        // forms are not paired.
        assert!(masoud.is_disjoint(&keys("Maoud Kaimi")));
        assert!(!masoud.is_disjoint(&keys("Maoud Karimi")));
        // A one-word name's keys are its word's, marked as a single word.
        let one = block_keys(Record::new("x", &["Masoud"]).names.iter().map(Vec::as_slice));
        assert!(!one.is_empty() && one.iter().filter(|(k, _)| k & WORD != 0).all(|(_, single)| *single));
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
