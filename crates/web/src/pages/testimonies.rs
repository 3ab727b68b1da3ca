//! Testimonies, sharing decisions and dossiers in the browser: the
//! documenter records a testimony (with a new or known event, its acts, a
//! source and a file), records the witness's decision about each
//! recipient, builds a dossier and downloads its bundle; an external
//! official lists and downloads the dossiers shared with them.
//!
//! The same store calls and the same bundle as the JSON API
//! ([`crate::api_testimony`]); what a user sees of a testimony is decided
//! by the permission matrix (witness and confidential parts need
//! `testimony_confidential`) and every read of sealed parts is audited by
//! the store.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::corroboration::{corroborate, likely_same_event, Account, Corroboration, Dependence, EventKey};
use lantern_domain::evidence::EvidenceId;
use lantern_domain::person::PersonId;
use lantern_domain::policy::{allows, Permission, Role};
use lantern_domain::testimony::{
    Act, ConfidentialPart, Degree, DossierId, EventDraft, EventId, Involvement, RecipientId, RecipientKind, Redaction,
    Reliability, ShareDecision, Source, SourceKind, TestimonyDraft, TestimonyId, Witness,
};
use lantern_domain::user::UserId;
use lantern_domain::{FieldError, FieldErrors, Reason};
use lantern_store::{
    ActType, AuditContext, Dossier, Event, Evidence, NewShareDecision, PageRequest, Recipient, ShareRecord, Store,
    StoreResult, TestimonyFull, TestimonySummary, User,
};

use super::{field, form_status, no_errors, Pairs};
use crate::authz::{need, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::evidence::{self as evidence_pages, Upload};
use crate::view::{render_status, Page};
use crate::AppState;

/// Act rows the form offers (more acts can be sent through the API).
const ACT_ROWS: usize = 2;

/// Every value of a repeated form field (checkbox groups).
fn all<'a>(form: &'a Pairs, name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The store names fields as the JSON API does (`recipient_id`,
/// `testimonies[2]`); the forms name them as in `names`, so the error
/// shows beside the field the user filled in.
fn as_form_errors(list: FieldErrors, names: &[(&str, &str)]) -> FieldErrors {
    let mut out = FieldErrors::new();
    for e in list.0 {
        let base = e.field.split('[').next().unwrap_or_default();
        let field = names
            .iter()
            .find(|(api, _)| *api == base)
            .map(|(_, form)| form.to_string())
            .unwrap_or(e.field);
        out.push(field, e.reason);
    }
    out
}

/// ` checked` when the form holds `value` for the checkbox group `name`.
fn checked(form: &Pairs, name: &str, value: &str) -> &'static str {
    if all(form, name).contains(&value) {
        " checked"
    } else {
        ""
    }
}

/// The codes of every value of an enumeration, for a form's choices.
fn codes<T: Copy>(values: &[T], code: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    values.iter().map(|v| code(*v)).collect()
}

fn testimony_id(raw: &str) -> Result<TestimonyId, AppError> {
    TestimonyId::parse("id", raw).map_err(|_| AppError::NotFound)
}

fn dossier_id(raw: &str) -> Result<DossierId, AppError> {
    DossierId::parse("id", raw).map_err(|_| AppError::NotFound)
}

/// The label of an act type in the page's language: a built-in type's from
/// the interface messages (`act-type-…`), an added type's from the labels
/// the administrator gave it (else English, else its code).
fn act_label(c: &Page, types: &[ActType], code: &str) -> String {
    match types.iter().find(|t| t.code == code) {
        Some(t) if t.built_in => c.label("act-type", code),
        Some(t) => t
            .labels
            .get(c.lang())
            .or_else(|| t.labels.get("en"))
            .cloned()
            .unwrap_or_else(|| code.to_string()),
        None => code.to_string(),
    }
}

#[derive(Template)]
#[template(path = "testimonies.html")]
struct ListPage {
    c: Page,
    testimonies: Vec<TestimonySummary>,
    total: u64,
    events: Vec<Event>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyRead>,
) -> Result<Response, AppError> {
    let page = state.db(|s| s.testimonies(PageRequest::new(1, 200))).await?;
    let events = state.db(|s| s.events()).await?;
    Ok(render_status(
        axum::http::StatusCode::OK,
        &ListPage {
            c: Page::new(&state, &auth.ctx, "testimonies-title"),
            testimonies: page.items,
            total: page.total,
            events,
        },
    ))
}

#[derive(Template)]
#[template(path = "testimony_new.html")]
struct NewPage {
    c: Page,
    errors: FieldErrors,
    form: Pairs,
    events: Vec<Event>,
    act_types: Vec<(String, String)>,
    evidence: Vec<Evidence>,
    rows: Vec<usize>,
}

impl NewPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }

    fn checked(&self, name: &str, value: &str) -> &'static str {
        checked(&self.form, name, value)
    }

    fn degrees(&self) -> Vec<&'static str> {
        codes(Degree::ALL, |d| d.code())
    }

    fn source_kinds(&self) -> Vec<&'static str> {
        codes(SourceKind::ALL, |d| d.code())
    }

    fn reliabilities(&self) -> Vec<&'static str> {
        codes(Reliability::ALL, |d| d.code())
    }

    fn confidential_parts(&self) -> Vec<&'static str> {
        codes(ConfidentialPart::ALL, |d| d.code())
    }
}

