//! Finding a person across scripts and spellings.
//!
//! Each name becomes tokens with a cross-script consonant skeleton
//! ([`keys`]); an in-memory blocking index over skeletons and their
//! one-deletion variants proposes candidates; candidates are scored by an
//! order-free alignment of their name tokens (Jaro–Winkler over skeletons,
//! and over the spelling itself when both are in the same script), and the
//! score is turned into a probability by a logistic curve fitted on the
//! `*.fit` name data (`tools/fit-matching.py`). The other fields (sex, birth
//! date, birth place, nationality, parents' names) then move that
//! probability by their Fellegi–Sunter weights ([`fields`]).

pub mod batch;
pub mod dedupe;
pub mod fields;
pub mod keys;
pub mod synth;

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use fields::{Details, Facts, FieldWeight, Table, FIELDS, LEVELS};
use keys::{tokens, Token};

/// A registered person as the matcher sees it.
#[derive(Debug, Clone)]
pub struct Record {
    /// The caller's identifier.
    pub id: String,
    /// The person's names (primary first, then aliases), already tokenised.
    names: Vec<Vec<Token>>,
    /// The other fields, parsed.
    facts: Facts,
}

impl Record {
    /// A record from its names only.
    pub fn new(id: impl Into<String>, names: &[&str]) -> Record {
        Record::with_details(id, names, &Details::default())
    }

    /// A record from its names and other fields.
    pub fn with_details(id: impl Into<String>, names: &[&str], details: &Details) -> Record {
        Record {
            id: id.into(),
            names: names.iter().map(|n| tokens(n)).filter(|t| !t.is_empty()).collect(),
            facts: Facts::new(details),
        }
    }
}

/// The records' identifiers, each kept once: their texts one after
/// another by slot, and the live records' slots in a table hashed by their
/// identifier. (A map from each identifier to its slot held every one a
/// second time, as a string of its own: a seventh of the index at a
/// million records.)
#[derive(Debug, Default)]
struct Ids {
    text: String,
    /// Where the identifier of each slot starts in `text`, and one entry
    /// past the last.
    starts: Vec<usize>,
    live: hashbrown::HashTable<u32>,
    hasher: std::collections::hash_map::RandomState,
}

impl Ids {
    /// The identifier of the record in `slot`, live or not.
    fn get(&self, slot: u32) -> &str {
        id_at(&self.text, &self.starts, slot)
    }

    /// The slot of the live record with this identifier.
    fn slot(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.live.find(hash, |&s| self.get(s) == id).copied()
    }

    /// Gives the next slot to a new live record (its identifier not live).
    fn push(&mut self, id: &str) -> u32 {
        let Ids {
            text,
            starts,
            live,
            hasher,
        } = self;
        if starts.is_empty() {
            starts.push(0);
        }
        let slot = (starts.len() - 1) as u32;
        text.push_str(id);
        starts.push(text.len());
        live.insert_unique(hasher.hash_one(id), slot, |&s| hasher.hash_one(id_at(text, starts, s)));
        slot
    }

    /// Takes a record off the live ones; returns its slot, if it was.
    fn remove(&mut self, id: &str) -> Option<u32> {
        let Ids {
            text,
            starts,
            live,
            hasher,
        } = self;
        let found = live.find_entry(hasher.hash_one(id), |&s| id_at(text, starts, s) == id);
        found.ok().map(|entry| entry.remove().0)
    }

    /// The number of live records.
    fn len(&self) -> usize {
        self.live.len()
    }
}

/// The identifier of `slot` in [`Ids`]' text (a function of the parts, so
/// that the table's hasher can read identifiers while the table changes).
fn id_at<'a>(text: &'a str, starts: &[usize], slot: u32) -> &'a str {
    let s = slot as usize;
    &text[starts[s]..starts[s + 1]]
}

/// What a search reads of each record it blocks and scores, in one array
/// indexed by slot: a search in a large registry scores thousands of
/// records, and following each record's own allocations (its names, their
/// words) cost more than comparing them.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The id's first sixteen bytes, big-endian, zero-padded: compared as a
    /// number, in the order of the ids (see `Matcher::scored_parsed`). Ids
    /// made by one clock (UUIDv7) share their first eight bytes for a
    /// minute, their first sixteen for about a millisecond.
    order: u128,
    /// For [`fields::nearness`].
    near: fields::Near,
    /// Where the record's runs start: its names' numbers in [`NameTable`]
    /// at `Matcher::name_ids[names]`, its words' numbers in [`Vocabulary`]
    /// at `Matcher::word_ids[words]`. Records are appended, so each run
    /// ends where the next record's starts.
    names: u32,
    words: u32,
    /// The record's birth place and nationality by number in
    /// [`ValueTable`], so that a search compares them without reading the
    /// record.
    values: [ValueNumbers; 2],
    /// The father's and the mother's name by number in
    /// `Matcher::parents` ([`NO_NAME`] when not given): a search compares
    /// each distinct one once, and its words once, without reading the
    /// record.
    parents: [u32; 2],
}

/// No parent's name in [`Slot::parents`].
const NO_NAME: u32 = u32::MAX;

/// A birth place or nationality by number in [`ValueTable`] (0: none):
/// values of one key agree (the same place in either script); how close
/// two others come depends on their words, which the text number gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ValueNumbers {
    key: u32,
    text: u32,
}

/// Every distinct birth place and nationality the records give, numbered
/// by key and by words (see [`ValueNumbers`]); kept when records go.
#[derive(Debug, Default)]
struct ValueTable {
    keys: HashMap<String, u32>,
    texts: HashMap<String, u32>,
    /// The value of text number `n` at `n - 1`, the copy the records
    /// giving it share.
    values: Vec<Arc<fields::Value>>,
}

impl ValueTable {
    /// The numbers of a value, added if new (with `share` giving the one
    /// copy of each of its words); the value becomes the table's copy.
    fn number(&mut self, value: &mut Option<Arc<fields::Value>>, share: impl FnMut(&Token) -> Token) -> ValueNumbers {
        let Some(v) = value else {
            return ValueNumbers::default();
        };
        let next = self.keys.len() as u32 + 1;
        let key = *self.keys.entry(v.key.clone()).or_insert(next);
        let text: Vec<&str> = v.tokens.iter().map(|t| t.text.as_str()).collect();
        let next = self.values.len() as u32 + 1;
        let text = *self.texts.entry(text.join(" ")).or_insert_with(|| {
            self.values.push(Arc::new(fields::Value {
                tokens: v.tokens.iter().map(share).collect(),
                key: v.key.clone(),
            }));
            next
        });
        *v = self.values[text as usize - 1].clone();
        ValueNumbers { key, text }
    }

    /// The words of text number `n` (from 1).
    fn words(&self, n: u32) -> &[Token] {
        &self.values[n as usize - 1].tokens
    }

    /// The key number of a query's value (0 when no record gives that key).
    fn key_of(&self, value: Option<&fields::Value>) -> u32 {
        value.and_then(|v| self.keys.get(&v.key)).copied().unwrap_or(0)
    }
}

/// The one shared copy of this word in `shared` (see `Matcher::shared`);
/// this one becomes it if the word is new.
fn share_word(shared: &mut [HashMap<String, Token>; 2], t: &Token) -> Token {
    let shared = &mut shared[usize::from(t.particle)];
    match shared.get(t.text.as_str()) {
        Some(known) => known.clone(),
        None => {
            shared.insert(t.text.clone(), t.clone());
            t.clone()
        }
    }
}

/// The order key of an id (see [`Slot::order`]).
fn order_of(id: &str) -> u128 {
    let mut prefix = [0u8; 16];
    for (p, b) in prefix.iter_mut().zip(id.as_bytes()) {
        *p = *b;
    }
    u128::from_be_bytes(prefix)
}

/// Every distinct name the records use (its words), stored once and known
/// by its number: thousands of records share a common name (Zahra
/// Hosseini), and a search compares each distinct name once
/// ([`NameMemo`]). A name stays when the last record using it goes, like
/// the shared words (see [`Matcher`]): a changed record mostly keeps its
/// names.
///
/// Each name is also kept in the form a search reads for every candidate,
/// side by side in two flat arrays: its words by number (every distinct
/// word the names use, numbered from 0: [`WordMemo`] remembers a query
/// word's similarity to a registered word in an array by that number) and
/// its joined skeleton (see [`align_with`]). Reading those instead of the
/// shared words behind their pointers spares a search one miss of the
/// processor's cache per word of every name it compares.
#[derive(Debug, Default)]
struct NameTable {
    names: Vec<Arc<[Token]>>,
    /// By [`name_hash`].
    by_hash: HashMap<u64, u32, BuildSlot>,
    /// The numbers of the names' words, name after name: name `n`'s run
    /// starts at `starts[n].0` and ends where name `n + 1`'s starts.
    words: Vec<u32>,
    /// The names' joined skeletons ([`joined_chars`]), likewise (from
    /// `starts[n].1`).
    joined: Vec<u8>,
    /// The names' letters joined ([`joined_letters`]), likewise (from
    /// `starts[n].2`).
    letters: Vec<char>,
    /// Where each name's runs start, and one entry past the last name;
    /// with each name's script ([`joined_letters`]), read with them
    /// rather than from an array of its own.
    starts: Vec<(u32, u32, u32, Option<bool>)>,
    /// The words' numbers, by their text.
    word_numbers: HashMap<String, u32>,
}

impl NameTable {
    /// The number of this name, added if new.
    fn intern(&mut self, name: Vec<Token>) -> u32 {
        let hash = name_hash(&name);
        let next = self.names.len() as u32;
        match self.by_hash.get(&hash) {
            Some(&known) if same_words(&self.names[known as usize], &name) => return known,
            // Another name with the same hash: kept, under its own number,
            // and not found again (a name compared twice, never wrongly).
            Some(_) => {}
            None => {
                self.by_hash.insert(hash, next);
            }
        }
        if self.starts.is_empty() {
            self.starts.push((0, 0, 0, None));
        }
        for t in &name {
            let count = self.word_numbers.len() as u32;
            let number = *self.word_numbers.entry(t.text.clone()).or_insert(count);
            self.words.push(number);
        }
        let mut joined = [0u8; MAX_JOINED];
        let length = joined_chars(&name, &mut joined);
        self.joined.extend_from_slice(&joined[..length]);
        let mut letters = ['\0'; MAX_JOINED];
        let (length, script) = joined_letters(&name, &mut letters);
        self.letters.extend_from_slice(&letters[..length]);
        // The entry that ends this name's runs starts the next name's; the
        // script goes with the name's own entry.
        if let Some(own) = self.starts.last_mut() {
            own.3 = script;
        }
        self.starts.push((
            self.words.len() as u32,
            self.joined.len() as u32,
            self.letters.len() as u32,
            None,
        ));
        self.names.push(name.into());
        next
    }

    /// The numbers of name `n`'s words, in order.
    fn words_of(&self, n: u32) -> &[u32] {
        let n = n as usize;
        &self.words[self.starts[n].0 as usize..self.starts[n + 1].0 as usize]
    }

    /// Name `n`'s joined skeleton.
    fn joined_of(&self, n: u32) -> &[u8] {
        let n = n as usize;
        &self.joined[self.starts[n].1 as usize..self.starts[n + 1].1 as usize]
    }

    /// The [`Parts`] of a query name (its joined skeleton, its letters
    /// joined and its script) against name `n`.
    fn parts<'a>(&'a self, n: u32, query_joined: &'a [u8], query_letters: &'a (Vec<char>, Option<bool>)) -> Parts<'a> {
        let (letters, script) = self.letters_of(n);
        Parts {
            query_joined,
            candidate_words: self.words_of(n).len(),
            candidate_joined: self.joined_of(n),
            letters: query_letters
                .1
                .is_some_and(|q| script == Some(q))
                .then(|| (&query_letters.0[..], letters)),
        }
    }

    /// Name `n`'s letters joined, and its script ([`joined_letters`]).
    fn letters_of(&self, n: u32) -> (&[char], Option<bool>) {
        let n = n as usize;
        let letters = &self.letters[self.starts[n].2 as usize..self.starts[n + 1].2 as usize];
        (letters, self.starts[n].3)
    }
}

/// A hash of a name's words (the FNV-1a offset basis and prime, folding
/// whole words' hashes instead of bytes). A word's other forms (skeleton,
/// dictionary groups) follow from its text, so names with the same words
/// compare alike.
pub(crate) fn name_hash(name: &[Token]) -> u64 {
    name.iter().fold(FNV_OFFSET, |h, t| fnv(h, t.hash))
}

/// The 64-bit FNV-1a offset basis (Fowler, Noll, Vo).
pub(crate) const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;

/// One FNV-1a step: `x` folded into the hash `h`.
pub(crate) fn fnv(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x100_0000_01B3)
}

/// What one query has compared: its names with the registered names (by
/// their number in [`NameTable`]), and each of its words with their words
/// (in a [`WordMemo`], by the registered word's number).
struct NameMemo<'m> {
    /// Per query name.
    names: Vec<HashMap<u32, f64, BuildSlot>>,
    /// Per query name, for [`NameMemo::both`].
    both: Vec<HashMap<u32, (f64, f64), BuildSlot>>,
    /// Per query name, the [`WordMemo`] column of its first word.
    columns: Vec<usize>,
    /// Per query name, its joined skeleton ([`joined_chars`]).
    joined: Vec<Vec<u8>>,
    /// Per query name, its letters joined and its script ([`joined_letters`]).
    letters: Vec<(Vec<char>, Option<bool>)>,
    words: &'m mut WordMemo,
}

impl<'m> NameMemo<'m> {
    /// A memo for this query, remembering its words' similarities in
    /// `words` (emptied for it).
    fn new<'q>(query: impl IntoIterator<Item = &'q [Token]>, words: &'m mut WordMemo) -> Self {
        let (mut columns, mut joined, mut letters) = (Vec::new(), Vec::new(), Vec::new());
        let mut width = 0;
        for name in query {
            columns.push(width);
            width += name.len();
            let mut chars = [0u8; MAX_JOINED];
            let length = joined_chars(name, &mut chars);
            joined.push(chars[..length].to_vec());
            let mut spelled = ['\0'; MAX_JOINED];
            let (length, script) = joined_letters(name, &mut spelled);
            letters.push((spelled[..length].to_vec(), script));
        }
        words.start(width);
        NameMemo {
            names: columns.iter().map(|_| HashMap::default()).collect(),
            both: columns.iter().map(|_| HashMap::default()).collect(),
            columns,
            joined,
            letters,
            words,
        }
    }

    /// [`name_similarity`] of query name `qi` (`query`) and the registered
    /// name number `name`.
    fn similarity(&mut self, qi: usize, query: &[Token], name: u32, table: &NameTable) -> f64 {
        let NameMemo {
            names,
            both: _,
            columns,
            joined,
            letters,
            words,
        } = self;
        let column = columns[qi];
        *names[qi].entry(name).or_insert_with(|| {
            let numbers = table.words_of(name);
            let candidate = &table.names[name as usize];
            let parts = table.parts(name, &joined[qi], &letters[qi]);
            let (aligned, joined) = align_parts(query, parts, None, &mut |w, i| {
                words.get(numbers[i], column + w, || token_similarity(&query[w], &candidate[i]))
            });
            combined(aligned, joined)
        })
    }

    /// [`name_similarity`] both ways between query name `qi` (`query`) and
    /// the registered name number `name`: the query's name searching for
    /// the registered one, and the registered one searching for the
    /// query's. Deduplication scores each pair of records both ways; here
    /// the two share their words' comparisons (a word's similarity to
    /// another is the same either way round, see [`compared_words`]) and
    /// the comparison of the names joined.
    fn both(&mut self, qi: usize, query: &[Token], name: u32, table: &NameTable) -> (f64, f64) {
        let NameMemo {
            both,
            columns,
            joined,
            letters,
            words,
            ..
        } = self;
        let column = columns[qi];
        *both[qi].entry(name).or_insert_with(|| {
            let numbers = table.words_of(name);
            let candidate = &table.names[name as usize];
            let parts = table.parts(name, &joined[qi], &letters[qi]);
            // Query word `w` and candidate word `i`, remembered under the
            // candidate word's number whichever name is asking.
            let mut similarity =
                |w: usize, i: usize| words.get(numbers[i], column + w, || token_similarity(&query[w], &candidate[i]));
            let forward = aligned_words(query, numbers.len(), None, &mut similarity);
            let reverse = aligned_words(candidate, query.len(), None, &mut |i, w| similarity(w, i));
            // Compared once if either way needs it: a way that did not
            // (its words alike enough already) combines to the same score
            // with it as without.
            let joined = parts.joined(forward.min(reverse));
            (combined(forward, joined), combined(reverse, joined))
        })
    }
}

/// Working memory kept from search to search, one per search running at
/// once: each search takes one and gives it back, holding the lock only for
/// that (a poisoned lock costs a fresh one, never a wrong answer).
#[derive(Debug, Default)]
struct Pool<T>(std::sync::Mutex<Vec<T>>);

impl<T: Default> Pool<T> {
    fn take(&self) -> T {
        self.0
            .lock()
            .map(|mut pool| pool.pop())
            .unwrap_or_default()
            .unwrap_or_default()
    }

    fn give(&self, item: T) {
        if let Ok(mut pool) = self.0.lock() {
            pool.push(item);
        }
    }
}

/// Weights summed in order, the positive and the negative apart (see
/// [`Matcher::weigh`]).
pub(crate) fn split_sum(weights: impl Iterator<Item = f64>) -> (f64, f64) {
    weights.fold(
        (0.0, 0.0),
        |(pos, neg), w| if w > 0.0 { (pos + w, neg) } else { (pos, neg + w) },
    )
}

/// Similarities of a query's words with registered words, remembered in an
/// array by the registered word's number in [`NameTable`] (a hash map by
/// word cost a search a tenth of its time) and kept from query to query:
/// each query starts a new generation instead of clearing it.
#[derive(Debug, Default)]
struct WordMemo {
    /// Per registered word: the generation that last met it, and where its
    /// row starts in `rows`.
    at: Vec<(u32, u32)>,
    /// One row per registered word met in this generation, a column per
    /// query word (NaN until compared).
    rows: Vec<f64>,
    generation: u32,
    width: usize,
}

impl WordMemo {
    /// Forgets the last query's similarities, for a query of `width` words.
    fn start(&mut self, width: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.at.fill((0, 0));
            self.generation = 1;
        }
        self.rows.clear();
        self.width = width;
    }

    /// The similarity of query word `column` and registered word `word`,
    /// computed by `compute` the first time.
    fn get(&mut self, word: u32, column: usize, compute: impl FnOnce() -> f64) -> f64 {
        let word = word as usize;
        if word >= self.at.len() {
            self.at.resize(word + 1, (0, 0));
        }
        let row = match self.at[word] {
            (generation, row) if generation == self.generation => row as usize,
            _ => {
                let row = self.rows.len();
                self.rows.resize(row + self.width, f64::NAN);
                self.at[word] = (self.generation, row as u32);
                row
            }
        };
        let known = &mut self.rows[row + column];
        if known.is_nan() {
            *known = compute();
        }
        *known
    }
}

/// True when two names have the same words in the same order.
fn same_words(a: &[Token], b: &[Token]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_word(y))
}

/// One proposed match.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The record's identifier.
    pub id: String,
    /// Name similarity, 0 to 1.
    pub score: f64,
    /// The other fields' weight, in bits (`log2` of the likelihood ratio;
    /// 0 when the query gives none of them).
    pub weight: f64,
    /// The part of `weight` from fields that disagree (≤ 0).
    pub against: f64,
    /// Probability from the names alone.
    pub names: f64,
    /// How many other candidates' names match as well (within 0.02): a
    /// name many registered people share proves less.
    pub namesakes: u32,
    /// Probability that this is the person sought.
    pub probability: f64,
}

