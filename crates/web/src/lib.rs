//! Lantern's web layer: server-rendered pages in the user's language, a JSON
//! API under `/api/v1`, and the middleware every request passes through.
//!
//! Request flow: [`context::middleware`] gives each request an id, resolves
//! the user (session cookie for pages, bearer token for the API), checks the
//! CSRF token of every state-changing page request, and sets the security
//! headers. Handlers then ask for permission through one extractor,
//! [`authz::Authz`], whose type names the permission; the decision itself is
//! the domain's `policy::allows`. No handler compares roles.

pub mod api;
pub mod api_cases;
pub mod api_evidence;
pub mod api_interviews;
pub mod api_testimony;
pub mod api_tracing;
pub mod authz;
pub mod context;
mod dossier_bundle;
pub mod engine;
pub mod error;
pub mod i18n;
mod pages;
mod pdf;
pub mod search;
pub mod security;
mod view;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use lantern_domain::clock::Clock;
use lantern_store::Store;
use time::Duration;

pub use context::Ctx;
pub use error::AppError;

/// Registering warns about people this likely to be the same person.
pub const DUPLICATE_WARNING: f64 = 0.5;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after login, however active.
    pub session_absolute: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Largest upload (multipart form, photo) accepted, in bytes.
    pub max_upload: usize,
    /// Largest evidence file accepted, in bytes (streamed, never held in memory).
    pub max_evidence: u64,
    /// Failed logins allowed per account within the throttle window.
    pub login_failures_per_account: usize,
    /// Failed logins allowed per client address within the throttle window.
    pub login_failures_per_address: usize,
    /// Requests a family may file through the public form per hour, from one address.
    pub public_filings_per_address: usize,
    /// Requests the public form accepts per hour in all (a flood from many addresses).
    pub public_filings_per_hour: usize,
    /// Status page lookups per client address per 15 minutes (guessing secrets).
    pub status_lookups_per_address: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            session_idle: Duration::hours(2),
            session_absolute: Duration::hours(12),
            max_body: 1024 * 1024,
            max_upload: 6 * 1024 * 1024,
            max_evidence: 4 * 1024 * 1024 * 1024,
            login_failures_per_account: 5,
            login_failures_per_address: 30,
            public_filings_per_address: 5,
            public_filings_per_hour: 300,
            status_lookups_per_address: 30,
        }
    }
}

/// Everything a handler may use.
pub struct AppInner {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The clock (a fake one in tests).
    pub clock: Arc<dyn Clock>,
    /// Interface text.
    pub i18n: i18n::I18n,
    /// Settings.
    pub config: WebConfig,
    /// Evidence files.
    pub vault: lantern_vault::objects::ObjectVault,
    /// Failed-login counter.
    pub throttle: security::Throttle,
    /// Filings through the public form, per address and in all.
    pub public_filings: security::Throttle,
    /// Status page lookups, per address.
    pub status_lookups: security::Throttle,
    /// The matching index over every registered person's names, built at
    /// start and kept current after every change.
    pub matcher: std::sync::RwLock<lantern_matching::Matcher>,
    /// The same over the names of the tracing requests still searching, so
    /// a person registered or changed is matched against them at once.
    pub requests: std::sync::RwLock<lantern_matching::Matcher>,
    /// The log's signing key, set by the server at start
    /// ([`AppState::set_signer`]): exporting a dossier signs a checkpoint
    /// covering it at once instead of waiting for the next one.
    pub signer: std::sync::OnceLock<Arc<lantern_ledger::note::NoteSigner>>,
    /// The full-text index over testimonies and evidence records, in
    /// memory (its restricted text is sealed at rest in the store): built
    /// at start by [`AppState::build_search_index`], kept current after
    /// each new record.
    pub search: lantern_search::SearchIndex,
    /// Set once the index holds every record that existed at start.
    pub search_ready: std::sync::atomic::AtomicBool,
}

/// Who the automatic matching runs act as, in the audit trail.
pub const MATCHING_ENGINE: &str = "matching engine";
/// Candidates the engine proposes per request, from this probability on.
pub const CANDIDATES: usize = 10;
/// The lowest probability a proposed candidate has.
pub const CANDIDATE_FLOOR: f64 = 0.2;

