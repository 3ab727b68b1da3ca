//! Full-text search over testimonies and documents, with tantivy.
//!
//! Text is normalised before tantivy sees it, the same way the registry's
//! name search is ([`lantern_domain::text::search_key`]): case folded, the
//! Arabic and Persian letter variants unified (ي/ى→ی, ك→ک, ة→ه, أ/إ/آ→ا),
//! vowel marks and tatweel removed, Persian and Arabic digits made ASCII. A
//! word written with a zero-width non-joiner (حسین‌زاده) is indexed joined
//! and as its parts, so a search for the joined or the split form finds it.
//! Each word also gets the matching engine's consonant skeleton
//! ([`lantern_matching::keys`]), computed alike from Arabic script and from
//! Latin spellings, so a search for "Masoud" finds مسعود where the keys
//! allow; a skeleton hit counts for less than the same word.
//!
//! **What a searcher may see.** Every document has an *open* part (what
//! anyone who may read that kind of record sees) and a *restricted* part
//! (sealed identities, exact places, parts marked confidential). A search
//! only ever looks into the parts its [`Scope`] allows, so the mere
//! presence of a result reveals nothing the searcher could not read.
//!
//! The index lives in memory: the restricted text is sealed at rest in the
//! store, and an index on disk would keep it in clear. It is built from the
//! store at start and kept current as records are added.

use std::sync::Mutex;

use lantern_domain::text::search_key;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The tokenizer the text fields use: the text arrives normalised and
/// split, one term per space-separated word.
const TOKENIZER: &str = "lantern_words";
/// Memory for the index writer (tantivy's minimum is 15 MB per thread).
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Longest query considered, in characters.
pub const MAX_QUERY: usize = 200;
/// Most words of a query considered.
const MAX_QUERY_WORDS: usize = 12;
/// Weight of an exact (normalised) word against a skeleton match.
const WORD_BOOST: f32 = 2.0;
/// Shortest skeleton used as a key: one consonant finds too much.
const MIN_KEY: usize = 2;

/// Zero-width non-joiner (U+200C), which Persian writes inside words.
const ZWNJ: char = '\u{200C}';

/// What the index failed at.
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError(e.to_string())
    }
}

/// Kinds of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A testimony (with its events, acts and sources).
    Testimony,
    /// An evidence file's record (title, description).
    Evidence,
}

impl Kind {
    /// Stable code, as stored in the index and shown in the API.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Testimony => "testimony",
            Kind::Evidence => "evidence",
        }
    }

    fn parse(code: &str) -> Option<Kind> {
        [Kind::Testimony, Kind::Evidence].into_iter().find(|k| k.code() == code)
    }
}

/// One document to index: texts in any script.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its kind.
    pub kind: Kind,
    /// The record's id.
    pub id: String,
    /// What everyone who may read this kind of record sees.
    pub open: Vec<String>,
    /// What only those allowed further see.
    pub restricted: Vec<String>,
}

/// How far a searcher sees into one kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Not at all: no result of this kind.
    None,
    /// The open parts only.
    Open,
    /// The open and the restricted parts.
    All,
}

/// What a search may look into, per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Testimonies.
    pub testimonies: Access,
    /// Evidence records.
    pub evidence: Access,
}

impl Scope {
    fn of(&self, kind: Kind) -> Access {
        match kind {
            Kind::Testimony => self.testimonies,
            Kind::Evidence => self.evidence,
        }
    }
}

/// A result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Its kind.
    pub kind: Kind,
    /// The record's id.
    pub id: String,
    /// Relevance (BM25; higher is better).
    pub score: f32,
}

/// The normalised words of a text. With `parts`, a word written with a
/// zero-width non-joiner also gives its parts (what the index stores, so
/// the joined and the split spelling both find it).
pub fn words(text: &str, parts: bool) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        split_into(&search_key(raw), &mut out);
        if parts && raw.contains(ZWNJ) {
            split_into(&search_key(&raw.replace(ZWNJ, " ")), &mut out);
        }
    }
    out
}

/// Splits a normalised text at everything that is not a letter or a
/// digit (Arabic commas, question marks, brackets …).
fn split_into(key: &str, out: &mut Vec<String>) {
    out.extend(
        key.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string),
    );
}

/// The cross-script keys of one normalised word: the consonant skeletons
/// of its parts that are not particles or honorifics, when long enough to
/// tell words apart. (A text's words are taken one at a time, so a
/// particle is known by itself, not by the name around it.)
pub fn keys(word: &str) -> Vec<String> {
    lantern_matching::keys::tokens(word)
        .into_iter()
        .filter(|t| !lantern_matching::keys::is_particle(&t.text) && t.skeleton.chars().count() >= MIN_KEY)
        .map(|t| t.skeleton.clone())
        .collect()
}