/// Logistic calibration: `P = 1 / (1 + exp(-(A·score + B·margin + C)))`,
/// where `margin` is how far the candidate's score stands above the best
/// other candidate's (negative when another scores higher): a name that
/// matches one registered person much better than all others is more likely
/// that person. Fitted by `tools/fit-matching.py` on sets built from the
/// `*.fit` name files only, with the engine's first scoring, and kept
/// since: refits on later scores (2026-12-06, and session 25: A 5.46,
/// B 69.2, C −7.19) lower ECE on every names-only set but give 110 to
/// 200 false alarms per 1,000 people not registered, against 0 to 28
/// (docs/matching.md, steps 6 and "Against the targets"). Rerun it when
/// scoring changes, and keep a refit only if false alarms stay low.
const CAL_A: f64 = 12.98;
/// See [`CAL_A`].
const CAL_B: f64 = 22.08;
/// See [`CAL_A`].
const CAL_C: f64 = -14.94;

/// Blocking keys of one token: its own forms ([`own_keys`]) and, for
/// skeletons of three or more classes, each variant with one class deleted
/// ([`dropped_keys`]), so a missing or extra consonant still meets.
fn token_keys(t: &Token, out: &mut HashSet<String>) {
    own_keys(t, out);
    dropped_keys(t, out);
}

/// A token's own blocking keys: its dictionary groups, the skeletons of
/// its other readings (`keys::other_readings`) and its skeleton.
fn own_keys(t: &Token, out: &mut HashSet<String>) {
    if t.particle {
        return;
    }
    // Forms of one name in the dictionary meet whatever their spelling.
    for g in t.group_ids() {
        out.insert(format!("#{g}"));
    }
    // Before the skeleton, which may be empty where another reading is
    // not (Ieva, whose v the skeleton reads as a vowel).
    for other in t.others.iter().filter(|o| !o.skeleton.is_empty()) {
        out.insert(String::from_utf8_lossy(&other.skeleton).into_owned());
    }
    if !t.skeleton.is_empty() {
        out.insert(t.skeleton.clone());
    }
}

/// A token's skeleton with one class deleted, each way, for skeletons of
/// three or more classes (shorter ones would meet too much).
fn dropped_keys(t: &Token, out: &mut HashSet<String>) {
    if t.particle {
        return;
    }
    let chars: Vec<char> = t.skeleton.chars().collect();
    if chars.len() >= 3 {
        for i in 0..chars.len() {
            let v: String = chars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c)
                .collect();
            out.insert(v);
        }
    }
}

/// The bit of the query word that this word of a later name repeats (the
/// same name in another script or spelling: they share a blocking key),
/// if any; a bit already given to another word of the same name is not
/// given twice. An equal skeleton is preferred to a shared key.
///
/// Without this, a registration giving its names in both scripts counted
/// "Mohammad" and "محمد" as two words of the query, so every Mohammad met
/// two words and was proposed: the most candidates scored, every time.
fn same_word(
    earlier: &[(HashSet<String>, &str, u32)],
    this_name: &[(HashSet<String>, &str, u32)],
    keys: &HashSet<String>,
    skeleton: &str,
) -> Option<u32> {
    let free = |bit: u32| this_name.iter().all(|(_, _, b)| *b != bit);
    earlier
        .iter()
        .find(|(_, s, bit)| !skeleton.is_empty() && *s == skeleton && free(*bit))
        .or_else(|| earlier.iter().find(|(k, _, bit)| free(*bit) && !k.is_disjoint(keys)))
        .map(|(_, _, bit)| *bit)
}

/// The skeletons of a name's words (particles aside) written as one.
fn joined_skeleton(name: &[Token]) -> String {
    name.iter()
        .filter(|t| !t.particle)
        .map(|t| t.skeleton.as_str())
        .collect()
}

/// Records sharing one blocking key above which the key no longer proposes
/// candidates on its own (see `Matcher::block`).
pub const FREQUENT: usize = 2_000;

/// The most candidates one query scores.
pub const MAX_SCORED: usize = 5_000;

/// What the blocking keys of a query found for one registered word, or
/// for one record (the union over its words).
#[derive(Debug, Default, Clone, Copy)]
struct Hit {
    /// One bit per word of the query met (all bits for a whole-name key).
    words: u32,
    /// How many keys met.
    keys: u16,
    /// Met by a key few records share.
    rare: bool,
}

/// Blocking's working memory, reused from query to query (see
/// `Matcher::block`).
#[derive(Debug, Default)]
struct Scratch {
    /// One [`Hit`] per registered word, and the words met.
    reach: Vec<Hit>,
    reached: Vec<u32>,
    /// One entry per record met and word it was met by: the record's slot
    /// in the high half, the word's place in `reached` in the low (all ones
    /// for a whole name met).
    met: Vec<u64>,
    /// Room for sorting `met`.
    sorting: Vec<u64>,
    /// One byte per record slot: how many keys of the word not read one
    /// by one the record meets. A million records take 1 MB, which mostly
    /// stays in the processor's cache.
    unread: Vec<u8>,
}

/// Sorts blocking's entries (see [`Scratch::met`]) by their high half,
/// the record's slot, leaving entries of one slot together: a radix sort
/// from the least significant digit (Knuth, TAOCP vol. 3, 5.2.5), eleven
/// bits a pass, a pass skipped when every entry has the same digit (a
/// registry of a million slots needs two). `room` is working memory.
fn sort_by_slot(entries: &mut Vec<u64>, room: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const DIGITS: usize = 1 << BITS;
    if entries.len() < DIGITS {
        entries.sort_unstable();
        return;
    }
    room.clear();
    room.resize(entries.len(), 0);
    for pass in 0..3 {
        let shift = 32 + pass * BITS;
        let digit = |x: u64| (x >> shift) as usize & (DIGITS - 1);
        let mut start = [0usize; DIGITS];
        for &x in entries.iter() {
            start[digit(x)] += 1;
        }
        if start.contains(&entries.len()) {
            continue;
        }
        let mut sum = 0;
        for s in start.iter_mut() {
            (*s, sum) = (sum, sum + *s);
        }
        for &x in entries.iter() {
            let d = digit(x);
            room[start[d]] = x;
            start[d] += 1;
        }
        std::mem::swap(entries, room);
    }
}

/// Hashes record slots (already well spread small integers) with one
/// multiplication instead of SipHash: blocking counts hundreds of
/// thousands of hits per query in a large registry.
#[derive(Default, Clone, Copy)]
struct BuildSlot;

/// See [`BuildSlot`].
#[derive(Default)]
struct SlotHasher(u64);

impl std::hash::Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, i: u32) {
        // Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4).
        self.0 = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::BuildHasher for BuildSlot {
    type Hasher = SlotHasher;
    fn build_hasher(&self) -> SlotHasher {
        SlotHasher(0)
    }
}

/// The matcher: records and their blocking index. Records can be added,
/// replaced and removed without a rebuild: a replaced or removed record's
/// slot is marked dead and skipped by searches.
#[derive(Debug)]
pub struct Matcher {
    /// Per record (by slot), its other fields; its identifier is in
    /// [`Ids`], its names in [`NameTable`] and what every search reads of
    /// it in [`Slot`].
    facts: Vec<Facts>,
    /// Per record, what searches read (see [`Slot`]).
    slots: Vec<Slot>,
    /// The records' names, by number in `names`, each record's in a run
    /// (see [`Slot::names`]).
    name_ids: Vec<u32>,
    names: NameTable,
    /// The records' parents' names (see [`Slot::parents`]): a table of
    /// their own, as their words are compared with a query's parents'
    /// words, not with its names'.
    parents: NameTable,
    /// The records' distinct words (particles aside), by number in `words`,
    /// each record's in a run (see [`Slot::words`]).
    word_ids: Vec<u32>,
    alive: Vec<bool>,
    ids: Ids,
    /// The records by each of their names' words written as one (see
    /// [`joined_skeleton`]): records by single words are found through
    /// [`Vocabulary`].
    whole: HashMap<String, Vec<u32>>,
    /// How many live records have each birth place and nationality (by
    /// [`fields`] key), for term-frequency `u`.
    places: Counts,
    nationalities: Counts,
    /// … and each first word of a father's and of a mother's name.
    fathers: Counts,
    mothers: Counts,
    /// `m` per field and level.
    m: Table,
    /// `u` per field and level from random pairs, with the number of
    /// records it was drawn from; drawn again when the registry has
    /// changed size by a tenth.
    u: OnceLock<(usize, Table)>,
    /// The distinct words of the records' names, with the records using
    /// each: the blocking index.
    words: Vocabulary,
    /// The records' birth places and nationalities, numbered.
    values: ValueTable,
    /// One copy of every word the records use (see [`Token`]); kept when
    /// the last record using a word goes, as the distinct words are few.
    /// Words, then particles: a particle is a word of its own in a name
    /// made of particles only (see [`keys::tokens`]).
    shared: [HashMap<String, Token>; 2],
    /// Blocking's working memory (see [`Pool`]).
    scratch: Pool<Scratch>,
    /// Scoring's working memory, likewise.
    word_memos: Pool<WordMemo>,
}

/// The distinct words of the registered names, each with the number of
/// live records using it and the records that use it, and the words by
/// their blocking keys ([`token_keys`]). Tens of thousands of words stand
/// for millions of records: a search finds the words near its own among
/// them, whatever their count, before it reads a single record (see
/// `Matcher::block`), and [`Matcher::spellings`] lists them.
#[derive(Debug, Default)]
struct Vocabulary {
    words: Vec<(Token, u32)>,
    /// Per word, the slots of the records using it, in the order they were
    /// added; a removed record's slot stays (dead, skipped by searches).
    records: Vec<Vec<u32>>,
    slot_of: HashMap<String, u32>,
    /// Per word, the numbers of its blocking keys.
    word_keys: Vec<Box<[u32]>>,
    /// The blocking keys by number, and per key the words having it and
    /// how many live records have it (a record counted once, whichever
    /// of its words have the key: names written in both scripts share
    /// their keys).
    key_of: HashMap<String, u32>,
    keyed: Vec<Vec<u32>>,
    key_records: Vec<u32>,
}

impl Vocabulary {
    /// Counts in the distinct words (particles aside) of the record in
    /// `slot`, adding the words not seen before, and appends their numbers
    /// to `out`.
    fn add<'a>(&mut self, names: impl IntoIterator<Item = &'a [Token]>, slot: u32, out: &mut Vec<u32>) {
        let start = out.len();
        for t in names.into_iter().flatten().filter(|t| !t.particle) {
            let number = match self.slot_of.get(&t.text) {
                Some(&n) => n,
                None => {
                    let n = self.words.len() as u32;
                    self.slot_of.insert(t.text.clone(), n);
                    let mut keys = HashSet::new();
                    token_keys(t, &mut keys);
                    let keys: Box<[u32]> = keys
                        .into_iter()
                        .map(|k| {
                            let next = self.keyed.len() as u32;
                            let key = *self.key_of.entry(k).or_insert(next);
                            if key == next {
                                self.keyed.push(Vec::new());
                                self.key_records.push(0);
                            }
                            self.keyed[key as usize].push(n);
                            key
                        })
                        .collect();
                    self.word_keys.push(keys);
                    self.words.push((t.clone(), 0));
                    self.records.push(Vec::new());
                    n
                }
            };
            if out[start..].contains(&number) {
                continue;
            }
            out.push(number);
            self.words[number as usize].1 += 1;
            self.records[number as usize].push(slot);
        }
        for key in self.keys_of(&out[start..]) {
            self.key_records[key as usize] += 1;
        }
    }

    /// Counts out the words (by number) of a removed record.
    fn remove(&mut self, words: &[u32]) {
        for &w in words {
            let n = &mut self.words[w as usize].1;
            *n = n.saturating_sub(1);
        }
        for key in self.keys_of(words) {
            let n = &mut self.key_records[key as usize];
            *n = n.saturating_sub(1);
        }
    }

    /// The distinct blocking keys of these words (by number).
    fn keys_of(&self, words: &[u32]) -> Vec<u32> {
        let mut keys: Vec<u32> = words
            .iter()
            .flat_map(|&w| self.word_keys[w as usize].iter().copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The words having a blocking key, and how many live records have
    /// it.
    fn with_key(&self, key: &str) -> Option<(&[u32], u32)> {
        let &k = self.key_of.get(key)?;
        Some((&self.keyed[k as usize], self.key_records[k as usize]))
    }
}

/// A word of the registered names written close to a searched word.
#[derive(Debug, Clone, PartialEq)]
pub struct Spelling {
    /// The word, normalised (lower case, letter variants unified).
    pub text: String,
    /// How many live records have it in one of their names.
    pub records: u32,
    /// Its similarity to the searched word, 0 to 1 (0.95 or more for forms
    /// of one name the dictionary knows).
    pub similarity: f64,
}

/// The least similarity of a word listed by [`Matcher::spellings`].
pub const SPELLING_FLOOR: f64 = 0.85;

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            facts: Vec::new(),
            slots: Vec::new(),
            name_ids: Vec::new(),
            names: NameTable::default(),
            parents: NameTable::default(),
            word_ids: Vec::new(),
            alive: Vec::new(),
            ids: Ids::default(),
            whole: HashMap::new(),
            places: Counts::default(),
            nationalities: Counts::default(),
            fathers: Counts::default(),
            mothers: Counts::default(),
            m: fields::DEFAULT_M,
            u: OnceLock::new(),
            words: Vocabulary::default(),
            values: ValueTable::default(),
            shared: Default::default(),
            scratch: Pool::default(),
            word_memos: Pool::default(),
        }
    }
}

/// Occurrences of each value of a field among live records.
#[derive(Debug, Default)]
struct Counts {
    by_key: HashMap<String, u32>,
    total: u32,
}

impl Counts {
    fn add(&mut self, key: Option<&str>) {
        if let Some(k) = key {
            *self.by_key.entry(k.to_string()).or_default() += 1;
            self.total += 1;
        }
    }

    fn remove(&mut self, key: Option<&str>) {
        if let Some(k) = key {
            if let Some(n) = self.by_key.get_mut(k) {
                *n -= 1;
                self.total -= 1;
                if *n == 0 {
                    self.by_key.remove(k);
                }
            }
        }
    }

    /// The chance that a random other record has this value, blended with
    /// the prior `u` of agreement like the drawn pairs are.
    fn u(&self, key: &str, prior: f64) -> f64 {
        let n = f64::from(self.by_key.get(key).copied().unwrap_or(0).saturating_sub(1));
        (n + U_PRIOR_PAIRS * prior) / (f64::from(self.total) + U_PRIOR_PAIRS)
    }
}

/// Pseudo-pairs of the prior `u` blended into value counts.
const U_PRIOR_PAIRS: f64 = 50.0;

/// Random pairs drawn to estimate `u`.
const U_PAIRS: usize = 20_000;

/// The seed of those draws: fixed, so results repeat.
const U_SEED: u64 = 2_545;

impl Matcher {
    /// An empty matcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record, replacing any record with the same id.
    pub fn add(&mut self, mut record: Record) {
        self.remove(&record.id);
        let Record { names, facts, .. } = &mut record;
        for t in names.iter_mut().flatten() {
            *t = self.shared_word(t);
        }
        // The place and nationality by number, likewise.
        let mut values = [ValueNumbers::default(); 2];
        for (numbers, value) in values.iter_mut().zip(facts.values_mut()) {
            let (table, shared) = (&mut self.values, &mut self.shared);
            *numbers = table.number(value, |t| share_word(shared, t));
        }
        // The parents' names by number, the record keeping the table's copy.
        let mut parents = [NO_NAME; 2];
        for (number, name) in parents.iter_mut().zip(facts.parents_mut()) {
            if !name.is_empty() {
                let words = name.iter().map(|t| self.shared_word(t)).collect();
                *number = self.parents.intern(words);
                *name = self.parents.names[*number as usize].clone();
            }
        }
        let Record { id, names, facts } = record;
        self.count(&facts, Counts::add);
        let n = self.ids.push(&id);
        debug_assert_eq!(n as usize, self.facts.len());
        self.alive.push(true);
        let mut joined: Vec<String> = names
            .iter()
            .map(|name| joined_skeleton(name))
            .filter(|j| !j.is_empty())
            .collect();
        joined.sort_unstable();
        joined.dedup();
        for k in joined {
            self.whole.entry(k).or_default().push(n);
        }
        self.slots.push(Slot {
            order: order_of(&id),
            near: facts.near(),
            names: self.name_ids.len() as u32,
            words: self.word_ids.len() as u32,
            values,
            parents,
        });
        self.words.add(names.iter().map(Vec::as_slice), n, &mut self.word_ids);
        for name in names {
            let number = self.names.intern(name);
            self.name_ids.push(number);
        }
        self.facts.push(facts);
        self.forget_stale_u();
    }

    /// The one shared copy of this word (see [`Token`]); this one becomes
    /// it if the word is new.
    fn shared_word(&mut self, t: &Token) -> Token {
        share_word(&mut self.shared, t)
    }

    /// The numbers in [`NameTable`] of the names of the record in `slot`.
    fn name_ids_of(&self, slot: u32) -> &[u32] {
        self.run_of(slot, &self.name_ids, |s| s.names)
    }

    /// The numbers in [`Vocabulary`] of the distinct words of the record
    /// in `slot`.
    fn word_ids_of(&self, slot: u32) -> &[u32] {
        self.run_of(slot, &self.word_ids, |s| s.words)
    }