async fn new_page(state: &AppState, ctx: &Ctx, errors: FieldErrors, form: Pairs) -> Result<Response, AppError> {
    let events = state.db(|s| s.events()).await?;
    let types = state.db(|s| s.act_types()).await?;
    let evidence = state.db(|s| s.evidence_list(PageRequest::new(1, 200))).await?.items;
    let c = Page::new(state, ctx, "testimony-new");
    let act_types = types
        .iter()
        .map(|t| (t.code.clone(), act_label(&c, &types, &t.code)))
        .collect();
    let status = form_status(&errors);
    Ok(render_status(
        status,
        &NewPage {
            c,
            errors,
            form,
            events,
            act_types,
            evidence,
            rows: (0..ACT_ROWS).collect(),
        },
    ))
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyWrite>,
) -> Result<Response, AppError> {
    let today = state.clock.now().date().to_string();
    let form = vec![
        ("given_on".to_string(), today),
        ("reliability".to_string(), Reliability::NotAssessed.code().to_string()),
    ];
    new_page(&state, &auth.ctx, no_errors(), form).await
}

/// The event the form names: a known one, or a new one to create, whose
/// field errors are named `event_title`, `event_start` ….
enum EventChoice {
    Known(EventId),
    New(EventDraft),
}

fn event_choice(form: &Pairs, today: time::Date, errors: &mut FieldErrors) -> Option<EventChoice> {
    let chosen = field(form, "event").trim();
    if !chosen.is_empty() {
        return errors.take(EventId::parse("event", chosen)).map(EventChoice::Known);
    }
    let parsed = EventDraft::parse(
        field(form, "event_title"),
        field(form, "event_start"),
        field(form, "event_end"),
        field(form, "event_place"),
        field(form, "event_exact_place"),
        field(form, "event_description"),
        today,
    );
    match parsed {
        Ok(d) => Some(EventChoice::New(d)),
        Err(list) => {
            for e in list {
                errors.push(format!("event_{}", e.field), e.reason);
            }
            None
        }
    }
}

/// The non-empty lines of a text area.
fn lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The acts the form fills in; a row with no type is left out. The event
/// is `event` (a stand-in until a new event is created).
fn acts(form: &Pairs, event: EventId, errors: &mut FieldErrors) -> Vec<Act> {
    let mut out = Vec::new();
    for i in 0..ACT_ROWS {
        let name = |sub: &str| format!("acts[{i}].{sub}");
        let act_type = field(form, &name("act_type")).trim();
        if act_type.is_empty() {
            continue;
        }
        let perpetrators = lines(field(form, &name("perpetrators")));
        let degree = if perpetrators.is_empty() {
            Some(Degree::Suspected)
        } else {
            errors.take(Degree::parse(&name("degree"), field(form, &name("degree"))))
        };
        let consequences = field(form, &name("consequences")).trim();
        if let Some(degree) = degree {
            out.push(Act {
                event,
                act_type: act_type.to_string(),
                victims: lines(field(form, &name("victims"))),
                perpetrators: perpetrators
                    .into_iter()
                    .map(|name| Involvement { name, degree })
                    .collect(),
                consequences: (!consequences.is_empty()).then(|| consequences.to_string()),
            });
        }
    }
    out
}