/// Why the application state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A message file is malformed.
    #[error(transparent)]
    Locale(#[from] i18n::LocaleError),
    /// The store could not be read.
    #[error("reading the registry: {0}")]
    Store(#[from] lantern_store::StoreError),
    /// The search index could not be created.
    #[error(transparent)]
    Search(#[from] lantern_search::SearchError),
}

/// Shared application state.
#[derive(Clone)]
pub struct AppState(pub Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    /// Builds the state and the matching index from the store.
    pub fn new(
        store: Arc<dyn Store>,
        vault: lantern_vault::objects::ObjectVault,
        clock: Arc<dyn Clock>,
        config: WebConfig,
    ) -> Result<Self, StartError> {
        let throttle = security::Throttle::new(
            Duration::minutes(15),
            config.login_failures_per_account,
            config.login_failures_per_address,
        );
        let public_filings = security::Throttle::new(
            Duration::hours(1),
            config.public_filings_per_hour,
            config.public_filings_per_address,
        );
        let status_lookups =
            security::Throttle::new(Duration::minutes(15), usize::MAX, config.status_lookups_per_address);
        let mut matcher = lantern_matching::Matcher::new();
        store.match_people(&mut |id, core| {
            matcher.add(engine::Query::person(&core).record(id.to_string()));
        })?;
        let mut requests = lantern_matching::Matcher::new();
        for (id, sought) in store.searching_requests()? {
            requests.add(engine::Query::sought(&sought).record(id.to_string()));
        }
        Ok(AppState(Arc::new(AppInner {
            store,
            vault,
            clock,
            i18n: i18n::I18n::load()?,
            config,
            throttle,
            public_filings,
            status_lookups,
            matcher: std::sync::RwLock::new(matcher),
            requests: std::sync::RwLock::new(requests),
            signer: std::sync::OnceLock::new(),
            search: lantern_search::SearchIndex::new()?,
            search_ready: std::sync::atomic::AtomicBool::new(false),
        })))
    }

    /// Brings the matching index up to date for one person after a change
    /// (registration, edit, deletion). The change itself is already
    /// committed, so a failure here is logged rather than reported as a
    /// failed change; the index is rebuilt from the store at the next start.
    pub async fn reindex(&self, id: lantern_domain::person::PersonId) {
        let person = match self.db(move |s| s.person(id)).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(person = %id, "matching index not updated: {e}");
                return;
            }
        };
        let query = person.map(|p| engine::Query::person(&p.core));
        {
            let mut m = self.matcher.write().unwrap_or_else(|e| e.into_inner());
            match &query {
                Some(q) => m.add(q.record(id.to_string())),
                None => m.remove(&id.to_string()),
            }
        }
        if let Some(query) = query {
            self.match_person_to_requests(id, &query).await;
        }
    }

    /// Proposes a registered (or changed) person to every request still
    /// searching whose names and other fields resemble theirs. Runs after
    /// the change is committed; a failure is logged, the next search finds
    /// them anyway.
    async fn match_person_to_requests(&self, person: lantern_domain::person::PersonId, query: &engine::Query) {
        let query = query.clone();
        let found = self
            .engine(move |state| {
                let r = state.requests.read().unwrap_or_else(|e| e.into_inner());
                r.search_with(&query.name_refs(), &query.details, CANDIDATES)
            })
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(%person, "automatic matching failed: {e}");
                Vec::new()
            });
        for c in found.into_iter().filter(|c| c.probability >= CANDIDATE_FLOOR) {
            let Ok(request) = lantern_domain::tracing::RequestId::parse("id", &c.id) else {
                continue;
            };
            if let Err(e) = self.propose(request, vec![(person, c.probability)]).await {
                tracing::warn!(%request, "automatic match not recorded: {e}");
            }
        }
    }

    /// Runs the engine for a request just filed (or edited) and records its
    /// candidates; the request joins the index of requests searching.
    pub async fn match_request(
        &self,
        request: lantern_domain::tracing::RequestId,
        sought: &lantern_store::SoughtPerson,
    ) {
        let query = engine::Query::sought(sought);
        {
            let mut r = self.requests.write().unwrap_or_else(|e| e.into_inner());
            r.add(query.record(request.to_string()));
        }
        let found = match self.candidates_for(sought).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(%request, "automatic search failed: {e}");
                return;
            }
        };
        if let Err(e) = self.propose(request, found).await {
            tracing::warn!(%request, "automatic candidates not recorded: {e}");
        }
    }

    /// Records candidates as the matching engine (a filed request is moved
    /// to the search in the same transaction); a request no longer
    /// searching leaves the index.
    async fn propose(
        &self,
        request: lantern_domain::tracing::RequestId,
        found: Vec<(lantern_domain::person::PersonId, f64)>,
    ) -> Result<(), AppError> {
        let ctx = lantern_store::AuditContext::system(MATCHING_ENGINE, self.clock.now());
        let searching = self
            .db(move |s| match s.propose_candidates(request, &found, &ctx) {
                Ok(_) => Ok(true),
                // Gone, or past the search (matched, closed, withdrawn).
                Err(lantern_store::StoreError::NotFound) => Ok(false),
                Err(lantern_store::StoreError::Invalid(e))
                    if e.field == "state" && e.reason == lantern_domain::Reason::StepNotAllowed =>
                {
                    Ok(false)
                }
                Err(e) => Err(e),
            })
            .await?;
        if !searching {
            self.requests
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&request.to_string());
        }
        Ok(())
    }

    /// Registered people who may be the person with these names, when the
    /// chance that at least one of them is (1 − Π(1 − pᵢ) over candidates
    /// from 20 %) reaches [`DUPLICATE_WARNING`]. Each candidate's own
    /// probability is lowered by equally good rivals, so two registrations of
    /// the same name must still raise the warning together. Checked before a
    /// registration, in the pages and the API.
    pub async fn likely_duplicates(
        &self,
        query: engine::Query,
    ) -> Result<Vec<(lantern_store::PersonSummary, f64)>, AppError> {
        let candidates: Vec<_> = self
            .similar(&query, 5)
            .await?
            .into_iter()
            .filter(|(_, p)| *p >= 0.2)
            .collect();
        let none = candidates.iter().fold(1.0, |acc, (_, p)| acc * (1.0 - p));
        Ok(if 1.0 - none >= DUPLICATE_WARNING {
            candidates
        } else {
            Vec::new()
        })
    }

    /// The candidates the engine finds for what a request gives of the
    /// person sought (from [`CANDIDATE_FLOOR`], at most [`CANDIDATES`]).
    pub async fn candidates_for(
        &self,
        sought: &lantern_store::SoughtPerson,
    ) -> Result<Vec<(lantern_domain::person::PersonId, f64)>, AppError> {
        Ok(self
            .similar(&engine::Query::sought(sought), CANDIDATES)
            .await?
            .into_iter()
            .filter(|(_, p)| *p >= CANDIDATE_FLOOR)
            .map(|(s, p)| (s.id, p))
            .collect())
    }

    /// The engine's explanation of each of a request's candidates still in
    /// the registry: how the names met, word by word, and each other
    /// field's weight.
    pub fn explain_candidates(
        &self,
        r: &lantern_store::TracingRequest,
    ) -> Vec<(lantern_domain::person::PersonId, lantern_matching::Explanation)> {
        let m = self.matcher.read().unwrap_or_else(|e| e.into_inner());
        let q = engine::Query::sought(&r.sought);
        r.candidates
            .iter()
            .filter_map(|k| {
                m.explain_with(&q.name_refs(), &q.details, &k.person.to_string())
                    .map(|e| (k.person, e))
            })
            .collect()
    }

    /// People who resemble this query (names in any script, and the other
    /// fields it gives), with the probability that each is the person.
    pub async fn similar(
        &self,
        query: &engine::Query,
        top: usize,
    ) -> Result<Vec<(lantern_store::PersonSummary, f64)>, AppError> {
        let found = self.similar_ids(query, top).await?;
        self.with_summaries(found).await
    }

    /// [`AppState::similar`] from the engine alone: the people's ids, most
    /// likely first.
    pub async fn similar_ids(
        &self,
        query: &engine::Query,
        top: usize,
    ) -> Result<Vec<(lantern_domain::person::PersonId, f64)>, AppError> {
        let query = query.clone();
        let found = self
            .engine(move |state| {
                let m = state.matcher.read().unwrap_or_else(|e| e.into_inner());
                m.search_with(&query.name_refs(), &query.details, top)
            })
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|c| {
                Some((
                    lantern_domain::person::PersonId::parse("id", &c.id).ok()?,
                    c.probability,
                ))
            })
            .collect())
    }

    /// The summaries of these people, each with its probability, in the
    /// order given (people deleted since left out).
    pub async fn with_summaries(
        &self,
        found: Vec<(lantern_domain::person::PersonId, f64)>,
    ) -> Result<Vec<(lantern_store::PersonSummary, f64)>, AppError> {
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<lantern_domain::person::PersonId> = found.iter().map(|(id, _)| *id).collect();
        let summaries = self.db(move |s| s.person_summaries(&ids)).await?;
        Ok(summaries
            .into_iter()
            .filter_map(|s| {
                let p = found.iter().find(|(id, _)| *id == s.id)?.1;
                Some((s, p))
            })
            .collect())
    }

    /// Other spellings of one searched word among the registered names
    /// (see [`lantern_matching::Matcher::spellings`]).
    pub fn spellings(&self, word: &str, top: usize) -> Vec<lantern_matching::Spelling> {
        let m = self.matcher.read().unwrap_or_else(|e| e.into_inner());
        m.spellings(word, top)
    }

    /// Gives the state the log's signing key (once; later calls are ignored).
    pub fn set_signer(&self, signer: Arc<lantern_ledger::note::NoteSigner>) {
        let _ = self.signer.set(signer);
    }

    /// Runs work of the matching engine on the blocking pool: a search of a
    /// large registry takes tens of milliseconds, which on an async worker
    /// would hold up every other request that worker serves.
    pub async fn engine<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppInner) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Runs a store call on the blocking pool (the store is synchronous).
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> lantern_store::StoreResult<T> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(AppError::from)
    }
}

/// The whole application: pages, API, static files, middleware.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body;
    let max_upload = state.config.max_upload;
    Router::new()
        .merge(pages::routes(max_upload))
        .nest("/api/v1", api::routes(max_upload))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), context::middleware))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}
