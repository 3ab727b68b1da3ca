//! Full-text search over testimonies and evidence records: what goes into
//! the index ([`lantern_search`]) and which part of it a user's search
//! may look into.
//!
//! A document's *open* part is what every reader of that kind of record
//! sees (a testimony's pseudonym, events, acts and the parts not marked
//! confidential; an evidence record's title); its *restricted* part is what
//! only some roles see (the witness's identity, exact places, confidential
//! parts; an evidence file's description and name). The scope of a search
//! follows the permission matrix, so a result never points at text its
//! searcher could not read.

use std::sync::atomic::Ordering;

use lantern_domain::policy::{allows, Permission, Role};
use lantern_domain::testimony::{ConfidentialPart, Witness};
use lantern_search::{Access, Document, Kind, Scope};
use lantern_store::{ActType, Event, Evidence, EvidenceDetails, PageRequest, TestimonyFull};

use crate::error::AppError;
use crate::AppState;
use lantern_domain::evidence::EvidenceId;
use lantern_domain::testimony::TestimonyId;
use lantern_domain::user::UiLanguage;

/// Records read from the store per batch while the index is built.
const BATCH: u32 = 500;

/// What a role's search looks into: derived from the permission matrix
/// alone, so it cannot disagree with what the role may read.
pub fn scope(role: Role) -> Scope {
    let access = |full: Permission, open: Permission| {
        if allows(role, full) {
            Access::All
        } else if allows(role, open) {
            Access::Open
        } else {
            Access::None
        }
    };
    Scope {
        testimonies: access(Permission::TestimonyConfidential, Permission::TestimonyRead),
        evidence: access(Permission::EvidenceOpen, Permission::EvidenceRead),
    }
}

/// The labels of an act type in every interface language (built-in types)
/// or as the administrator gave them, so a search for "detention" or
/// "بازداشت" finds testimonies alleging it.
fn act_labels(state: &AppState, types: &[ActType], code: &str) -> Vec<String> {
    match types.iter().find(|t| t.code == code) {
        Some(t) if t.built_in => UiLanguage::ALL
            .iter()
            .map(|l| state.i18n.text(*l, &format!("act-type-{code}"), &[]))
            .collect(),
        Some(t) => t.labels.values().cloned().collect(),
        None => Vec::new(),
    }
}

/// A testimony as an index document.
fn testimony_document(state: &AppState, t: &TestimonyFull, events: &[Event], types: &[ActType]) -> Document {
    let confidential = |p: ConfidentialPart| t.summary.confidential.contains(&p);
    let mut open = vec![t.summary.pseudonym.clone()];
    let mut restricted = Vec::new();
    for e in events.iter().filter(|e| t.summary.events.contains(&e.id)) {
        open.push(e.title.clone());
        open.extend(e.place.clone());
        open.extend(e.description.clone());
        restricted.extend(e.exact_place.clone());
    }
    match &t.witness {
        Some(Witness::Sealed { name, contact }) => {
            restricted.push(name.clone());
            restricted.extend(contact.clone());
        }
        Some(Witness::Registered { .. }) | None => {}
    }
    let mut place = |part: ConfidentialPart, text: String| {
        if confidential(part) {
            restricted.push(text);
        } else {
            open.push(text);
        }
    };
    if let Some(n) = &t.narrative {
        place(ConfidentialPart::Narrative, n.clone());
    }
    for a in &t.acts {
        for v in &a.victims {
            place(ConfidentialPart::Victims, v.clone());
        }
        for p in &a.perpetrators {
            place(ConfidentialPart::Perpetrators, p.name.clone());
        }
    }
    for s in t.sources.iter().flatten() {
        place(ConfidentialPart::Sources, s.citation.clone());
    }
    for a in &t.acts {
        open.extend(act_labels(state, types, &a.act_type));
        open.extend(a.consequences.clone());
    }
    open.extend(t.reliability_note.clone());
    Document {
        kind: Kind::Testimony,
        id: t.summary.id.to_string(),
        open,
        restricted,
    }
}

/// An evidence record as an index document.
fn evidence_document(e: &Evidence, d: &EvidenceDetails) -> Document {
    Document {
        kind: Kind::Evidence,
        id: e.id.to_string(),
        open: vec![e.title.clone()],
        restricted: d.description.iter().chain(d.filename.iter()).cloned().collect(),
    }
}