/// The testimony the form describes, with `event` standing for its event.
fn draft(form: &Pairs, event: EventId, today: time::Date, errors: &mut FieldErrors) -> Option<TestimonyDraft> {
    let witness = match field(form, "witness_kind") {
        "registered" => errors
            .take(PersonId::parse("witness_person", field(form, "witness_person")))
            .map(|person| Witness::Registered { person }),
        _ => {
            let contact = field(form, "witness_contact").trim();
            Some(Witness::Sealed {
                name: field(form, "witness_name").to_string(),
                contact: (!contact.is_empty()).then(|| contact.to_string()),
            })
        }
    };
    let given_on = errors.take(lantern_domain::date::day("given_on", field(form, "given_on")));
    if given_on.is_some_and(|d| d > today) {
        errors.push("given_on", Reason::DateInFuture);
    }
    let reliability = errors.take(Reliability::parse("reliability", field(form, "reliability")));
    let confidential = all(form, "confidential")
        .into_iter()
        .filter_map(|c| errors.take(ConfidentialPart::parse("confidential", c)))
        .collect();
    let evidence: Vec<EvidenceId> = all(form, "evidence")
        .into_iter()
        .filter_map(|e| errors.take(EvidenceId::parse("evidence", e)))
        .collect();
    let citation = field(form, "sources[0].citation").trim();
    let sources = if citation.is_empty() {
        Vec::new()
    } else {
        let link = field(form, "sources[0].link").trim();
        errors
            .take(SourceKind::parse("sources[0].kind", field(form, "sources[0].kind")))
            .map(|kind| {
                vec![Source {
                    kind,
                    citation: citation.to_string(),
                    link: (!link.is_empty()).then(|| link.to_string()),
                    evidence: None,
                }]
            })
            .unwrap_or_default()
    };
    let acts = acts(form, event, errors);
    let note = field(form, "reliability_note").trim();
    let (Some(witness), Some(given_on), Some(reliability)) = (witness, given_on, reliability) else {
        return None;
    };
    let draft = TestimonyDraft {
        witness,
        pseudonym: field(form, "pseudonym").to_string(),
        given_on,
        language: field(form, "language").to_string(),
        narrative: field(form, "narrative").to_string(),
        events: vec![event],
        acts,
        sources,
        evidence,
        reliability,
        reliability_note: (!note.is_empty()).then(|| note.to_string()),
        confidential,
    };
    match draft.cleaned() {
        Ok(d) => Some(d),
        Err(list) => {
            for e in list {
                errors.push(e.field, e.reason);
            }
            None
        }
    }
}

