//! The people registry and households.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::family::{FamilyLink, LinkKind};
use lantern_domain::names::NameKind;
use lantern_domain::person::{
    DocumentInput, DocumentKind, HouseholdId, NameInput, PersonId, PersonInput, Photo, ProtectedFields,
    ResidenceStatus, Sex, SiteId,
};
use lantern_domain::text::search_key;
use lantern_domain::{FieldError, FieldErrors, Reason};
use lantern_store::{
    Household, Page as ResultPage, PageRequest, Person, PersonQuery, PersonSummary, PersonVersion, Site,
};
use serde::Deserialize;

use super::{field, no_errors, Pairs};
use crate::authz::{need, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::view::{render, render_status, Page};
use crate::AppState;

/// Similar names shown under a search from this probability on. The
/// probability is that a candidate is *the* person sought, so registered
/// namesakes share it: with Massoud Husseini and Masoud Hoseyni registered
/// too, مسعود حسینی, the very name of a search for Masoud Hosseini in the
/// other script, stood at 0.16 in session 24 (0.20 before spellings of
/// one script came to be compared by their sounds too, which brought the
/// Latin two nearer). A floor of a tenth still keeps out names that share
/// a word only (Masoud Rahimi).
const SIMILAR_FLOOR: f64 = 0.1;
/// Most rows of a repeated group a form may submit.
const MAX_ROWS: usize = 50;

/// Reads a person form (`names[0].text`, `documents[1].number` …) into the
/// domain's raw input; unknown fields are ignored.
pub(crate) fn person_input(pairs: &Pairs) -> Result<PersonInput, AppError> {
    let mut input = PersonInput::default();
    for (key, value) in pairs {
        let value = value.clone();
        if let Some((group, index, sub)) = indexed(key) {
            if index >= MAX_ROWS {
                return Err(FieldError::new(group, Reason::TooLong { max: MAX_ROWS }).into());
            }
            match group {
                "names" => {
                    if input.names.len() <= index {
                        input.names.resize_with(index + 1, NameInput::default);
                    }
                    let row = &mut input.names[index];
                    match sub {
                        "text" => row.text = value,
                        "kind" => row.kind = value,
                        "language" => row.language = value,
                        _ => {}
                    }
                }
                "documents" => {
                    if input.documents.len() <= index {
                        input.documents.resize_with(index + 1, DocumentInput::default);
                    }
                    let row = &mut input.documents[index];
                    match sub {
                        "kind" => row.kind = value,
                        "number" => row.number = value,
                        "issuer" => row.issuer = value,
                        _ => {}
                    }
                }
                _ => {}
            }
            continue;
        }
        let slot = match key.as_str() {
            "father_name" => &mut input.father_name,
            "mother_name" => &mut input.mother_name,
            "sex" => &mut input.sex,
            "birth_date" => &mut input.birth_date,
            "birth_place" => &mut input.birth_place,
            "nationality" => &mut input.nationality,
            "status" => &mut input.status,
            "site_id" => &mut input.site_id,
            "block" => &mut input.block,
            "room" => &mut input.room,
            "household_id" => &mut input.household_id,
            "contact" => &mut input.contact,
            "notes" => &mut input.notes,
            "not_to_be_traced" => {
                input.not_to_be_traced = matches!(value.as_str(), "yes" | "on" | "true");
                continue;
            }
            _ => continue,
        };
        *slot = value;
    }
    Ok(input)
}

/// Splits `group[index].sub`.
fn indexed(key: &str) -> Option<(&str, usize, &str)> {
    let (group, rest) = key.split_once('[')?;
    let (index, sub) = rest.split_once("].")?;
    Some((group, index.parse().ok()?, sub))
}

#[derive(Template)]
#[template(path = "people_list.html")]
struct ListPage {
    c: Page,
    /// People with similar names in other spellings or scripts (name-only
    /// searches), with the probability of being the same person.
    similar: Vec<(PersonSummary, f64)>,
    /// Other spellings of a one-word search among the registered names.
    spellings: Vec<SpellingLink>,
    q: ListQuery,
    sites: Vec<Site>,
    result: ResultPage<PersonSummary>,
    statuses: Vec<&'static str>,
    query_string: String,
}

/// A registered spelling of a searched word, with the search for it.
struct SpellingLink {
    text: String,
    records: u32,
    href: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    page: String,
}

impl ListQuery {
    fn parse(&self) -> Result<PersonQuery, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = Some(self.q.trim().to_string()).filter(|s| !s.is_empty());
        if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            errors.push("q", Reason::TooLong { max: 200 });
        }
        let status = match self.status.trim() {
            "" => None,
            s => errors.take(ResidenceStatus::parse("status", s)),
        };
        let site = match self.site.trim() {
            "" => None,
            s => errors.take(SiteId::parse("site", s)),
        };
        let birth_year = match self.year.trim() {
            "" => None,
            y => match y.parse::<i32>() {
                Ok(y) if (1000..=9999).contains(&y) => Some(y),
                _ => {
                    errors.push("year", Reason::InvalidNumber);
                    None
                }
            },
        };
        let page = match self.page.trim() {
            "" => 1,
            p => p.parse::<u32>().unwrap_or(1),
        };
        errors.finish(|| PersonQuery {
            name,
            status,
            site,
            birth_year,
            page: PageRequest::new(page, 50),
        })
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("status", &self.status)
            .append_pair("site", &self.site)
            .append_pair("year", &self.year)
            .finish()
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authz<need::PersonRead>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let query = q.parse()?;
    let name_only =
        query.name.is_some() && query.status.is_none() && query.site.is_none() && query.birth_year.is_none();
    let name = query.name.clone();
    let first_page = query.page.page == 1;
    // Beside the exact and prefix matches, on the first page of a search
    // by name only: for one word, the other spellings of it registered
    // (each a search of its own: a common name has thousands of people,
    // a list of some of them would tell nothing); for a longer name, the
    // people the matching engine finds most likely.
    // Words as the search splits them (Mohammad-Reza is two).
    let one_word = name.as_deref().is_some_and(|n| search_key(n).split(' ').count() == 1);
    let engine_query = name
        .clone()
        .filter(|_| name_only && first_page && !one_word)
        .map(|n| crate::engine::Query::names(vec![n]));
    // The engine's candidates are sought while the store reads the page:
    // under load each wait for a worker thread adds to the answer's time.
    let (found, likely) = tokio::join!(state.db(move |s| Ok((s.sites()?, s.search_people(&query)?))), async {
        match &engine_query {
            Some(q) => state.similar_ids(q, 20).await.map(Some),
            None => Ok(None),
        }
    });
    let (sites, result) = found?;
    let (mut similar, mut spellings) = (Vec::new(), Vec::new());
    match name {
        Some(n) if name_only && first_page && one_word => {
            let searched = search_key(&n);
            spellings = state
                .spellings(&n, 20)
                .into_iter()
                // Those the prefix search found already are not other spellings.
                .filter(|s| !search_key(&s.text).starts_with(&searched))
                .take(10)
                .map(|s| SpellingLink {
                    href: format!(
                        "/people?{}",
                        form_urlencoded::Serializer::new(String::new())
                            .append_pair("q", &s.text)
                            .finish()
                    ),
                    text: s.text,
                    records: s.records,
                })
                .collect();
        }
        _ => {
            if let Some(likely) = likely? {
                // Only those the page does not list already are read.
                let found = likely
                    .into_iter()
                    .filter(|(id, p)| *p >= SIMILAR_FLOOR && !result.items.iter().any(|i| i.id == *id))
                    .take(10)
                    .collect();
                similar = state.with_summaries(found).await?;
            }
        }
    }
    Ok(render(&ListPage {
        c: Page::new(&state, &auth.ctx, "people-title"),
        similar,
        spellings,
        query_string: q.query_string(),
        q,
        sites,
        result,
        statuses: ResidenceStatus::ALL.iter().map(|s| s.code()).collect(),
    }))
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct FormPage {
    c: Page,
    /// Registered people who may be the same person (before registering).
    duplicates: Vec<(PersonSummary, f64)>,
    /// `None` for a new person.
    person: Option<(PersonId, i64)>,
    input: PersonInput,
    errors: FieldErrors,
    sites: Vec<Site>,
    sexes: Vec<&'static str>,
    statuses: Vec<&'static str>,
    name_kinds: Vec<&'static str>,
    document_kinds: Vec<&'static str>,
    conflict: bool,
}

impl FormPage {
    fn new(
        c: Page,
        person: Option<(PersonId, i64)>,
        mut input: PersonInput,
        errors: FieldErrors,
        sites: Vec<Site>,
    ) -> Self {
        // Always offer blank rows to add another name or document without JavaScript.
        let names = input.names.len().max(1) + 2;
        input.names.resize_with(names, NameInput::default);
        let docs = input.documents.len() + 1;
        input.documents.resize_with(docs, DocumentInput::default);
        FormPage {
            c,
            duplicates: Vec::new(),
            person,
            input,
            errors,
            sites,
            sexes: Sex::ALL.iter().map(|s| s.code()).collect(),
            statuses: ResidenceStatus::ALL.iter().map(|s| s.code()).collect(),
            name_kinds: NameKind::ALL.iter().map(|k| k.code()).collect(),
            document_kinds: DocumentKind::ALL.iter().map(|k| k.code()).collect(),
            conflict: false,
        }
    }

    fn action(&self) -> String {
        match self.person {
            Some((id, _)) => format!("/people/{id}/edit"),
            None => "/people".into(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    household: String,
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let sites = state.db(|s| s.sites()).await?;
    let input = PersonInput {
        household_id: q.household,
        ..Default::default()
    };
    Ok(render(&FormPage::new(
        Page::new(&state, &auth.ctx, "person-new-title"),
        None,
        input,
        no_errors(),
        sites,
    )))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let input = person_input(&form)?;
    let now = state.clock.now();
    let draft = match input.parse(now.date()) {
        Ok(d) => d,
        Err(errors) => return invalid_form(&state, &auth.ctx, None, input, errors).await,
    };
    // Before registering, look for people who may be the same person; the
    // registrar confirms a new registration explicitly.
    if field(&form, "confirmed_new") != "yes" {
        let duplicates = state
            .likely_duplicates(crate::engine::Query::person(&draft.core))
            .await?;
        if !duplicates.is_empty() {
            let sites = state.db(|s| s.sites()).await?;
            let mut page = FormPage::new(
                Page::new(&state, &auth.ctx, "person-new-title"),
                None,
                input,
                no_errors(),
                sites,
            );
            page.duplicates = duplicates;
            return Ok(render(&page));
        }
    }
    let audit = auth.ctx.audit(now);
    match state.db(move |s| s.create_person(&draft, &audit)).await {
        Ok(p) => {
            state.reindex(p.id).await;
            Ok(Redirect::to(&format!("/people/{}", p.id)).into_response())
        }
        Err(AppError::Invalid(errors)) => invalid_form(&state, &auth.ctx, None, input, errors).await,
        Err(e) => Err(e),
    }
}

async fn invalid_form(
    state: &AppState,
    ctx: &Ctx,
    person: Option<(PersonId, i64)>,
    input: PersonInput,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let sites = state.db(|s| s.sites()).await?;
    let title = if person.is_some() {
        "person-edit-title"
    } else {
        "person-new-title"
    };
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &FormPage::new(Page::new(state, ctx, title), person, input, errors, sites),
    ))
}

fn person_id(raw: &str) -> Result<PersonId, AppError> {
    PersonId::parse("id", raw).map_err(|_| AppError::NotFound)
}

#[derive(Template)]
#[template(path = "person_view.html")]
struct ViewPage {
    c: Page,
    p: Person,
    site: Option<String>,
    household: Option<Household>,
    protected: Option<ProtectedFields>,
    link_kinds: Vec<&'static str>,
    link_errors: FieldErrors,
    /// The resident's cases, for roles that read cases.
    cases: Option<Vec<lantern_store::CaseSummary>>,
}

async fn view_page(
    state: &AppState,
    ctx: &Ctx,
    id: PersonId,
    protected: Option<ProtectedFields>,
    link_errors: FieldErrors,
) -> Result<Response, AppError> {
    let reads_cases = ctx
        .user
        .as_ref()
        .is_some_and(|u| lantern_domain::policy::allows(u.role, lantern_domain::policy::Permission::CaseRead));
    // One trip to a worker thread for everything the page shows.
    let (p, site, household, cases) = state
        .db(move |s| {
            let Some(p) = s.person(id)? else {
                return Ok(None);
            };
            let site = match p.core.site_id {
                Some(sid) => s.sites()?.into_iter().find(|s| s.id == sid).map(|s| s.name),
                None => None,
            };
            let household = match p.core.household_id {
                Some(h) => s.household(h)?.map(|(h, _)| h),
                None => None,
            };
            let cases = if reads_cases { Some(s.cases_of(id)?) } else { None };
            Ok(Some((p, site, household, cases)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let status = super::form_status(&link_errors);
    Ok(render_status(
        status,
        &ViewPage {
            c: Page::new(state, ctx, "person-title"),
            p,
            site,
            household,
            protected,
            link_kinds: LinkKind::ALL.iter().map(|k| k.code()).collect(),
            link_errors,
            cases,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    view_page(&state, &auth.ctx, person_id(&id)?, None, no_errors()).await
}

pub(crate) async fn show_protected(
    State(state): State<AppState>,
    auth: Authz<need::PersonReadProtected>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let protected = state.db(move |s| s.read_protected(id, &audit)).await?;
    view_page(&state, &auth.ctx, id, Some(protected), no_errors()).await
}

/// Sends a person's photo (encrypted at rest, never cached by the browser).
pub(crate) async fn photo(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let photo = state.db(move |s| s.photo(id)).await?.ok_or(AppError::NotFound)?;
    Ok(photo_response(photo))
}

/// An image response for a photo.
pub(crate) fn photo_response(photo: Photo) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, photo.content_type),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        photo.bytes,
    )
        .into_response()
}

pub(crate) async fn upload_photo(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let (_, bytes) = super::form_with_photo(req).await?;
    let photo = match Photo::parse("photo", bytes.unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return view_page(&state, &auth.ctx, id, None, e.into()).await,
    };
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.set_photo(id, &photo, &audit)).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let p = state.db(move |s| s.person(id)).await?.ok_or(AppError::NotFound)?;
    // Editing shows the protected fields, so it is an audited read of them.
    let protected = if p.has_protected {
        let audit = auth.ctx.audit(state.clock.now());
        state.db(move |s| s.read_protected(id, &audit)).await?
    } else {
        ProtectedFields::default()
    };
    let sites = state.db(|s| s.sites()).await?;
    Ok(render(&FormPage::new(
        Page::new(&state, &auth.ctx, "person-edit-title"),
        Some((id, p.version)),
        PersonInput::from_draft(&p.core, &protected),
        no_errors(),
        sites,
    )))
}

fn version(form: &Pairs) -> Result<i64, AppError> {
    field(form, "version")
        .parse()
        .map_err(|_| FieldError::new("version", Reason::InvalidNumber).into())
}

pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let version = version(&form)?;
    let input = person_input(&form)?;
    let now = state.clock.now();
    let draft = match input.parse(now.date()) {
        Ok(d) => d,
        Err(errors) => return invalid_form(&state, &auth.ctx, Some((id, version)), input, errors).await,
    };
    let audit = auth.ctx.audit(now);
    match state.db(move |s| s.update_person(id, version, &draft, &audit)).await {
        Ok(_) => {
            state.reindex(id).await;
            Ok(Redirect::to(&format!("/people/{id}")).into_response())
        }
        Err(AppError::Invalid(errors)) => invalid_form(&state, &auth.ctx, Some((id, version)), input, errors).await,
        Err(AppError::Conflict) => {
            let sites = state.db(|s| s.sites()).await?;
            let mut page = FormPage::new(
                Page::new(&state, &auth.ctx, "person-edit-title"),
                Some((id, version)),
                input,
                no_errors(),
                sites,
            );
            page.conflict = true;
            Ok(render_status(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    auth: Authz<need::PersonDelete>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let version = version(&form)?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.delete_person(id, version, &audit)).await?;
    state.reindex(id).await;
    Ok(Redirect::to("/people").into_response())
}

/// One field's change between two versions, for the history view.
pub(crate) struct Change {
    /// Field's message id.
    pub field: &'static str,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

/// A version with what changed since the one before it.
pub(crate) struct VersionView {
    /// The version.
    pub v: PersonVersion,
    /// Its changes.
    pub changes: Vec<Change>,
}

fn describe(v: &PersonVersion) -> Vec<(&'static str, String)> {
    let c = &v.core;
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        (
            "field-names",
            c.names
                .iter()
                .map(|n| format!("{} ({})", n.text.as_str(), n.kind.code()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("field-father-name", opt(&c.father_name)),
        ("field-mother-name", opt(&c.mother_name)),
        ("field-sex", c.sex.code().to_string()),
        (
            "field-birth-date",
            c.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("field-birth-place", opt(&c.birth_place)),
        ("field-nationality", opt(&c.nationality)),
        ("field-status", c.status.code().to_string()),
        ("field-site-id", c.site_id.map(|s| s.to_string()).unwrap_or_default()),
        ("field-block", opt(&c.block)),
        ("field-room", opt(&c.room)),
        (
            "field-household-id",
            c.household_id.map(|h| h.to_string()).unwrap_or_default(),
        ),
        (
            "field-not-to-be-traced",
            if c.not_to_be_traced {
                "✓".into()
            } else {
                String::new()
            },
        ),
    ]
}

#[derive(Template)]
#[template(path = "person_history.html")]
struct HistoryPage {
    c: Page,
    id: PersonId,
    name: String,
    versions: Vec<VersionView>,
}

pub(crate) async fn history(
    State(state): State<AppState>,
    auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let versions = state.db(move |s| s.person_history(id)).await?;
    let name = versions
        .last()
        .map(|v| v.core.primary_name().text.as_str().to_string())
        .unwrap_or_default();
    let mut views = Vec::new();
    let mut before: Option<Vec<(&'static str, String)>> = None;
    for v in versions {
        let now = describe(&v);
        let changes = match &before {
            None => now
                .iter()
                .filter(|(_, val)| !val.is_empty())
                .map(|(f, val)| Change {
                    field: f,
                    before: String::new(),
                    after: val.clone(),
                })
                .collect(),
            Some(prev) => now
                .iter()
                .zip(prev)
                .filter(|((_, a), (_, b))| a != b)
                .map(|((f, a), (_, b))| Change {
                    field: f,
                    before: b.clone(),
                    after: a.clone(),
                })
                .collect(),
        };
        before = Some(now);
        views.push(VersionView { v, changes });
    }
    views.reverse();
    Ok(render(&HistoryPage {
        c: Page::new(&state, &auth.ctx, "history-title"),
        id,
        name,
        versions: views,
    }))
}

fn link_from_form(id: PersonId, form: &Pairs) -> Result<FamilyLink, FieldErrors> {
    let mut errors = FieldErrors::new();
    let relative = errors.take(PersonId::parse("relative_id", field(form, "relative_id")));
    let kind = errors.take(LinkKind::parse("kind", field(form, "kind")));
    match (relative, kind) {
        (Some(relative), Some(kind)) => Ok(FamilyLink {
            person: id,
            relative,
            kind,
        }),
        _ => Err(errors),
    }
}

pub(crate) async fn add_link(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let link = match link_from_form(id, &form) {
        Ok(l) => l,
        Err(errors) => return view_page(&state, &auth.ctx, id, None, errors).await,
    };
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.add_link(link, &audit)).await {
        Ok(()) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth.ctx, id, None, errors).await,
        Err(e) => Err(e),
    }
}

pub(crate) async fn remove_link(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = person_id(&id)?;
    let link = link_from_form(id, &form)?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.remove_link(link, &audit)).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "households.html")]
struct HouseholdsPage {
    c: Page,
    result: ResultPage<Household>,
    sites: Vec<Site>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: Option<u32>,
}

async fn households_page(state: &AppState, ctx: &Ctx, page: u32, errors: FieldErrors) -> Result<Response, AppError> {
    let result = state.db(move |s| s.households(PageRequest::new(page, 50))).await?;
    let sites = state.db(|s| s.sites()).await?;
    let status = super::form_status(&errors);
    Ok(render_status(
        status,
        &HouseholdsPage {
            c: Page::new(state, ctx, "households-title"),
            result,
            sites,
            errors,
        },
    ))
}

pub(crate) async fn households(
    State(state): State<AppState>,
    auth: Authz<need::PersonRead>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    households_page(&state, &auth.ctx, q.page.unwrap_or(1), no_errors()).await
}

pub(crate) async fn create_household(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let label = errors.take(lantern_domain::text::required_text("label", field(&form, "label"), 200));
    let site = match field(&form, "site_id").trim() {
        "" => None,
        s => errors.take(SiteId::parse("site_id", s)),
    };
    let Some(label) = label.filter(|_| errors.is_empty()) else {
        return households_page(&state, &auth.ctx, 1, errors).await;
    };
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.create_household(&label, site, &audit)).await {
        Ok(h) => Ok(Redirect::to(&format!("/households/{}", h.id)).into_response()),
        Err(AppError::Invalid(errors)) => households_page(&state, &auth.ctx, 1, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    c: Page,
    h: Household,
    members: Vec<PersonSummary>,
}

pub(crate) async fn household(
    State(state): State<AppState>,
    auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = HouseholdId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let (h, members) = state.db(move |s| s.household(id)).await?.ok_or(AppError::NotFound)?;
    Ok(render(&HouseholdPage {
        c: Page::new(&state, &auth.ctx, "household-title"),
        h,
        members,
    }))
}