/// True when every part of the word is a particle or honorific: the parts
/// [`keys`] reads, looked up without making their keys.
fn is_particle(word: &str) -> bool {
    let key = search_key(word);
    let mut parts = key.split(' ').filter(|w| !w.is_empty()).peekable();
    parts.peek().is_some() && parts.all(lantern_matching::keys::is_particle)
}

/// The fields of one part (open or restricted): normalised words and
/// their keys.
#[derive(Clone, Copy)]
struct Part {
    words: Field,
    keys: Field,
}

/// The in-memory index.
pub struct SearchIndex {
    index: Index,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    reader: IndexReader,
    id: Field,
    kind: Field,
    open: Part,
    restricted: Part,
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Result<SearchIndex, SearchError> {
        let mut b = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let id = b.add_text_field("id", STRING | STORED);
        let kind = b.add_text_field("kind", STRING | STORED);
        let open = Part {
            words: b.add_text_field("open_words", text.clone()),
            keys: b.add_text_field("open_keys", text.clone()),
        };
        let restricted = Part {
            words: b.add_text_field("restricted_words", text.clone()),
            keys: b.add_text_field("restricted_keys", text),
        };
        let index = Index::create_in_ram(b.build());
        index
            .tokenizers()
            .register(TOKENIZER, TextAnalyzer::builder(WhitespaceTokenizer::default()).build());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            index,
            writer: Mutex::new(writer),
            reader,
            id,
            kind,
            open,
            restricted,
        })
    }

    /// Adds documents, replacing any of the same kind and id, and makes
    /// them searchable before returning.
    pub fn put(&self, docs: impl IntoIterator<Item = Document>) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        for d in docs {
            writer.delete_term(Term::from_field_text(self.id, &doc_key(d.kind, &d.id)));
            let mut doc = TantivyDocument::default();
            doc.add_text(self.id, doc_key(d.kind, &d.id));
            doc.add_text(self.kind, d.kind.code());
            for (part, texts) in [(self.open, &d.open), (self.restricted, &d.restricted)] {
                let mut words = Vec::new();
                for t in texts {
                    words.extend(self::words(t, true));
                }
                let keys: Vec<String> = words.iter().flat_map(|w| keys(w)).collect();
                doc.add_text(part.words, words.join(" "));
                doc.add_text(part.keys, keys.join(" "));
            }
            writer.add_document(doc)?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// How many documents the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The best `limit` documents that hold every word of `query` (a
    /// particle such as "al" or "bin" may be missing), each word found as
    /// itself or by its cross-script key, looking only into what `scope`
    /// allows.
    pub fn search(&self, query: &str, scope: Scope, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let query: String = query.chars().take(MAX_QUERY).collect();
        let words: Vec<String> = words(&query, false).into_iter().take(MAX_QUERY_WORDS).collect();
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut per_kind: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for kind in [Kind::Testimony, Kind::Evidence] {
            let parts: Vec<Part> = match scope.of(kind) {
                Access::None => continue,
                Access::Open => vec![self.open],
                Access::All => vec![self.open, self.restricted],
            };
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.kind, kind.code()),
                    IndexRecordOption::Basic,
                )),
            )];
            for w in &words {
                let mut either: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for p in &parts {
                    either.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(
                                Term::from_field_text(p.words, w),
                                IndexRecordOption::WithFreqs,
                            )),
                            WORD_BOOST,
                        )),
                    ));
                    for k in keys(w) {
                        either.push((
                            Occur::Should,
                            Box::new(TermQuery::new(
                                Term::from_field_text(p.keys, &k),
                                IndexRecordOption::WithFreqs,
                            )),
                        ));
                    }
                }
                let occur = if is_particle(w) { Occur::Should } else { Occur::Must };
                clauses.push((occur, Box::new(BooleanQuery::new(either))));
            }
            per_kind.push((Occur::Should, Box::new(BooleanQuery::new(clauses))));
        }
        if per_kind.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(per_kind), &TopDocs::with_limit(limit))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let kind = doc.get_first(self.kind).and_then(|v| v.as_str()).and_then(Kind::parse);
            let id = doc.get_first(self.id).and_then(|v| v.as_str());
            if let (Some(kind), Some(id)) = (kind, id) {
                let id = id.split_once(':').map(|(_, id)| id).unwrap_or(id).to_string();
                hits.push(Hit { kind, id, score });
            }
        }
        Ok(hits)
    }

    /// The tantivy index, for inspection in tests and benchmarks.
    pub fn tantivy(&self) -> &Index {
        &self.index
    }
}

/// The unique key of a document: kind and id.
fn doc_key(kind: Kind, id: &str) -> String {
    format!("{}:{id}", kind.code())
}

#[cfg(test)]
mod tests;