/// Records a testimony from the form. Everything is checked before
/// anything is written: the fields, the known event, the registered
/// witness; then the file (if any) becomes an evidence record, a new
/// event is created, and the testimony cites both. A refusal on the way
/// deletes the stored file and shows the form again with what was typed.
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyWrite>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let upload = match evidence_pages::receive_form(&state, multipart).await {
        Ok(u) => u,
        Err((AppError::Invalid(errors), form)) => return new_page(&state, &auth.ctx, errors, form).await,
        Err((e, _)) => return Err(e),
    };
    let form = upload.fields.clone();
    match record(&state, &auth.ctx, upload).await {
        Ok(id) => Ok(Redirect::to(&format!("/testimonies/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => new_page(&state, &auth.ctx, errors, form).await,
        Err(e) => Err(e),
    }
}

async fn record(state: &AppState, ctx: &Ctx, upload: Upload) -> Result<TestimonyId, AppError> {
    let form = upload.fields.clone();
    let today = state.clock.now().date();
    let mut errors = FieldErrors::new();
    let choice = event_choice(&form, today, &mut errors);
    let stand_in = match &choice {
        Some(EventChoice::Known(id)) => *id,
        _ => EventId(uuid::Uuid::nil()),
    };
    let draft = draft(&form, stand_in, today, &mut errors);
    if let Some(EventChoice::Known(id)) = &choice {
        let id = *id;
        if state.db(move |s| s.event(id)).await?.is_none() {
            errors.push("event", Reason::NotFound);
        }
    }
    if let Some(Witness::Registered { person }) = draft.as_ref().map(|d| &d.witness) {
        let person = *person;
        if state.db(move |s| s.person(person)).await?.is_none() {
            errors.push("witness_person", Reason::NotFound);
        }
    }
    let (Some(choice), Some(draft), true) = (choice, draft, errors.is_empty()) else {
        evidence_pages::discard(state, &upload).await;
        return Err(errors.into());
    };
    let evidence = match &upload.file {
        Some((_, _, filename)) => {
            let title = match field(&form, "evidence_title").trim() {
                "" => filename.clone().unwrap_or_else(|| draft.pseudonym.clone()),
                t => t.to_string(),
            };
            let fields = vec![
                ("title".to_string(), title),
                ("received_from".to_string(), draft.pseudonym.clone()),
                ("received_how".to_string(), field(&form, "evidence_how").to_string()),
            ];
            let file = Upload {
                fields,
                file: upload.file.clone(),
            };
            let checked = evidence_pages::checked(state, &file, None).await.map_err(|e| match e {
                AppError::Invalid(list) => as_form_errors(
                    list,
                    &[
                        ("title", "evidence_title"),
                        ("received_how", "evidence_how"),
                        ("received_from", "pseudonym"),
                    ],
                )
                .into(),
                other => other,
            })?;
            Some(checked)
        }
        None => None,
    };
    let event = match choice {
        EventChoice::New(event) => Some(event),
        EventChoice::Known(_) => None,
    };
    // The file's record, the new event and the testimony are written
    // together or not at all.
    let audit = ctx.audit(state.clock.now());
    let details = evidence.as_ref().map(|e| e.details.clone());
    let written = state
        .db(move |s| s.record_testimony(event.as_ref(), evidence.as_ref(), &draft, &audit))
        .await;
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            evidence_pages::discard(state, &upload).await;
            return Err(e);
        }
    };
    if let (Some(added), Some(details)) = (&written.evidence, &details) {
        evidence_pages::recorded(state, added, details).await;
    }
    let id = written.testimony.id;
    state
        .index_testimony(TestimonyFull::recorded(written.draft, written.testimony))
        .await;
    Ok(id)
}

#[derive(Template)]
#[template(path = "testimony_view.html")]
struct ViewPage {
    c: Page,
    t: TestimonyFull,
    events: Vec<Event>,
    evidence: Vec<Evidence>,
    act_types: Vec<ActType>,
    shares: Vec<(ShareRecord, String)>,
    recipients: Vec<Recipient>,
    confidential: bool,
    errors: FieldErrors,
    form: Pairs,
}

impl ViewPage {
    fn act_label(&self, code: &str) -> String {
        act_label(&self.c, &self.act_types, code)
    }

    fn event_title(&self, id: &EventId) -> String {
        self.events
            .iter()
            .find(|e| e.id == *id)
            .map(|e| e.title.clone())
            .unwrap_or_else(|| id.to_string())
    }

    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }

    fn decisions(&self) -> Vec<&'static str> {
        codes(ShareDecision::ALL, |d| d.code())
    }

    fn is_marked(&self, part: &str) -> bool {
        self.t.summary.confidential.iter().any(|c| c.code() == part)
    }
}