impl AppState {
    /// Fills the search index from the store (at start, in the
    /// background: searches answer from what is indexed so far, and say
    /// so until it is complete). Records added meanwhile are indexed as
    /// they come; putting one twice replaces it.
    pub async fn build_search_index(&self) -> Result<(), String> {
        let started = std::time::Instant::now();
        let events = self.db(|s| s.events()).await.map_err(|e| e.to_string())?;
        let types = self.db(|s| s.act_types()).await.map_err(|e| e.to_string())?;
        let mut count = 0usize;
        for page in 1.. {
            let batch = self
                .db(move |s| s.testimonies_for_index(PageRequest::new(page, BATCH)))
                .await
                .map_err(|e| e.to_string())?;
            if batch.is_empty() {
                break;
            }
            count += batch.len();
            let docs: Vec<Document> = batch
                .iter()
                .map(|t| testimony_document(self, t, &events, &types))
                .collect();
            self.put_documents(docs).await?;
        }
        for page in 1.. {
            let batch = self
                .db(move |s| s.evidence_for_index(PageRequest::new(page, BATCH)))
                .await
                .map_err(|e| e.to_string())?;
            if batch.is_empty() {
                break;
            }
            count += batch.len();
            let docs: Vec<Document> = batch.iter().map(|(e, d)| evidence_document(e, d)).collect();
            self.put_documents(docs).await?;
        }
        self.search_ready.store(true, Ordering::Release);
        tracing::info!(
            documents = count,
            seconds = started.elapsed().as_secs_f64(),
            "search index built"
        );
        Ok(())
    }

    async fn put_documents(&self, docs: Vec<Document>) -> Result<(), String> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || state.search.put(docs))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// Indexes a testimony just recorded. The record is committed already,
    /// so a failure is logged, not reported; the next start indexes it.
    pub(crate) async fn index_testimony(&self, t: TestimonyFull) {
        let ids = t.summary.events.clone();
        let docs = async {
            // Only its own events: a testimony is indexed with their text.
            let events: Vec<Event> = self
                .db(move |s| {
                    ids.iter()
                        .filter_map(|id| s.event(*id).transpose())
                        .collect::<Result<_, _>>()
                })
                .await
                .map_err(|e| e.to_string())?;
            let types = self.db(|s| s.act_types()).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(vec![testimony_document(self, &t, &events, &types)])
        };
        if let Err(e) = async { self.put_documents(docs.await?).await }.await {
            tracing::error!(testimony = %t.summary.id, "search index not updated: {e}");
        }
    }

    /// Indexes an evidence record just added; failures as above.
    pub(crate) async fn index_evidence(&self, e: &Evidence, details: &EvidenceDetails) {
        if let Err(err) = self.put_documents(vec![evidence_document(e, details)]).await {
            tracing::error!(evidence = %e.id, "search index not updated: {err}");
        }
    }

    /// True once the index holds every record that existed at start.
    pub fn search_complete(&self) -> bool {
        self.search_ready.load(Ordering::Acquire)
    }
}

/// Most results a search returns.
pub const MAX_RESULTS: usize = 50;

/// One result, with what may be shown of it: a testimony's pseudonym,
/// date and language, or an evidence record's title.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Found {
    /// `testimony` or `evidence`.
    pub kind: &'static str,
    /// The record's id.
    pub id: String,
    /// Its pseudonym or title.
    pub title: String,
    /// A testimony's date and language, an evidence file's media type.
    pub detail: String,
    /// Where its page is.
    pub href: String,
    /// Relevance (higher is better).
    pub score: f32,
}

/// Runs a search with `role`'s scope and describes each result from the
/// store; a result whose record is gone is left out.
pub(crate) async fn run(state: &AppState, role: Role, query: &str, limit: usize) -> Result<Vec<Found>, AppError> {
    let scope = scope(role);
    let q = query.to_string();
    let index = state.clone();
    let hits = tokio::task::spawn_blocking(move || index.search.search(&q, scope, limit.min(MAX_RESULTS)))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    state
        .db(move |s| {
            let mut out = Vec::new();
            for h in hits {
                let found = match h.kind {
                    Kind::Testimony => TestimonyId::parse("id", &h.id)
                        .ok()
                        .map(|id| s.testimony(id))
                        .transpose()?
                        .flatten()
                        .map(|t| Found {
                            kind: h.kind.code(),
                            href: format!("/testimonies/{}", t.id),
                            id: h.id.clone(),
                            title: t.pseudonym,
                            detail: format!("{} · {}", t.given_on, t.language),
                            score: h.score,
                        }),
                    Kind::Evidence => EvidenceId::parse("id", &h.id)
                        .ok()
                        .map(|id| s.evidence(id))
                        .transpose()?
                        .flatten()
                        .map(|e| Found {
                            kind: h.kind.code(),
                            href: format!("/evidence/{}", e.id),
                            id: h.id.clone(),
                            title: e.title,
                            detail: e.media_type,
                            score: h.score,
                        }),
                };
                out.extend(found);
            }
            Ok(out)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_the_permission_matrix() {
        let s = scope(Role::Documenter);
        assert_eq!((s.testimonies, s.evidence), (Access::All, Access::All));
        let s = scope(Role::Caseworker);
        assert_eq!((s.testimonies, s.evidence), (Access::Open, Access::All));
        let s = scope(Role::Auditor);
        assert_eq!((s.testimonies, s.evidence), (Access::None, Access::Open));
        for role in Role::ALL {
            let s = scope(*role);
            let any = s.testimonies != Access::None || s.evidence != Access::None;
            assert_eq!(any, allows(*role, Permission::TextSearch), "{role:?}");
        }
    }
}