    /// The run of the record in `slot` in an array of runs appended record
    /// by record, each starting where `start` says.
    fn run_of<'a>(&self, slot: u32, runs: &'a [u32], start: fn(&Slot) -> u32) -> &'a [u32] {
        let s = slot as usize;
        let end = self.slots.get(s + 1).map_or(runs.len(), |next| start(next) as usize);
        &runs[start(&self.slots[s]) as usize..end]
    }

    /// The names of the record in `slot`.
    fn names_of(&self, slot: u32) -> impl Iterator<Item = &[Token]> + Clone {
        self.name_ids_of(slot).iter().map(|&n| &*self.names.names[n as usize])
    }

    /// Removes a record (no effect if it is not there).
    pub fn remove(&mut self, id: &str) {
        if let Some(slot) = self.ids.remove(id) {
            self.alive[slot as usize] = false;
            // The record stays in its slot (dead), its values leave the counts.
            let facts = self.facts[slot as usize].clone();
            self.count(&facts, Counts::remove);
            let own = self.word_ids_of(slot).to_vec();
            self.words.remove(&own);
            self.forget_stale_u();
        }
    }

    /// Adds a record's values to the value counts, or takes them off.
    fn count(&mut self, facts: &Facts, change: fn(&mut Counts, Option<&str>)) {
        change(&mut self.places, facts.place.as_ref().map(|v| v.key.as_str()));
        change(
            &mut self.nationalities,
            facts.nationality.as_ref().map(|v| v.key.as_str()),
        );
        change(&mut self.fathers, facts.father_key());
        change(&mut self.mothers, facts.mother_key());
    }

    /// Where an agreeing value of this field is counted, and the query's
    /// value: a place or nationality by itself, a parent's name by its first
    /// word (a one-word father's name meets every father of that name).
    fn counted<'a>(&'a self, field: fields::Field, query: &'a Facts) -> Option<(&'a Counts, &'a str)> {
        match field {
            fields::Field::BirthPlace => query.place.as_ref().map(|v| (&self.places, v.key.as_str())),
            fields::Field::Nationality => query
                .nationality
                .as_ref()
                .map(|v| (&self.nationalities, v.key.as_str())),
            fields::Field::FatherName => query.father_key().map(|k| (&self.fathers, k)),
            fields::Field::MotherName => query.mother_key().map(|k| (&self.mothers, k)),
            fields::Field::Sex | fields::Field::BirthDate => None,
        }
    }

    fn forget_stale_u(&mut self) {
        let len = self.len();
        if self.u.get().is_some_and(|(n, _)| len.abs_diff(*n) > n / 10 + 10) {
            self.u.take();
        }
    }

    /// Sets `m` (see [`fields::estimate_m`]).
    pub fn set_m(&mut self, m: Table) {
        self.m = m;
    }

    /// The `m` in use.
    pub fn m(&self) -> &Table {
        &self.m
    }

    /// `u` per field and level, from up to 20,000 (`U_PAIRS`) random pairs
    /// of live records (a fixed sequence, so results repeat), blended with
    /// [`fields::PRIOR_U`].
    pub fn u(&self) -> &Table {
        &self
            .u
            .get_or_init(|| {
                let live: Vec<u32> = (0..self.facts.len() as u32)
                    .filter(|i| self.alive[*i as usize])
                    .collect();
                let mut counts = fields::LevelCounts::default();
                if live.len() >= 2 {
                    let mut draw = synth::Draw::new(U_SEED);
                    for _ in 0..U_PAIRS.min(live.len() * (live.len() - 1) / 2) {
                        let (a, b) = (draw.below(live.len()), draw.below(live.len()));
                        if a != b {
                            let (fa, fb) = (&self.facts[live[a] as usize], &self.facts[live[b] as usize]);
                            counts.add(&fields::compare(fa, fb));
                        }
                    }
                }
                (self.len(), counts.u())
            })
            .1
    }

    /// The level of each field the query and the record both give, with
    /// its `u`: an agreeing place, nationality or parent's name takes the `u`
    /// of that very value (how often it occurs; for a parent's name, its
    /// first word), the rest the `u` of random pairs.
    fn levels(&self, query: &Facts, record: &Facts) -> [Option<(usize, f64)>; 6] {
        let u = self.u();
        let mut out = [None; 6];
        for (f, level) in fields::compare(query, record).iter().enumerate() {
            let Some(level) = level.map(usize::from) else { continue };
            out[f] = Some((level, self.level_u(f, level, query, u)));
        }
        out
    }

    /// The `u` of field `f` at `level` for this query: of the query's own
    /// value when the level is agreement and the value is counted, else of
    /// random pairs. The same for every record, so the search's upper bound
    /// ([`Matcher::max_weights`]) is exact.
    fn level_u(&self, f: usize, level: usize, query: &Facts, u: &Table) -> f64 {
        match self.counted(FIELDS[f], query).filter(|_| level == 0) {
            Some((counts, key)) => counts.u(key, fields::PRIOR_U[f][0]),
            None => u[f][level],
        }
    }

    /// The weight of each field the query and the record both give:
    /// `log2(m / u)` at the level reached.
    fn field_weights(&self, query: &Facts, record: &Facts) -> Vec<FieldWeight> {
        self.levels(query, record)
            .iter()
            .enumerate()
            .filter_map(|(f, l)| {
                let (level, u) = (*l)?;
                Some(FieldWeight {
                    field: FIELDS[f],
                    level: FIELDS[f].levels()[level],
                    weight: fields::weight(self.m[f][level], u),
                })
            })
            .collect()
    }

    /// The levels of the parents' names (the last two of
    /// [`fields::FIELDS`]) between a query's (`asked`, names 0 and 1 of
    /// `memo`, which remembers them) and those of the record in `slot`: the
    /// levels [`fields::compare`] finds from the record's fields, without
    /// reading them.
    fn parent_levels(&self, asked: [&[Token]; 2], slot: &Slot, memo: &mut NameMemo) -> [Option<u8>; 6] {
        let mut levels = [None; 6];
        for (k, (name, &number)) in asked.into_iter().zip(&slot.parents).enumerate() {
            if !name.is_empty() && number != NO_NAME {
                let (forward, reverse) = memo.both(k, name, number, &self.parents);
                levels[4 + k] = Some(fields::level_of(forward.max(reverse)));
            }
        }
        levels
    }

    /// The weights of fields already compared ([`fields::compare`]:
    /// the same levels whichever side asks), with the `u` of `query`'s
    /// values: the positive weights and the negative ones apart.
    fn weigh(&self, query: &Facts, levels: &[Option<u8>; 6]) -> (f64, f64) {
        let weights = levels
            .iter()
            .enumerate()
            .filter_map(|(f, l)| Some(self.level_weight(f, usize::from((*l)?), query)));
        split_sum(weights)
    }

    /// The weight of field `f` (in the order of [`fields::FIELDS`]) at
    /// `level`, with the `u` of `query`'s value where an agreeing value is
    /// counted: `log2(m / u)`.
    pub(crate) fn level_weight(&self, f: usize, level: usize, query: &Facts) -> f64 {
        fields::weight(self.m[f][level], self.level_u(f, level, query, self.u()))
    }

    /// The level of each field and its `u`, for estimating `m`.
    fn pair_levels(&self, query: &Facts, slot: u32) -> ([Option<u8>; 6], [f64; 6]) {
        let (mut levels, mut u) = ([None; 6], [1.0; 6]);
        for (f, l) in self.levels(query, &self.facts[slot as usize]).iter().enumerate() {
            if let Some((level, uf)) = l {
                levels[f] = Some(*level as u8);
                u[f] = *uf;
            }
        }
        (levels, u)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there is no record.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// True when a record with this identifier is registered.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.slot(id).is_some()
    }

    /// The records a query's blocking keys propose, at most
    /// [`MAX_SCORED`] of them.
    ///
    /// A record meets a word of the query when one of its words shares a
    /// key with it ([`token_keys`]), and meets the whole query when one of
    /// its names written as one does ([`joined_skeleton`]). A word of a
    /// later name of the query that repeats one of an earlier name (the
    /// same name in the other script or another spelling: [`same_word`])
    /// is that word again, not another. A key shared by
    /// more than [`FREQUENT`] records (the skeleton of Mohammad in a large
    /// registry) proposes nobody on its own: a record it yields is kept
    /// only when it also meets a second word of the query, or a rare key.
    /// When more records qualify than can be scored, those meeting the most
    /// words of the query go first, then those whose birth date and sex are
    /// nearest the query's (`facts`; see [`fields::nearness`]), then those
    /// meeting the most keys: in a registry of millions a common name is
    /// shared by more people than can be scored, and the person sought must
    /// not be left out by the order of registration.
    ///
    /// The keys are looked up among the distinct registered words
    /// ([`Vocabulary`]), so that which words of the query each registered
    /// word meets is worked out once, not once per record using it. Then
    /// only the records of some words are read: those met by a rare key,
    /// and, when two words of the query must be met, those of every word
    /// of the query but the one whose words the most records use (each
    /// record that meets two words meets one of the others). In a registry
    /// of a million, a query for Mohammad and a rarer family name reads the
    /// family name's records and not Mohammad's hundred thousand.
    fn block(&self, query: &[Vec<Token>], facts: &Facts) -> Vec<u32> {
        let vocabulary = &self.words;
        let mut scratch = self.scratch.take();
        let Scratch {
            reach,
            reached,
            met,
            sorting,
            unread,
        } = &mut scratch;
        if reach.len() < vocabulary.words.len() {
            reach.resize(vocabulary.words.len(), Hit::default());
        }
        let mut word = 0u32;
        let mut whole = Vec::new();
        // The words of the names before this one: their keys, skeleton and bit.
        let mut earlier: Vec<(HashSet<String>, &str, u32)> = Vec::new();
        let mut this_name: Vec<(HashSet<String>, &str, u32)> = Vec::new();
        for name in query {
            for t in name {
                let mut keys = HashSet::new();
                token_keys(t, &mut keys);
                if keys.is_empty() {
                    continue;
                }
                let bit = match same_word(&earlier, &this_name, &keys, &t.skeleton) {
                    Some(bit) => bit,
                    None => {
                        word += 1;
                        1u32 << (word - 1).min(30)
                    }
                };
                for key in &keys {
                    let Some((found, records)) = vocabulary.with_key(key) else {
                        continue;
                    };
                    let rare = records as usize <= FREQUENT;
                    for &w in found {
                        let h = &mut reach[w as usize];
                        if h.keys == 0 {
                            reached.push(w);
                        }
                        h.words |= bit;
                        h.keys = h.keys.saturating_add(1);
                        h.rare |= rare;
                    }
                }
                this_name.push((keys, &t.skeleton, bit));
            }
            earlier.append(&mut this_name);
            let joined = joined_skeleton(name);
            if !joined.is_empty() {
                whole.push(joined);
            }
        }
        let words = word.clamp(1, 2);
        // Which words of the query to read the records of (see above).
        let mut read = u32::MAX;
        if words == 2 {
            let mut users = [0usize; 31];
            for &w in reached.iter() {
                let n = vocabulary.words[w as usize].1 as usize;
                let mut bits = reach[w as usize].words;
                while bits != 0 {
                    users[bits.trailing_zeros() as usize] += n;
                    bits &= bits - 1;
                }
            }
            let commonest = (0..users.len()).max_by_key(|&b| users[b]).unwrap_or(0);
            read = !(1u32 << commonest);
        }
        // The records met, gathered and sorted rather than counted in an
        // array by record: tens of thousands of records met in a registry of
        // a million each cost a miss of the processor's cache there, where
        // a radix sort reads in order and writes to a few thousand places
        // in order.
        const WHOLE: u64 = u32::MAX as u64;
        for (n, &w) in reached.iter().enumerate() {
            let r = reach[w as usize];
            if r.rare || r.words & read != 0 {
                met.extend(
                    vocabulary.records[w as usize]
                        .iter()
                        .map(|&i| u64::from(i) << 32 | n as u64),
                );
            }
        }
        for key in &whole {
            if let Some(ids) = self.whole.get(key) {
                met.extend(ids.iter().map(|&i| u64::from(i) << 32 | WHOLE));
            }
        }
        sort_by_slot(met, sorting);
        // The records of the word not read, marked with the keys they
        // meet: reading its lists in order and counting in cache costs less
        // than looking up the words of each record met so far.
        let marked = read != u32::MAX && !met.is_empty();
        if marked {
            if unread.len() < self.facts.len() {
                unread.resize(self.facts.len(), 0);
            }
            for &w in reached.iter() {
                let r = reach[w as usize];
                if r.words & read == 0 && !r.rare {
                    let keys = u8::try_from(r.keys).unwrap_or(u8::MAX);
                    for &i in &vocabulary.records[w as usize] {
                        let u = &mut unread[i as usize];
                        *u = u.saturating_add(keys);
                    }
                }
            }
        }
        let mut found: Vec<(u32, u32, u16)> = Vec::new();
        for run in met.chunk_by(|a, b| a >> 32 == b >> 32) {
            let i = (run[0] >> 32) as u32;
            if !self.alive[i as usize] {
                continue;
            }
            let mut h = Hit::default();
            for &entry in run {
                let r = match entry & WHOLE {
                    // The whole name: as good as every word at once.
                    WHOLE => Hit {
                        words: u32::MAX,
                        keys: 1,
                        rare: false,
                    },
                    n => reach[reached[n as usize] as usize],
                };
                h.words |= r.words;
                h.keys = h.keys.saturating_add(r.keys);
                h.rare |= r.rare;
            }
            if marked && unread[i as usize] > 0 {
                h.words |= !read;
                h.keys = h.keys.saturating_add(u16::from(unread[i as usize]));
            }
            let count = h.words.count_ones();
            if h.rare || count >= words {
                found.push((i, count, h.keys));
            }
        }
        met.clear();
        for &w in reached.iter() {
            reach[w as usize] = Hit::default();
        }
        reached.clear();
        if marked {
            unread.fill(0);
        }
        self.scratch.give(scratch);
        if found.len() > MAX_SCORED {
            let asked = facts.near();
            let near = |i: u32| fields::nearness(asked, self.slots[i as usize].near);
            let mut ranked: Vec<(u32, u32, u8, u16)> = found
                .into_iter()
                .map(|(i, met, keys)| (i, met, near(i), keys))
                .collect();
            // Only which are kept matters (they are sorted by score next),
            // and the order is total: partitioning finds the same ones as
            // sorting, in linear time.
            ranked.select_nth_unstable_by(MAX_SCORED - 1, |a, b| {
                b.1.cmp(&a.1)
                    .then(a.2.cmp(&b.2))
                    .then(b.3.cmp(&a.3))
                    .then(a.0.cmp(&b.0))
            });
            ranked.truncate(MAX_SCORED);
            return ranked.into_iter().map(|(i, ..)| i).collect();
        }
        found.into_iter().map(|(i, _, _)| i).collect()
    }

    /// Other spellings of one word among the registered names, in any
    /// script (for "masoud": massoud, mas'ud written masud, مسعود), most
    /// similar first, then most used; at most `top`, none below
    /// [`SPELLING_FLOOR`]. Empty unless `word` is one word (particles
    /// aside). Costs the same for the commonest name as for a rare one: it
    /// looks at distinct words, not at the records that use them.
    pub fn spellings(&self, word: &str, top: usize) -> Vec<Spelling> {
        let query: Vec<Token> = tokens(word).into_iter().filter(|t| !t.particle).collect();
        let [q] = query.as_slice() else {
            return Vec::new();
        };
        let mut keys = HashSet::new();
        token_keys(q, &mut keys);
        let mut slots: Vec<u32> = keys
            .iter()
            .filter_map(|k| self.words.with_key(k))
            .flat_map(|(words, _)| words)
            .copied()
            .collect();
        slots.sort_unstable();
        slots.dedup();
        let mut found: Vec<Spelling> = slots
            .into_iter()
            .map(|slot| &self.words.words[slot as usize])
            .filter(|(t, n)| *n > 0 && t.text != q.text)
            .map(|(t, n)| Spelling {
                text: t.text.clone(),
                records: *n,
                similarity: token_similarity(q, t),
            })
            .filter(|s| s.similarity >= SPELLING_FLOOR)
            .collect();
        found.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(b.records.cmp(&a.records))
                .then_with(|| a.text.cmp(&b.text))
        });
        found.truncate(top);
        found
    }

    /// The best `top` candidates for a query with these names.
    pub fn search(&self, names: &[&str], top: usize) -> Vec<Candidate> {
        self.search_with(names, &Details::default(), top)
    }

    /// The best `top` candidates for a query with these names and fields:
    /// the names' probability, moved by the weight of every field both
    /// sides give.
    pub fn search_with(&self, names: &[&str], details: &Details, top: usize) -> Vec<Candidate> {
        self.scored(names, details, top).into_iter().map(|(_, c)| c).collect()
    }

    /// The best `top` candidates the blocking proposes, with their slots.
    fn scored(&self, names: &[&str], details: &Details, top: usize) -> Vec<(u32, Candidate)> {
        let query: Vec<Vec<Token>> = names.iter().map(|n| tokens(n)).filter(|t| !t.is_empty()).collect();
        self.scored_parsed(&query, &Facts::new(details), top)
    }

    /// The ids of the live records, in the order they were added.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        (0..self.alive.len() as u32)
            .filter(|&slot| self.alive[slot as usize])
            .map(|slot| self.ids.get(slot))
    }

    /// [`Matcher::scored`] for a query already parsed.
    fn scored_parsed(&self, query: &[Vec<Token>], facts: &Facts, top: usize) -> Vec<(u32, Candidate)> {
        let mut words = self.word_memos.take();
        let mut memo = NameMemo::new(query.iter().map(Vec::as_slice), &mut words);
        let with_fields = !facts.is_empty();
        let asked = facts.near();
        // Each with its order key (see `Slot::order`), so that sorting
        // reads no record.
        let blocked = self.block(query, facts);
        // Each candidate's names, read first in a pass of their own: the
        // reads (from all over memory) do not wait on one another there,
        // and the processor overlaps them, where between comparisons each
        // would wait in turn.
        let mut starts: Vec<usize> = Vec::with_capacity(blocked.len() + 1);
        let mut ids: Vec<u32> = Vec::with_capacity(blocked.len() * 2);
        for &i in &blocked {
            starts.push(ids.len());
            ids.extend_from_slice(self.name_ids_of(i));
        }
        starts.push(ids.len());
        let mut scored: Vec<(u32, f64, u8, u128)> = blocked
            .into_iter()
            .enumerate()
            .map(|(k, i)| {
                let slot = &self.slots[i as usize];
                let mut score = 0.0f64;
                let own = &ids[starts[k]..starts[k + 1]];
                for (qi, q) in query.iter().enumerate() {
                    for &n in own {
                        score = score.max(memo.similarity(qi, q, n, &self.names));
                    }
                }
                let near = if with_fields {
                    fields::nearness(asked, slot.near)
                } else {
                    0
                };
                (i, score, near, slot.order)
            })
            .collect();
        drop(memo);
        self.word_memos.give(words);
        let id = |i: u32| self.ids.get(i);
        // Equal scores (namesakes tie by the thousand, and at most
        // MAX_FIELDS_SCORED of them are compared field by field) those born
        // nearest the query's date first, then in the order of the ids:
        // their first bytes first, the whole ids only when those are equal.
        // Ids are unique, so the order is total and an unstable sort gives
        // the one result.
        let by_order = |a: (u32, u128), b: (u32, u128)| a.1.cmp(&b.1).then_with(|| id(a.0).cmp(id(b.0)));
        let by_id = |a: u32, b: u32| by_order((a, self.slots[a as usize].order), (b, self.slots[b as usize].order));
        scored.sort_unstable_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(a.2.cmp(&b.2))
                .then_with(|| by_order((a.0, a.3), (b.0, b.3)))
        });
        let first = scored.first().map_or(0.0, |c| c.1);
        let second = scored.get(1).map_or(0.0, |c| c.1);
        // The most the query's fields can add: a candidate whose names'
        // probability, even with that, cannot reach the best `top` found so
        // far is not compared field by field. Names' probabilities fall with
        // the score (past the first), so neither can any after it.
        let most = if with_fields { self.max_weights(facts) } else { [0.0; 6] };
        let ceiling: f64 = most.iter().sum();
        let parents_most = most[4] + most[5];
        // Sex and birth date are read from the slot, beside the order key:
        // with them a candidate's bound is its own on those two fields and
        // the most on the others, which rules out most namesakes born years
        // apart before their records are read.
        let near = if with_fields {
            self.near_weights(facts)
        } else {
            [[0.0; LEVELS]; 2]
        };
        let others_most = most[2] + most[3] + parents_most;
        // The query's place and nationality with their key numbers, and
        // the levels met so far by text number.
        let asked_values = [
            (facts.place.as_deref(), self.values.key_of(facts.place.as_deref())),
            (
                facts.nationality.as_deref(),
                self.values.key_of(facts.nationality.as_deref()),
            ),
        ];
        let mut value_memo: [HashMap<u32, u8, BuildSlot>; 2] = Default::default();
        // The query's parents, their distinct registered names and words
        // each compared once.
        let asked_parents = facts.parents();
        let mut parent_words = self.word_memos.take();
        let mut parents_memo = NameMemo::new(asked_parents, &mut parent_words);
        let mut best: Vec<f64> = Vec::with_capacity(top + 1);
        let mut out: Vec<(u32, Candidate)> = Vec::new();
        // Sorted by score: those within 0.02 of a candidate lie around it.
        let (mut lo, mut hi) = (0, 0);
        for (i, &(slot, score, ..)) in scored.iter().enumerate() {
            let names = calibrate(score, margin(score, first, second));
            if !with_fields && out.len() >= top {
                break;
            }
            if with_fields
                && (best.len() >= top && fields::combine(names, ceiling, 0.0, 0) <= best[top - 1]
                    || i >= MAX_FIELDS_SCORED)
            {
                break;
            }
            while scored[lo].1 > score + NAMESAKE {
                lo += 1;
            }
            while hi < scored.len() && scored[hi].1 >= score - NAMESAKE {
                hi += 1;
            }
            let mut c = Candidate {
                // Set below for those kept.
                id: String::new(),
                score,
                weight: 0.0,
                against: 0.0,
                names,
                namesakes: (hi - lo - 1) as u32,
                probability: names,
            };
            if with_fields {
                if best.len() >= top {
                    let levels = fields::near_levels(asked, self.slots[slot as usize].near);
                    let weights = levels
                        .iter()
                        .zip(&near)
                        .filter_map(|(l, w)| Some(w[usize::from((*l)?)]));
                    let (pos, neg) = split_sum(weights);
                    if fields::combine(names, pos + others_most, neg, c.namesakes) <= best[top - 1] {
                        continue;
                    }
                }
                let levels = self.cheap_levels(facts, &asked_values, &self.slots[slot as usize], &mut value_memo);
                let (pos, neg) = self.weigh(facts, &levels);
                // The parents' names cost most to compare: only when they
                // could still bring the candidate among the best.
                if best.len() >= top && fields::combine(names, pos + parents_most, neg, c.namesakes) <= best[top - 1] {
                    continue;
                }
                let levels = self.parent_levels(asked_parents, &self.slots[slot as usize], &mut parents_memo);
                let (ppos, pneg) = self.weigh(facts, &levels);
                c.against = neg + pneg;
                c.weight = pos + ppos + c.against;
                c.probability = fields::combine(c.names, pos + ppos, c.against, c.namesakes);
                let at = best.partition_point(|p| *p >= c.probability);
                best.insert(at, c.probability);
                best.truncate(top);
            }
            out.push((slot, c));
        }
        drop(parents_memo);
        self.word_memos.give(parent_words);
        if with_fields {
            out.sort_by(|(sa, a), (sb, b)| {
                b.probability
                    .total_cmp(&a.probability)
                    .then(b.score.total_cmp(&a.score))
                    .then_with(|| by_id(*sa, *sb))
            });
        }
        out.truncate(top);
        for (slot, c) in &mut out {
            c.id = id(*slot).to_string();
        }
        out
    }

    /// The most weight a record could get from the fields this query
    /// gives: each field at its best level (an agreeing place or
    /// nationality with the `u` of the query's own value).
    fn max_weights(&self, query: &Facts) -> [f64; 6] {
        let u = self.u();
        let levels = fields::compare(query, query);
        let mut most = [0.0; 6];
        for (f, level) in levels.iter().enumerate() {
            if level.is_none() {
                continue;
            }
            let field = FIELDS[f];
            let best = (0..field.levels().len())
                .map(|l| fields::weight(self.m[f][l], self.level_u(f, l, query, u)))
                .fold(f64::MIN, f64::max);
            most[f] = best.max(0.0);
        }
        most
    }

    /// The levels of the fields but the parents' names (see
    /// [`Matcher::parent_levels`]) between a query (`facts`, its place and
    /// nationality with their key numbers in `values`) and a record's slot:
    /// the same levels as [`fields::compare`] finds from the record's
    /// fields, without reading them. `memo` keeps the levels of value
    /// texts met.
    fn cheap_levels(
        &self,
        facts: &Facts,
        values: &[(Option<&fields::Value>, u32); 2],
        slot: &Slot,
        memo: &mut [HashMap<u32, u8, BuildSlot>; 2],
    ) -> [Option<u8>; 6] {
        let [sex, birth] = fields::near_levels(facts.near(), slot.near);
        let mut levels = [sex, birth, None, None, None, None];
        for (i, ((asked, key), own)) in values.iter().zip(&slot.values).enumerate() {
            let Some(asked) = asked else { continue };
            if own.key == 0 {
                continue;
            }
            levels[2 + i] = Some(if own.key == *key {
                0
            } else {
                *memo[i]
                    .entry(own.text)
                    .or_insert_with(|| fields::similarity_level(&asked.tokens, self.values.words(own.text)))
            });
        }
        levels
    }

    /// The weight of each level of sex and birth date (the first two
    /// fields of [`fields::FIELDS`]) for this query, as
    /// [`Matcher::level_weight`] gives it.
    fn near_weights(&self, query: &Facts) -> [[f64; LEVELS]; 2] {
        let mut out = [[0.0; LEVELS]; 2];
        for (f, row) in out.iter_mut().enumerate() {
            for (level, w) in row.iter_mut().enumerate().take(FIELDS[f].levels().len()) {
                *w = self.level_weight(f, level, query);
            }
        }
        out
    }

    /// The level of each field between a query and a record (`None` when
    /// either lacks it, or the record is unknown), for fitting `m`.
    pub fn levels_of(&self, details: &Details, id: &str) -> Option<[Option<u8>; 6]> {
        let slot = self.ids.slot(id)?;
        Some(fields::compare(&Facts::new(details), &self.facts[slot as usize]))
    }

    /// The candidate pairs of these queries (their best `top`) as
    /// [`fields::estimate_m`] needs them, the names' probability as prior.
    pub fn pairs(&self, queries: &[(Vec<&str>, Details)], top: usize) -> Vec<fields::Pair> {
        let mut pairs = Vec::new();
        for (names, details) in queries {
            let facts = Facts::new(details);
            if facts.is_empty() {
                continue;
            }
            for (slot, c) in self.scored(names, details, top) {
                let (levels, u) = self.pair_levels(&facts, slot);
                pairs.push(fields::Pair {
                    prior: fields::combine(c.names, 0.0, 0.0, c.namesakes),
                    levels,
                    u,
                });
            }
        }
        pairs
    }
}