async fn view_page(
    state: &AppState,
    ctx: &Ctx,
    role: Role,
    id: TestimonyId,
    errors: FieldErrors,
    form: Pairs,
) -> Result<Response, AppError> {
    let confidential = allows(role, Permission::TestimonyConfidential);
    let audit = ctx.audit(state.clock.now());
    let t = state.db(move |s| s.read_testimony(id, confidential, &audit)).await?;
    let events = state.db(|s| s.events()).await?;
    let events: Vec<Event> = events
        .into_iter()
        .filter(|e| t.summary.events.contains(&e.id))
        .map(|mut e| {
            if !confidential {
                e.exact_place = None;
            }
            e
        })
        .collect();
    let cited = t.summary.evidence.clone();
    let evidence = state
        .db(move |s| {
            cited
                .iter()
                .filter_map(|id| s.evidence(*id).transpose())
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let act_types = state.db(|s| s.act_types()).await?;
    let (shares, recipients) = if confidential {
        let recipients = state.db(|s| s.recipients()).await?;
        let shares = state
            .db(move |s| s.share_decisions(id))
            .await?
            .into_iter()
            .map(|r| {
                let name = recipients
                    .iter()
                    .find(|x| x.id == r.recipient)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                (r, name)
            })
            .collect();
        (shares, recipients)
    } else {
        (Vec::new(), Vec::new())
    };
    let status = form_status(&errors);
    Ok(render_status(
        status,
        &ViewPage {
            c: Page::new(state, ctx, "testimony-title"),
            t,
            events,
            evidence,
            act_types,
            shares,
            recipients,
            confidential,
            errors,
            form,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = testimony_id(&id)?;
    view_page(&state, &auth.ctx, auth.user.role, id, no_errors(), Vec::new()).await
}

/// Records the witness's decision about one recipient.
pub(crate) async fn share(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = testimony_id(&id)?;
    let mut errors = FieldErrors::new();
    let recipient = errors.take(RecipientId::parse("recipient", field(&form, "recipient")));
    let decision = errors.take(ShareDecision::parse("decision", field(&form, "decision")));
    if let (Some(recipient), Some(decision), true) = (recipient, decision, errors.is_empty()) {
        let new = NewShareDecision {
            recipient,
            decision,
            how: field(&form, "how").to_string(),
            form: None,
        };
        let audit = auth.ctx.audit(state.clock.now());
        match state.db(move |s| s.record_share_decision(id, &new, &audit)).await {
            Ok(_) => return Ok(Redirect::to(&format!("/testimonies/{id}#sharing")).into_response()),
            Err(AppError::Invalid(e)) => errors = as_form_errors(e, &[("recipient_id", "recipient")]),
            Err(e) => return Err(e),
        }
    }
    view_page(&state, &auth.ctx, auth.user.role, id, errors, form).await
}

/// An event's key for duplicate detection.
fn event_key(e: &Event) -> EventKey<'_> {
    let years = match (e.start, e.end) {
        (Some(s), Some(t)) => Some((s.earliest_year(), t.latest_year())),
        (Some(d), None) | (None, Some(d)) => Some((d.earliest_year(), d.latest_year())),
        (None, None) => None,
    };
    EventKey {
        title: &e.title,
        years,
        place: e.place.as_deref(),
    }
}

/// One account of an event as the corroboration view shows it.
#[derive(serde::Serialize)]
pub(crate) struct AccountView {
    /// The testimony.
    pub testimony: TestimonySummary,
    /// Its sources (none when marked confidential and unreadable).
    pub sources: Vec<Source>,
}

/// An event, every account of it, which of them are not independent and
/// why, and the events that are likely the same one recorded twice. Each
/// account is read with its witness (audited as a confidential read).
#[derive(serde::Serialize)]
pub(crate) struct EventView {
    /// The event.
    pub event: Event,
    /// Its accounts.
    pub accounts: Vec<AccountView>,
    /// Dependences and groups.
    pub corroboration: Corroboration,
    /// Likely duplicates.
    pub possible_duplicates: Vec<Event>,
}

pub(crate) async fn event_view(state: &AppState, ctx: &Ctx, id: EventId) -> Result<EventView, AppError> {
    let all = state.db(|s| s.events()).await?;
    let event = all.iter().find(|e| e.id == id).cloned().ok_or(AppError::NotFound)?;
    let possible_duplicates = all
        .iter()
        .filter(|o| o.id != id && likely_same_event(&event_key(&event), &event_key(o)))
        .cloned()
        .collect();
    let ids = event.testimonies.clone();
    let audit = ctx.audit(state.clock.now());
    let (accounts, inputs) = state
        .db(move |s| {
            let mut accounts = Vec::new();
            let mut inputs = Vec::new();
            for t in ids {
                let full = s.read_testimony(t, true, &audit)?;
                let sources = full.sources.clone().unwrap_or_default();
                let mut cited: Vec<EvidenceId> = full.summary.evidence.clone();
                cited.extend(sources.iter().filter_map(|x| x.evidence));
                let files = cited
                    .into_iter()
                    .filter_map(|e| s.evidence(e).transpose())
                    .map(|e| e.map(|e| e.sha256))
                    .collect::<Result<_, _>>()?;
                let reports = sources
                    .iter()
                    .filter(|x| x.kind == SourceKind::ExternalReport)
                    .map(|x| x.link.clone().unwrap_or_else(|| x.citation.clone()))
                    .collect();
                inputs.push(Account {
                    id: t,
                    witness: full.witness.clone().ok_or(lantern_store::StoreError::NotFound)?,
                    narrative: full.narrative.clone().unwrap_or_default(),
                    files,
                    reports,
                });
                accounts.push(AccountView {
                    testimony: full.summary,
                    sources,
                });
            }
            Ok((accounts, inputs))
        })
        .await?;
    let mut event = event;
    let corroboration = corroborate(&inputs);
    event.testimonies.sort();
    Ok(EventView {
        event,
        accounts,
        corroboration,
        possible_duplicates,
    })
}

#[derive(Template)]
#[template(path = "event_view.html")]
struct EventPage {
    c: Page,
    v: EventView,
}

impl EventPage {
    fn pseudonym(&self, id: &TestimonyId) -> String {
        self.v
            .accounts
            .iter()
            .find(|a| a.testimony.id == *id)
            .map(|a| a.testimony.pseudonym.clone())
            .unwrap_or_else(|| id.to_string())
    }

    fn reason(&self, d: &Dependence) -> String {
        match d {
            Dependence::SameWitness => self.c.t("dependence-same-witness"),
            Dependence::SameDocument { sha256 } => format!("{} ({sha256})", self.c.t("dependence-same-document")),
            Dependence::SameReport { report } => format!("{}: {report}", self.c.t("dependence-same-report")),
            Dependence::NearCopy { resemblance } => {
                format!("{} ({:.0} %)", self.c.t("dependence-near-copy"), resemblance * 100.0)
            }
        }
    }
}

/// The corroboration view of one event (documenters: it compares
/// witnesses and narratives).
pub(crate) async fn event(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyConfidential>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = EventId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let v = event_view(&state, &auth.ctx, id).await?;
    Ok(render_status(
        axum::http::StatusCode::OK,
        &EventPage {
            c: Page::new(&state, &auth.ctx, "event-title"),
            v,
        },
    ))
}

#[derive(Template)]
#[template(path = "dossiers.html")]
struct DossiersPage {
    c: Page,
    dossiers: Vec<Dossier>,
    recipients: Vec<Recipient>,
    officials: Vec<User>,
    testimonies: Vec<TestimonySummary>,
    events: Vec<Event>,
    evidence: Vec<Evidence>,
    errors: FieldErrors,
    form: Pairs,
}

impl DossiersPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }

    fn checked(&self, name: &str, value: &str) -> &'static str {
        checked(&self.form, name, value)
    }

    fn redactions(&self) -> Vec<&'static str> {
        codes(Redaction::ALL, |d| d.code())
    }

    fn recipient_kinds(&self) -> Vec<&'static str> {
        codes(RecipientKind::ALL, |d| d.code())
    }

    fn official_name(&self, id: &UserId) -> String {
        self.officials
            .iter()
            .find(|u| u.id == *id)
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

async fn dossiers_page(state: &AppState, ctx: &Ctx, errors: FieldErrors, form: Pairs) -> Result<Response, AppError> {
    let dossiers = state.db(|s| s.dossiers(None)).await?;
    let recipients = state.db(|s| s.recipients()).await?;
    let officials = state
        .db(|s| s.users())
        .await?
        .into_iter()
        .filter(|u| u.role == Role::ExternalOfficial && !u.disabled)
        .collect();
    let testimonies = state.db(|s| s.testimonies(PageRequest::new(1, 200))).await?.items;
    let events = state.db(|s| s.events()).await?;
    let evidence = state.db(|s| s.evidence_list(PageRequest::new(1, 200))).await?.items;
    let status = form_status(&errors);
    Ok(render_status(
        status,
        &DossiersPage {
            c: Page::new(state, ctx, "dossiers-title"),
            dossiers,
            recipients,
            officials,
            testimonies,
            events,
            evidence,
            errors,
            form,
        },
    ))
}

pub(crate) async fn dossiers(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
) -> Result<Response, AppError> {
    let today = state.clock.now().date();
    let form = vec![
        ("include_files".to_string(), "yes".to_string()),
        ("redaction".to_string(), Redaction::WitnessIdentity.code().to_string()),
        ("expires".to_string(), (today + time::Duration::days(90)).to_string()),
    ];
    dossiers_page(&state, &auth.ctx, no_errors(), form).await
}

/// Builds a dossier from the form; the store refuses testimonies whose
/// witness has not agreed to share with the recipient.
pub(crate) async fn create_dossier(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let title = errors.take(lantern_domain::text::required_text(
        "title",
        field(&form, "title"),
        lantern_domain::testimony::MAX_SHORT,
    ));
    let purpose = errors.take(lantern_domain::text::required_text(
        "purpose",
        field(&form, "purpose"),
        lantern_domain::testimony::MAX_NOTE,
    ));
    let recipient = errors.take(RecipientId::parse("recipient", field(&form, "recipient")));
    let expires = errors.take(lantern_domain::date::day("expires", field(&form, "expires")));
    let redaction: BTreeSet<Redaction> = all(&form, "redaction")
        .into_iter()
        .filter_map(|r| errors.take(Redaction::parse("redaction", r)))
        .collect();
    let testimonies: Vec<TestimonyId> = all(&form, "testimonies")
        .into_iter()
        .filter_map(|t| errors.take(TestimonyId::parse("testimonies", t)))
        .collect();
    let events: Vec<EventId> = all(&form, "events")
        .into_iter()
        .filter_map(|t| errors.take(EventId::parse("events", t)))
        .collect();
    let evidence: Vec<EvidenceId> = all(&form, "evidence")
        .into_iter()
        .filter_map(|t| errors.take(EvidenceId::parse("evidence", t)))
        .collect();
    if testimonies.is_empty() && events.is_empty() && evidence.is_empty() {
        errors.push("testimonies", Reason::Required);
    }
    if let (Some(title), Some(purpose), Some(recipient), Some(expires), true) =
        (title, purpose, recipient, expires, errors.is_empty())
    {
        let with_witnesses = field(&form, "witness_records") == "yes";
        let mut draft = lantern_domain::testimony::DossierDraft {
            title,
            recipient,
            purpose,
            expires,
            redaction,
            testimonies,
            events,
            evidence,
            people: Vec::new(),
            include_files: field(&form, "include_files") == "yes",
        };
        let audit = auth.ctx.audit(state.clock.now());
        let created = state
            .db(move |s| {
                if with_witnesses {
                    draft.people = registered_witnesses(s, &draft.testimonies, &audit)?;
                    if draft.people.is_empty() {
                        return Err(FieldError::new("witness_records", Reason::NotAWitness).into());
                    }
                }
                s.create_dossier(&draft, &audit)
            })
            .await;
        match created {
            Ok(d) => return Ok(Redirect::to(&format!("/dossiers/{}", d.id)).into_response()),
            Err(AppError::Invalid(e)) => {
                errors = as_form_errors(
                    e,
                    &[
                        ("recipient_id", "recipient"),
                        ("testimonies", "testimonies"),
                        ("events", "events"),
                        ("evidence", "evidence"),
                        ("people", "witness_records"),
                    ],
                )
            }
            Err(e) => return Err(e),
        }
    }
    dossiers_page(&state, &auth.ctx, errors, form).await
}

/// The registry records of the registered witnesses of `testimonies`: the
/// documenter asked for them, so reading the sealed witness is audited as
/// a confidential read.
fn registered_witnesses(
    s: &dyn Store,
    testimonies: &[TestimonyId],
    audit: &AuditContext,
) -> StoreResult<Vec<PersonId>> {
    let mut out = Vec::new();
    for t in testimonies {
        if let Some(Witness::Registered { person }) = s.read_testimony(*t, true, audit)?.witness {
            if !out.contains(&person) {
                out.push(person);
            }
        }
    }
    Ok(out)
}

/// Registers a recipient and the external-official accounts that receive
/// its dossiers.
pub(crate) async fn create_recipient(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let kind = errors.take(RecipientKind::parse("recipient_kind", field(&form, "recipient_kind")));
    let users: Vec<UserId> = all(&form, "officials")
        .into_iter()
        .filter_map(|u| {
            let parsed = uuid::Uuid::parse_str(u.trim())
                .map(UserId)
                .map_err(|_| FieldError::new("officials", Reason::InvalidId));
            errors.take(parsed)
        })
        .collect();
    if let (Some(kind), true) = (kind, errors.is_empty()) {
        let name = field(&form, "recipient_name").to_string();
        let language = field(&form, "recipient_language").to_string();
        let audit = auth.ctx.audit(state.clock.now());
        match state
            .db(move |s| s.create_recipient(&name, kind, &language, &users, &audit))
            .await
        {
            Ok(_) => return Ok(Redirect::to("/dossiers#recipients").into_response()),
            Err(AppError::Invalid(list)) => {
                errors = as_form_errors(
                    list,
                    &[
                        ("name", "recipient_name"),
                        ("language", "recipient_language"),
                        ("kind", "recipient_kind"),
                        ("users", "officials"),
                    ],
                )
            }
            Err(e) => return Err(e),
        }
    }
    dossiers_page(&state, &auth.ctx, errors, form).await
}

#[derive(Template)]
#[template(path = "dossier_view.html")]
struct DossierPage {
    c: Page,
    d: Dossier,
    key: Option<String>,
    download: String,
}

fn verifier_key(state: &AppState) -> Option<String> {
    state.signer.get().map(|s| s.verifier_key())
}

pub(crate) async fn dossier(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = dossier_id(&id)?;
    let d = state.db(move |s| s.dossier(id)).await?.ok_or(AppError::NotFound)?;
    Ok(render_status(
        axum::http::StatusCode::OK,
        &DossierPage {
            c: Page::new(&state, &auth.ctx, "dossier-title"),
            download: format!("/dossiers/{}/bundle", d.id),
            d,
            key: verifier_key(&state),
        },
    ))
}

pub(crate) async fn bundle(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = dossier_id(&id)?;
    let d = state.db(move |s| s.dossier(id)).await?.ok_or(AppError::NotFound)?;
    crate::dossier_bundle::bundle_response(&state, &auth.ctx, d).await
}

#[derive(Template)]
#[template(path = "shared_dossiers.html")]
struct SharedPage {
    c: Page,
    dossiers: Vec<Dossier>,
    key: Option<String>,
}

/// An external official's dossiers: only theirs, only until they expire.
pub(crate) async fn shared(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
) -> Result<Response, AppError> {
    let dossiers = crate::api_testimony::shared_listed(&state, &auth.ctx, auth.user.id).await?;
    Ok(render_status(
        axum::http::StatusCode::OK,
        &SharedPage {
            c: Page::new(&state, &auth.ctx, "shared-title"),
            dossiers,
            key: verifier_key(&state),
        },
    ))
}

pub(crate) async fn shared_bundle(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let d = crate::api_testimony::one_shared(&state, auth.user.id, &id).await?;
    crate::dossier_bundle::bundle_response(&state, &auth.ctx, d).await
}