/// How close two candidates' name scores must be for them to count as
/// namesakes of each other.
const NAMESAKE: f64 = 0.02;

/// The most candidates whose other fields are compared, best by name first.
pub const MAX_FIELDS_SCORED: usize = 2_000;

/// A candidate's margin (see [`calibrate`]): how far its score stands above
/// the best other candidate's, given the query's best score `first` and
/// second best `second`. The best is measured from at least 0.85
/// (`MARGIN_FLOOR`; never from above its own score, so that no candidate
/// stands higher than the best): a query whose blocking proposed no other
/// name, or only unlike ones, is not therefore sure of the one it found
/// (Yuko met only Yannick, 0.63, and was given 0.999).
pub fn margin(score: f64, first: f64, second: f64) -> f64 {
    if score >= first {
        score - second.max(MARGIN_FLOOR.min(score))
    } else {
        score - first
    }
}

/// The least score a first candidate's margin is measured from. A first
/// candidate with no rival at all, scoring 0.9 to 0.97, was right three
/// to four times in five on the `*.fit` sets, and people not registered
/// met such candidates as often: measured from 0.6 they were given 0.97
/// to 0.99, and most false alarms were theirs. Measured from 0.85 they
/// stay under 0.5 and a lone exact name is given 0.79 (chosen on the
/// `*.fit` sets: false alarms per 1,000 fell from 17–107 to 5–21, ECE
/// rose from 0.058 to 0.066 on Latin variants and held on the others;
/// 0.9 brought 2–8 false alarms, ECE 0.075, and capped every names-only
/// probability at 0.56).
const MARGIN_FLOOR: f64 = 0.85;

/// The calibrated probability of a candidate with this score and margin.
pub fn calibrate(score: f64, margin: f64) -> f64 {
    1.0 / (1.0 + (-(CAL_A * score + CAL_B * margin + CAL_C)).exp())
}

/// The similarity of two words of one script the name dictionary knows
/// as one name (at least): short of the same spelling. Within one script
/// the letters already say most of it, and the dictionary's wider groups
/// (Itoh and Ito, Cheng and Cheung) would raise false alarms there.
const SAME_NAME: f64 = 0.95;

/// The similarity of two words of two scripts the name dictionary knows as
/// one name (at least): as good as the same consonants and vowels, short
/// only of them with the same letters. Across scripts the skeletons of two
/// different names are often alike, the more so as a word reads several
/// ways (Guillaume's consonants are غلام's, Gustave's كوستا's), while a
/// name the dictionary pairs is that name in the other script (ويليام,
/// غوستاف): at 0.95 those two met their namesakes at 0.997 and more and
/// came second. Chosen on the sets built from the `*.fit` files: recall@1
/// across scripts 0.843, 0.815, 0.800 at 0.95 to 0.845, 0.818, 0.802 at
/// 0.98, 0.847, 0.820, 0.804 at 0.995, 0.853, 0.834, 0.808 at 0.998 and
/// 0.877, 0.864, 0.821 at 0.9999 (0.876, 0.865, 0.819 at 1), recall@10
/// 0.955, 0.946, 0.927 to 0.959, 0.954, 0.930, false alarms unchanged,
/// ECE up by 0.003 to 0.006 (the names' calibration was fitted before).
const SAME_NAME_ACROSS: f64 = 0.9999;

/// The share of a cross-script word similarity given to the written
/// vowels ([`keys::sounds`]): small, so that it orders candidates whose
/// skeletons compare alike without moving a score across the calibration.
const VOWELS: f64 = 0.02;

/// What a cross-script word similarity loses for each consonant (as a
/// share of them) that the Arabic-script word writes with a letter Latin
/// spellings do not usually write it with (`keys::unusual_letters`):
/// enough to break the skeleton's ties (Kieran meets کیران and غیران
/// alike, both `KRN`), too little to move a score across the calibration.
/// Chosen on the sets built from the `*.fit` files: recall@1 0.839, 0.811,
/// 0.795 (arabic-to-latin, latin-to-arabic, google-ar2en) to 0.840, 0.813,
/// 0.797 at 0.001, recall@10 and ECE unchanged; 0.002 to 0.01 gained no
/// more and raised ECE.
const UNUSUAL_LETTERS: f64 = 0.001;

/// How alike the [`keys::sounds`] of a Latin-script word and an
/// Arabic-script word are, 0 to 1. When their consonants are the same, a
/// vowel the Latin spelling writes where the Arabic script writes none is
/// left out before comparing (Arabic script leaves short vowels out:
/// Masoud and مسعود sound alike), except after the last consonant, where
/// Arabic script writes the vowel a word ends with (Annie is nearer آنی
/// than آن; a final ه, `e`, stands for any). Jaro–Winkler over what
/// remains, less [`UNWRITTEN`] for each vowel left out: of the spellings
/// of حمدی, Hamdi writes fewer vowels the Arabic script leaves out than
/// Hamidi or Ahmadi, and is the likelier reading of it.
fn sounds_similarity(latin: &[u8], arabic: &[u8]) -> f64 {
    let consonant = |c: &u8| !matches!(c, b'a' | b'i' | b'u' | b'e');
    let mut kept = [0u8; MAX_JOINED];
    if latin.len() > MAX_JOINED
        || !latin
            .iter()
            .filter(|c| consonant(c))
            .eq(arabic.iter().filter(|c| consonant(c)))
    {
        return jaro_winkler_bytes(latin, arabic);
    }
    // Places: the vowels before the first consonant, then after each (the
    // consonant closing each place but the last is the next one).
    let places = arabic.split(consonant).count();
    let mut closing = arabic.iter().filter(|c| consonant(c));
    let (mut length, mut left_out) = (0, 0);
    for (place, (vowels, written)) in latin.split(consonant).zip(arabic.split(consonant)).enumerate() {
        if written == b"e" && !vowels.is_empty() {
            // A final ه writes whichever vowel the Latin spelling ends with.
            kept[length] = b'e';
            length += 1;
        } else if !written.is_empty() || place + 1 == places {
            kept[length..length + vowels.len()].copy_from_slice(vowels);
            length += vowels.len();
        } else {
            left_out += vowels.len();
        }
        if let Some(&c) = closing.next() {
            kept[length] = c;
            length += 1;
        }
    }
    (jaro_winkler_bytes(&kept[..length], arabic) - UNWRITTEN * left_out as f64).max(0.0)
}

/// What each vowel a Latin spelling writes and the Arabic script leaves
/// out costs in [`sounds_similarity`]: enough to order spellings of one
/// skeleton, no more (chosen on the `*.fit` sets, from 0.0005 to 0.2:
/// recall@1 across scripts 0.791, 0.752, 0.753 with none; 0.811, 0.790,
/// 0.775 with 0.02; 0.796, 0.750, 0.751 with 0.2).
const UNWRITTEN: f64 = 0.02;

/// The share of a word's similarity to another of its script that their
/// [`keys::sounds`] make: the consonants' classes with the vowels as the
/// Arabic script would write them (e, i and y one vowel; o, u, v and w
/// another; doubled letters once). Spelling alone finds Umar as near Mar
/// as Omar, and Meer as near Mar as Mir; their sounds tell them apart.
/// Chosen on the latin-variants set built from the `*.fit` files
/// (recall@1 0.742 with none; 0.752, 0.769, 0.784, 0.792, 0.801 and 0.808
/// at 0.02, 0.1, 0.2, 0.3, 0.4 and 0.5, where recall@10 fell from 0.955 to
/// 0.952 and precision from 0.997 to 0.991; false alarms 16.5 from 0.1 on)
/// and the record-level set built from them (false alarms 34 to 31 per
/// 1,000 from 0.3 on, recall@1 0.963–0.964 throughout). A reading's
/// sounds then counted as its respelling does (`READ_SPELLING`): 0.801 to
/// 0.808 at 0.4.
const SAME_SOUNDS: f64 = 0.4;

/// Similarity of two tokens, 0 to 1.
fn token_similarity(a: &Token, b: &Token) -> f64 {
    // What `compared_words` gives one word with itself, spared.
    if !a.skeleton.is_empty() && a.same_word(b) {
        return 1.0;
    }
    compared_words(a, b)
}

/// [`token_similarity`] worked out.
fn compared_words(a: &Token, b: &Token) -> f64 {
    let skeleton = if a.skeleton.is_empty() || b.skeleton.is_empty() {
        0.0
    } else {
        jaro_winkler_bytes(a.skeleton.as_bytes(), b.skeleton.as_bytes())
    };
    // Same script: the spelling itself is evidence too (the skeleton drops
    // vowels, which tell Mina from Mona).
    let similarity = if a.arabic == b.arabic {
        // A word with as many characters as bytes is ASCII (most Latin
        // names): its bytes are compared many at once.
        let spelling = if a.chars.len() == a.text.len() && b.chars.len() == b.text.len() {
            jaro_winkler_bytes(a.text.as_bytes(), b.text.as_bytes())
        } else {
            jaro_winkler_letters(&a.chars, &b.chars)
        };
        let mut sounded = jaro_winkler_bytes(&a.sounds, &b.sounds);
        // A word read another way (`keys::other_readings`) meets the
        // spellings of that reading in its own script too: Riadh and Riad,
        // Gomaa and Jomaa, one name as North African or Egyptian and as
        // other spellings write it. The best of the readings counts, its
        // skeleton and, at a small discount (`READ_SPELLING`), its
        // respelling and sounds (Christian read as Kristian); the two own
        // skeletons, spellings and sounds are compared above.
        let (mut skeleton, mut spelling) = (skeleton, spelling);
        if !a.others.is_empty() || !b.others.is_empty() {
            for (x, x_sounds, x_chars) in a.spellings() {
                for (y, y_sounds, y_chars) in b.spellings() {
                    if x != a.skeleton.as_bytes() || y != b.skeleton.as_bytes() {
                        skeleton = skeleton.max(jaro_winkler_bytes(x, y));
                        // Only where the reading makes the consonants the
                        // same (Christian read as Kristian): that is what a
                        // respelling adds, and comparing every pair's
                        // letters slowed deduplication by a twentieth.
                        if x == y {
                            spelling = spelling.max(READ_SPELLING * jaro_winkler_letters(x_chars, y_chars));
                            sounded = sounded.max(READ_SPELLING * jaro_winkler_bytes(x_sounds, y_sounds));
                        }
                    }
                }
            }
        }
        let written = skeleton.min(1.0) * 0.5 + spelling * 0.5;
        written * (1.0 - SAME_SOUNDS) + SAME_SOUNDS * sounded
    } else {
        // Across scripts the skeleton decides; the vowels written mostly
        // order words of one skeleton. A word read another way too
        // (`keys::other_readings`) is compared in each reading, skeleton
        // and sounds together, and the best counts. The two own readings
        // are compared once, with their letters (a reading has none).
        let (latin, arabic) = if a.arabic { (b, a) } else { (a, b) };
        let one = skeleton * (1.0 - VOWELS) + VOWELS * sounds_similarity(&latin.sounds, &arabic.sounds)
            - UNUSUAL_LETTERS * keys::unusual_letters(latin, arabic);
        if latin.others.is_empty() && arabic.others.is_empty() {
            one
        } else {
            let mut best = one;
            for (x, x_sounds) in latin.readings() {
                for (y, y_sounds) in arabic.readings() {
                    if x == latin.skeleton.as_bytes() && y == arabic.skeleton.as_bytes() {
                        continue;
                    }
                    let read =
                        jaro_winkler_bytes(x, y) * (1.0 - VOWELS) + VOWELS * sounds_similarity(x_sounds, y_sounds);
                    best = best.max(read);
                }
            }
            best
        }
    };
    if a.same_name(b) {
        let known = similarity.max(if a.arabic == b.arabic {
            SAME_NAME
        } else {
            SAME_NAME_ACROSS
        });
        known + DICT_TIE * (1.0 - known)
    } else {
        similarity
    }
}

/// How much of what two words the name dictionary knows as one name lack
/// of 1 they gain by it, past [`SAME_NAME`] (or [`SAME_NAME_ACROSS`]):
/// the dictionary then orders spellings its letters cannot (Muhannad is
/// مهند, not محند; h is ح or ه). Chosen on the sets built from the `*.fit` files: recall@1 across
/// scripts 0.821, 0.799, 0.785 with none to 0.834, 0.807, 0.792 at 0.1,
/// 0.840, 0.814, 0.795 at 0.3 and 0.845, 0.822, 0.798 at 0.5, where
/// latin-variants' false alarms rose from 16.5 to 24.7 and 28.8 per 1,000
/// (at 0.1 they did not move).
const DICT_TIE: f64 = 0.1;

/// Similarity of two names: each word of the query aligned with the best
/// unused word of the candidate, whatever their order, weighted by length;
/// or the whole names joined, whichever is higher. Particles weigh little;
/// words the query does not give are no evidence either way.
pub fn name_similarity(query: &[Token], candidate: &[Token]) -> f64 {
    let (aligned, joined) = align(query, candidate, None);
    combined(aligned, joined)
}

/// A name's score from its two comparisons (see [`align`]): the higher,
/// with a small share of the word-by-word one. The joined skeletons drop
/// what the spelling says within one script, so every registered word of
/// the query's skeleton met it alike (ohba, hope and oba all h-b) and the
/// first registered came first; the words' own comparison now orders them.
/// An exact name still scores 1; others move by less than [`SPELLING`].
fn combined(aligned: f64, joined: f64) -> f64 {
    (aligned.max(joined) + SPELLING * aligned) / (1.0 + SPELLING)
}

/// The word-by-word comparison's share in [`combined`]: small, so that it
/// orders names without moving a score across the calibration (0.03 and
/// 0.1 did the same on the names-only development sets; 0.03 moved the
/// record-level set least).
const SPELLING: f64 = 0.03;

/// The most words of a name compared, and characters of a joined name: a
/// name is never that long, and comparisons then need no allocation.
const MAX_WORDS: usize = 64;
/// See [`MAX_WORDS`].
const MAX_JOINED: usize = 96;

/// The word-by-word alignment behind [`name_similarity`]: the weighted mean
/// of the words' similarities, and the similarity of the two names joined
/// into one word each. With `words`, also records for each query word the
/// candidate word it met and how closely.
fn align(query: &[Token], candidate: &[Token], words: Option<&mut Vec<(Option<usize>, f64)>>) -> (f64, f64) {
    align_with(query, candidate, words, &mut |w, c| token_similarity(&query[w], c))
}

/// [`align`] with the words' similarities from `similarity` (the query's
/// word number and a candidate's word), which may remember them.
fn align_with<'a>(
    query: &[Token],
    candidate: &'a [Token],
    words: Option<&mut Vec<(Option<usize>, f64)>>,
    similarity: &mut dyn FnMut(usize, &'a Token) -> f64,
) -> (f64, f64) {
    let (mut query_joined, mut candidate_joined) = ([0u8; MAX_JOINED], [0u8; MAX_JOINED]);
    let query_length = joined_chars(query, &mut query_joined);
    let candidate_length = joined_chars(candidate, &mut candidate_joined);
    let (mut query_letters, mut candidate_letters) = (['\0'; MAX_JOINED], ['\0'; MAX_JOINED]);
    let (query_letters_length, query_script) = joined_letters(query, &mut query_letters);
    let (candidate_letters_length, candidate_script) = joined_letters(candidate, &mut candidate_letters);
    let parts = Parts {
        query_joined: &query_joined[..query_length],
        candidate_words: candidate.len(),
        candidate_joined: &candidate_joined[..candidate_length],
        letters: query_script.is_some_and(|q| candidate_script == Some(q)).then(|| {
            (
                &query_letters[..query_letters_length],
                &candidate_letters[..candidate_letters_length],
            )
        }),
    };
    align_parts(query, parts, words, &mut |w, i| similarity(w, &candidate[i]))
}

/// What [`align_parts`] reads of the two names besides the query's words:
/// the joined skeletons ([`joined_chars`]), the candidate's number of
/// words, and, when both names are written in one script, their letters
/// joined ([`joined_letters`]).
struct Parts<'a> {
    query_joined: &'a [u8],
    candidate_words: usize,
    candidate_joined: &'a [u8],
    letters: Option<(&'a [char], &'a [char])>,
}

/// [`align`] of the query and a candidate given by its [`Parts`], the
/// similarity of query word `w` and candidate word `i` from
/// `similarity(w, i)`. The names joined into one word each are compared by
/// their letters when both are written in one script (the consonants
/// alone made Zhi and Zezé, Fox and Fakhri, near alike), by their
/// skeletons across scripts. The joined similarity is compared only when
/// it could exceed the aligned one (see [`jaro_winkler_bound`]), and is 0
/// otherwise: [`combined`] takes the larger, and so comes out the same.
fn align_parts(
    query: &[Token],
    parts: Parts,
    words: Option<&mut Vec<(Option<usize>, f64)>>,
    similarity: &mut dyn FnMut(usize, usize) -> f64,
) -> (f64, f64) {
    let aligned = aligned_words(query, parts.candidate_words, words, similarity);
    (aligned, parts.joined(aligned))
}

/// The word-by-word half of [`align_parts`]: each word of the query (in
/// order) takes the best unused of the candidate's `candidate_words`
/// words, by `similarity(query word, candidate word)`; the mean of their
/// similarities weighted by the query words' lengths (particles little).
fn aligned_words(
    query: &[Token],
    candidate_words: usize,
    mut words: Option<&mut Vec<(Option<usize>, f64)>>,
    similarity: &mut dyn FnMut(usize, usize) -> f64,
) -> f64 {
    let mut used = 0u64;
    let (mut total, mut weight, mut last) = (0.0, 0.0, 0.0);
    for (qw, q) in query.iter().enumerate() {
        let w = if q.particle {
            0.2
        } else {
            1.0 + q.skeleton.len() as f64 * 0.1
        };
        let best = (0..candidate_words.min(MAX_WORDS))
            .filter(|i| used & (1 << i) == 0)
            .map(|i| (i, similarity(qw, i)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, s)) = best {
            used |= 1 << i;
            total += w * s;
            last = s;
        }
        if let Some(words) = words.as_deref_mut() {
            words.push(best.map_or((None, 0.0), |(i, s)| (Some(i), s)));
        }
        weight += w;
    }
    if query.len() == 1 {
        // The mean of one similarity is that similarity, taken as it is:
        // multiplying by a weight and dividing again may round it, and two
        // one-word names must score alike either way round.
        last
    } else if weight > 0.0 {
        total / weight
    } else {
        0.0
    }
}

impl Parts<'_> {
    /// The joined half of [`align_parts`]: the names joined compared (see
    /// there), or 0 where that could not exceed `aligned`. The same either
    /// way round: Jaro–Winkler and its bound are symmetric.
    fn joined(&self, aligned: f64) -> f64 {
        match self.letters {
            Some((query, candidate)) => joined_similarity(query, candidate, aligned, jaro_winkler_letters),
            None => joined_similarity(self.query_joined, self.candidate_joined, aligned, jaro_winkler_bytes),
        }
    }
}

/// The similarity of two names joined (`a` and `b`), by `measure` (a
/// Jaro–Winkler), times [`JOINED`]; 0 when either is empty, or when it
/// could not exceed `aligned`.
fn joined_similarity<T: PartialEq>(a: &[T], b: &[T], aligned: f64, measure: fn(&[T], &[T]) -> f64) -> f64 {
    // With room for rounding: the bound is reached exactly by equal names.
    if a.is_empty() || b.is_empty() || JOINED * (jaro_winkler_bound(a, b) + 1e-9) <= aligned {
        0.0
    } else {
        measure(a, b) * JOINED
    }
}

/// The share of the spelling similarity of a word's respelling by another
/// reading (`keys::other_readings`) that counts as the word's own: short
/// of 1, so the exact spelling still comes first (Kristian before
/// Christian read as Kristian). Chosen on the sets built from the `*.fit`
/// files: latin-variants recall@1 0.735, 0.743, 0.741 and 0.739 at 0.9,
/// 0.95, 0.97 and 1, where false alarms rose from 16.5 to 28.8 per 1,000.
const READ_SPELLING: f64 = 0.95;

/// The share of their joined forms' similarity (letters or skeletons, see
/// [`align_parts`]) that two names score by it: short of 1, so that names
/// alike word by word rank above names alike only when joined.
const JOINED: f64 = 0.97;

/// The most the Jaro–Winkler similarity of `a` and `b` can be, from their
/// lengths and common prefix alone: every symbol of the shorter one
/// matched, none transposed.
fn jaro_winkler_bound<T: PartialEq>(a: &[T], b: &[T]) -> f64 {
    let (short, long) = (a.len().min(b.len()) as f64, a.len().max(b.len()) as f64);
    if short == 0.0 {
        // Empty against empty is 1, against anything else 0.
        return 1.0;
    }
    let jaro = (2.0 + short / long) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// The skeletons of a name's words (particles aside) written as one into
/// `out`, at most [`MAX_JOINED`] bytes of them; how many.
fn joined_chars(name: &[Token], out: &mut [u8; MAX_JOINED]) -> usize {
    let mut n = 0;
    for c in name.iter().filter(|t| !t.particle).flat_map(|t| t.skeleton.as_bytes()) {
        if n == MAX_JOINED {
            break;
        }
        out[n] = *c;
        n += 1;
    }
    n
}

/// [`jaro_winkler_slices`] of two runs of letters, on bytes where
/// [`jaro_winkler_bytes`] compares many at once: when all are ASCII (most
/// names in Latin script), or all Arabic-script letters, each then written
/// as its place in [`ARABIC_LETTERS`] (one letter, one byte: the measure
/// only asks which letters are equal).
fn jaro_winkler_letters(a: &[char], b: &[char]) -> f64 {
    let (mut x, mut y) = ([0u8; MAX_JOINED], [0u8; MAX_JOINED]);
    match (letter_bytes(a, &mut x), letter_bytes(b, &mut y)) {
        (Some(p), Some(q)) if p == q => jaro_winkler_bytes(&x[..a.len()], &y[..b.len()]),
        _ => jaro_winkler_slices(a, b),
    }
}

/// Writes `letters` into `out` a byte each, if they fit and are all ASCII
/// (`Some(false)`) or all in [`ARABIC_LETTERS`] (`Some(true)`, each as
/// 0x40 and its place there).
fn letter_bytes(letters: &[char], out: &mut [u8; MAX_JOINED]) -> Option<bool> {
    let arabic = !letters.first()?.is_ascii();
    if letters.len() > MAX_JOINED {
        return None;
    }
    for (c, o) in letters.iter().zip(out.iter_mut()) {
        *o = if arabic {
            let code = (*c as u32)
                .checked_sub(0x0600)
                .and_then(|i| ARABIC_CODES.get(i as usize));
            *code.filter(|&&b| b != 0)?
        } else if c.is_ascii() {
            *c as u8
        } else {
            return None;
        };
    }
    Some(arabic)
}

/// The Arabic-script letters a normalised name may hold (at most 64, so
/// that their bytes stay in [`jaro_winkler_bytes`]'s range).
const ARABIC_LETTERS: [char; 42] = [
    'ء', 'آ', 'أ', 'ؤ', 'إ', 'ئ', 'ا', 'ب', 'ة', 'ت', 'ث', 'ج', 'ح', 'خ', 'د', 'ذ', 'ر', 'ز', 'س', 'ش', 'ص', 'ض', 'ط',
    'ظ', 'ع', 'غ', 'ف', 'ق', 'ك', 'ل', 'م', 'ن', 'ه', 'و', 'ى', 'ي', 'پ', 'چ', 'ژ', 'ک', 'گ', 'ی',
];

/// Each letter of the Arabic block (U+0600 to U+06FF) as 0x40 and its
/// place in [`ARABIC_LETTERS`], 0 for the others.
static ARABIC_CODES: [u8; 256] = {
    let mut codes = [0u8; 256];
    let mut i = 0;
    while i < ARABIC_LETTERS.len() {
        codes[ARABIC_LETTERS[i] as usize - 0x0600] = 0x40 + i as u8;
        i += 1;
    }
    codes
};

/// The letters of a name's words (particles aside) written as one into
/// `out`, at most [`MAX_JOINED`] of them: how many, and the name's script
/// when all those words share one (`true` for Arabic script), else `None`.
fn joined_letters(name: &[Token], out: &mut [char; MAX_JOINED]) -> (usize, Option<bool>) {
    let (mut n, mut script, mut mixed) = (0, None, false);
    for t in name.iter().filter(|t| !t.particle) {
        mixed |= script.is_some_and(|s| s != t.arabic);
        script = Some(t.arabic);
        for c in t.chars.iter().take(MAX_JOINED - n) {
            out[n] = *c;
            n += 1;
        }
    }
    (n, if mixed { None } else { script })
}

/// True when two words have the same consonants: as [`compared_words`]
/// compares each reading of a word (`keys::other_readings`), one reading of
/// each the same (Elham and الهام; Riadh and Riad).
fn read_alike(a: &Token, b: &Token) -> bool {
    a.readings().any(|(x, _)| b.readings().any(|(y, _)| x == y))
}

/// How closely one word of the query met a word of the candidate's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// The same word once normalised.
    Same,
    /// The same consonants: another spelling, or the other script.
    SameSkeleton,
    /// Forms of one name in the name dictionary (Masoud, Messaoud, مسعود).
    SameName,
    /// A close spelling (similarity of at least 0.85).
    Close,
    /// Some resemblance only.
    Weak,
    /// No word of the candidate left to compare (no evidence either way).
    Absent,
}

impl Agreement {
    /// A stable code for labels.
    pub fn code(self) -> &'static str {
        match self {
            Agreement::Same => "same",
            Agreement::SameSkeleton => "same-skeleton",
            Agreement::SameName => "same-name",
            Agreement::Close => "close",
            Agreement::Weak => "weak",
            Agreement::Absent => "absent",
        }
    }
}

/// One word of the query and what it met.
#[derive(Debug, Clone, PartialEq)]
pub struct WordMatch {
    /// The query's word, normalised.
    pub query: String,
    /// The candidate's word it was aligned with, normalised.
    pub matched: Option<String>,
    /// How closely.
    pub agreement: Agreement,
    /// The similarity, 0 to 1.
    pub similarity: f64,
}

/// Why a candidate scored as it did, from its names.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Each word of the best-matching query name.
    pub words: Vec<WordMatch>,
    /// The names matched better as one joined word (a compound written
    /// together in one and apart in the other).
    pub joined: bool,
    /// The name similarity the probability was computed from.
    pub score: f64,
    /// The weight of each other field both sides give.
    pub fields: Vec<FieldWeight>,
}

impl Matcher {
    /// Explains a record's score for a query: the pair of names (one of the
    /// query's, one of the record's) that matched best, word by word.
    /// `None` when the record is not in the matcher.
    pub fn explain(&self, names: &[&str], id: &str) -> Option<Explanation> {
        self.explain_with(names, &Details::default(), id)
    }

    /// Explains a record's score for a query with names and fields: the
    /// names word by word, and the weight of each field.
    pub fn explain_with(&self, names: &[&str], details: &Details, id: &str) -> Option<Explanation> {
        let slot = self.ids.slot(id)?;
        let facts = &self.facts[slot as usize];
        let query: Vec<Vec<Token>> = names.iter().map(|n| tokens(n)).filter(|t| !t.is_empty()).collect();
        type Best<'a> = (f64, &'a [Token], &'a [Token], (f64, f64), Vec<(Option<usize>, f64)>);
        let mut best: Option<Best> = None;
        for q in &query {
            for n in self.names_of(slot) {
                let mut words = Vec::with_capacity(q.len());
                let a = align(q, n, Some(&mut words));
                let score = combined(a.0, a.1);
                if best.as_ref().is_none_or(|(s, ..)| score > *s) {
                    best = Some((score, q, n, a, words));
                }
            }
        }
        let (score, q, n, (aligned, joined), met) = best?;
        let words = q
            .iter()
            .zip(&met)
            .map(|(qt, (at, sim))| {
                let matched = at.map(|i| &n[i]);
                let agreement = match matched {
                    None => Agreement::Absent,
                    Some(m) if m.text == qt.text => Agreement::Same,
                    Some(m) if read_alike(m, qt) => Agreement::SameSkeleton,
                    Some(m) if m.same_name(qt) => Agreement::SameName,
                    Some(_) if *sim >= 0.85 => Agreement::Close,
                    Some(_) => Agreement::Weak,
                };
                WordMatch {
                    query: qt.text.clone(),
                    matched: matched.map(|m| m.text.clone()),
                    agreement,
                    similarity: *sim,
                }
            })
            .collect();
        Some(Explanation {
            words,
            joined: joined > aligned,
            score,
            fields: self.field_weights(&Facts::new(details), facts),
        })
    }
}

/// Jaro–Winkler similarity (Winkler 1990; prefix scale 0.1, up to 4).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    jaro_winkler_slices(&a, &b)
}

/// [`jaro_winkler`] over characters already decoded (or ASCII bytes);
/// words of up to 64 characters are compared without allocating.
fn jaro_winkler_slices<T: PartialEq>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Which characters have been matched: on the stack for words of up
    // to 64 characters.
    let (mut a_stack, mut b_stack) = ([false; 64], [false; 64]);
    let (mut a_heap, mut b_heap) = (Vec::new(), Vec::new());
    let a_match: &mut [bool] = if a.len() <= 64 {
        &mut a_stack[..a.len()]
    } else {
        a_heap.resize(a.len(), false);
        &mut a_heap
    };
    let b_match: &mut [bool] = if b.len() <= 64 {
        &mut b_stack[..b.len()]
    } else {
        b_heap.resize(b.len(), false);
        &mut b_heap
    };
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for (j, cb) in b.iter().enumerate().take(hi).skip(lo) {
            if !b_match[j] && ca == cb {
                a_match[i] = true;
                b_match[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let (mut k, mut transpositions) = (0, 0);
    for (ca, matched) in a.iter().zip(a_match.iter()) {
        if *matched {
            while !b_match[k] {
                k += 1;
            }
            if *ca != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64 / 2.0) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// [`jaro_winkler_slices`] for byte strings (skeletons), the same measure
/// computed on bit masks when both have at most 64 bytes from 0x40 to 0x7F
/// (skeletons are capital letters): each byte of `b` gets the mask of its
/// positions, so a byte of `a` finds its first unmatched partner in the
/// window with a few instructions instead of a scan of the window.
/// Searches and deduplication spend a tenth to a fifth of their time in
/// Jaro-Winkler.
fn jaro_winkler_bytes(a: &[u8], b: &[u8]) -> f64 {
    // In that range the low six bits tell the bytes apart.
    let in_range = |s: &[u8]| !s.is_empty() && s.len() <= 64 && s.iter().all(|&c| c >> 6 == 1);
    if !in_range(a) || !in_range(b) {
        return jaro_winkler_slices(a, b);
    }
    // Bits below `n`.
    let below = |n: usize| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    let mut positions = [0u64; 64];
    for (j, &c) in b.iter().enumerate() {
        positions[usize::from(c & 63)] |= 1 << j;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let (mut a_matched, mut b_matched) = (0u64, 0u64);
    for (i, &c) in a.iter().enumerate() {
        let (lo, hi) = (i.saturating_sub(window), (i + window + 1).min(b.len()));
        let free = positions[usize::from(c & 63)] & below(hi) & !below(lo) & !b_matched;
        if free != 0 {
            // The lowest bit: the first partner in the window, as the scan takes.
            b_matched |= free & free.wrapping_neg();
            a_matched |= 1 << i;
        }
    }
    if a_matched == 0 {
        return 0.0;
    }
    // Matched bytes of each side in order: count those that differ.
    let mut transpositions = 0u32;
    let (mut left, mut right) = (a_matched, b_matched);
    while left != 0 {
        let (i, j) = (left.trailing_zeros() as usize, right.trailing_zeros() as usize);
        transpositions += u32::from(a[i] != b[j]);
        left &= left - 1;
        right &= right - 1;
    }
    let m = f64::from(a_matched.count_ones());
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - f64::from(transpositions) / 2.0) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_on_bit_masks_is_the_same_measure() {
        // Pseudo-random strings over a few letters (many matches, many
        // transpositions), of every length up to past 64.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..20_000 {
            let (la, lb) = (next(70) as usize, next(70) as usize);
            // Capital letters, and now and then a byte out of the masks' range.
            let letters = b"ABCDE\x01";
            let a: Vec<u8> = (0..la)
                .map(|_| letters[next(5 + u64::from(la % 7 == 0)) as usize])
                .collect();
            let b: Vec<u8> = (0..lb).map(|_| letters[next(5) as usize]).collect();
            let (fast, plain) = (jaro_winkler_bytes(&a, &b), jaro_winkler_slices(&a, &b));
            assert!((fast - plain).abs() < 1e-12, "{a:?} {b:?}: {fast} != {plain}");
            // As letters: ASCII ones, and with a letter of another script.
            let letters = |s: &[u8]| s.iter().map(|&c| char::from(c)).collect::<Vec<char>>();
            let (mut p, q) = (letters(&a), letters(&b));
            assert!((jaro_winkler_letters(&p, &q) - plain).abs() < 1e-12, "{a:?} {b:?}");
            // As Arabic-script letters, one for each byte: the same
            // measure, on their bytes.
            let arabic = |s: &[u8]| {
                s.iter()
                    .map(|&c| match c {
                        b'A'..=b'E' => ['ب', 'ی', 'ع', 'ژ', 'ه'][usize::from(c - b'A')],
                        _ => 'ء',
                    })
                    .collect::<Vec<char>>()
            };
            assert!(
                (jaro_winkler_letters(&arabic(&a), &arabic(&b)) - plain).abs() < 1e-12,
                "{a:?} {b:?} in Arabic script"
            );
            if let Some(first) = p.first_mut() {
                *first = 'ع';
                assert!((jaro_winkler_letters(&p, &q) - jaro_winkler_slices(&p, &q)).abs() < 1e-12);
            }
            let bound = jaro_winkler_bound(&a, &b);
            assert!(fast <= bound + 1e-12, "{a:?} {b:?}: {fast} above its bound {bound}");
        }
        assert_eq!(
            jaro_winkler_bytes(b"MARTHA", b"MARHTA"),
            jaro_winkler("MARTHA", "MARHTA")
        );
    }

    #[test]
    fn a_word_with_consonants_is_wholly_like_itself() {
        let mut without_consonants = 0;
        for name in ["Masoud", "مسعود", "Mas'ud", "Abdolrahman", "Zhi", "Ali", "Oo", "Yusuf"] {
            for t in tokens(name) {
                let compared = compared_words(&t, &t.clone());
                if t.skeleton.is_empty() {
                    without_consonants += 1;
                    assert!(compared < 1.0, "{t:?}");
                } else {
                    assert_eq!(compared, 1.0, "{t:?}");
                    assert_eq!(token_similarity(&t, &t), 1.0);
                }
            }
        }
        // Both branches met.
        assert_eq!(without_consonants, 1);
    }

    #[test]
    fn names_of_one_script_joined_compare_by_their_letters() {
        let score = |a: &str, b: &str| name_similarity(&tokens(a), &tokens(b));
        // One consonant apiece, or a few in common, no longer make
        // unlike names of one script near alike.
        for (a, b) in [("Zhi", "Zezé"), ("Fox", "Fakhri"), ("Vega", "Weeks")] {
            assert!(score(a, b) < 0.85, "{a} {b}: {}", score(a, b));
        }
        // A compound still meets its parts, in one script and across.
        for (a, b) in [
            ("Mohammadreza", "Mohammad Reza"),
            ("Abdolrahman", "Abdol Rahman"),
            ("محمدرضا", "محمد رضا"),
            ("Mohammadreza", "محمد رضا"),
        ] {
            assert!(score(a, b) >= 0.95, "{a} {b}: {}", score(a, b));
        }
    }

    #[test]
    fn the_joined_comparison_is_left_out_only_where_it_changes_nothing() {
        let names = [
            "Mohammadreza Tehrani",
            "Mohammad Reza Tehrani",
            "محمدرضا تهرانی",
            "Mohammad Tehrani",
            "Reza",
            "Abdolrahman",
            "Abdol Rahman Karimi",
            "Hosseini",
            "Husseini Hossein",
            "Ali ibn Ali",
            "Aa",
            "Oo Ee",
        ];
        let mut skipped = 0;
        for a in names {
            for b in names {
                let (a, b) = (tokens(a), tokens(b));
                let (aligned, joined) = align(&a, &b, None);
                let (mut x, mut y) = ([0u8; MAX_JOINED], [0u8; MAX_JOINED]);
                let (lx, ly) = (joined_chars(&a, &mut x), joined_chars(&b, &mut y));
                let (mut p, mut q) = (['\0'; MAX_JOINED], ['\0'; MAX_JOINED]);
                let ((lp, sp), (lq, sq)) = (joined_letters(&a, &mut p), joined_letters(&b, &mut q));
                let full = if sp.is_some() && sp == sq {
                    jaro_winkler_slices(&p[..lp], &q[..lq]) * JOINED
                } else if lx == 0 || ly == 0 {
                    0.0
                } else {
                    jaro_winkler_bytes(&x[..lx], &y[..ly]) * JOINED
                };
                skipped += usize::from(joined != full);
                assert_eq!(combined(aligned, joined), combined(aligned, full), "{a:?} {b:?}");
            }
        }
        // Equal names at least, and more.
        assert!(skipped > names.len(), "{skipped}");
    }

    #[test]
    fn the_vowels_written_order_names_of_one_skeleton_across_scripts() {
        // آنا and آنی both have the skeleton of Annie (and were ranked in
        // the order they were registered); the long vowels written put آنی
        // first.
        let mut m = Matcher::new();
        for (id, name) in [("2", "آنا"), ("3", "آنی"), ("4", "نوری")] {
            m.add(Record::new(id.to_string(), &[name]));
        }
        let found: Vec<String> = m.search(&["Annie"], 10).into_iter().map(|c| c.id).collect();
        assert_eq!(found[..2], ["3", "2"], "{found:?}");
        let found: Vec<String> = m.search(&["Ana"], 10).into_iter().map(|c| c.id).collect();
        assert_eq!(found[0], "2", "{found:?}");
        // A Latin spelling's short vowels, which Arabic script leaves out,
        // cost next to nothing (enough to order spellings, `UNWRITTEN`):
        // the same name in both scripts is all but a perfect match.
        for (latin, arabic) in [
            ("Masoud Hosseini", "مسعود حسینی"),
            ("Fatemeh", "فاطمه"),
            ("Jafar", "جعفر"),
        ] {
            let s = name_similarity(&tokens(latin), &tokens(arabic));
            assert!(s > 0.999, "{latin}: {s}");
            assert_eq!(name_similarity(&tokens(arabic), &tokens(latin)), s, "{arabic}");
        }
        // A Latin v inside a word meets و (a vowel letter there) and ف.
        for (latin, arabic) in [("Javad", "جواد"), ("Parvin", "پروین"), ("Octave", "أوكتاف")] {
            let s = name_similarity(&tokens(latin), &tokens(arabic));
            assert!(s > 0.98, "{latin}: {s}");
        }
        // The skeleton still decides: a closer skeleton wins over vowels.
        assert!(name_similarity(&tokens("Annie"), &tokens("آنا")) > name_similarity(&tokens("Annie"), &tokens("آمی")));
    }

    #[test]
    fn words_read_the_other_way_are_found_and_compared_so() {
        // Each needs the other reading of one word (`keys::other_readings`):
        // the article written together read as part of the name, or the
        // Latin spelling read as European and North African names are
        // written in Arabic script. No skeleton or key with a consonant
        // dropped joins these pairs (Covington and كوفينجتون differ in two
        // consonants), so the search meets them only by that reading.
        let pairs = [
            ("Elham", "الهام"),
            ("Altamimi", "التميمي"),
            ("Hicham", "هشام"),
            ("Thabit", "ثابت"),
            ("Gamal", "جمال"),
            ("Covington", "كوفينجتون"),
            ("Vukovic", "فوكوفيتش"),
            ("Jozic", "يوزيتش"),
            ("Ieva", "إيفا"),
            ("Elvin", "إلفين"),
            ("Riad", "رياض"),
        ];
        let mut m = Matcher::new();
        for (i, (latin, _)) in pairs.iter().enumerate() {
            m.add(Record::new(i.to_string(), &[latin]));
        }
        for (i, (latin, arabic)) in pairs.iter().enumerate() {
            let s = name_similarity(&tokens(latin), &tokens(arabic));
            assert!(s > 0.98, "{latin}: {s}");
            assert_eq!(s, name_similarity(&tokens(arabic), &tokens(latin)), "{latin}");
            let found = m.search(&[arabic], 3);
            assert_eq!(
                found.first().map(|c| c.id.as_str()),
                Some(i.to_string().as_str()),
                "{arabic}: {found:?}"
            );
            // And a caseworker is told so.
            let explained = m.explain(&[arabic], &i.to_string()).unwrap();
            assert_eq!(
                explained.words[0].agreement,
                Agreement::SameSkeleton,
                "{arabic}: {explained:?}"
            );
        }
        // A reading is compared whole, its sounds with its skeleton: Elvin
        // read as written in Arabic script (l-f-n) is إلفين, vowels and
        // all, where its own reading (l-n: a Persian v inside a word is a
        // vowel) meets لينا's consonants but not its vowels.
        let mut m = Matcher::new();
        m.add(Record::new("lina".to_string(), &["لينا"]));
        m.add(Record::new("elvin".to_string(), &["إلفين"]));
        let found: Vec<String> = m.search(&["Elvin"], 3).into_iter().map(|c| c.id).collect();
        assert_eq!(found, ["elvin", "lina"]);
    }

    #[test]
    fn the_spelling_writing_fewest_vowels_the_arabic_leaves_out_comes_first() {
        // One skeleton (h-m-d) and the same vowels where the Arabic script
        // writes one; Hamidi and Ahmadi write more where it writes none.
        // Their ids sort before Hamdi's, which namesakes' ties follow.
        let mut m = Matcher::new();
        for (id, name) in [("a", "Hamidi"), ("b", "Ahmadi"), ("c", "Hamdi")] {
            m.add(Record::new(id, &[name]));
        }
        let found: Vec<String> = m.search(&["حمدی"], 3).into_iter().map(|c| c.id).collect();
        assert_eq!(found[0], "c", "{found:?}");
        let arabic = &tokens("حمدی")[0];
        let alike = |latin: &str| compared_words(&tokens(latin)[0], arabic);
        assert!(alike("Hamdi") > alike("Hamidi"));
        assert!(alike("Hamdi") - alike("Hamidi") < 0.001, "an order, not a verdict");
    }

    #[test]
    fn a_latin_sh_is_nearer_ش_and_an_s_nearer_س() {
        // One skeleton (h-s-m); the ids sort هشام first, which a tie keeps.
        let mut m = Matcher::new();
        for (id, name) in [("a", "هشام"), ("b", "حسام")] {
            m.add(Record::new(id, &[name]));
        }
        for (asked, expected) in [("Hussam", "b"), ("Hisham", "a"), ("Hicham", "a"), ("Houssem", "b")] {
            let found: Vec<String> = m.search(&[asked], 2).into_iter().map(|c| c.id).collect();
            assert_eq!(found[0], expected, "{asked}: {found:?}");
        }
    }

    #[test]
    fn a_latin_name_without_the_vowel_ع_stands_for_is_nearer_the_name_without_ع() {
        // One skeleton (k-r); the ids sort عكاري first, which a tie keeps.
        let mut m = Matcher::new();
        for (id, name) in [("a", "عكاري"), ("b", "كاري")] {
            m.add(Record::new(id, &[name]));
        }
        for (asked, expected) in [("Kari", "b"), ("Akkari", "a")] {
            let found: Vec<String> = m.search(&[asked], 2).into_iter().map(|c| c.id).collect();
            assert_eq!(found[0], expected, "{asked}: {found:?}");
        }
    }

    #[test]
    fn a_word_read_another_way_meets_that_spelling_in_its_own_script() {
        // Riadh's dh is ض said as د (Riad); Gomaa's g is Egyptian usage's
        // ج (Jomaa); Turkish writes ج as c (Cemil, Recep: Jamil, Rajab,
        // whose j is Egyptian usage's g: Ragab); Erich's and Christian's
        // ch is a k. No skeleton or key with a consonant dropped joins
        // Riadh and Riad (R-Z and R-D), so only the reading finds it; each
        // word's consonants then count as the same, its spelling as the
        // nearer of what it is and how the reading respells it (Riadh read
        // is Riad, at a small discount).
        let respelled_alike = [
            ("Riadh", "Riad"),
            ("Awadh", "Awad"),
            ("Gomaa", "Jomaa"),
            ("Erich", "Erik"),
            ("Christian", "Kristian"),
        ];
        let read_alike = [("Cemil", "Jamil"), ("Recep", "Ragab")];
        let pairs = respelled_alike.iter().chain(&read_alike);
        let mut m = Matcher::new();
        m.add(Record::new("other", &["Reda"]));
        for (i, (_, registered)) in pairs.clone().enumerate() {
            m.add(Record::new(i.to_string(), &[registered]));
        }
        for (i, (asked, registered)) in pairs.enumerate() {
            let (a, b) = (&tokens(asked)[0], &tokens(registered)[0]);
            let spelled = jaro_winkler(&a.text, &b.text);
            let sounded = jaro_winkler_bytes(&a.sounds, &b.sounds);
            let weighed =
                |spelled: f64, sounded: f64| (0.5 + 0.5 * spelled) * (1.0 - SAME_SOUNDS) + SAME_SOUNDS * sounded;
            if i < respelled_alike.len() {
                let expected = weighed(spelled.max(READ_SPELLING), sounded.max(READ_SPELLING));
                assert_eq!(compared_words(a, b), expected, "{asked}");
            } else {
                assert!(compared_words(a, b) >= weighed(spelled, sounded), "{asked}");
            }
            assert_eq!(compared_words(b, a), compared_words(a, b), "{asked}");
            let found = m.search(&[asked], 3);
            assert_eq!(
                found.first().map(|c| c.id.as_str()),
                Some(i.to_string().as_str()),
                "{asked}: {found:?}"
            );
            let explained = m.explain(&[asked], &i.to_string()).unwrap();
            assert_eq!(explained.words[0].agreement, Agreement::SameSkeleton, "{asked}");
        }
    }

    #[test]
    fn the_name_dictionary_orders_spellings_the_letters_cannot() {
        // A Latin h is ح or ه: Muhannad's letters meet محند (registered
        // first) and مهند alike; the dictionary knows Muhannad as مهند.
        let mut m = Matcher::new();
        m.add(Record::new("mohand", &["محند"]));
        m.add(Record::new("muhannad", &["مهند"]));
        let found = m.search(&["Muhannad"], 2);
        assert_eq!(found[0].id, "muhannad", "{found:?}");
        // Across scripts it outweighs consonants that only happen to be
        // alike: Guillaume's are Gholam's (غلام, registered first), but
        // the dictionary knows Guillaume as ويليام (William).
        let mut m = Matcher::new();
        m.add(Record::new("gholam", &["غلام"]));
        m.add(Record::new("william", &["ويليام"]));
        let found = m.search(&["Guillaume"], 2);
        assert_eq!(found[0].id, "william", "{found:?}");
        assert!(found[0].score > found[1].score, "{found:?}");
        // A word with itself still scores 1, and no more.
        let t = &tokens("Muhannad")[0];
        assert_eq!(compared_words(t, t), 1.0);
    }

    #[test]
    fn letters_latin_spellings_write_break_the_skeletons_ties() {
        // Kieran's k is ک, not غ, though both are the skeleton's K, and
        // غیران was registered first.
        let mut m = Matcher::new();
        m.add(Record::new("ghiran", &["غیران"]));
        m.add(Record::new("kiran", &["کیران"]));
        let found = m.search(&["Kieran"], 2);
        assert_eq!(found[0].id, "kiran", "{found:?}");
        // So too for a word read other ways as well (Junko's j also reads
        // as y): its own reading keeps what its letters say.
        assert!(!tokens("Junko")[0].others.is_empty());
        let mut m = Matcher::new();
        m.add(Record::new("junghu", &["جونغو"]));
        m.add(Record::new("junku", &["جونکو"]));
        let found = m.search(&["Junko"], 2);
        assert_eq!(found[0].id, "junku", "{found:?}");
        assert!(found[0].score > found[1].score, "{found:?}");
        // ق is written q, k, gh or g: no spelling of قاسمی loses by it.
        let ghasemi = &tokens("قاسمی")[0];
        for latin in ["Qasemi", "Kasemi", "Ghasemi", "Gasemi"] {
            assert_eq!(keys::unusual_letters(&tokens(latin)[0], ghasemi), 0.0, "{latin}");
        }
        assert!(keys::unusual_letters(&tokens("Kieran")[0], &tokens("غیران")[0]) > 0.0);
    }

    #[test]
    fn spellings_that_sound_alike_come_before_those_that_only_look_alike() {
        // Umar is as near Mar as Omar letter by letter (and Meer as near
        // Mar as Mir), and Mar was registered first; Umar and Omar are one
        // name, as are Meer and Mir.
        let mut m = Matcher::new();
        for name in ["Mar", "Omar", "Mir"] {
            m.add(Record::new(name, &[name]));
        }
        for (asked, meant) in [("Umar", "Omar"), ("Meer", "Mir")] {
            let found = m.search(&[asked], 3);
            assert_eq!(found[0].id, meant, "{asked}: {found:?}");
        }
    }

    #[test]
    fn a_spelling_read_another_way_is_compared_as_so_respelled() {
        // Kristijan read as Slavic names say it (Kristiyan) has Kristen's
        // consonants and Christian's read as Greek-derived names say it
        // (Kristian); letter by letter it is nearer Kristen, respelled
        // nearer Christian.
        let mut m = Matcher::new();
        m.add(Record::new("christian", &["Christian"]));
        m.add(Record::new("kristen", &["Kristen"]));
        let found = m.search(&["Kristijan"], 2);
        assert_eq!(found[0].id, "christian", "{found:?}");
        // The exact spelling still comes first.
        m.add(Record::new("kristian", &["Kristian"]));
        assert_eq!(m.search(&["Kristian"], 1)[0].id, "kristian");
    }

    #[test]
    fn a_name_of_particles_only_is_found_by_them() {
        // Someone known only as Abu or Haj: those words are the name, not
        // particles of it, so they are indexed and weigh in full.
        let mut m = Matcher::new();
        for (id, name) in [
            ("abu", "Abu"),
            ("abu-bakr", "Abu Bakr"),
            ("bakr", "Bakr"),
            ("haj", "Hadj"),
        ] {
            m.add(Record::new(id.to_string(), &[name]));
        }
        for (query, expected) in [
            ("Abou", "abu"),
            ("أبو", "abu"),
            ("Haj", "haj"),
            ("Abu Bakr", "abu-bakr"),
        ] {
            let found = m.search(&[query], 3);
            assert_eq!(
                found.first().map(|c| c.id.as_str()),
                Some(expected),
                "{query}: {found:?}"
            );
        }
        // Each keeps its own shared copy: Abu alone did not make the Abu
        // of Abu Bakr a word.
        let (alone, first) = (m.names_of(0).next().unwrap(), m.names_of(1).next().unwrap());
        assert!(!alone[0].particle && first[0].particle);
    }

    #[test]
    fn jaro_winkler_reference_values() {
        // Values from Winkler's examples (MARTHA/MARHTA 0.961, DWAYNE/DUANE 0.84).
        assert!((jaro_winkler("MARTHA", "MARHTA") - 0.961).abs() < 0.001);
        assert!((jaro_winkler("DWAYNE", "DUANE") - 0.84).abs() < 0.001);
        assert_eq!(jaro_winkler("abc", "abc"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        // Past 64 characters (flags on the heap) the same measure.
        let (long_a, long_b) = ("MARTHA".repeat(12), "MARHTA".repeat(12));
        let long = jaro_winkler(&long_a, &long_b);
        assert!(long > 0.9 && long < 1.0, "{long}");
        assert_eq!(jaro_winkler(&long_a, &long_a), 1.0);
        // Bytes and characters give the same.
        assert_eq!(
            jaro_winkler_slices(b"MARTHA", b"MARHTA"),
            jaro_winkler("MARTHA", "MARHTA")
        );
    }

    #[test]
    fn a_lone_candidate_with_a_middling_name_is_not_given_certainty() {
        // The blocking proposes Yannick alone for Yuko (the same y-k); it
        // stood 0.63 above a missing second candidate and was given 0.999.
        let mut m = Matcher::new();
        m.add(Record::new("yannick", &["Yannick"]));
        let found = m.search(&["Yuko"], 10);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].score < 0.7, "{found:?}");
        assert!(found[0].probability < 0.5, "{found:?}");
        // Nor a close name alone: a first candidate near 0.95 with no
        // other was right about four times in five on the `*.fit` sets,
        // and the same holds for people not registered (Kanther for
        // كانسيليرا, 0.953, was given 0.99 with the margin from 0.6).
        m.add(Record::new("kanther", &["Kanther"]));
        let found = m.search(&["كانسيليرا"], 10);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].score > 0.9 && found[0].score < 0.97, "{found:?}");
        assert!(found[0].probability < 0.5, "{found:?}");
        // A name met exactly is likely, alone or not; by names alone,
        // never sure.
        let exact = m.search(&["Yannick"], 1)[0].probability;
        assert!(exact > 0.75 && exact < 0.99, "{exact}");
    }

    #[test]
    fn no_candidate_is_given_more_than_a_better_named_one() {
        // Every pair of best and second scores, weak ones (under the
        // margin's floor) included: the best candidate's names'
        // probability is at least the second's, and so at least any
        // other's (the search prunes on that).
        for best in 0..=100 {
            for second in 0..=best {
                let (b, s) = (f64::from(best) / 100.0, f64::from(second) / 100.0);
                let p_best = calibrate(b, margin(b, b, s));
                let p_second = calibrate(s, margin(s, b, s));
                assert!(p_best >= p_second, "best {b}: {p_best}, second {s}: {p_second}");
            }
        }
    }

    #[test]
    fn registered_words_of_one_skeleton_are_ordered_by_their_spelling() {
        // All three are h-s-n; joined skeletons alone met them alike, and
        // the first registered came first.
        let mut m = Matcher::new();
        m.add(Record::new("hassani", &["Hassani"]));
        m.add(Record::new("hasani", &["Hasani"]));
        m.add(Record::new("hosseini", &["Hosseini"]));
        let found = m.search(&["Husseini"], 3);
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.first(), Some(&"hosseini"), "{found:?}");
        assert!(found[0].score > found[1].score, "{found:?}");
        // An exact word still scores 1.
        assert_eq!(m.search(&["Hosseini"], 1)[0].score, 1.0);
    }

    #[test]
    fn spellings_lists_other_spellings_and_scripts_with_their_counts() {
        let mut m = Matcher::new();
        m.add(Record::new("p1", &["Masoud Karimi"]));
        m.add(Record::new("p2", &["Massoud Rezaei"]));
        m.add(Record::new("p3", &["Massoud Ahmadi", "مسعود احمدی"]));
        m.add(Record::new("p4", &["Mas'ud Heidari"]));
        m.add(Record::new("p5", &["Zahra Mousavi"]));
        let found = m.spellings("Masoud", 10);
        let texts: Vec<&str> = found.iter().map(|s| s.text.as_str()).collect();
        assert!(texts.contains(&"massoud") && texts.contains(&"مسعود"), "{found:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("mas") && t.ends_with("ud") && t.len() == 5),
            "{found:?}"
        );
        assert!(!texts.contains(&"masoud"), "the word itself is not another spelling");
        assert!(!texts.contains(&"zahra") && !texts.contains(&"karimi"), "{found:?}");
        let massoud = found.iter().find(|s| s.text == "massoud").expect("massoud");
        assert_eq!(massoud.records, 2);
        assert!(found.iter().all(|s| s.similarity >= SPELLING_FLOOR));
        assert!(found.windows(2).all(|w| w[0].similarity >= w[1].similarity));
        // Counts follow removals and replacements; unused words drop out.
        m.remove("p2");
        assert_eq!(
            m.spellings("Masoud", 10)
                .iter()
                .find(|s| s.text == "massoud")
                .map(|s| s.records),
            Some(1)
        );
        m.add(Record::new("p3", &["Zahra Ahmadi"]));
        let texts: Vec<String> = m.spellings("Masoud", 10).into_iter().map(|s| s.text).collect();
        assert!(
            !texts.contains(&"massoud".to_string()) && !texts.contains(&"مسعود".to_string()),
            "{texts:?}"
        );
        // One word only; the top is a bound.
        assert!(m.spellings("Masoud Karimi", 10).is_empty());
        assert!(m.spellings("", 10).is_empty());
        assert!(m.spellings("Masoud", 1).len() <= 1);
    }

    #[test]
    fn finds_a_persian_script_registration_from_latin_spellings() {
        let mut m = Matcher::new();
        m.add(Record::new("p1", &["مسعود حسینی"]));
        m.add(Record::new("p2", &["محمود حسینی"]));
        m.add(Record::new("p3", &["زهرا کریمی", "Zahra Karimi"]));
        m.add(Record::new("p4", &["محمدرضا موسوی"]));
        let top = |q: &str| m.search(&[q], 3).first().map(|c| c.id.clone());
        assert_eq!(top("Massoud Husseini").as_deref(), Some("p1"));
        assert_eq!(top("Hoseyni Mas'ud").as_deref(), Some("p1"), "order-free");
        assert_eq!(top("Mahmoud Hosseini").as_deref(), Some("p2"));
        assert_eq!(top("zahra karimi").as_deref(), Some("p3"));
        assert_eq!(top("Mohammad Reza Mousavi").as_deref(), Some("p4"), "split compound");
        assert_eq!(top("Mohammad-Reza Musavi").as_deref(), Some("p4"));
    }

    /// A family name made of three syllables from `i`, distinct in
    /// spelling for distinct `i` below 8,000 (letters of one sound class,
    /// such as g and k, give some the same skeleton).
    fn family_name(i: usize) -> String {
        const C: [char; 20] = [
            'b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'j', 'h', 'q', 'x', 'w', 'c',
        ];
        format!("{}a{}o{}i", C[i % 20], C[i / 20 % 20], C[i / 400 % 20])
    }

    #[test]
    fn a_very_common_word_proposes_no_one_alone_and_scoring_is_capped() {
        let mut m = Matcher::new();
        let common = MAX_SCORED.max(FREQUENT) + 500;
        for i in 0..common {
            m.add(Record::new(format!("c{i}"), &[&format!("Mohammad {}", family_name(i))]));
        }
        m.add(Record::new("target", &["محمد کیانپور"]));
        m.add(Record::new("alone", &["Kianpour"]));
        let query = |q: &str| vec![tokens(q)];
        // "Mohammad" is shared by thousands: only records meeting a second
        // word (or a rare key) are scored.
        let found = m.block(&query("Mohammad Kianpour"), &Facts::default());
        assert!(found.len() < 50, "{} scored", found.len());
        assert_eq!(m.search(&["Mohammad Kianpour"], 1)[0].id, "target");
        assert_eq!(m.search(&["Muhammad Kiyanpur"], 1)[0].id, "target");
        // A family name nobody has: the common word alone proposes no one.
        assert!(m.block(&query("Mohammad Zzyzzykh"), &Facts::default()).len() < 50);
        // One word only: everyone sharing it qualifies, at most MAX_SCORED scored.
        let only = m.block(&query("Mohammad"), &Facts::default());
        assert_eq!(only.len(), MAX_SCORED);
        assert!(m.search(&["Mohammad"], 10).len() <= 10);
    }

    #[test]
    fn a_name_given_in_both_scripts_counts_each_word_once() {
        let mut m = Matcher::new();
        for i in 0..FREQUENT + 500 {
            m.add(Record::new(format!("c{i}"), &[&format!("Mohammad {}", family_name(i))]));
        }
        m.add(Record::new("target", &["محمد کیانپور"]));
        // A registration's names: the same two words in each script, and an
        // alias spelled otherwise. Mohammad met in both scripts is still
        // one word of the query: those meeting only it are not proposed.
        let query = [
            tokens("Mohammad Kianpour"),
            tokens("محمد کیانپور"),
            tokens("Muhammad Kiyanpur"),
        ];
        let found = m.block(&query, &Facts::default());
        assert!(found.len() < 50, "{} proposed", found.len());
        let names: Vec<&str> = ["Mohammad Kianpour", "محمد کیانپور", "Muhammad Kiyanpur"].to_vec();
        assert_eq!(m.search(&names, 1)[0].id, "target");
        // Two words of the query that differ stay two words, in any name.
        let found = m.block(&[tokens("Kianpour"), tokens("Mohammad Zzyzzykh")], &Facts::default());
        assert!(found.len() < 50, "{} proposed", found.len());
    }

    #[test]
    fn entries_are_sorted_by_slot() {
        let mut draw = synth::Draw::new(3);
        for (n, slots) in [
            (10, 100),
            (5_000, 1 << 12),
            (40_000, 3_000_000),
            (40_000, u32::MAX as usize),
        ] {
            let entries: Vec<u64> = (0..n).map(|i| (draw.below(slots) as u64) << 32 | i as u64).collect();
            let (mut sorted, mut room) = (entries.clone(), Vec::new());
            sort_by_slot(&mut sorted, &mut room);
            // Entries of one slot keep their order (their low halves
            // count up here, so a sort of whole entries agrees).
            let mut expected = entries;
            expected.sort_by_key(|x| x >> 32);
            assert_eq!(sorted, expected, "{n} entries below slot {slots}");
        }
    }

    #[test]
    fn a_key_is_common_by_its_live_records_each_counted_once() {
        let mut m = Matcher::new();
        // Each record writes Mohammad in both scripts: one record for the
        // key they share, so FREQUENT of them keep it rare.
        for i in 0..FREQUENT {
            m.add(Record::new(
                format!("c{i}"),
                &[&format!("Mohammad {}", family_name(i)), "محمد"],
            ));
        }
        let query = vec![tokens("Mohammad Zzyzzykh")];
        assert_eq!(m.block(&query, &Facts::default()).len(), FREQUENT);
        m.add(Record::new("one-more", &["Mohammad Kianpour"]));
        assert!(m.block(&query, &Facts::default()).len() < 50);
        // A removed record no longer counts.
        m.remove("c0");
        assert_eq!(m.block(&query, &Facts::default()).len(), FREQUENT);
    }

    #[test]
    fn two_common_words_propose_those_meeting_both() {
        let mut m = Matcher::new();
        for i in 0..FREQUENT + 600 {
            m.add(Record::new(format!("m{i}"), &[&format!("Mohammad {}", family_name(i))]));
        }
        for i in 0..FREQUENT + 300 {
            m.add(Record::new(format!("h{i}"), &[&format!("{} Hosseini", family_name(i))]));
        }
        // Spelled as the others (no key of theirs is rare) and with a
        // middle name (the whole name written as one does not meet): they
        // are proposed only for meeting both words of the query.
        for i in 0..20 {
            m.add(Record::new(format!("t{i}"), &["Mohammad Kazem Hosseini"]));
        }
        let found: HashSet<&str> = m
            .block(&[tokens("Mohammad Hosseini")], &Facts::default())
            .into_iter()
            .map(|i| m.ids.get(i))
            .collect();
        assert!((0..20).all(|i| found.contains(format!("t{i}").as_str())), "{found:?}");
        assert!(found.len() < 100, "{} proposed", found.len());
    }

    /// What [`Matcher::block`] proposes, worked out from its definition
    /// record by record: a record meets a word of the query when they share
    /// a key, and is proposed when it meets a key at most [`FREQUENT`] live
    /// records have, or a name of the query written as one, or two words of
    /// the query (one when the query has one; a word repeated by a later
    /// name of the query is one word).
    fn proposed_by_definition(m: &Matcher, query: &[Vec<Token>]) -> HashSet<u32> {
        let keys_of = |names: &mut dyn Iterator<Item = &[Token]>| {
            let mut keys = HashSet::new();
            for t in names.flatten() {
                token_keys(t, &mut keys);
            }
            keys
        };
        let live: Vec<u32> = (0..m.facts.len() as u32).filter(|&i| m.alive[i as usize]).collect();
        let mut records_with: HashMap<String, usize> = HashMap::new();
        for &i in &live {
            for k in keys_of(&mut m.names_of(i)) {
                *records_with.entry(k).or_default() += 1;
            }
        }
        // Each word of the query with its keys and the word it counts as:
        // a word of a later name that repeats one of an earlier name (same
        // skeleton, else a shared key; each earlier word once per name)
        // counts as that one.
        let mut words: Vec<(HashSet<String>, usize)> = Vec::new();
        let mut distinct = 0;
        for (n, name) in query.iter().enumerate() {
            let before = words.len();
            for t in name {
                let keys = keys_of(&mut std::iter::once(std::slice::from_ref(t)));
                if keys.is_empty() {
                    continue;
                }
                let earlier: Vec<(usize, bool)> = query[..n]
                    .iter()
                    .flatten()
                    .map(|e| keys_of(&mut std::iter::once(std::slice::from_ref(e))))
                    .zip(query[..n].iter().flatten())
                    .filter(|(k, _)| !k.is_empty())
                    .enumerate()
                    .filter(|(_, (k, _))| !k.is_disjoint(&keys))
                    .map(|(w, (_, e))| (words[w].1, !t.skeleton.is_empty() && e.skeleton == t.skeleton))
                    .filter(|(word, _)| words[before..].iter().all(|(_, taken)| taken != word))
                    .collect();
                let word = match earlier.iter().find(|(_, same)| *same).or(earlier.first()) {
                    Some((word, _)) => *word,
                    None => {
                        distinct += 1;
                        distinct - 1
                    }
                };
                words.push((keys, word));
            }
        }
        let joined: HashSet<String> = query
            .iter()
            .map(|n| joined_skeleton(n))
            .filter(|j| !j.is_empty())
            .collect();
        let needed = distinct.clamp(1, 2);
        live.into_iter()
            .filter(|&i| {
                let own = keys_of(&mut m.names_of(i));
                let met: HashSet<usize> = words
                    .iter()
                    .filter(|(keys, _)| keys.iter().any(|k| own.contains(k)))
                    .map(|(_, word)| (*word).min(30))
                    .collect();
                let rare = words
                    .iter()
                    .flat_map(|(keys, _)| keys)
                    .any(|k| own.contains(k) && records_with[k] <= FREQUENT);
                let whole = m.names_of(i).any(|n| joined.contains(&joined_skeleton(n)));
                rare || whole || met.len() >= needed
            })
            .collect()
    }

    #[test]
    fn blocking_proposes_what_its_definition_says() {
        let given = [
            "Mohammad", "Muhammad", "محمد", "Ali", "علی", "Hossein", "Reza", "Zahra", "Fatemeh", "Maryam",
        ];
        let family = [
            "Hosseini",
            "حسینی",
            "Husseini",
            "Rezaei",
            "Ahmadi",
            "Karimi",
            "Mohammadi",
            "Kianpour",
            "Tehrani",
        ];
        let mut draw = synth::Draw::new(7);
        let mut m = Matcher::new();
        for i in 0..4_500 {
            let name = format!("{} {}", given[draw.zipf(given.len())], family[draw.zipf(family.len())]);
            let alias = format!("{} {}", given[draw.below(given.len())], family[draw.zipf(family.len())]);
            let names: Vec<&str> = if draw.chance(0.2) {
                vec![&name, &alias]
            } else {
                vec![&name]
            };
            m.add(Record::new(format!("r{i}"), &names));
        }
        // Removed and changed records: dead slots, and counts that fell.
        for i in (0..4_500).step_by(7) {
            m.remove(&format!("r{i}"));
        }
        for i in (0..4_500).step_by(11) {
            m.add(Record::new(format!("r{i}"), &["Ali Kianpour"]));
        }
        let queries = [
            "Mohammad Hosseini",
            "Mohamad Hoseini",
            "محمد رضایی",
            "Ali Kianpur",
            "Mohammad",
            "Zahra",
            "Reza Mohammad Tehrani",
            "Mohammadreza",
            "Fatemeh Zzyzzykh",
            "Maryam Ahmadi Karimi",
        ];
        // Registrations give several names: the same words in the other
        // script or spelling, and others.
        let several = [
            "Mohammad Hosseini|محمد حسینی",
            "Ali Rezaei|علی رضایی|Aly Rezai",
            "Zahra Ahmadi|Fatemeh",
            "Hossein Hosseini|حسین حسینی",
            "Reza Tehrani|Tehrani Reza Kianpour",
        ];
        for q in queries.into_iter().chain(several) {
            let query: Vec<Vec<Token>> = q.split('|').map(tokens).collect();
            let expected = proposed_by_definition(&m, &query);
            let got = m.block(&query, &Facts::default());
            let distinct: HashSet<u32> = got.iter().copied().collect();
            assert_eq!(distinct.len(), got.len(), "{q}: a record proposed twice");
            if expected.len() <= MAX_SCORED {
                assert_eq!(distinct, expected, "{q}");
            } else {
                assert_eq!(got.len(), MAX_SCORED, "{q}");
                assert!(distinct.is_subset(&expected), "{q}");
            }
        }
    }

    #[test]
    fn among_too_many_namesakes_those_born_nearest_are_scored() {
        let mut m = Matcher::new();
        let born = |year: &str| Details {
            birth_date: Some(year.into()),
            ..Details::default()
        };
        // More namesakes than one search scores, all born far from 1970 and
        // registered before the person sought.
        for i in 0..MAX_SCORED + 200 {
            m.add(Record::with_details(
                format!("c{i:05}"),
                &["Zahra Hosseini"],
                &born(&(1930 + i % 20).to_string()),
            ));
        }
        m.add(Record::with_details("sought", &["Zahra Hosseini"], &born("1970")));
        let found = m.search_with(&["Zahra Hosseini"], &born("1971"), 10);
        assert_eq!(found[0].id, "sought", "{found:?}");
        // Without a birth date the order of registration decides.
        assert!(m
            .search(&["Zahra Hosseini"], MAX_SCORED)
            .iter()
            .all(|c| c.id != "sought"));
    }

    #[test]
    fn candidates_left_out_by_their_bound_are_never_among_the_best() {
        // Namesakes and near spellings with every field drawn at random: the
        // best ten of a search equal the first ten of one that compares
        // every candidate field by field (asked for MAX_SCORED, it rules
        // none out).
        let mut d = crate::synth::Draw::new(11);
        let names = [
            "Zahra Hosseini",
            "Zahra Husseini",
            "Zahra Hosseyni Karimi",
            "زهرا حسینی",
            "Zohreh Hosseini",
        ];
        let places = ["Herat", "هرات", "Kabul", "Mashhad", "Shiraz"];
        let parents = ["Ali", "Ali Hosseini", "Reza", "Hassan", "علی", "Fatemeh", "Maryam"];
        let draw =
            |d: &mut crate::synth::Draw, from: &[&str]| d.chance(0.7).then(|| from[d.below(from.len())].to_string());
        let details = |d: &mut crate::synth::Draw| Details {
            sex: draw(d, &["f", "m"]),
            birth_date: d.chance(0.8).then(|| format!("{}", 1950 + d.below(40))),
            birth_place: draw(d, &places),
            nationality: draw(d, &["AF", "IR"]),
            father_name: draw(d, &parents),
            mother_name: draw(d, &parents),
        };
        let mut m = Matcher::new();
        for i in 0..600 {
            let name = names[d.below(names.len())];
            m.add(Record::with_details(format!("p{i:03}"), &[name], &details(&mut d)));
        }
        for _ in 0..40 {
            let name = names[d.below(names.len())];
            let asked = details(&mut d);
            let found = m.search_with(&[name], &asked, 10);
            let all = m.search_with(&[name], &asked, MAX_SCORED);
            let ids = |c: &[Candidate]| c.iter().map(|c| (c.id.clone(), c.probability)).collect::<Vec<_>>();
            assert_eq!(ids(&found), ids(&all[..10]), "{name} {asked:?}");
        }
    }

    #[test]
    fn a_slot_compares_place_and_nationality_as_the_record_does() {
        // Places in both scripts and several spellings (some of one key
        // but unlike letters: Herat, Harut), some queries for places
        // nobody registered.
        let places = [
            "Herat",
            "هرات",
            "Harut",
            "Kabul",
            "Kobol",
            "Kaboul",
            "Mashhad",
            "Mashad",
            "طهران",
            "Tehran",
        ];
        let asked = ["Herat", "Harut", "Herats", "Kabol", "مشهد", "Bamyan", "Tehran", "Kobol"];
        let nationalities = ["AF", "IR", "Afghan", "افغان"];
        let mut d = crate::synth::Draw::new(5);
        let pick =
            |d: &mut crate::synth::Draw, from: &[&str]| d.chance(0.8).then(|| from[d.below(from.len())].to_string());
        let mut m = Matcher::new();
        for i in 0..300 {
            let details = Details {
                sex: pick(&mut d, &["f", "m"]),
                birth_date: d.chance(0.7).then(|| (1950 + d.below(30)).to_string()),
                birth_place: pick(&mut d, &places),
                nationality: pick(&mut d, &nationalities),
                ..Details::default()
            };
            m.add(Record::with_details(format!("r{i}"), &["Zahra"], &details));
        }
        for _ in 0..150 {
            let facts = Facts::new(&Details {
                sex: pick(&mut d, &["f", "m"]),
                birth_date: d.chance(0.7).then(|| (1950 + d.below(30)).to_string()),
                birth_place: pick(&mut d, &asked),
                nationality: pick(&mut d, &nationalities),
                ..Details::default()
            });
            let values = [
                (facts.place.as_deref(), m.values.key_of(facts.place.as_deref())),
                (
                    facts.nationality.as_deref(),
                    m.values.key_of(facts.nationality.as_deref()),
                ),
            ];
            let mut memo = Default::default();
            for (slot, registered) in m.slots.iter().zip(&m.facts) {
                assert_eq!(
                    m.cheap_levels(&facts, &values, slot, &mut memo),
                    fields::compare(&facts, registered),
                    "{facts:?} against {registered:?}"
                );
            }
        }
    }

    #[test]
    fn a_slot_compares_parents_as_the_record_does() {
        // Parents' names in both scripts, spellings, one word or two, word
        // order, namesakes; queries for names nobody registered.
        let fathers = [
            "Ali Karimi",
            "علی کریمی",
            "Aly Kareemi",
            "Karimi Ali",
            "Ali",
            "Reza",
            "Mohammad Reza",
            "Mohammadreza",
            "محمدرضا",
            "Hossein al-Najafi",
        ];
        let mothers = ["Zahra", "زهرا", "Zahra Hosseini", "Fatemeh", "Fatima", "Maryam Rahimi"];
        let asked = [
            "Ali Karimi",
            "Reza Karimi",
            "محمد رضا",
            "Zahraa",
            "Fatemeh Hosseini",
            "Bahram",
            "Ali",
        ];
        let mut d = crate::synth::Draw::new(7);
        let pick =
            |d: &mut crate::synth::Draw, from: &[&str]| d.chance(0.8).then(|| from[d.below(from.len())].to_string());
        let mut m = Matcher::new();
        for i in 0..200 {
            let details = Details {
                father_name: pick(&mut d, &fathers),
                mother_name: pick(&mut d, &mothers),
                ..Details::default()
            };
            m.add(Record::with_details(format!("r{i}"), &["Hassan"], &details));
        }
        let mut levels_met = HashSet::new();
        let mut words = WordMemo::default();
        for _ in 0..100 {
            let facts = Facts::new(&Details {
                father_name: pick(&mut d, &asked),
                mother_name: pick(&mut d, &asked),
                ..Details::default()
            });
            // One memo per query, as a search keeps it over its candidates.
            let mut memo = NameMemo::new(facts.parents(), &mut words);
            for (slot, registered) in m.slots.iter().zip(&m.facts) {
                let expected = fields::compare(&facts, registered);
                levels_met.extend(expected[4..].iter().flatten().copied());
                assert_eq!(
                    m.parent_levels(facts.parents(), slot, &mut memo)[4..],
                    expected[4..],
                    "{facts:?} against {registered:?}"
                );
            }
        }
        // Same, close and different all met.
        assert_eq!(levels_met, HashSet::from([0, 1, 2]));
    }

    #[test]
    fn records_with_one_name_share_its_number() {
        let mut m = Matcher::new();
        m.add(Record::new("a", &["Zahra Hosseini", "زهرا حسینی"]));
        m.add(Record::new("b", &["Zahra  HOSSEINI"]));
        m.add(Record::new("c", &["Hosseini Zahra"]));
        assert_eq!(m.name_ids_of(0).len(), 2);
        assert_eq!(m.name_ids_of(0)[0], m.name_ids_of(1)[0], "same words once normalised");
        assert_ne!(m.name_ids_of(0)[0], m.name_ids_of(0)[1]);
        assert_ne!(m.name_ids_of(0)[0], m.name_ids_of(2)[0], "other order, other name");
        // A replaced record's names are its new ones.
        m.add(Record::new("b", &["Maryam Ahmadi"]));
        let b = m.ids.slot("b").unwrap();
        assert_eq!(m.names_of(b).next().map(|n| n[0].text.clone()), Some("maryam".into()));
        assert_eq!(m.search(&["Zahra Hosseini"], 5)[0].id, "a");
    }

    #[test]
    fn a_remembered_comparison_is_the_comparison() {
        // Names sharing words in other orders, scripts and spellings, with
        // particles, and one longer than the joined skeleton kept.
        let registered = [
            "Masoud Karimi",
            "مسعود کریمی",
            "Karimi Masoud",
            "Massoud al-Karimi",
            "Seyed Mohammad Reza Hosseini",
            "Mohammadreza Hosseini",
            "Abdollah ibn Karim",
            "Kaveh Kianpour Kianpour Kianpour Kianpour Kianpour Kianpour Kianpour Kianpour Kianpour Kianpour",
        ];
        let mut m = Matcher::new();
        for (i, name) in registered.iter().enumerate() {
            m.add(Record::new(i.to_string(), &[name]));
        }
        let queries: Vec<Vec<Token>> = ["Masoud Karimi", "محمدرضا حسینی", "Karim Abdullah", "Kianpour"]
            .iter()
            .map(|q| tokens(q))
            .collect();
        let mut words = WordMemo::default();
        // Twice through the same memo: a second query's generation must not
        // answer with the first one's similarities.
        for round in 0..2 {
            for query in [&queries[..2], &queries[2..]] {
                let mut memo = NameMemo::new(query.iter().map(Vec::as_slice), &mut words);
                for (qi, q) in query.iter().enumerate() {
                    for slot in 0..registered.len() as u32 {
                        for &n in m.name_ids_of(slot) {
                            let name = &m.names.names[n as usize];
                            assert_eq!(
                                memo.similarity(qi, q, n, &m.names),
                                name_similarity(q, name),
                                "round {round}, {q:?} against {name:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_name_table_keeps_each_names_words_by_number_and_its_joined_skeleton() {
        let mut table = NameTable::default();
        let names = ["Ali Karimi", "Karimi Ali", "al-Karimi", "Ali Karimi"];
        let numbers: Vec<u32> = names.iter().map(|n| table.intern(tokens(n))).collect();
        assert_eq!(numbers[0], numbers[3], "one number per distinct name");
        assert_eq!(table.words_of(numbers[0]), [0, 1]);
        assert_eq!(table.words_of(numbers[1]), [1, 0]);
        assert_eq!(table.words_of(numbers[2]), [2, 1], "a particle is a word too");
        for n in &numbers[..3] {
            let name = &table.names[*n as usize];
            let mut joined = [0u8; MAX_JOINED];
            let length = joined_chars(name, &mut joined);
            assert_eq!(table.joined_of(*n), &joined[..length]);
            assert_eq!(table.words_of(*n).len(), name.len());
        }
        assert_eq!(
            table.joined_of(numbers[2]),
            table.joined_of(numbers[2]).to_ascii_uppercase()
        );
        assert_eq!(
            String::from_utf8_lossy(table.joined_of(numbers[1])),
            joined_skeleton(&tokens("Karimi Ali"))
        );
        // Each name's letters and script, whatever came before it.
        for (name, letters, script) in [
            ("علی کریمی", "علیکریمی", Some(true)),
            ("Ali Karimi", "alikarimi", Some(false)),
            ("Ali کریمی", "aliکریمی", None),
            ("al-Karimi", "karimi", Some(false)),
        ] {
            let n = table.intern(tokens(name));
            let (got, got_script) = table.letters_of(n);
            assert_eq!(got.iter().collect::<String>(), letters, "{name}");
            assert_eq!(got_script, script, "{name}");
        }
    }

    #[test]
    fn namesakes_tie_in_the_order_of_their_ids_not_of_registration() {
        // Ids made by one clock share their first bytes (UUIDv7).
        let ids = [
            "01a2232d-e88b-7464-9793-f38e46bd00f7",
            "01a2232d-e88b-7037-bcd6-5cf6a55344bb",
            "01a2232d-e88c-7281-85b4-91276eabb008",
            "01a2232d-e88b-7464-9793-f38e46bd00f6",
        ];
        let mut m = Matcher::new();
        for id in ids {
            m.add(Record::new(id, &["Navid Rostami"]));
        }
        let found: Vec<String> = m.search(&["Navid Rostami"], 4).into_iter().map(|c| c.id).collect();
        let mut sorted: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        sorted.sort();
        assert_eq!(found, sorted);
    }

    #[test]
    fn records_share_one_copy_of_each_word() {
        let mut m = Matcher::new();
        let details = Details {
            father_name: Some("Kaveh Kianpour".into()),
            ..Details::default()
        };
        m.add(Record::new("a", &["Reza Kianpour"]));
        m.add(Record::with_details("b", &["Ali Kianpour"], &details));
        let (a, b) = (m.names_of(0).next().unwrap(), m.names_of(1).next().unwrap());
        assert!(a[1].is_shared_with(&b[1]));
        assert!(!a[0].is_shared_with(&b[0]));
        let father = m.facts[1].parents()[0];
        assert!(father[1].is_shared_with(&a[1]));
        // The record's father's name is the table's copy, not one of its own.
        assert!(std::ptr::eq(father, &*m.parents.names[m.slots[1].parents[0] as usize]));
        // Sharing changes no answer.
        assert_eq!(m.search(&["Kianpour"], 2).len(), 2);
    }

    #[test]
    fn ids_find_the_live_slot_of_each_identifier() {
        let mut ids = Ids::default();
        let many: Vec<String> = (0..1000).map(|i| format!("p{i}")).collect();
        for (i, id) in many.iter().enumerate() {
            assert_eq!(ids.push(id), i as u32);
        }
        assert_eq!(ids.len(), 1000);
        assert!(many
            .iter()
            .enumerate()
            .all(|(i, id)| ids.slot(id) == Some(i as u32) && ids.get(i as u32) == id));
        assert_eq!(ids.slot("p1000"), None);
        assert_eq!(ids.slot("p"), None, "a prefix of an identifier is not it");
        assert_eq!(ids.remove("p7"), Some(7));
        assert_eq!(ids.remove("p7"), None);
        assert_eq!((ids.slot("p7"), ids.len()), (None, 999));
        // A removed record keeps its slot and identifier; registered again
        // it takes a new slot.
        assert_eq!(ids.get(7), "p7");
        assert_eq!(ids.push("p7"), 1000);
        assert_eq!((ids.slot("p7"), ids.slot("p8")), (Some(1000), Some(8)));
        // Identifiers in any script are kept as given.
        let arabic = ids.push("شناسه-۷");
        assert_eq!((ids.get(arabic), ids.slot("شناسه-۷")), ("شناسه-۷", Some(arabic)));
    }

    #[test]
    fn records_giving_one_place_share_one_copy_of_it() {
        let mut m = Matcher::new();
        let from = |place: &str, nationality: &str| Details {
            birth_place: Some(place.into()),
            nationality: Some(nationality.into()),
            ..Details::default()
        };
        m.add(Record::with_details("a", &["Reza Kianpour"], &from("Mashhad", "Iran")));
        m.add(Record::with_details(
            "b",
            &["Ali Kianpour"],
            &from("Mashhad", "Afghanistan"),
        ));
        m.add(Record::with_details("c", &["Ali Karimi"], &from("مشهد", "Iran")));
        m.add(Record::with_details("d", &["Kianpour Mashhad"], &Details::default()));
        let value = |slot: usize, i: usize| m.facts[slot].values()[i].unwrap();
        assert!(std::ptr::eq(value(0, 0), value(1, 0)));
        assert!(std::ptr::eq(value(0, 1), value(2, 1)));
        assert!(!std::ptr::eq(value(0, 1), value(1, 1)));
        // Another script is another text, numbered apart but with one key.
        assert!(!std::ptr::eq(value(0, 0), value(2, 0)));
        assert_eq!(m.slots[0].values[0].key, m.slots[2].values[0].key);
        // The words of a shared value are the shared words.
        let (a, b) = (m.names_of(0).next().unwrap(), m.names_of(1).next().unwrap());
        assert!(a[1].is_shared_with(&b[1]));
        let mashhad = m.names_of(3).next().unwrap()[1].clone();
        assert!(mashhad.is_shared_with(&value(0, 0).tokens[0]));
    }

    #[test]
    fn an_explanation_says_how_each_word_met() {
        let mut m = Matcher::new();
        m.add(Record::new("p1", &["مسعود کریمی", "Masoud Karimi"]));
        let e = m.explain(&["Massoud Karimi Tehrani"], "p1").unwrap();
        let got: Vec<(&str, Option<&str>, Agreement)> = e
            .words
            .iter()
            .map(|w| (w.query.as_str(), w.matched.as_deref(), w.agreement))
            .collect();
        // Best met by the Persian-script name: the same consonants.
        assert_eq!(
            got,
            [
                ("massoud", Some("مسعود"), Agreement::SameSkeleton),
                ("karimi", Some("کریمی"), Agreement::SameSkeleton),
                ("tehrani", None, Agreement::Absent),
            ]
        );
        m.add(Record::new("p2", &["Masoud Karimy"]));
        let latin = m.explain(&["Masoud Karimi"], "p2").unwrap();
        let got: Vec<Agreement> = latin.words.iter().map(|w| w.agreement).collect();
        assert_eq!(got, [Agreement::Same, Agreement::SameSkeleton]);
        let longer = m.explain(&["Masoud Karimian"], "p2").unwrap();
        assert_eq!(longer.words[1].agreement, Agreement::Close, "{longer:?}");
        // The score explained is the one the search ranked by.
        let found = m.search(&["Massoud Karimi Tehrani"], 1);
        assert_eq!((found[0].id.as_str(), found[0].score), ("p1", e.score));
        // A spelling the dictionary knows, with other consonants (Turkish).
        let french = m.explain(&["Mesut Karimi"], "p1").unwrap();
        assert_eq!(french.words[0].agreement, Agreement::SameName, "{french:?}");
        let joined = m.explain(&["Masoudkarimi"], "p1").unwrap();
        assert!(joined.joined);
        assert!(m.explain(&["x"], "nobody").is_none());
    }

    #[test]
    fn a_common_value_proves_less_than_a_rare_one() {
        let mut m = Matcher::new();
        let with = |father: &str, place: &str| Details {
            father_name: Some(father.into()),
            birth_place: Some(place.into()),
            ..Details::default()
        };
        for i in 0..200 {
            m.add(Record::with_details(
                format!("c{i}"),
                &[&format!("Reza {}", family_name(i))],
                &with("Ali Rezaei", "Tehran"),
            ));
        }
        m.add(Record::with_details(
            "rare",
            &["Reza Kianpour"],
            &with("Kaveh Kianpour", "Bam"),
        ));
        m.add(Record::with_details(
            "common",
            &["Reza Kianpur"],
            &with("Ali Kianpur", "Tehran"),
        ));
        let weight = |id: &str, d: &Details, field: fields::Field| {
            m.explain_with(&["Reza Kianpour"], d, id)
                .unwrap()
                .fields
                .into_iter()
                .find(|w| w.field == field)
                .unwrap()
        };
        // One word of the father's name: Kaveh is rarer among fathers than Ali.
        let kaveh = weight("rare", &with("Kaveh", "Bam"), fields::Field::FatherName);
        let ali = weight("common", &with("Ali", "Tehran"), fields::Field::FatherName);
        assert_eq!((kaveh.level, ali.level), ("same", "same"));
        assert!(kaveh.weight > ali.weight + 2.0, "{kaveh:?} {ali:?}");
        let bam = weight("rare", &with("Kaveh", "Bam"), fields::Field::BirthPlace);
        let tehran = weight("common", &with("Ali", "Tehran"), fields::Field::BirthPlace);
        assert!(bam.weight > tehran.weight + 2.0, "{bam:?} {tehran:?}");
    }

    #[test]
    fn records_are_replaced_and_removed_without_a_rebuild() {
        let mut m = Matcher::new();
        m.add(Record::new("p1", &["مسعود"]));
        m.add(Record::new("p2", &["زهرا"]));
        assert_eq!(m.search(&["Masoud"], 1)[0].id, "p1");
        m.add(Record::new("p1", &["فاطمه"]));
        assert_eq!(m.len(), 2);
        assert!(
            m.search(&["Masoud"], 5).iter().all(|c| c.id != "p1"),
            "old names forgotten"
        );
        assert_eq!(m.search(&["Fatemeh"], 1)[0].id, "p1");
        m.remove("p2");
        assert!(m.search(&["Zahra"], 5).is_empty());
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn words_compare_alike_either_way_round() {
        // Deduplication compares each two words once for both of a pair's
        // searches (`NameMemo::both`): exactly, not nearly, the same.
        let words = "Masoud Massoud Mas'ud مسعود Davood Davud داوود Vahid وحید Oo Zhi Zezé al ibn                      عبد Abdolrahman عبدالرحمن Fatemeh فاطمه Yusuf Joseph 1980 Ali Aly علی";
        let tokens: Vec<Token> = words.split(' ').flat_map(tokens).collect();
        for a in &tokens {
            for b in &tokens {
                assert_eq!(
                    compared_words(a, b).to_bits(),
                    compared_words(b, a).to_bits(),
                    "{} {}",
                    a.text,
                    b.text
                );
            }
        }
    }

    #[test]
    fn scores_are_symmetric_for_single_names() {
        for (a, b) in [("Masoud", "مسعود"), ("Karimi", "Kareemi"), ("Ali", "Aly")] {
            let (ta, tb) = (tokens(a), tokens(b));
            assert!(
                (name_similarity(&ta, &tb) - name_similarity(&tb, &ta)).abs() < 1e-9,
                "{a} {b}"
            );
        }
    }

    #[test]
    fn a_name_and_its_arabic_script_form_share_a_block() {
        for (latin, arabic) in [("Mohammad", "محمد"), ("Fatemeh", "فاطمه"), ("Ghasemi", "قاسمی")] {
            let mut m = Matcher::new();
            m.add(Record::new("latin", &[latin]));
            m.add(Record::new("arabic", &[arabic]));
            for (asked, other) in [(latin, 1), (arabic, 0)] {
                let proposed = m.block(&[tokens(asked)], &Facts::default());
                assert!(proposed.contains(&other), "{asked} does not propose {other}");
            }
        }
    }

    #[test]
    fn probabilities_grow_with_the_score() {
        assert!(calibrate(0.99, 0.1) > calibrate(0.9, 0.1));
        assert!(calibrate(0.5, 0.1) < 0.05);
    }
}
