//! The conformance suite every backend must pass.
//!
//! A backend's tests call [`run_all`] with a function that makes a fresh,
//! empty store; each case gets its own store. Cases panic on failure, with
//! the case's name in the message.

use lantern_domain::audit::AuditAction;
use lantern_domain::family::{FamilyLink, LinkKind};
use lantern_domain::person::{
    DocumentInput, NameInput, PersonCore, PersonDraft, PersonId, PersonInput, ResidenceStatus, SiteId,
};
use lantern_domain::policy::Role;
use lantern_domain::user::{UiLanguage, Username};
use lantern_domain::Reason;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::{AuditContext, AuditFilter, NewUser, PageRequest, PersonQuery, Store, StoreError, StoreResult, UserChange};

/// A named conformance case.
pub type Case = (&'static str, fn(&dyn Store));

/// Every case.
pub const CASES: &[Case] = &[
    ("person_round_trip", person_round_trip),
    (
        "protected_fields_are_separate_and_audited",
        protected_fields_are_separate_and_audited,
    ),
    ("updates_need_the_current_version", updates_need_the_current_version),
    ("history_keeps_every_version", history_keeps_every_version),
    ("links_are_kept_in_both_directions", links_are_kept_in_both_directions),
    ("refused_changes_write_nothing", refused_changes_write_nothing),
    ("search_by_name_status_site_year", search_by_name_status_site_year),
    ("list_totals_follow_every_change", list_totals_follow_every_change),
    ("name_search_pages_in_list_order", name_search_pages_in_list_order),
    (
        "name_search_by_several_words_finds_what_its_definition_says",
        name_search_by_several_words_finds_what_its_definition_says,
    ),
    ("delete_hides_and_unlinks", delete_hides_and_unlinks),
    ("setup_token_is_single_use", setup_token_is_single_use),
    ("users_and_sessions", users_and_sessions),
    ("audit_filters_and_order", audit_filters_and_order),
    ("photos_round_trip", photos_round_trip),
    (
        "every_change_is_logged_in_the_same_transaction",
        every_change_is_logged_in_the_same_transaction,
    ),
    (
        "names_and_summaries_for_the_matcher",
        names_and_summaries_for_the_matcher,
    ),
    ("cases_follow_their_steps", cases_follow_their_steps),
    ("obstacles_and_the_pipeline_figures", obstacles_and_the_pipeline_figures),
    (
        "interviews_are_booked_held_and_missed",
        interviews_are_booked_held_and_missed,
    ),
    (
        "no_sequence_of_bookings_double_books",
        no_sequence_of_bookings_double_books,
    ),
    (
        "case_notes_are_protected_and_kept_from_the_household",
        case_notes_are_protected_and_kept_from_the_household,
    ),
    (
        "weekly_availability_limits_bookings",
        weekly_availability_limits_bookings,
    ),
    (
        "tracing_requests_follow_the_family_path",
        tracing_requests_follow_the_family_path,
    ),
    (
        "a_person_not_to_be_traced_is_never_proposed_and_a_rejected_pair_returns_only_on_new_data",
        a_person_not_to_be_traced_is_never_proposed_and_a_rejected_pair_returns_only_on_new_data,
    ),
    (
        "evidence_is_stored_once_and_keeps_its_custody",
        evidence_is_stored_once_and_keeps_its_custody,
    ),
    (
        "visits_need_consent_an_open_room_and_a_free_slot",
        visits_need_consent_an_open_room_and_a_free_slot,
    ),
    (
        "testimonies_are_shared_only_with_consent_and_disclose_what_they_commit_to",
        testimonies_are_shared_only_with_consent_and_disclose_what_they_commit_to,
    ),
];

/// A backend's reader of `Store::match_people` with the pages' size.
pub type PagedPeople<'a> = &'a dyn Fn(usize, &mut dyn FnMut(PersonId, PersonCore)) -> StoreResult<()>;

/// `Store::match_people` read in pages of any size (`paged`) gives every
/// person not deleted, in the order of their ids, as one page does.
pub fn match_people_in_pages_of_any_size(store: &dyn Store, paged: PagedPeople) {
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            store
                .create_person(&draft(&[&format!("Person Number{i}")], "1980"), &ctx("r"))
                .unwrap()
                .id,
        );
    }
    store.delete_person(made[3], 1, &ctx("r")).unwrap();
    made.remove(3);
    made.sort_by_key(|id| id.to_string());
    let mut whole = Vec::new();
    store
        .match_people(&mut |id, core| whole.push((id, core.names[0].text.clone())))
        .unwrap();
    assert_eq!(whole.iter().map(|(id, _)| *id).collect::<Vec<_>>(), made);
    for page in [1, 2, 3, 5, 6, 7, 100] {
        let mut read = Vec::new();
        paged(page, &mut |id, core| read.push((id, core.names[0].text.clone()))).unwrap();
        assert_eq!(read, whole, "pages of {page}");
    }
}

/// Key rotation on a store whose keyring the test holds: fills it with a
/// sealed value of every kind (the other cases' data), adds a generation and
/// re-seals everything under it; then adds a third, drops the first, and
/// re-seals again, which must open every value the first re-seal wrote.
pub fn key_rotation_reseals_every_sealed_value(
    make: &dyn Fn(std::sync::Arc<lantern_vault::Keyring>) -> Box<dyn Store>,
) {
    let keys = std::sync::Arc::new(lantern_vault::Keyring::generate().unwrap());
    let store = make(keys.clone());
    let store = store.as_ref();
    protected_fields_are_separate_and_audited(store);
    photos_round_trip(store);
    case_notes_are_protected_and_kept_from_the_household(store);
    let event = store
        .create_event(
            &lantern_domain::testimony::EventDraft::parse("An event", "2020", "", "", "A room", "", T0.date()).unwrap(),
            &ctx("doc"),
        )
        .unwrap();
    store
        .create_testimony(
            &lantern_domain::testimony::TestimonyDraft {
                witness: lantern_domain::testimony::Witness::Sealed {
                    name: "A witness".into(),
                    contact: None,
                },
                pseudonym: "W".into(),
                given_on: T0.date(),
                language: "en".into(),
                narrative: "An account".into(),
                events: vec![event.id],
                acts: vec![],
                sources: vec![],
                evidence: vec![],
                reliability: lantern_domain::testimony::Reliability::NotAssessed,
                reliability_note: None,
                confidential: Default::default(),
            },
            &ctx("doc"),
        )
        .unwrap();
    let photo = lantern_domain::person::Photo::parse("photo", vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
    let traced = store
        .file_request_with_photo(
            &crate::NewTracingRequest {
                kind: lantern_domain::tracing::RequestKind::Find,
                channel: lantern_domain::tracing::Channel::Phone,
                requester: crate::Requester {
                    name: "A brother".into(),
                    relationship: "brother".into(),
                    contact: "+00 555 0199".into(),
                },
                sought: crate::SoughtPerson {
                    names: vec!["Someone Sought".into()],
                    ..Default::default()
                },
            },
            Some(&photo),
            "secret-hash",
            &ctx("cw"),
        )
        .unwrap();
    // Evidence with a data key wrapped as the vault wraps it.
    let mut stored = object("0123456789abcdef0123456789abcdef", 0x5a);
    stored.wrapped_key = keys
        .seal(
            lantern_vault::objects::DATA_KEY_PURPOSE,
            &format!("object/{}", stored.name),
            &[7u8; 32],
        )
        .unwrap();
    store
        .add_evidence(
            &crate::NewEvidence {
                object: stored,
                title: "Sealed details".into(),
                media_type: "text/plain".into(),
                details: crate::EvidenceDetails {
                    filename: Some("statement.txt".into()),
                    description: None,
                },
                received_from: None,
                received_how: None,
                derived_from: None,
            },
            &ctx("doc"),
        )
        .unwrap();
    let before = store.key_usage().unwrap();
    let tables: std::collections::BTreeSet<&str> = before.iter().map(|u| u.table.as_str()).collect();
    for t in [
        "people",
        "person_photos",
        "case_notes",
        "tracing_requests",
        "request_photos",
        "evidence",
        "vault_objects",
        "testimonies",
        "events",
    ] {
        assert!(tables.contains(t), "no sealed value in {t}: {before:?}");
    }
    assert!(before.iter().all(|u| u.generation == 1), "{before:?}");
    let total: u64 = before.iter().map(|u| u.values).sum();
    let ledger = store.ledger_size().unwrap();
    assert_eq!(keys.rotate().unwrap(), 2);
    assert_eq!(store.reseal().unwrap(), total);
    assert_eq!(store.reseal().unwrap(), 0, "a second pass finds nothing stale");
    let after = store.key_usage().unwrap();
    assert!(after.iter().all(|u| u.generation == 2), "{after:?}");
    assert_eq!(after.iter().map(|u| u.values).sum::<u64>(), total);
    assert_eq!(keys.rotate().unwrap(), 3);
    keys.retire(1).unwrap();
    assert_eq!(
        store.reseal().unwrap(),
        total,
        "every value sealed under generation 2 opens"
    );
    assert_eq!(
        store.check_records().unwrap(),
        Vec::new(),
        "the log still matches the records"
    );
    assert_eq!(store.ledger_size().unwrap(), ledger, "re-sealing changes no record");
    assert_eq!(
        store.request_photo(traced.id).unwrap(),
        Some(photo),
        "the photo opens under the new key"
    );
}

/// Runs every case, each on a fresh store from `make`.
pub fn run_all(make: &dyn Fn() -> Box<dyn Store>) {
    for (name, case) in CASES {
        let store = make();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(store.as_ref())));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("conformance case {name} failed: {msg}");
        }
    }
}

const T0: OffsetDateTime = datetime!(2026-01-15 09:00 UTC);

fn ctx(name: &str) -> AuditContext {
    AuditContext {
        actor_id: None,
        actor_name: name.to_string(),
        request_id: "req-1".into(),
        address: Some("127.0.0.1".into()),
        at: T0,
    }
}

/// Registers `people` siblings who share name words (so tables keyed by
/// several columns hold runs of equal leading keys), for tests of what
/// copies whole databases.
pub fn sample_registry(store: &dyn Store, people: usize) {
    let ctx = ctx("copy");
    let mut ids = Vec::new();
    for i in 0..people {
        let latin = format!("Masoud Karimi {}", "a".repeat(i + 1));
        let p = store
            .create_person(&draft(&[&latin, "مسعود کریمی"], "1970"), &ctx)
            .expect("person");
        ids.push(p.id);
    }
    for pair in ids.windows(2) {
        let link = FamilyLink {
            person: pair[0],
            relative: pair[1],
            kind: LinkKind::Sibling,
        };
        store.add_link(link, &ctx).expect("link");
    }
}

fn draft(names: &[&str], birth: &str) -> PersonDraft {
    PersonInput {
        names: names
            .iter()
            .map(|n| NameInput {
                text: n.to_string(),
                ..Default::default()
            })
            .collect(),
        birth_date: birth.into(),
        sex: "female".into(),
        ..Default::default()
    }
    .parse(T0.date())
    .expect("valid draft")
}

fn audit_count(store: &dyn Store, action: AuditAction) -> u64 {
    store
        .audit_events(&AuditFilter {
            action: Some(action.code().into()),
            ..Default::default()
        })
        .unwrap()
        .total
}

fn person_round_trip(store: &dyn Store) {
    let d = draft(&["زهرا حسینی", "Zahra Hosseini"], "1980-04");
    let p = store.create_person(&d, &ctx("reg")).unwrap();
    assert_eq!(p.version, 1);
    let again = store.person(p.id).unwrap().expect("stored");
    assert_eq!(again.core, d.core);
    assert!(!again.has_protected);
    assert_eq!(audit_count(store, AuditAction::PersonCreate), 1);
}

fn protected_fields_are_separate_and_audited(store: &dyn Store) {
    let mut input = PersonInput {
        names: vec![NameInput {
            text: "Reza Karimi".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    input.documents = vec![DocumentInput {
        kind: "passport".into(),
        number: "P-778899".into(),
        issuer: String::new(),
    }];
    input.notes = "asked for a female interviewer".into();
    let d = input.parse(T0.date()).unwrap();
    let p = store.create_person(&d, &ctx("reg")).unwrap();
    let shown = serde_json::to_string(&store.person(p.id).unwrap().unwrap()).unwrap();
    assert!(!shown.contains("P-778899"), "documents leaked into the plain read");
    assert!(store.person(p.id).unwrap().unwrap().has_protected);
    assert_eq!(audit_count(store, AuditAction::PersonReadProtected), 0);
    let read = store.read_protected(p.id, &ctx("caseworker")).unwrap();
    assert_eq!(read, d.protected);
    let events = store
        .audit_events(&AuditFilter {
            action: Some(AuditAction::PersonReadProtected.code().into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(events.total, 1);
    assert_eq!(events.items[0].actor_name, "caseworker");
    assert_eq!(events.items[0].record_id.as_deref(), Some(p.id.to_string().as_str()));
}

fn updates_need_the_current_version(store: &dyn Store) {
    let p = store.create_person(&draft(&["Maryam"], "1990"), &ctx("a")).unwrap();
    let p2 = store
        .update_person(p.id, 1, &draft(&["Maryam Ahmadi"], "1990"), &ctx("b"))
        .unwrap();
    assert_eq!(p2.version, 2);
    let stale = store.update_person(p.id, 1, &draft(&["Maryam X"], "1990"), &ctx("c"));
    assert!(matches!(stale, Err(StoreError::Conflict { current: 2 })), "{stale:?}");
    assert_eq!(
        store.person(p.id).unwrap().unwrap().core.names[0].text.as_str(),
        "Maryam Ahmadi"
    );
    let updates = store
        .audit_events(&AuditFilter {
            action: Some(AuditAction::PersonUpdate.code().into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(updates.total, 1);
    assert_eq!(updates.items[0].detail, "names");
}

fn history_keeps_every_version(store: &dyn Store) {
    let p = store.create_person(&draft(&["Ali"], "1970"), &ctx("first")).unwrap();
    store
        .update_person(p.id, 1, &draft(&["Ali"], "1971"), &ctx("second"))
        .unwrap();
    store
        .update_person(p.id, 2, &draft(&["Ali Rezaei"], "1971"), &ctx("third"))
        .unwrap();
    let h = store.person_history(p.id).unwrap();
    let who: Vec<_> = h.iter().map(|v| (v.version, v.actor_name.as_str())).collect();
    assert_eq!(who, [(1, "first"), (2, "second"), (3, "third")]);
    assert_eq!(h[0].core.birth_date.unwrap().to_string(), "1970");
    assert_eq!(h[2].core.names[0].text.as_str(), "Ali Rezaei");
}

fn links_are_kept_in_both_directions(store: &dyn Store) {
    let a = store.create_person(&draft(&["Parent"], "1950"), &ctx("r")).unwrap();
    let b = store.create_person(&draft(&["Child"], "1975"), &ctx("r")).unwrap();
    let c = store.create_person(&draft(&["Grandchild"], "2000"), &ctx("r")).unwrap();
    // a is b's parent.
    store
        .add_link(
            FamilyLink {
                person: b.id,
                relative: a.id,
                kind: LinkKind::Parent,
            },
            &ctx("r"),
        )
        .unwrap();
    let a_links = store.person(a.id).unwrap().unwrap().links;
    assert_eq!(a_links.len(), 1);
    assert_eq!((a_links[0].kind, a_links[0].relative), (LinkKind::Child, b.id));
    assert_eq!(a_links[0].relative_name, "Child");
    // b is c's parent; then c as a's parent would be a cycle.
    store
        .add_link(
            FamilyLink {
                person: c.id,
                relative: b.id,
                kind: LinkKind::Parent,
            },
            &ctx("r"),
        )
        .unwrap();
    let cycle = store.add_link(
        FamilyLink {
            person: a.id,
            relative: c.id,
            kind: LinkKind::Parent,
        },
        &ctx("r"),
    );
    assert!(
        matches!(cycle, Err(StoreError::Invalid(ref e)) if e.reason == Reason::AncestorCycle),
        "{cycle:?}"
    );
    let dup = store.add_link(
        FamilyLink {
            person: a.id,
            relative: b.id,
            kind: LinkKind::Child,
        },
        &ctx("r"),
    );
    assert!(
        matches!(dup, Err(StoreError::Invalid(ref e)) if e.reason == Reason::Duplicate),
        "{dup:?}"
    );
    // Removing from the other side removes both directions.
    store
        .remove_link(
            FamilyLink {
                person: a.id,
                relative: b.id,
                kind: LinkKind::Child,
            },
            &ctx("r"),
        )
        .unwrap();
    assert!(store.person(a.id).unwrap().unwrap().links.is_empty());
    assert_eq!(
        store.person(b.id).unwrap().unwrap().links.len(),
        1,
        "b keeps its child c"
    );
}

fn refused_changes_write_nothing(store: &dyn Store) {
    let a = store.create_person(&draft(&["Someone"], "1950"), &ctx("r")).unwrap();
    let before = store.audit_events(&AuditFilter::default()).unwrap().total;
    let missing = lantern_domain::person::PersonId::new();
    let r = store.add_link(
        FamilyLink {
            person: a.id,
            relative: missing,
            kind: LinkKind::Sibling,
        },
        &ctx("r"),
    );
    assert!(
        matches!(r, Err(StoreError::Invalid(ref e)) if e.field == "relative_id"),
        "{r:?}"
    );
    let mut bad = draft(&["Other"], "1960");
    bad.core.site_id = Some(lantern_domain::person::SiteId::new());
    let r = store.create_person(&bad, &ctx("r"));
    assert!(
        matches!(r, Err(StoreError::Invalid(ref e)) if e.field == "site_id"),
        "{r:?}"
    );
    // An import with one bad record writes none of them.
    let r = store.import_people(&[draft(&["Good One"], "1960"), bad], &ctx("r"));
    assert!(r.is_err());
    assert_eq!(store.search_people(&PersonQuery::default()).unwrap().total, 1);
    assert_eq!(store.audit_events(&AuditFilter::default()).unwrap().total, before);
    // Nor does anything refused reach the log: one record entry and one
    // audit entry for the single person created.
    assert_eq!(store.ledger_size().unwrap(), 2);
}

fn search_by_name_status_site_year(store: &dyn Store) {
    let site = store.create_site("Camp North", &ctx("admin")).unwrap();
    let mut d1 = draft(&["محمدرضا کریمی", "Mohammadreza Karimi"], "1975");
    d1.core.site_id = Some(site.id);
    let p1 = store.create_person(&d1, &ctx("r")).unwrap();
    let mut d2 = draft(&["Fatemeh Karimi"], "1980..1984");
    d2.core.status = ResidenceStatus::Departed;
    let p2 = store.create_person(&d2, &ctx("r")).unwrap();
    store
        .create_person(&draft(&["Hassan Moradi"], "1975"), &ctx("r"))
        .unwrap();
    let q = |f: &dyn Fn(&mut PersonQuery)| {
        let mut q = PersonQuery::default();
        f(&mut q);
        store
            .search_people(&q)
            .unwrap()
            .items
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    // Arabic-script variants meet: ي/ك written the Arabic way.
    assert_eq!(q(&|q| q.name = Some("محمدرضا كريمي".into())), [p1.id]);
    assert_eq!(q(&|q| q.name = Some("mohammadr".into())), [p1.id]);
    let mut karimis = q(&|q| q.name = Some("KARIMI".into()));
    karimis.sort();
    let mut expected = vec![p1.id, p2.id];
    expected.sort();
    assert_eq!(karimis, expected);
    assert_eq!(q(&|q| q.name = Some("kar fat".into())), [p2.id]);
    assert_eq!(q(&|q| q.status = Some(ResidenceStatus::Departed)), [p2.id]);
    assert_eq!(q(&|q| q.site = Some(site.id)), [p1.id]);
    assert_eq!(q(&|q| q.birth_year = Some(1982)), [p2.id]);
    assert_eq!(q(&|q| q.birth_year = Some(1975)).len(), 2);
    assert!(q(&|q| q.name = Some("zzz".into())).is_empty());
    // Pagination.
    let page = store
        .search_people(&PersonQuery {
            page: PageRequest::new(2, 2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((page.total, page.items.len(), page.pages()), (3, 1, 2));
    // Pages follow one another in list order.
    let ids = |page: PageRequest| {
        store
            .search_people(&PersonQuery {
                page,
                ..Default::default()
            })
            .unwrap()
            .items
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    let mut paged = ids(PageRequest::new(1, 2));
    paged.extend(ids(PageRequest::new(2, 2)));
    assert_eq!(paged, ids(PageRequest::new(1, 50)));
}

/// The totals of lists without a name and the dashboard's figures come
/// from counts the database keeps per status and site: they follow every
/// registration, move, change of status and deletion, and an edit of
/// anything else leaves them alone.
fn list_totals_follow_every_change(store: &dyn Store) {
    let north = store.create_site("Camp North", &ctx("admin")).unwrap();
    let south = store.create_site("Camp South", &ctx("admin")).unwrap();
    let resident = ResidenceStatus::Resident;
    let departed = ResidenceStatus::Departed;
    let total = |status: Option<ResidenceStatus>, site: Option<SiteId>| {
        let page = store
            .search_people(&PersonQuery {
                status,
                site,
                ..Default::default()
            })
            .unwrap();
        assert!(!page.total_is_lower_bound, "a kept count is exact");
        page.total
    };
    // People per (site, status), checked against every list and the dashboard.
    type Count = (Option<SiteId>, ResidenceStatus, u64);
    let check = |expected: &[Count], when: &str| {
        let sum = |f: &dyn Fn(&Count) -> bool| -> u64 { expected.iter().filter(|e| f(e)).map(|e| e.2).sum() };
        assert_eq!(total(None, None), sum(&|_| true), "{when}: everyone");
        for status in [resident, departed] {
            assert_eq!(total(Some(status), None), sum(&|e| e.1 == status), "{when}: {status:?}");
            for site in [north.id, south.id] {
                assert_eq!(
                    total(Some(status), Some(site)),
                    sum(&|e| e.1 == status && e.0 == Some(site)),
                    "{when}: {status:?} at a site"
                );
            }
        }
        for site in [north.id, south.id] {
            assert_eq!(total(None, Some(site)), sum(&|e| e.0 == Some(site)), "{when}: a site");
        }
        let stats = store.stats().unwrap();
        assert_eq!(stats.people, sum(&|_| true), "{when}: dashboard");
        for (status, n) in &stats.by_status {
            assert_eq!(*n, sum(&|e| e.1.code() == status), "{when}: dashboard, {status}");
        }
        assert!(
            stats.by_status.iter().all(|(_, n)| *n > 0),
            "{when}: no empty status listed"
        );
        let by_site = |name: Option<&str>| {
            stats
                .by_site
                .iter()
                .find(|(s, _)| s.as_deref() == name)
                .map_or(0, |(_, n)| *n)
        };
        assert_eq!(
            by_site(Some("Camp North")),
            sum(&|e| e.0 == Some(north.id)),
            "{when}: dashboard"
        );
        assert_eq!(by_site(None), sum(&|e| e.0.is_none()), "{when}: dashboard, no site");
    };
    check(&[], "empty");
    let register = |site: Option<SiteId>, status: ResidenceStatus| {
        let mut d = draft(&["Maryam Rahimi"], "1990");
        d.core.site_id = site;
        d.core.status = status;
        store.create_person(&d, &ctx("r")).unwrap()
    };
    let a = register(Some(north.id), resident);
    let b = register(Some(north.id), resident);
    register(Some(south.id), departed);
    let d = register(None, resident);
    check(
        &[
            (Some(north.id), resident, 2),
            (Some(south.id), departed, 1),
            (None, resident, 1),
        ],
        "registered",
    );
    // An edit of the name only: nothing moves.
    let mut renamed = draft(&["Maryam Rahimi", "مریم رحیمی"], "1990");
    renamed.core.site_id = Some(north.id);
    let a = store.update_person(a.id, a.version, &renamed, &ctx("r")).unwrap();
    // Moved to the other site, then departed from it.
    let mut moved = renamed.clone();
    moved.core.site_id = Some(south.id);
    let a = store.update_person(a.id, a.version, &moved, &ctx("r")).unwrap();
    moved.core.status = departed;
    store.update_person(a.id, a.version, &moved, &ctx("r")).unwrap();
    // The one without a site given one; another removed.
    let mut placed = draft(&["Maryam Rahimi"], "1990");
    placed.core.site_id = Some(north.id);
    store.update_person(d.id, d.version, &placed, &ctx("r")).unwrap();
    store.delete_person(b.id, b.version, &ctx("r")).unwrap();
    check(
        &[(Some(north.id), resident, 1), (Some(south.id), departed, 2)],
        "after the changes",
    );
}

fn name_search_pages_in_list_order(store: &dyn Store) {
    // Five Hosseinis, one of them with two words the prefix meets.
    let mut ids = Vec::new();
    for name in [
        "Hosseini Zahra",
        "Hosseini Ali",
        "Hosseini Hossein",
        "Hosseini Maryam",
        "Hosseini Reza",
    ] {
        ids.push(store.create_person(&draft(&[name], "1970"), &ctx("r")).unwrap().id);
    }
    store.create_person(&draft(&["Karimi Ali"], "1970"), &ctx("r")).unwrap();
    // A rename moves a person in the list order.
    let zahra = store.person(ids[0]).unwrap().unwrap();
    store
        .update_person(ids[0], zahra.version, &draft(&["Hosseini Aida"], "1970"), &ctx("r"))
        .unwrap();
    let names = |query: &str, page: u32| {
        let found = store
            .search_people(&PersonQuery {
                name: Some(query.into()),
                page: PageRequest::new(page, 2),
                ..Default::default()
            })
            .unwrap();
        let names: Vec<String> = found
            .items
            .iter()
            .map(|p| p.primary_name.text.as_str().to_string())
            .collect();
        (found.total, names)
    };
    assert_eq!(
        names("hoss", 1),
        (5, vec!["Hosseini Aida".into(), "Hosseini Ali".into()])
    );
    assert_eq!(
        names("hoss", 2),
        (5, vec!["Hosseini Hossein".into(), "Hosseini Maryam".into()])
    );
    assert_eq!(names("hoss", 3), (5, vec!["Hosseini Reza".into()]));
    assert_eq!(names("hoss", 4), (5, vec![]));
    assert_eq!(names("ali hoss", 1), (1, vec!["Hosseini Ali".into()]));
    assert_eq!(names("ali", 1), (2, vec!["Hosseini Ali".into(), "Karimi Ali".into()]));
    // A deleted person leaves the search.
    let reza = store.person(ids[4]).unwrap().unwrap();
    store.delete_person(ids[4], reza.version, &ctx("r")).unwrap();
    assert_eq!(names("hoss", 3), (4, vec![]));
    // A rare word beside a much commoner one: the common word is looked up
    // for the rare word's people instead of read whole; the same answers.
    for i in 0..20 {
        let name = format!("Rostami Navid{i}");
        store.create_person(&draft(&[&name], "1970"), &ctx("r")).unwrap();
    }
    store
        .create_person(&draft(&["Rostami Shirin"], "1970"), &ctx("r"))
        .unwrap();
    assert_eq!(names("shirin rostami", 1), (1, vec!["Rostami Shirin".into()]));
    assert_eq!(names("shir ros", 1), (1, vec!["Rostami Shirin".into()]));
    assert_eq!(names("shirin navid", 1), (0, vec![]));
    assert_eq!(names("nav rost", 1).0, 20);
    assert_eq!(names("navid7 rost", 1), (1, vec!["Rostami Navid7".into()]));
    // One word that starts many registered words: their runs merged in
    // list order (navid1 and navid10..navid19; all twenty).
    assert_eq!(
        names("navid1", 1),
        (11, vec!["Rostami Navid1".into(), "Rostami Navid10".into()])
    );
    assert_eq!(
        names("nav", 10),
        (20, vec!["Rostami Navid8".into(), "Rostami Navid9".into()])
    );
    // Two prefixes covering 20 and 5 registered words: 100 pairs looked up.
    for name in ["Rosa Navid3", "Roshan Navid12", "Rosen Kaveh", "Rosalind Amini"] {
        store.create_person(&draft(&[name], "1970"), &ctx("r")).unwrap();
    }
    assert_eq!(names("navid ros", 1).0, 22);
    assert_eq!(
        names("navid ros", 1).1,
        vec!["Rosa Navid3".to_string(), "Roshan Navid12".to_string()]
    );
    // A prefix covering several words of most people (three rows each)
    // and one word of a few, whose rows come last: counted are people.
    let many: Vec<PersonDraft> = (0..750)
        .map(|i| {
            let name = if i < 700 {
                "Qaderi Qasemi Qahremani"
            } else {
                "Qazi Zand"
            };
            draft(&[name], "1970")
        })
        .collect();
    store.import_people(&many, &ctx("r")).unwrap();
    assert_eq!(names("qa", 1).0, 750);
    // One word in two of a person's names is one person, whether the
    // prefix covers that word alone or others too.
    store
        .create_person(&draft(&["Dariush Farahani", "Dariush Farahany"], "1970"), &ctx("r"))
        .unwrap();
    assert_eq!(names("dariush", 1), (1, vec!["Dariush Farahani".into()]));
    assert_eq!(names("farah", 1), (1, vec!["Dariush Farahani".into()]));
}

/// A search by several words finds those each of whose words starts a word
/// of any of their names (the same word may serve two), in list order:
/// worked out person by person here, compared with the store's answer over
/// names that share words, prefixes of one another, scripts and names.
fn name_search_by_several_words_finds_what_its_definition_says(store: &dyn Store) {
    use lantern_domain::text::search_key;
    let words = [
        "Ali",
        "Alireza",
        "Maryam",
        "Mary",
        "Reza",
        "Zahra",
        "Hossein",
        "Hosseini",
        "Karim",
        "Karimi",
        "علی",
        "مریم",
        "حسینی",
        "Navid",
    ];
    let mut seed = 7u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    let mut people = Vec::new();
    for _ in 0..70 {
        let names: Vec<String> = (0..1 + next(3))
            .map(|_| {
                (0..1 + next(3))
                    .map(|_| words[next(words.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        people.push(store.create_person(&draft(&refs, "1970"), &ctx("r")).unwrap());
    }
    // A rename and a deletion: their old words no longer find them.
    let renamed = &people[3];
    store
        .update_person(
            renamed.id,
            renamed.version,
            &draft(&["Navid Karimi"], "1970"),
            &ctx("r"),
        )
        .unwrap();
    store.delete_person(people[4].id, people[4].version, &ctx("r")).unwrap();
    let live: Vec<crate::Person> = people.iter().filter_map(|p| store.person(p.id).unwrap()).collect();
    for query in [
        "ali hosseini",
        "ali hoss",
        "hoss ali",
        "mar hoss",
        "hossein hosseini",
        "ali ali",
        "karim karimi",
        "reza ali hoss",
        "علی hosseini",
        "مریم حسینی mary",
        "zahra karim ali",
        "navid karimi",
        "a r",
        "alireza reza",
    ] {
        let asked: Vec<String> = search_key(query).split(' ').map(str::to_string).collect();
        let mut expected: Vec<(String, String)> = live
            .iter()
            .filter(|p| {
                let own: Vec<String> = p
                    .core
                    .names
                    .iter()
                    .flat_map(|n| n.text.key().split(' ').map(str::to_string).collect::<Vec<_>>())
                    .collect();
                asked.iter().all(|a| own.iter().any(|w| w.starts_with(a.as_str())))
            })
            .map(|p| (p.core.primary_name().text.key(), p.id.to_string()))
            .collect();
        expected.sort();
        let found = store
            .search_people(&PersonQuery {
                name: Some(query.into()),
                page: PageRequest::new(1, PageRequest::MAX_SIZE),
                ..Default::default()
            })
            .unwrap();
        let got: Vec<String> = found.items.iter().map(|p| p.id.to_string()).collect();
        let wanted: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
        assert_eq!(got, wanted, "{query}");
        assert_eq!(found.total, wanted.len() as u64, "{query}");
    }
}

fn delete_hides_and_unlinks(store: &dyn Store) {
    let a = store.create_person(&draft(&["Keeper"], "1950"), &ctx("r")).unwrap();
    let b = store.create_person(&draft(&["Leaver"], "1952"), &ctx("r")).unwrap();
    store
        .add_link(
            FamilyLink {
                person: a.id,
                relative: b.id,
                kind: LinkKind::Spouse,
            },
            &ctx("r"),
        )
        .unwrap();
    assert!(matches!(
        store.delete_person(b.id, 99, &ctx("r")),
        Err(StoreError::Conflict { .. })
    ));
    store.delete_person(b.id, 1, &ctx("r")).unwrap();
    assert!(store.person(b.id).unwrap().is_none());
    assert!(store.person(a.id).unwrap().unwrap().links.is_empty());
    assert_eq!(store.search_people(&PersonQuery::default()).unwrap().total, 1);
    let h = store.person_history(b.id).unwrap();
    assert_eq!(h.last().unwrap().action, "person.delete");
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        username: Username::parse("username", name).unwrap(),
        display_name: name.to_string(),
        role,
        language: UiLanguage::En,
        password_hash: "$argon2id$placeholder".into(),
        must_change_password: false,
    }
}

fn setup_token_is_single_use(store: &dyn Store) {
    store.create_setup_token("expired", T0 - Duration::minutes(1)).unwrap();
    assert!(matches!(
        store.complete_setup("expired", new_user("admin", Role::Administrator), &ctx("setup")),
        Err(StoreError::SetupClosed)
    ));
    store.create_setup_token("good", T0 + Duration::hours(1)).unwrap();
    let admin = store
        .complete_setup("good", new_user("admin", Role::Administrator), &ctx("setup"))
        .unwrap();
    assert_eq!(admin.role, Role::Administrator);
    store.create_setup_token("second", T0 + Duration::hours(1)).unwrap();
    assert!(
        matches!(
            store.complete_setup("second", new_user("other", Role::Administrator), &ctx("setup")),
            Err(StoreError::SetupClosed)
        ),
        "setup must close once a user exists"
    );
    assert!(matches!(
        store.complete_setup("good", new_user("again", Role::Administrator), &ctx("setup")),
        Err(StoreError::SetupClosed)
    ));
    assert_eq!(store.user_count().unwrap(), 1);
}

fn users_and_sessions(store: &dyn Store) {
    let u = store
        .create_user(new_user("reg1", Role::Registrar), &ctx("admin"))
        .unwrap();
    let dup = store.create_user(new_user("reg1", Role::Auditor), &ctx("admin"));
    assert!(matches!(dup, Err(StoreError::Invalid(ref e)) if e.field == "username" && e.reason == Reason::Duplicate));
    store
        .create_session(
            crate::NewSession {
                id_hash: "s1".into(),
                user_id: u.id,
                csrf_token: "c1".into(),
                created_at: T0,
            },
            &ctx("reg1"),
        )
        .unwrap();
    let (s, su) = store.session("s1").unwrap().expect("session");
    assert_eq!((s.csrf_token.as_str(), su.id), ("c1", u.id));
    store
        .update_user(
            u.id,
            UserChange {
                disabled: Some(true),
                ..Default::default()
            },
            &ctx("admin"),
        )
        .unwrap();
    assert!(store.session("s1").unwrap().is_none(), "disabling ends sessions");
    let creds = store.user_credentials("reg1").unwrap().unwrap();
    assert!(creds.user.disabled);
}

fn audit_filters_and_order(store: &dyn Store) {
    for (i, who) in ["ana", "bob", "ana"].iter().enumerate() {
        let mut c = ctx(who);
        c.at = T0 + Duration::minutes(i as i64);
        store
            .record_audit(&c.event(AuditAction::LoginFailed, "user", None, &format!("try {i}")))
            .unwrap();
    }
    let all = store.audit_events(&AuditFilter::default()).unwrap();
    let details: Vec<_> = all.items.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["try 2", "try 1", "try 0"], "newest first");
    let ana = store
        .audit_events(&AuditFilter {
            actor: Some("ana".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ana.total, 2);
    let late = store
        .audit_events(&AuditFilter {
            from: Some(T0 + Duration::minutes(1)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(late.total, 2);
}

fn photos_round_trip(store: &dyn Store) {
    let p = store
        .create_person(&draft(&["Photo Person"], "1980"), &ctx("r"))
        .unwrap();
    assert!(store.photo(p.id).unwrap().is_none());
    assert!(!store.person(p.id).unwrap().unwrap().has_photo);
    let png = lantern_domain::person::Photo::parse("photo", b"\x89PNG\r\n\x1a\nfake image".to_vec()).unwrap();
    store.set_photo(p.id, &png, &ctx("r")).unwrap();
    assert_eq!(store.photo(p.id).unwrap(), Some(png));
    assert!(store.person(p.id).unwrap().unwrap().has_photo);
    assert_eq!(audit_count(store, AuditAction::PersonPhoto), 1);
    let missing = lantern_domain::person::PersonId::new();
    let jpeg = lantern_domain::person::Photo::parse("photo", vec![0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
    assert!(matches!(
        store.set_photo(missing, &jpeg, &ctx("r")),
        Err(StoreError::NotFound)
    ));
}

fn every_change_is_logged_in_the_same_transaction(store: &dyn Store) {
    use lantern_ledger::entry::Entry;
    assert_eq!(store.ledger_size().unwrap(), 0);
    let p = store
        .create_person(&draft(&["Logged Person"], "1970"), &ctx("r"))
        .unwrap();
    store
        .update_person(p.id, 1, &draft(&["Logged Person"], "1971"), &ctx("r"))
        .unwrap();
    store.read_protected(p.id, &ctx("cw")).unwrap();
    store.delete_person(p.id, 2, &ctx("r")).unwrap();
    let size = store.ledger_size().unwrap();
    assert_eq!(size, 7, "3 record entries and 4 audit entries");
    let entries = store.ledger_entries(0, size).unwrap();
    let kinds: Vec<String> = entries
        .iter()
        .map(|e| Entry::parse(&e.entry).expect("canonical").kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "record.created",
            "audit",
            "record.updated",
            "audit",
            "audit",
            "record.deleted",
            "audit"
        ]
    );
    for e in &entries {
        assert_eq!(e.leaf_hash, lantern_ledger::leaf_hash(&e.entry));
        let text = String::from_utf8(e.entry.clone()).unwrap();
        // Quoted on both sides: a commitment's hex may contain, or even
        // start with, the digits 1971; only the value itself is a leak.
        assert!(
            !text.contains("Logged Person") && !text.contains("\"1971\""),
            "entry leaks content: {text}"
        );
    }
    // A field can be disclosed with its salt and checked against the entry.
    let updated = Entry::parse(&entries[2].entry).unwrap();
    let salt = store
        .ledger_salts(2)
        .unwrap()
        .into_iter()
        .find(|(f, _)| f == "birth_date")
        .unwrap()
        .1;
    let value = serde_json::to_value(draft(&["Logged Person"], "1971").core.birth_date).unwrap();
    assert!(lantern_ledger::entry::check_disclosure(
        &updated,
        "birth_date",
        &value,
        &salt
    ));
    assert_eq!(store.check_records().unwrap(), Vec::new());
    assert!(store.latest_checkpoint().unwrap().is_none());
    for n in [3, 7, 5] {
        let c = crate::StoredCheckpoint {
            size: n,
            root: [n as u8; 32],
            note: format!("note {n}"),
            at: T0,
        };
        store.add_checkpoint(&c).unwrap();
    }
    assert_eq!(store.latest_checkpoint().unwrap().map(|c| c.size), Some(7));
    let sizes: Vec<u64> = store.checkpoints().unwrap().iter().map(|c| c.size).collect();
    assert_eq!(sizes, [3, 5, 7]);
    let leaves = store.ledger_leaf_hashes(size).unwrap();
    assert_eq!(leaves.len() as u64, size);
    // Roots and proofs from the stored nodes agree with the leaves.
    for n in 1..=size {
        let root = lantern_ledger::root(&leaves[..n as usize]);
        assert_eq!(store.ledger_root(n).unwrap(), root, "root of {n}");
        for i in 0..n {
            let proof: Vec<Vec<u8>> = store
                .ledger_inclusion_proof(i, n)
                .unwrap()
                .iter()
                .map(|h| h.to_vec())
                .collect();
            lantern_ledger::verify_inclusion(i, n, &leaves[i as usize], &proof, &root).unwrap();
        }
        for m in 1..=n {
            let proof: Vec<Vec<u8>> = store
                .ledger_consistency_proof(m, n)
                .unwrap()
                .iter()
                .map(|h| h.to_vec())
                .collect();
            let old = lantern_ledger::root(&leaves[..m as usize]);
            lantern_ledger::verify_consistency(m, n, &old, &root, &proof).unwrap();
        }
    }
    // The stored nodes, read in pages of 3, are every node once, in
    // (level, index) order: the leaves first, each level's count halving.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.ledger_nodes(after, 3).unwrap();
        assert!(page.len() <= 3);
        let Some(&(level, index, _)) = page.last() else {
            break;
        };
        after = Some((level, index));
        paged.extend(page);
    }
    let keys: Vec<(u32, u64)> = paged.iter().map(|n| (n.0, n.1)).collect();
    let mut expected = Vec::new();
    for level in 0..64u32 {
        expected.extend((0..size >> level).map(|i| (level, i)));
    }
    assert_eq!(keys, expected);
    let leaf_nodes: Vec<lantern_ledger::Hash> = paged.iter().filter(|n| n.0 == 0).map(|n| n.2).collect();
    assert_eq!(leaf_nodes, leaves);
}

fn names_and_summaries_for_the_matcher(store: &dyn Store) {
    let a = store
        .create_person(&draft(&["مریم رحیمی", "Maryam Rahimi"], "1980"), &ctx("r"))
        .unwrap();
    let b = store
        .create_person(&draft(&["Gone Person"], "1980"), &ctx("r"))
        .unwrap();
    store.delete_person(b.id, 1, &ctx("r")).unwrap();
    let mut people = Vec::new();
    store.match_people(&mut |id, core| people.push((id, core))).unwrap();
    assert_eq!(people.len(), 1, "deleted people are left out");
    assert_eq!(people[0].0, a.id);
    let names: Vec<&str> = people[0].1.names.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(names, ["مریم رحیمی", "Maryam Rahimi"]);
    assert_eq!(people[0].1.birth_date.map(|d| d.to_string()).as_deref(), Some("1980"));
    let s = store.person_summaries(&[b.id, a.id]).unwrap();
    assert_eq!(s.len(), 1, "deleted people are left out");
    assert_eq!(s[0].id, a.id);
}

fn cases_follow_their_steps(store: &dyn Store) {
    use lantern_domain::case::CaseStep as S;
    let p = store
        .create_person(&draft(&["Case Person"], "1980"), &ctx("reg"))
        .unwrap();
    let at = |hours: i64| AuditContext {
        at: T0 + Duration::hours(hours),
        ..ctx("interviewer")
    };
    let case = store.create_case(p.id, false, &at(1)).unwrap();
    assert_eq!((case.step, case.version, case.steps.len()), (S::Registered, 1, 1));
    assert_eq!(case.person_name, "Case Person");
    // One open case per resident.
    match store.create_case(p.id, false, &at(1)) {
        Err(StoreError::Invalid(e)) => assert_eq!((e.field.as_str(), e.reason), ("person_id", Reason::Duplicate)),
        other => panic!("{other:?}"),
    }
    // No household to cover.
    assert!(matches!(
        store.create_case(p.id, true, &at(1)),
        Err(StoreError::Invalid(_))
    ));
    // Illegal moves are refused and write nothing.
    let before = store.ledger_size().unwrap();
    match store.move_case(case.id, S::Registered, S::Recognised, None, &at(2)) {
        Err(StoreError::Invalid(e)) => assert_eq!(e.reason.code(), "step-not-allowed"),
        other => panic!("{other:?}"),
    }
    // A stale view of the case is a conflict.
    assert!(matches!(
        store.move_case(case.id, S::InterviewRequested, S::InterviewScheduled, None, &at(2)),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.ledger_size().unwrap(), before);
    for (h, step) in [
        (2, S::RegistrationVerified),
        (3, S::InterviewRequested),
        (4, S::InterviewScheduled),
        (5, S::Interviewed),
        (6, S::Recognised),
    ] {
        let now = store.case(case.id).unwrap().unwrap();
        store.move_case(case.id, now.step, step, None, &at(h)).unwrap();
    }
    // A submission names its country.
    assert!(matches!(
        store.move_case(case.id, S::Recognised, S::Submitted, None, &at(7)),
        Err(StoreError::Invalid(_))
    ));
    let c = store
        .move_case(case.id, S::Recognised, S::Submitted, Some("Country A".into()), &at(7))
        .unwrap();
    assert_eq!(c.country.as_deref(), Some("Country A"));
    let c = store
        .move_case(case.id, S::Submitted, S::Accepted, None, &at(8))
        .unwrap();
    assert_eq!((c.step, c.version, c.steps.len()), (S::Accepted, 8, 8));
    assert_eq!(c.country.as_deref(), Some("Country A"), "kept after the submission");
    assert_eq!(c.step_at, T0 + Duration::hours(8));
    assert_eq!(c.steps[6].country.as_deref(), Some("Country A"));
    assert_eq!(c.steps[7].actor_name, "interviewer");
    assert_eq!(audit_count(store, AuditAction::CaseStep), 7);
    // Closed cases leave room for a new one.
    store
        .move_case(case.id, S::Accepted, S::Withdrawn, None, &at(9))
        .unwrap();
    assert!(matches!(
        store.move_case(case.id, S::Withdrawn, S::Registered, None, &at(9)),
        Err(StoreError::Invalid(_))
    ));
    let second = store.create_case(p.id, false, &at(10)).unwrap();
    assert_eq!(store.cases_of(p.id).unwrap().len(), 2);
    assert!(store.case(second.id).unwrap().is_some());
    assert!(store.check_records().unwrap().is_empty());
}

fn obstacles_and_the_pipeline_figures(store: &dyn Store) {
    use lantern_domain::case::{CaseStep as S, ObstacleKind};
    let site = store.create_site("Site A", &ctx("admin")).unwrap();
    let mut input = PersonInput {
        names: vec![NameInput {
            text: "Household Head".into(),
            ..Default::default()
        }],
        site_id: site.id.to_string(),
        ..Default::default()
    };
    let household = store.create_household("Family A", Some(site.id), &ctx("reg")).unwrap();
    input.household_id = household.id.to_string();
    let head = store
        .create_person(&input.parse(T0.date()).unwrap(), &ctx("reg"))
        .unwrap();
    let other = store
        .create_person(&draft(&["Elsewhere Person"], "1990"), &ctx("reg"))
        .unwrap();
    let a = store.create_case(head.id, true, &ctx("i")).unwrap();
    assert_eq!(a.household_label.as_deref(), Some("Family A"));
    assert_eq!(a.site.as_deref(), Some("Site A"));
    let b = store.create_case(other.id, false, &ctx("i")).unwrap();
    let later = |days: i64| AuditContext {
        at: T0 + Duration::days(days),
        ..ctx("i")
    };
    store
        .move_case(b.id, S::Registered, S::RegistrationVerified, None, &later(10))
        .unwrap();
    let o = store
        .add_obstacle(
            a.id,
            &crate::NewObstacle {
                kind: ObstacleKind::AccessDenied,
                occurred_on: T0.date(),
                by_whom: Some("gate staff".into()),
                detail: None,
            },
            &later(1),
        )
        .unwrap();
    assert_eq!(store.case(a.id).unwrap().unwrap().obstacles, vec![o]);
    assert!(matches!(
        store.add_obstacle(
            lantern_domain::case::CaseId::new(),
            &crate::NewObstacle {
                kind: ObstacleKind::Other,
                occurred_on: T0.date(),
                by_whom: None,
                detail: None
            },
            &later(1)
        ),
        Err(StoreError::NotFound)
    ));
    let all = store
        .pipeline(&crate::PipelineQuery::default(), T0 + Duration::days(30))
        .unwrap();
    assert_eq!(all.total, 2);
    let fig = |p: &crate::Pipeline, s: S| p.steps.iter().find(|f| f.step == s).unwrap().clone();
    assert_eq!(
        (fig(&all, S::Registered).current, fig(&all, S::Registered).reached),
        (1, 2)
    );
    assert_eq!(fig(&all, S::Registered).waiting_median_days, Some(30.0));
    assert_eq!(fig(&all, S::RegistrationVerified).waiting_p90_days, Some(20.0));
    assert_eq!(all.obstacles, vec![(ObstacleKind::AccessDenied, 1)]);
    let at_site = store
        .pipeline(
            &crate::PipelineQuery {
                site: Some(site.id),
                ..Default::default()
            },
            T0 + Duration::days(30),
        )
        .unwrap();
    assert_eq!(at_site.total, 1);
    assert_eq!(fig(&at_site, S::RegistrationVerified).reached, 0);
    assert_eq!(at_site.obstacles.len(), 1);
    let listed = store
        .cases(&crate::CaseQuery {
            step: Some(S::Registered),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!((listed.items[0].id, listed.items[0].obstacles), (a.id, 1));
    let by_site = store
        .cases(&crate::CaseQuery {
            site: Some(site.id),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_site.items.len(), 1);
    // Departures per month and destination, within the period asked.
    for (days, from, to, country) in [
        (11, S::RegistrationVerified, S::InterviewRequested, None),
        (12, S::InterviewRequested, S::InterviewScheduled, None),
        (13, S::InterviewScheduled, S::Interviewed, None),
        (14, S::Interviewed, S::Recognised, None),
        (15, S::Recognised, S::Submitted, Some("Country C".to_string())),
        (16, S::Submitted, S::Accepted, None),
        (17, S::Accepted, S::DepartureScheduled, None),
        (40, S::DepartureScheduled, S::Departed, None),
    ] {
        store.move_case(b.id, from, to, country, &later(days)).unwrap();
    }
    let p = store
        .pipeline(&crate::PipelineQuery::default(), T0 + Duration::days(60))
        .unwrap();
    let departed_on = (T0 + Duration::days(40)).date();
    assert_eq!(
        p.departures,
        vec![crate::Departures {
            month: departed_on.replace_day(1).unwrap(),
            country: Some("Country C".into()),
            count: 1
        }]
    );
    let before = crate::PipelineQuery {
        until: Some(departed_on.previous_day().unwrap()),
        ..Default::default()
    };
    assert!(store
        .pipeline(&before, T0 + Duration::days(60))
        .unwrap()
        .departures
        .is_empty());
    let after = crate::PipelineQuery {
        from: Some(T0.date().next_day().unwrap()),
        ..Default::default()
    };
    assert!(
        store
            .pipeline(&after, T0 + Duration::days(60))
            .unwrap()
            .obstacles
            .is_empty(),
        "the obstacle happened on the first day, before the period"
    );
}

/// A site with rooms, interviewers, an interpreter and residents whose cases
/// wait for an interview.
struct Schedule {
    site: lantern_domain::person::SiteId,
    rooms: Vec<lantern_domain::interview::RoomId>,
    interviewers: Vec<lantern_domain::user::UserId>,
    interpreter: lantern_domain::interview::InterpreterId,
    cases: Vec<lantern_domain::case::CaseId>,
}

fn schedule_fixture(store: &dyn Store, residents: usize) -> Schedule {
    use lantern_domain::case::CaseStep as S;
    let site = store.create_site("Interview Site", &ctx("admin")).unwrap();
    let rooms = ["Room 1", "Room 2"]
        .iter()
        .map(|n| store.create_room(site.id, n, &ctx("admin")).unwrap().id)
        .collect();
    let interviewers = ["interviewer.a", "interviewer.b"]
        .iter()
        .map(|n| {
            store
                .create_user(new_user(n, Role::Interviewer), &ctx("admin"))
                .unwrap()
                .id
        })
        .collect();
    let interpreter = store
        .create_interpreter("Interpreter One", &["fa".into(), "ar".into()], &ctx("admin"))
        .unwrap()
        .id;
    let cases = (0..residents)
        .map(|i| {
            let p = store
                .create_person(&draft(&[&format!("Resident {i}")], "1980"), &ctx("reg"))
                .unwrap();
            let c = store.create_case(p.id, false, &ctx("i")).unwrap();
            store
                .move_case(c.id, S::Registered, S::RegistrationVerified, None, &ctx("i"))
                .unwrap();
            store
                .move_case(c.id, S::RegistrationVerified, S::InterviewRequested, None, &ctx("i"))
                .unwrap();
            c.id
        })
        .collect();
    Schedule {
        site: site.id,
        rooms,
        interviewers,
        interpreter,
        cases,
    }
}

fn interviews_are_booked_held_and_missed(store: &dyn Store) {
    use crate::{BulkSchedule, InterviewOutcome, NewInterview};
    use lantern_domain::case::{CaseStep as S, ObstacleKind};
    use lantern_domain::interview::{InterviewStatus, Slot};
    let f = schedule_fixture(store, 4);
    let nine = T0 + Duration::days(1);
    let booking = |case, start: OffsetDateTime, room: usize, who: usize| NewInterview {
        case,
        slot: Slot::new(start, Duration::hours(1)),
        room: f.rooms[room],
        interviewer: f.interviewers[who],
        interpreter: Some(f.interpreter),
        language: Some("fa".into()),
    };
    let a = store
        .book_interview(&booking(f.cases[0], nine, 0, 0), &ctx("i"))
        .unwrap();
    assert_eq!(store.case(f.cases[0]).unwrap().unwrap().step, S::InterviewScheduled);
    assert_eq!((a.room_name.as_str(), a.site.as_str()), ("Room 1", "Interview Site"));
    // Every shared resource at an overlapping time is refused, and named.
    let half_past = nine + Duration::minutes(30);
    for (b, field) in [
        (booking(f.cases[1], half_past, 0, 1), "room_id"),
        (booking(f.cases[1], half_past, 1, 0), "interviewer_id"),
        (booking(f.cases[1], half_past, 1, 1), "interpreter_id"),
    ] {
        match store.book_interview(&b, &ctx("i")) {
            Err(StoreError::Invalid(e)) => assert_eq!((e.field.as_str(), e.reason.code()), (field, "double-booked")),
            other => panic!("{field}: {other:?}"),
        }
    }
    // The same case cannot be booked twice (it is no longer waiting).
    assert!(matches!(
        store.book_interview(&booking(f.cases[0], nine + Duration::hours(3), 1, 1), &ctx("i")),
        Err(StoreError::Invalid(_))
    ));
    // Back to back is fine.
    let b = store
        .book_interview(&booking(f.cases[1], nine + Duration::hours(1), 0, 0), &ctx("i"))
        .unwrap();
    // Held with someone else in the room: an obstacle; the case is interviewed.
    let held = store
        .close_interview(
            a.id,
            &InterviewOutcome::Held {
                others_present: Some("a camp official".into()),
            },
            &ctx("i"),
        )
        .unwrap();
    assert_eq!(held.status, InterviewStatus::Held);
    let case = store.case(f.cases[0]).unwrap().unwrap();
    assert_eq!(case.step, S::Interviewed);
    assert_eq!(case.obstacles[0].kind, ObstacleKind::OtherPersonPresent);
    assert_eq!(case.obstacles[0].by_whom.as_deref(), Some("a camp official"));
    assert!(matches!(
        store.close_interview(a.id, &InterviewOutcome::Cancelled, &ctx("i")),
        Err(StoreError::Conflict { .. })
    ));
    // A no-show frees the slot and puts the case back in the queue.
    store
        .close_interview(b.id, &InterviewOutcome::NoShow, &ctx("i"))
        .unwrap();
    let case = store.case(f.cases[1]).unwrap().unwrap();
    assert_eq!(case.step, S::InterviewRequested);
    assert_eq!(case.obstacles[0].kind, ObstacleKind::DidNotAttend);
    // Bulk: the waiting cases fill the free slots of the day; a case that
    // is not waiting is left out with its reason.
    let result = store
        .bulk_schedule(
            &BulkSchedule {
                cases: vec![f.cases[1], f.cases[2], f.cases[3], f.cases[0]],
                site: f.site,
                first: nine,
                last_end: nine + Duration::hours(2),
                length: Duration::hours(1),
                interviewer: f.interviewers[0],
                interpreter: None,
                language: None,
            },
            &ctx("i"),
        )
        .unwrap();
    // Interviewer 0 held the 09:00 interview, so 10:00 is the only hour
    // left for them that day: one case fits.
    assert_eq!(result.booked.len(), 1);
    assert_eq!(result.booked[0].slot.start, nine + Duration::hours(1));
    assert_eq!(
        result.left_out,
        vec![
            (f.cases[2], "double-booked"),
            (f.cases[3], "double-booked"),
            (f.cases[0], "step-not-allowed")
        ]
    );
    let day = store
        .interviews(&crate::InterviewQuery {
            site: Some(f.site),
            from: nine,
            until: nine + Duration::days(1),
        })
        .unwrap();
    assert_eq!(day.len(), 3);
    assert_eq!(store.case_interviews(f.cases[1]).unwrap().len(), 2);
    // The week's interviews by outcome.
    let weeks = store.pipeline(&crate::PipelineQuery::default(), nine).unwrap().weeks;
    assert_eq!(weeks.len(), 1);
    assert_eq!(weeks[0].week.weekday(), time::Weekday::Monday);
    assert_eq!(
        (weeks[0].scheduled, weeks[0].held, weeks[0].no_show, weeks[0].cancelled),
        (1, 1, 1, 0)
    );
    // Closing a case by hand frees its booked slot.
    let bulk_booked = &result.booked[0];
    store
        .move_case(bulk_booked.case, S::InterviewScheduled, S::Withdrawn, None, &ctx("i"))
        .unwrap();
    let freed = store.case_interviews(bulk_booked.case).unwrap();
    assert_eq!(freed.last().unwrap().status, InterviewStatus::Cancelled);
    store
        .book_interview(&booking(f.cases[2], bulk_booked.slot.start, 0, 0), &ctx("i"))
        .unwrap();
    assert!(store.check_records().unwrap().is_empty());
}

/// A property test: whatever sequence of bookings, bulk runs, outcomes and
/// cancellations, no room, interviewer, interpreter or resident is ever in
/// two interviews at once, and a case is at `interview_scheduled` exactly
/// when it has one scheduled interview.
fn no_sequence_of_bookings_double_books(store: &dyn Store) {
    use crate::{BulkSchedule, InterviewOutcome, InterviewQuery, NewInterview};
    use lantern_domain::interview::{InterviewStatus, Slot};
    let f = schedule_fixture(store, 6);
    // A small deterministic generator (xorshift64*), so a failure replays.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| -> usize {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    };
    let day = T0 + Duration::days(2);
    let mut booked: Vec<lantern_domain::interview::InterviewId> = Vec::new();
    for _ in 0..160 {
        let start = day + Duration::minutes(30 * next(10) as i64);
        let slot = Slot::new(start, Duration::minutes(30 * (1 + next(3)) as i64));
        match next(10) {
            0..=5 => {
                let b = NewInterview {
                    case: f.cases[next(f.cases.len())],
                    slot,
                    room: f.rooms[next(2)],
                    interviewer: f.interviewers[next(2)],
                    interpreter: (next(2) == 0).then_some(f.interpreter),
                    language: None,
                };
                match store.book_interview(&b, &ctx("i")) {
                    Ok(i) => booked.push(i.id),
                    Err(StoreError::Invalid(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            6 => {
                let plan = BulkSchedule {
                    cases: f.cases.clone(),
                    site: f.site,
                    first: start,
                    last_end: start + Duration::hours(2),
                    length: Duration::minutes(30),
                    interviewer: f.interviewers[next(2)],
                    interpreter: (next(2) == 0).then_some(f.interpreter),
                    language: None,
                };
                booked.extend(
                    store
                        .bulk_schedule(&plan, &ctx("i"))
                        .unwrap()
                        .booked
                        .iter()
                        .map(|i| i.id),
                );
            }
            k if !booked.is_empty() => {
                let id = booked[next(booked.len())];
                let outcome = match k {
                    7 => InterviewOutcome::NoShow,
                    8 => InterviewOutcome::Cancelled,
                    _ => InterviewOutcome::Held { others_present: None },
                };
                match store.close_interview(id, &outcome, &ctx("i")) {
                    Ok(_) | Err(StoreError::Conflict { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            _ => {}
        }
        let all = store
            .interviews(&InterviewQuery {
                site: None,
                from: day - Duration::days(1),
                until: day + Duration::days(2),
            })
            .unwrap();
        let live: Vec<_> = all.iter().filter(|i| i.status.occupies()).collect();
        for (n, a) in live.iter().enumerate() {
            for b in &live[n + 1..] {
                if a.slot.overlaps(&b.slot) {
                    assert_ne!(a.room, b.room, "room double-booked: {a:?} {b:?}");
                    assert_ne!(a.interviewer, b.interviewer, "interviewer double-booked");
                    assert!(
                        a.interpreter.is_none() || a.interpreter != b.interpreter,
                        "interpreter double-booked"
                    );
                    assert_ne!(a.case, b.case, "resident double-booked");
                }
            }
        }
        for case in &f.cases {
            let scheduled = live
                .iter()
                .filter(|i| i.case == *case && i.status == InterviewStatus::Scheduled)
                .count();
            assert!(scheduled <= 1, "a case with two scheduled interviews");
            let step = store.case(*case).unwrap().unwrap().step;
            assert_eq!(
                scheduled == 1,
                step == lantern_domain::case::CaseStep::InterviewScheduled,
                "case step and bookings agree"
            );
        }
    }
    assert!(booked.len() > 5, "the sequence booked something ({})", booked.len());
}

fn case_notes_are_protected_and_kept_from_the_household(store: &dyn Store) {
    use crate::NewCaseNote;
    use lantern_domain::case::NoteKind;
    let household = store.create_household("Family N", None, &ctx("reg")).unwrap();
    let member = |name: &str| {
        let input = PersonInput {
            names: vec![NameInput {
                text: name.into(),
                ..Default::default()
            }],
            household_id: household.id.to_string(),
            ..Default::default()
        };
        store
            .create_person(&input.parse(T0.date()).unwrap(), &ctx("reg"))
            .unwrap()
    };
    let head = member("Head Of Household");
    let spouse = member("Spouse Member");
    let outsider = store
        .create_person(&draft(&["Not A Member"], "1980"), &ctx("reg"))
        .unwrap();
    let case = store.create_case(head.id, true, &ctx("i")).unwrap();
    let note = |about, confidential, text: &str| NewCaseNote {
        kind: NoteKind::Note,
        about,
        confidential,
        text: text.into(),
    };
    store
        .add_case_note(case.id, &note(None, false, "Shared account of the journey."), &ctx("i"))
        .unwrap();
    store
        .add_case_note(
            case.id,
            &note(Some(spouse.id), true, "Private statement by the spouse."),
            &ctx("i"),
        )
        .unwrap();
    match store.add_case_note(case.id, &note(Some(outsider.id), false, "x"), &ctx("i")) {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "about"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.add_case_note(case.id, &note(None, false, "   "), &ctx("i")),
        Err(StoreError::Invalid(_))
    ));
    // Listing shows that notes exist, not what they say, and is not audited.
    let listed = store.case_notes(case.id).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|n| n.text.is_none()));
    assert_eq!(listed[1].about.as_ref().map(|a| a.1.as_str()), Some("Spouse Member"));
    assert_eq!(audit_count(store, AuditAction::CaseNotesRead), 0);
    // Reading them is audited; the household's copy leaves out what a
    // member keeps from the others.
    let all = store.read_case_notes(case.id, false, &ctx("i")).unwrap();
    assert_eq!(all[1].text.as_deref(), Some("Private statement by the spouse."));
    let copy = store.read_case_notes(case.id, true, &ctx("i")).unwrap();
    assert_eq!(copy.len(), 1);
    assert_eq!(copy[0].text.as_deref(), Some("Shared account of the journey."));
    assert_eq!(audit_count(store, AuditAction::CaseNotesRead), 2);
    // The log holds no word of a note.
    let size = store.ledger_size().unwrap();
    for e in store.ledger_entries(0, size).unwrap() {
        let text = String::from_utf8_lossy(&e.entry).to_string();
        assert!(
            !text.contains("Private statement") && !text.contains("journey"),
            "{text}"
        );
    }
}

fn weekly_availability_limits_bookings(store: &dyn Store) {
    use crate::{BulkSchedule, NewInterview};
    use lantern_domain::interview::{windows, ResourceKind, Slot};
    let f = schedule_fixture(store, 3);
    // 2026-01-19 is a Monday.
    let monday = time::macros::datetime!(2026-01-19 00:00 UTC);
    let mornings = windows("availability", "mon 09:00-12:00; tue 09:00-12:00").unwrap();
    store
        .set_availability(ResourceKind::Interviewer, f.interviewers[0].0, &mornings, &ctx("admin"))
        .unwrap();
    assert_eq!(
        store
            .availability(ResourceKind::Interviewer, f.interviewers[0].0)
            .unwrap(),
        mornings
    );
    let booking = |case, hour: i64| NewInterview {
        case,
        slot: Slot::new(monday + Duration::hours(hour), Duration::hours(1)),
        room: f.rooms[0],
        interviewer: f.interviewers[0],
        interpreter: None,
        language: None,
    };
    match store.book_interview(&booking(f.cases[0], 13), &ctx("i")) {
        Err(StoreError::Invalid(e)) => {
            assert_eq!((e.field.as_str(), e.reason.code()), ("interviewer_id", "unavailable"))
        }
        other => panic!("{other:?}"),
    }
    store.book_interview(&booking(f.cases[0], 9), &ctx("i")).unwrap();
    // An interpreter's hours count too.
    let afternoons = windows("availability", "mon 13:00-17:00").unwrap();
    store
        .set_availability(ResourceKind::Interpreter, f.interpreter.0, &afternoons, &ctx("admin"))
        .unwrap();
    let mut with_interpreter = booking(f.cases[1], 10);
    with_interpreter.interpreter = Some(f.interpreter);
    match store.book_interview(&with_interpreter, &ctx("i")) {
        Err(StoreError::Invalid(e)) => {
            assert_eq!((e.field.as_str(), e.reason.code()), ("interpreter_id", "unavailable"))
        }
        other => panic!("{other:?}"),
    }
    // Bulk scheduling only uses the hours the interviewer is there: 10:00 and 11:00 remain.
    let result = store
        .bulk_schedule(
            &BulkSchedule {
                cases: vec![f.cases[1], f.cases[2]],
                site: f.site,
                first: monday + Duration::hours(8),
                last_end: monday + Duration::hours(18),
                length: Duration::hours(1),
                interviewer: f.interviewers[0],
                interpreter: None,
                language: None,
            },
            &ctx("i"),
        )
        .unwrap();
    let starts: Vec<u8> = result.booked.iter().map(|i| i.slot.start.hour()).collect();
    assert_eq!(starts, [10, 11]);
    // No window: available at any time again; an unknown person is refused.
    store
        .set_availability(ResourceKind::Interviewer, f.interviewers[1].0, &[], &ctx("admin"))
        .unwrap();
    assert!(matches!(
        store.set_availability(ResourceKind::Interpreter, uuid::Uuid::nil(), &[], &ctx("admin")),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(audit_count(store, AuditAction::AvailabilitySet), 3);
    // An interviewer's languages.
    store
        .set_interviewer_languages(f.interviewers[0], &["fa, AR".into()], &ctx("admin"))
        .unwrap();
    assert_eq!(
        store.interviewer_languages().unwrap(),
        vec![(f.interviewers[0], vec!["fa".to_string(), "ar".to_string()])]
    );
    store
        .set_interviewer_languages(f.interviewers[0], &[], &ctx("admin"))
        .unwrap();
    assert!(store.interviewer_languages().unwrap().is_empty());
    assert!(matches!(
        store.set_interviewer_languages(f.interviewers[0], &["not a tag!".into()], &ctx("admin")),
        Err(StoreError::Invalid(_))
    ));
}

fn tracing_requests_follow_the_family_path(store: &dyn Store) {
    use crate::{NewTracingRequest, Requester, SoughtPerson};
    use lantern_domain::tracing::{
        requester_view, Channel, Consent, ConsentMethod, RequestKind, RequestState as R, Scope,
    };
    let sought_one = store
        .create_person(&draft(&["مسعود کریمی", "Masoud Karimi"], "1975"), &ctx("reg"))
        .unwrap();
    let other = store
        .create_person(&draft(&["Masood Karimy"], "1980"), &ctx("reg"))
        .unwrap();
    let filed = store
        .file_request(
            &NewTracingRequest {
                kind: RequestKind::Visit,
                channel: Channel::Gate,
                requester: Requester {
                    name: "Requesting Relative".into(),
                    relationship: "sister".into(),
                    contact: "+00 555 0101".into(),
                },
                sought: SoughtPerson {
                    names: vec!["Massoud Karimi".into()],
                    birth_date: Some("1975".into()),
                    ..Default::default()
                },
            },
            "secret-hash",
            &ctx("liaison"),
        )
        .unwrap();
    assert_eq!(filed.state, R::Filed);
    assert!(filed.reference.starts_with("TR-") && filed.reference.len() == 11);
    // An empty request is refused.
    assert!(matches!(
        store.file_request(
            &NewTracingRequest {
                kind: RequestKind::Find,
                channel: Channel::Phone,
                requester: Requester::default(),
                sought: SoughtPerson::default(),
            },
            "x",
            &ctx("liaison")
        ),
        Err(StoreError::Invalid(_))
    ));
    let id = filed.id;
    // Candidates for a filed request: it is moved to the search first, in
    // the same transaction, and both steps are in its history.
    let r = store.propose_candidates(id, &[(other.id, 0.35)], &ctx("cw")).unwrap();
    assert_eq!(r.state, R::CandidatesFound);
    let states: Vec<R> = r.steps.iter().map(|s| s.state).collect();
    assert_eq!(states, [R::Filed, R::Searching, R::CandidatesFound]);
    // Rejecting the only proposal sends the request back to the search.
    let r = store.decide_candidate(id, other.id, false, &ctx("cw")).unwrap();
    assert_eq!(r.state, R::Searching);
    // A rejected pair is not proposed again; a new one is, best first.
    let r = store
        .propose_candidates(id, &[(sought_one.id, 0.91), (other.id, 0.4)], &ctx("cw"))
        .unwrap();
    assert_eq!(r.state, R::CandidatesFound);
    assert_eq!(r.candidates[0].person, sought_one.id, "best first");
    let proposed: Vec<_> = r
        .candidates
        .iter()
        .filter(|c| c.decision == "proposed")
        .map(|c| c.person)
        .collect();
    assert_eq!(proposed, [sought_one.id]);
    let r = store.decide_candidate(id, sought_one.id, true, &ctx("cw")).unwrap();
    assert_eq!(r.state, R::MatchConfirmed);
    assert_eq!(r.matched.as_ref().map(|m| m.0), Some(sought_one.id));
    assert_eq!(
        r.candidates.iter().find(|c| c.person == other.id).unwrap().decision,
        "rejected"
    );
    store
        .move_request(id, R::MatchConfirmed, R::ConsentRequested, None, &ctx("cw"))
        .unwrap();
    // A verbal consent needs a witness.
    let visit_only = Consent {
        scope: [Scope::AliveAndRegistered, Scope::Visit].into_iter().collect(),
        not_to_be_traced: false,
    };
    let input = |consent: &Consent, method, witness: Option<&str>, form| crate::ConsentInput {
        consent: consent.clone(),
        method,
        witness: witness.map(str::to_string),
        form,
    };
    assert!(matches!(
        store.record_consent(
            id,
            &input(&visit_only, ConsentMethod::VerbalWitnessed, None, None),
            &ctx("cw")
        ),
        Err(StoreError::Invalid(_))
    ));
    let r = store
        .record_consent(
            id,
            &input(&visit_only, ConsentMethod::VerbalWitnessed, Some("staff member"), None),
            &ctx("cw"),
        )
        .unwrap();
    assert_eq!(r.state, R::ConsentGiven);
    assert_eq!(r.consent.as_ref().unwrap().consent, visit_only);
    // The family's view through the reference and secret.
    assert!(store.request_by_reference(&r.reference, "wrong").unwrap().is_none());
    let mine = store
        .request_by_reference(&r.reference, "secret-hash")
        .unwrap()
        .unwrap();
    let facts = lantern_domain::tracing::SoughtFacts {
        site: Some("a site".into()),
        contact: None,
        reply: None,
        visit: None,
    };
    let view = requester_view(mine.state, mine.consent.as_ref().map(|c| &c.consent), &facts);
    assert!(view.alive_and_registered && view.site.is_none());
    // Messages: the family's waits for consent to messages; no reply
    // without it.
    use lantern_domain::tracing::MessageDirection as M;
    let news = store
        .add_message(id, M::ToResident, "We are all well; your sister", &ctx("liaison"))
        .unwrap();
    let refused = |r: crate::StoreResult<crate::RequestMessage>, field: &str| match r {
        Err(StoreError::Invalid(e)) => assert_eq!((e.field.as_str(), e.reason), (field, Reason::NotConsented)),
        other => panic!("expected not-consented on {field}, got {other:?}"),
    };
    refused(store.deliver_message(id, news.id, &ctx("cw")), "message_id");
    refused(store.add_message(id, M::ToFamily, "Thank you", &ctx("cw")), "direction");
    let with_messages = Consent {
        scope: [Scope::AliveAndRegistered, Scope::Visit, Scope::Message]
            .into_iter()
            .collect(),
        not_to_be_traced: false,
    };
    store
        .record_consent(
            id,
            &input(
                &with_messages,
                ConsentMethod::VerbalWitnessed,
                Some("staff member"),
                None,
            ),
            &ctx("cw"),
        )
        .unwrap();
    let delivered = store.deliver_message(id, news.id, &ctx("cw")).unwrap();
    assert!(delivered.delivered_at.is_some() && delivered.delivered_by.as_deref() == Some("cw"));
    assert!(matches!(
        store.deliver_message(id, news.id, &ctx("cw")),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.tracing_request(id).unwrap().unwrap().state, R::MessageDelivered);
    store
        .add_message(id, M::ToFamily, "Tell everyone I am well, Zanjirak", &ctx("cw"))
        .unwrap();
    let all = store.read_messages(id, &ctx("cw")).unwrap();
    assert_eq!(
        all.iter().map(|m| (m.direction, m.text.as_str())).collect::<Vec<_>>(),
        [
            (M::ToResident, "We are all well; your sister"),
            (M::ToFamily, "Tell everyone I am well, Zanjirak")
        ]
    );
    assert_eq!(audit_count(store, AuditAction::RequestReadMessages), 1);
    let size = store.ledger_size().unwrap();
    for e in store.ledger_entries(0, size).unwrap() {
        assert!(
            !String::from_utf8_lossy(&e.entry).contains("Zanjirak"),
            "a message in the log"
        );
    }
    // Withdrawn consent, on a signed form that must be in the vault:
    // nothing any more.
    let withdrawn = Consent::default();
    for (form, field, reason) in [
        (None, "form", Reason::Required),
        (
            Some(lantern_domain::evidence::EvidenceId::new()),
            "form",
            Reason::NotFound,
        ),
    ] {
        match store.record_consent(
            id,
            &input(&withdrawn, ConsentMethod::SignedForm, None, form),
            &ctx("cw"),
        ) {
            Err(StoreError::Invalid(e)) => assert_eq!((e.field.as_str(), e.reason), (field, reason)),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let signed = store
        .add_evidence(
            &crate::NewEvidence {
                object: object("fedcba9876543210fedcba9876543210", 0x33),
                title: "Signed consent form".into(),
                media_type: "application/pdf".into(),
                details: Default::default(),
                received_from: None,
                received_how: None,
                derived_from: None,
            },
            &ctx("cw"),
        )
        .unwrap()
        .evidence
        .id;
    let r = store
        .record_consent(
            id,
            &input(&withdrawn, ConsentMethod::SignedForm, None, Some(signed)),
            &ctx("cw"),
        )
        .unwrap();
    assert_eq!(r.consent.as_ref().unwrap().form, Some(signed));
    assert_eq!(r.state, R::ConsentDeclined);
    let view = requester_view(r.state, r.consent.as_ref().map(|c| &c.consent), &facts);
    assert!(!view.alive_and_registered);
    // The requester is sealed and read with an audit event; the log holds
    // neither their name nor their number.
    assert_eq!(store.read_requester(id, &ctx("cw")).unwrap().relationship, "sister");
    assert_eq!(audit_count(store, AuditAction::RequestReadRequester), 1);
    let size = store.ledger_size().unwrap();
    for e in store.ledger_entries(0, size).unwrap() {
        let text = String::from_utf8_lossy(&e.entry).to_string();
        assert!(
            !text.contains("Requesting Relative") && !text.contains("555 0101"),
            "{text}"
        );
    }
    assert_eq!(store.tracing_requests(&Default::default()).unwrap().total, 1);
    let steps: Vec<R> = r.steps.iter().map(|s| s.state).collect();
    assert_eq!(
        steps,
        [
            R::Filed,
            R::Searching,
            R::CandidatesFound,
            R::Searching,
            R::CandidatesFound,
            R::MatchConfirmed,
            R::ConsentRequested,
            R::ConsentGiven,
            // Withdrawn after the message was delivered: consent can be
            // withdrawn at any time.
            R::MessageDelivered,
            R::ConsentDeclined
        ]
    );
}

fn object(name: &str, byte: u8) -> crate::StoredObject {
    crate::StoredObject {
        name: name.to_string(),
        sha256: format!("{byte:02x}").repeat(32),
        size: 1000 + byte as u64,
        wrapped_key: vec![byte; 60],
    }
}

fn evidence_is_stored_once_and_keeps_its_custody(store: &dyn Store) {
    use lantern_domain::evidence::{CustodyKind, Derivation};
    let new = |obj: crate::StoredObject, title: &str| crate::NewEvidence {
        object: obj,
        title: title.to_string(),
        media_type: "image/jpeg".into(),
        details: crate::EvidenceDetails {
            filename: Some("gate.jpg".into()),
            description: Some("The north gate, morning".into()),
        },
        received_from: Some("a witness".into()),
        received_how: Some("in person, USB stick".into()),
        derived_from: None,
    };
    let first = store
        .add_evidence(&new(object("obj-a", 0xab), "Gate"), &ctx("doc"))
        .unwrap();
    assert_eq!(first.redundant_object, None);
    let original = first.evidence;
    assert_eq!(original.sha256, "ab".repeat(32));
    assert_eq!(original.size, 1000 + 0xab);
    // The same content again: a second record, the first object.
    let again = store
        .add_evidence(&new(object("obj-b", 0xab), "Gate, second copy"), &ctx("doc"))
        .unwrap();
    assert_eq!(again.redundant_object.as_deref(), Some("obj-b"));
    assert_eq!(again.evidence.same_content, vec![original.id]);
    assert_eq!(store.vault_objects().unwrap().len(), 1);
    let opened = store
        .open_evidence(again.evidence.id, CustodyKind::Accessed, None, &ctx("doc"))
        .unwrap();
    assert_eq!(opened.object.name, "obj-a");
    assert_eq!(opened.object.wrapped_key, vec![0xab; 60]);
    assert_eq!(opened.filename.as_deref(), Some("gate.jpg"));
    // A working copy, linked both ways, with a custody event on each side.
    let mut copy = new(object("obj-c", 0x01), "Gate, faces blurred");
    copy.derived_from = Some((original.id, Derivation::Redacted));
    let copy = store.add_evidence(&copy, &ctx("doc")).unwrap().evidence;
    assert_eq!(copy.derived_from, Some(original.id));
    assert_eq!(copy.derivation, Some(Derivation::Redacted));
    assert_eq!(store.evidence(original.id).unwrap().unwrap().copies, vec![copy.id]);
    let mut orphan = new(object("obj-d", 0x02), "Copy of nothing");
    orphan.derived_from = Some((lantern_domain::evidence::EvidenceId::new(), Derivation::Other));
    let before = store.ledger_size().unwrap();
    match store.add_evidence(&orphan, &ctx("doc")) {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "derived_from"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(store.ledger_size().unwrap(), before, "a refused upload was logged");
    assert_eq!(
        store.vault_objects().unwrap().len(),
        2,
        "a refused upload was catalogued"
    );
    store
        .record_transfer(
            original.id,
            "Legal team, sealed envelope",
            Some("courier".into()),
            &ctx("doc"),
        )
        .unwrap();
    match store.record_transfer(original.id, " ", None, &ctx("doc")) {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "to"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let chain = store.custody(original.id).unwrap();
    let kinds: Vec<CustodyKind> = chain.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [CustodyKind::Received, CustodyKind::Derived, CustodyKind::Transferred]
    );
    assert_eq!(chain[0].counterpart.as_deref(), Some("a witness"));
    assert_eq!(chain[1].counterpart.as_deref(), Some(copy.id.to_string().as_str()));
    assert!(chain.iter().all(|c| c.sha256 == original.sha256));
    let details = store.read_evidence_details(original.id, &ctx("doc")).unwrap();
    assert_eq!(details.description.as_deref(), Some("The north gate, morning"));
    assert_eq!(audit_count(store, AuditAction::EvidenceOpen), 1);
    assert_eq!(audit_count(store, AuditAction::EvidenceView), 1);
    assert_eq!(audit_count(store, AuditAction::EvidenceAdd), 3);
    assert_eq!(audit_count(store, AuditAction::EvidenceTransfer), 1);
    let page = store.evidence_list(PageRequest::new(1, 2)).unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].id, copy.id, "newest first");
    assert_eq!(store.check_records().unwrap(), Vec::new());
}

/// A request for `person`, matched and with the given consent.
fn a_person_not_to_be_traced_is_never_proposed_and_a_rejected_pair_returns_only_on_new_data(store: &dyn Store) {
    use lantern_domain::tracing::{requester_view, RequestState as R, RequesterStatus, Scope, SoughtFacts};
    let person = store
        .create_person(&draft(&["Masoud Karimi"], "1975"), &ctx("reg"))
        .unwrap();
    let id = store
        .file_request(
            &crate::NewTracingRequest {
                kind: lantern_domain::tracing::RequestKind::Find,
                channel: lantern_domain::tracing::Channel::PublicForm,
                requester: Default::default(),
                sought: crate::SoughtPerson {
                    names: vec!["Massoud Karimi".into()],
                    ..Default::default()
                },
            },
            "hash",
            &ctx("liaison"),
        )
        .unwrap()
        .id;
    store
        .move_request(id, R::Filed, R::Searching, None, &ctx("cw"))
        .unwrap();
    let decision = |r: &crate::TracingRequest| {
        r.candidates
            .iter()
            .find(|c| c.person == person.id)
            .map(|c| c.decision.clone())
    };
    store
        .propose_candidates(id, &[(person.id, 0.8)], &ctx("engine"))
        .unwrap();
    let r = store.decide_candidate(id, person.id, false, &ctx("cw")).unwrap();
    assert_eq!(r.state, R::Searching);
    // The same data: the rejection stands.
    let r = store
        .propose_candidates(id, &[(person.id, 0.8)], &ctx("engine"))
        .unwrap();
    assert_eq!((r.state, decision(&r).as_deref()), (R::NoCandidate, Some("rejected")));
    // A new room is not new evidence; a corrected birth year is.
    let mut moved = draft(&["Masoud Karimi"], "1975");
    moved.core.room = Some("12".into());
    let person = store
        .update_person(person.id, person.version, &moved, &ctx("reg"))
        .unwrap();
    let r = store
        .propose_candidates(id, &[(person.id, 0.8)], &ctx("engine"))
        .unwrap();
    assert_eq!(decision(&r).as_deref(), Some("rejected"));
    let mut corrected = moved.clone();
    corrected.core.birth_date = draft(&["x"], "1976").core.birth_date;
    let person = store
        .update_person(person.id, person.version, &corrected, &ctx("reg"))
        .unwrap();
    let r = store
        .propose_candidates(id, &[(person.id, 0.7)], &ctx("engine"))
        .unwrap();
    assert_eq!(
        (r.state, decision(&r).as_deref()),
        (R::CandidatesFound, Some("proposed"))
    );

    // Marked not to be traced: the open proposal is withdrawn in the same
    // change, the request goes back to the search, and the engine's
    // proposals are dropped.
    let mut protected = corrected.clone();
    protected.core.not_to_be_traced = true;
    let person = store
        .update_person(person.id, person.version, &protected, &ctx("reg"))
        .unwrap();
    assert!(person.core.not_to_be_traced);
    let r = store.tracing_request(id).unwrap().unwrap();
    assert_eq!((r.state, decision(&r).as_deref()), (R::Searching, Some("withdrawn")));
    let r = store
        .propose_candidates(id, &[(person.id, 0.9)], &ctx("engine"))
        .unwrap();
    assert_eq!((r.state, decision(&r).as_deref()), (R::NoCandidate, Some("withdrawn")));

    // A request already matched and consented passes nothing on once the
    // person is not to be traced.
    let resident = store
        .create_person(&draft(&["Leila Ahmadi"], "1980"), &ctx("reg"))
        .unwrap();
    let consented = consented_request(store, resident.id, &[Scope::AliveAndRegistered, Scope::Location]);
    let facts = SoughtFacts {
        site: Some("North Site".into()),
        contact: None,
        reply: None,
        visit: None,
    };
    let view = |store: &dyn Store| {
        let r = store.tracing_request(consented).unwrap().unwrap();
        requester_view(r.state, r.consent.as_ref().map(|c| &c.consent), &facts)
    };
    assert_eq!(view(store).status, RequesterStatus::Information);
    let mut flagged = draft(&["Leila Ahmadi"], "1980");
    flagged.core.not_to_be_traced = true;
    store
        .update_person(resident.id, resident.version, &flagged, &ctx("reg"))
        .unwrap();
    let seen = view(store);
    assert_eq!((seen.status, seen.site), (RequesterStatus::CouldNotPassOn, None));

    // Once the flag is lifted the engine may propose them again.
    let person = store
        .update_person(person.id, person.version, &corrected, &ctx("reg"))
        .unwrap();
    assert!(!person.core.not_to_be_traced);
    let r = store
        .propose_candidates(id, &[(person.id, 0.9)], &ctx("engine"))
        .unwrap();
    assert_eq!(
        (r.state, decision(&r).as_deref()),
        (R::CandidatesFound, Some("proposed"))
    );

    // A photo of the person sought, added later, replaced, sealed at rest.
    assert!(!r.has_photo && store.request_photo(id).unwrap().is_none());
    let png = lantern_domain::person::Photo::parse("photo", b"\x89PNG\r\n\x1a\nrest".to_vec()).unwrap();
    let jpeg = lantern_domain::person::Photo::parse("photo", vec![0xFF, 0xD8, 0xFF, 9]).unwrap();
    store.set_request_photo(id, &png, &ctx("cw")).unwrap();
    store.set_request_photo(id, &jpeg, &ctx("cw")).unwrap();
    assert_eq!(store.request_photo(id).unwrap(), Some(jpeg));
    assert!(store.tracing_request(id).unwrap().unwrap().has_photo);
    assert!(matches!(
        store.set_request_photo(lantern_domain::tracing::RequestId::new(), &png, &ctx("cw")),
        Err(StoreError::NotFound)
    ));

    // A corrected description of the person sought is new data too.
    store.decide_candidate(id, person.id, false, &ctx("cw")).unwrap();
    let r = store
        .propose_candidates(id, &[(person.id, 0.9)], &ctx("engine"))
        .unwrap();
    assert_eq!(decision(&r).as_deref(), Some("rejected"));
    let sought = crate::SoughtPerson {
        names: vec!["Massoud Karimi".into(), "مسعود کریمی".into()],
        birth_date: Some("1976".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.edit_request(id, r.version - 1, &sought, &ctx("cw")),
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.edit_request(id, r.version, &Default::default(), &ctx("cw")),
        Err(StoreError::Invalid(e)) if e.field == "names"
    ));
    let edited = store.edit_request(id, r.version, &sought, &ctx("cw")).unwrap();
    assert_eq!((&edited.sought, edited.version), (&sought, r.version + 1));
    let edits = store
        .audit_events(&AuditFilter {
            record_id: Some(id.to_string()),
            action: Some("request.edit".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(edits.items[0].detail, "names birth_date");
    let r = store
        .propose_candidates(id, &[(person.id, 0.9)], &ctx("engine"))
        .unwrap();
    assert_eq!(decision(&r).as_deref(), Some("proposed"));
    // Free notes are not what a pair is judged on.
    let r = store.decide_candidate(id, person.id, false, &ctx("cw")).unwrap();
    let noted = crate::SoughtPerson {
        notes: Some("The family will call again in spring.".into()),
        ..sought.clone()
    };
    let r = store.edit_request(id, r.version, &noted, &ctx("cw")).unwrap();
    assert_eq!(r.sought.notes, noted.notes);
    let r = store
        .propose_candidates(id, &[(person.id, 0.9)], &ctx("engine"))
        .unwrap();
    assert_eq!(decision(&r).as_deref(), Some("rejected"));
    // A closed request is no longer corrected.
    let closed = store
        .move_request(id, r.state, R::ClosedDuplicate, None, &ctx("cw"))
        .unwrap();
    assert!(matches!(
        store.edit_request(id, closed.version, &sought, &ctx("cw")),
        Err(StoreError::Invalid(e)) if e.field == "state" && e.reason == Reason::StepNotAllowed
    ));
    assert_eq!(
        store.check_records().unwrap(),
        Vec::new(),
        "the log matches the records"
    );
}

fn consented_request(
    store: &dyn Store,
    person: lantern_domain::person::PersonId,
    scope: &[lantern_domain::tracing::Scope],
) -> lantern_domain::tracing::RequestId {
    use lantern_domain::tracing::{Channel, Consent, ConsentMethod, RequestKind, RequestState as R};
    let id = store
        .file_request(
            &crate::NewTracingRequest {
                kind: RequestKind::Visit,
                channel: Channel::Gate,
                requester: Default::default(),
                sought: crate::SoughtPerson {
                    names: vec!["Visit Person".into()],
                    ..Default::default()
                },
            },
            "hash",
            &ctx("liaison"),
        )
        .unwrap()
        .id;
    store
        .move_request(id, R::Filed, R::Searching, None, &ctx("cw"))
        .unwrap();
    store.propose_candidates(id, &[(person, 0.9)], &ctx("cw")).unwrap();
    store.decide_candidate(id, person, true, &ctx("cw")).unwrap();
    store
        .move_request(id, R::MatchConfirmed, R::ConsentRequested, None, &ctx("cw"))
        .unwrap();
    store
        .record_consent(
            id,
            &crate::ConsentInput {
                consent: Consent {
                    scope: scope.iter().copied().collect(),
                    not_to_be_traced: false,
                },
                method: ConsentMethod::VerbalWitnessed,
                witness: Some("officer".into()),
                form: None,
            },
            &ctx("cw"),
        )
        .unwrap();
    id
}

fn visits_need_consent_an_open_room_and_a_free_slot(store: &dyn Store) {
    use lantern_domain::interview::{windows, Slot};
    use lantern_domain::tracing::{RequestState as R, Scope, VisitStatus};
    let site = store.create_site("Visit Site", &ctx("admin")).unwrap();
    // 2026-01-15 is a Thursday.
    let hours = windows("hours", "thu 09:00-12:00").unwrap();
    let room = store
        .create_visit_room(site.id, "Family room", 3, &hours, &ctx("admin"))
        .unwrap();
    assert_eq!((room.capacity, room.hours.clone()), (3, hours.clone()));
    match store.create_visit_room(site.id, "Family room", 2, &[], &ctx("admin")) {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "name"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let person = store
        .create_person(&draft(&["Visited Person"], "1970"), &ctx("reg"))
        .unwrap()
        .id;
    let other = store
        .create_person(&draft(&["Another Resident"], "1971"), &ctx("reg"))
        .unwrap()
        .id;
    let no_visits = consented_request(store, person, &[Scope::AliveAndRegistered]);
    let id = consented_request(store, person, &[Scope::AliveAndRegistered, Scope::Visit]);
    let elsewhere = consented_request(store, other, &[Scope::Visit]);
    let at = |h: u8, m: u8| {
        Slot::new(
            T0.replace_hour(h).unwrap().replace_minute(m).unwrap(),
            Duration::minutes(45),
        )
    };
    let visit = |request, slot, visitors: &[&str]| crate::NewVisit {
        request,
        room: room.id,
        slot,
        visitors: visitors.iter().map(|v| v.to_string()).collect(),
    };
    let refused = |r: crate::StoreResult<crate::Visit>, field: &str, reason: Reason| match r {
        Err(StoreError::Invalid(e)) => assert_eq!((e.field.as_str(), e.reason), (field, reason)),
        other => panic!("expected {field} {reason:?}, got {other:?}"),
    };
    refused(
        store.book_visit(&visit(no_visits, at(9, 0), &["Sister"]), &ctx("cw")),
        "request_id",
        Reason::NotConsented,
    );
    refused(
        store.book_visit(&visit(id, at(13, 0), &["Sister"]), &ctx("cw")),
        "starts_at",
        Reason::Unavailable,
    );
    refused(
        store.book_visit(&visit(id, at(9, 0), &["A", "B", "C", "D"]), &ctx("cw")),
        "visitors",
        Reason::TooLong { max: 3 },
    );
    let booked = store
        .book_visit(&visit(id, at(9, 0), &["Sister", "Nephew"]), &ctx("cw"))
        .unwrap();
    assert_eq!(booked.visitors, ["Sister", "Nephew"]);
    assert_eq!(store.tracing_request(id).unwrap().unwrap().state, R::VisitScheduled);
    // The room is taken for that time, whoever else asks.
    refused(
        store.book_visit(&visit(elsewhere, at(9, 30), &["Cousin"]), &ctx("cw")),
        "starts_at",
        Reason::DoubleBooked,
    );
    store
        .book_visit(&visit(elsewhere, at(10, 0), &["Cousin"]), &ctx("cw"))
        .unwrap();
    // A refusal needs who and why; the request goes back to consent given.
    refused(
        store.close_visit(booked.id, VisitStatus::Refused, None, None, &ctx("cw")),
        "outcome_by",
        Reason::Required,
    );
    let closed = store
        .close_visit(
            booked.id,
            VisitStatus::Refused,
            Some("the resident".into()),
            Some("not ready today".into()),
            &ctx("cw"),
        )
        .unwrap();
    assert_eq!(closed.status, VisitStatus::Refused);
    assert_eq!(store.tracing_request(id).unwrap().unwrap().state, R::ConsentGiven);
    assert!(store
        .close_visit(booked.id, VisitStatus::Held, None, None, &ctx("cw"))
        .is_err());
    // Booked again, and held.
    let again = store
        .book_visit(&visit(id, at(11, 0), &["Sister"]), &ctx("cw"))
        .unwrap();
    store
        .close_visit(again.id, VisitStatus::Held, None, None, &ctx("cw"))
        .unwrap();
    assert_eq!(store.tracing_request(id).unwrap().unwrap().state, R::VisitHeld);
    let all = store.read_visits(id, &ctx("cw")).unwrap();
    assert_eq!(
        all.iter().map(|v| v.status).collect::<Vec<_>>(),
        [VisitStatus::Refused, VisitStatus::Held]
    );
    assert_eq!(audit_count(store, AuditAction::RequestReadVisits), 1);
    // The figures: open requests by state, days to first contact (the held
    // visit, the same day here), oldest open requests, visits held by week.
    let f = store.tracing_figures(T0 + Duration::days(3)).unwrap();
    assert_eq!(
        f.open_by_state,
        [(R::ConsentGiven, 1), (R::VisitScheduled, 1), (R::VisitHeld, 1)]
    );
    assert_eq!(
        (f.contacted, f.median_days_to_contact, f.p90_days_to_contact),
        (1, Some(0.0), Some(0.0))
    );
    assert_eq!(f.oldest_open.len(), 3);
    assert_eq!(f.visits_held_per_week.len(), 12);
    assert_eq!(
        f.visits_held_per_week
            .iter()
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>(),
        [&(time::macros::date!(2026 - 01 - 12), 1)]
    );
    let size = store.ledger_size().unwrap();
    for e in store.ledger_entries(0, size).unwrap() {
        assert!(
            !String::from_utf8_lossy(&e.entry).contains("Nephew"),
            "a visitor's name in the log"
        );
    }
}

fn testimonies_are_shared_only_with_consent_and_disclose_what_they_commit_to(store: &dyn Store) {
    use lantern_domain::testimony::{
        Act, ConfidentialPart, Degree, DossierDraft, EventDraft, Involvement, RecipientKind, Redaction, Reliability,
        ShareDecision, TestimonyDraft, Witness,
    };
    let doc = ctx("doc");
    let evidence = store
        .add_evidence(
            &crate::NewEvidence {
                object: object("testimony-letter-object-000000001", 0x71),
                title: "Letter".into(),
                media_type: "application/pdf".into(),
                details: crate::EvidenceDetails::default(),
                received_from: Some("the witness".into()),
                received_how: Some("in person".into()),
                derived_from: None,
            },
            &doc,
        )
        .unwrap()
        .evidence;
    let event = store
        .create_event(
            &EventDraft::parse(
                "Transfer from block 4",
                "2019",
                "",
                "North camp",
                "Block 4, room 12",
                "",
                T0.date(),
            )
            .unwrap(),
            &doc,
        )
        .unwrap();
    assert_eq!(event.exact_place.as_deref(), Some("Block 4, room 12"));
    // The vocabulary: built-in types, and one an administrator adds.
    let labels: std::collections::BTreeMap<String, String> = [("en".to_string(), "Forced eviction".to_string())].into();
    store.add_act_type("forced_eviction", &labels, &ctx("admin")).unwrap();
    assert!(matches!(
        store.add_act_type("threats", &labels, &ctx("admin")),
        Err(StoreError::Invalid(e)) if e.reason == Reason::Duplicate
    ));
    assert!(store
        .act_types()
        .unwrap()
        .iter()
        .any(|a| a.code == "forced_eviction" && !a.built_in));
    let draft = TestimonyDraft {
        witness: Witness::Sealed {
            name: "Maryam Rahimi".into(),
            contact: None,
        },
        pseudonym: "Witness M".into(),
        given_on: T0.date(),
        language: "fa".into(),
        narrative: "ما را شبانه به بلوک چهار بردند".into(),
        events: vec![event.id],
        acts: vec![Act {
            event: event.id,
            act_type: "arbitrary_detention".into(),
            victims: vec!["Her brother".into()],
            perpetrators: vec![Involvement {
                name: "Guard unit 2".into(),
                degree: Degree::CarriedOut,
            }],
            consequences: None,
        }],
        sources: vec![],
        evidence: vec![evidence.id],
        reliability: Reliability::Medium,
        reliability_note: None,
        confidential: [ConfidentialPart::Perpetrators].into(),
    };
    let mut unknown = draft.clone();
    unknown.acts[0].act_type = "no_such_type".into();
    assert!(matches!(
        store.create_testimony(&unknown, &doc),
        Err(StoreError::Invalid(e)) if e.field == "acts[0].act_type"
    ));
    let mut unregistered = draft.clone();
    unregistered.witness = Witness::Registered {
        person: lantern_domain::person::PersonId::new(),
    };
    assert!(matches!(
        store.create_testimony(&unregistered, &doc),
        Err(StoreError::Invalid(e)) if e.field == "witness_person" && e.reason == Reason::NotFound
    ));
    let resident = store
        .create_person(&self::draft(&["Maryam Rahimi"], "1980"), &ctx("reg"))
        .unwrap();
    let mut registered = draft.clone();
    registered.witness = Witness::Registered { person: resident.id };
    let by_resident = store.create_testimony(&registered, &doc).unwrap();
    let t = store.create_testimony(&draft, &doc).unwrap();
    assert_eq!(store.event(event.id).unwrap().unwrap().testimonies.len(), 2);
    // Reading without the right to see confidential parts hides them and
    // the witness; both reads are audited.
    let open = store.read_testimony(t.id, false, &ctx("cw")).unwrap();
    assert_eq!(open.witness, None);
    assert!(open.acts[0].perpetrators.is_empty());
    assert_eq!(open.acts[0].victims, vec!["Her brother".to_string()]);
    let full = store.read_testimony(t.id, true, &doc).unwrap();
    assert_eq!(full.witness, Some(draft.witness.clone()));
    assert_eq!(full.acts[0].perpetrators.len(), 1);
    let reads = store
        .audit_events(&AuditFilter {
            record_id: Some(t.id.to_string()),
            ..Default::default()
        })
        .unwrap();
    let actions: Vec<&str> = reads.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"testimony.view") && actions.contains(&"testimony.read_confidential"),
        "{actions:?}"
    );
    // The full-text index reads every part, oldest first, a page at a
    // time, and leaves no audit event (no person reads them there).
    let indexed = store.testimonies_for_index(PageRequest::new(1, 10)).unwrap();
    assert_eq!(indexed.len(), 2);
    assert_eq!(indexed[1].summary.id, t.id);
    assert_eq!(indexed[1].witness, Some(draft.witness.clone()));
    assert_eq!(indexed[1].narrative.as_deref(), Some(draft.narrative.as_str()));
    assert_eq!(indexed[1].acts[0].perpetrators.len(), 1);
    assert_eq!(
        store.testimonies_for_index(PageRequest::new(2, 1)).unwrap()[0]
            .summary
            .id,
        t.id
    );
    assert!(store.testimonies_for_index(PageRequest::new(3, 1)).unwrap().is_empty());
    let with_details = store.evidence_for_index(PageRequest::new(1, 10)).unwrap();
    assert!(with_details.iter().any(|(e, _)| e.id == evidence.id));
    let after = store
        .audit_events(&AuditFilter {
            record_id: Some(t.id.to_string()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(after.items.len(), reads.items.len());

    let recipient = store
        .create_recipient(
            "Committee on Human Rights",
            RecipientKind::Parliamentarian,
            "en",
            &[],
            &doc,
        )
        .unwrap();
    let dossier = DossierDraft {
        title: "Detention".into(),
        recipient: recipient.id,
        purpose: "Hearing".into(),
        expires: T0.date() + Duration::days(90),
        redaction: [Redaction::WitnessIdentity].into(),
        testimonies: vec![t.id],
        events: vec![],
        evidence: vec![],
        people: vec![],
        include_files: true,
    };
    // No decision yet: refused, nothing written.
    let size = store.ledger_size().unwrap();
    assert!(matches!(
        store.create_dossier(&dossier, &doc),
        Err(StoreError::Invalid(e)) if e.reason == Reason::NotConsented
    ));
    assert_eq!(store.ledger_size().unwrap(), size);
    let share = |decision| crate::NewShareDecision {
        recipient: recipient.id,
        decision,
        how: "verbal, witnessed by a colleague".into(),
        form: None,
    };
    store
        .record_share_decision(t.id, &share(ShareDecision::Given), &doc)
        .unwrap();
    let built = store.create_dossier(&dossier, &doc).unwrap();
    let kinds: Vec<&str> = built.records.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["testimony", "event", "evidence", "custody"]);
    assert_eq!(built.files, vec![(evidence.sha256.clone(), evidence.size)]);
    assert!(built.entry >= built.records.iter().map(|r| r.index).max().unwrap());
    assert_eq!(store.dossiers(Some(&[recipient.id])).unwrap().len(), 1);
    assert!(store.dossiers(Some(&[])).unwrap().is_empty());
    // An event on its own needs no witness's agreement; an unknown one is
    // named.
    let events_only = DossierDraft {
        testimonies: vec![],
        events: vec![event.id],
        ..dossier.clone()
    };
    let alone = store.create_dossier(&events_only, &doc).unwrap();
    let kinds: Vec<&str> = alone.records.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["event"]);
    let unknown = DossierDraft {
        events: vec![lantern_domain::testimony::EventId::new()],
        ..events_only
    };
    assert!(matches!(
        store.create_dossier(&unknown, &doc),
        Err(StoreError::Invalid(e)) if e.field == "events[0]" && e.reason == Reason::NotFound
    ));
    assert_eq!(store.dossiers(Some(&[recipient.id])).unwrap().len(), 2);
    // Every value disclosed matches its entry (the store checks), and an
    // export leaves an `exported` custody event.
    let parts = store.dossier_disclosures(built.id, &doc).unwrap();
    assert_eq!(parts.len(), 1 + built.records.len());
    assert_eq!(parts[0].record_kind, "dossier");
    let testimony_part = &parts[1];
    assert_eq!(testimony_part.fields["narrative"].0, serde_json::json!(draft.narrative));
    assert_eq!(
        testimony_part.fields["witness"].0,
        serde_json::to_value(&draft.witness).unwrap()
    );
    let custody = store.custody(evidence.id).unwrap();
    assert_eq!(
        custody.last().unwrap().kind,
        lantern_domain::evidence::CustodyKind::Exported
    );
    assert_eq!(
        custody.last().unwrap().counterpart.as_deref(),
        Some("Committee on Human Rights")
    );
    // The checkpoint is fixed once, and only one that covers the entry.
    assert!(store.fix_dossier_checkpoint(built.id, built.entry).is_err());
    assert_eq!(
        store.fix_dossier_checkpoint(built.id, built.entry + 1).unwrap(),
        built.entry + 1
    );
    assert_eq!(
        store.fix_dossier_checkpoint(built.id, built.entry + 5).unwrap(),
        built.entry + 1
    );
    // A registry record goes only as the own record of a registered
    // witness who agreed, with the witness's identity shown; its protected
    // fields are never read out, and the dossier keeps the version it was
    // built with.
    store
        .record_share_decision(by_resident.id, &share(ShareDecision::Given), &doc)
        .unwrap();
    let with_record = DossierDraft {
        testimonies: vec![by_resident.id],
        people: vec![resident.id],
        redaction: Default::default(),
        ..dossier.clone()
    };
    let refused = |d: &DossierDraft| match store.create_dossier(d, &doc) {
        Err(StoreError::Invalid(e)) => (e.field, e.reason),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let size = store.ledger_size().unwrap();
    let hidden = DossierDraft {
        redaction: [Redaction::WitnessIdentity].into(),
        ..with_record.clone()
    };
    assert_eq!(refused(&hidden), ("people[0]".into(), Reason::HiddenByRedaction));
    let not_the_witness = DossierDraft {
        testimonies: vec![t.id],
        ..with_record.clone()
    };
    assert_eq!(refused(&not_the_witness), ("people[0]".into(), Reason::NotAWitness));
    assert_eq!(store.ledger_size().unwrap(), size, "a refusal writes nothing");
    let given = store.create_dossier(&with_record, &doc).unwrap();
    let kinds: Vec<&str> = given.records.iter().map(|r| r.kind.as_str()).collect();
    // The evidence's custody: its intake and the export above.
    assert_eq!(
        kinds,
        ["testimony", "event", "person", "evidence", "custody", "custody"]
    );
    let mut renamed = self::draft(&["Maryam Rahimi-Karimi"], "1980");
    renamed.protected.contact = Some("+00 000 0000".into());
    store
        .update_person(resident.id, resident.version, &renamed, &ctx("reg"))
        .unwrap();
    let parts = store.dossier_disclosures(given.id, &doc).unwrap();
    let person = parts.iter().find(|p| p.record_kind == "person").unwrap();
    assert_eq!(person.unread, ["protected"]);
    assert!(!person.fields.contains_key("protected"));
    assert_eq!(
        person.fields["names"].0[0]["text"],
        serde_json::json!("Maryam Rahimi"),
        "the version the dossier was built with"
    );
    store
        .delete_person(resident.id, resident.version + 1, &ctx("reg"))
        .unwrap();
    assert_eq!(refused(&with_record), ("people[0]".into(), Reason::NotFound));
    // A withdrawal stops new dossiers.
    store
        .record_share_decision(t.id, &share(ShareDecision::Withdrawn), &doc)
        .unwrap();
    assert_eq!(store.share_decisions(t.id).unwrap().len(), 2);
    assert!(matches!(
        store.create_dossier(&dossier, &doc),
        Err(StoreError::Invalid(e)) if e.reason == Reason::NotConsented
    ));
    // Recorded with a new event and a new file: all or nothing.
    let mut bad_type = draft.clone();
    bad_type.acts[0].act_type = "no_such_type".into();
    let new_event =
        lantern_domain::testimony::EventDraft::parse("Night search", "2021", "", "East camp", "", "", T0.date())
            .unwrap();
    let file = crate::NewEvidence {
        object: object("obj-testimony-file", 0x3c),
        title: "Photo the witness brought".into(),
        media_type: "image/jpeg".into(),
        details: Default::default(),
        received_from: Some("Witness A".into()),
        received_how: None,
        derived_from: None,
    };
    let (events_before, evidence_before, ledger_before) = (
        store.events().unwrap().len(),
        store.evidence_list(PageRequest::new(1, 100)).unwrap().total,
        store.ledger_size().unwrap(),
    );
    assert!(matches!(
        store.record_testimony(Some(&new_event), Some(&file), &bad_type, &doc),
        Err(StoreError::Invalid(e)) if e.field == "acts[0].act_type"
    ));
    assert_eq!(store.events().unwrap().len(), events_before, "no event left behind");
    assert_eq!(
        store.evidence_list(PageRequest::new(1, 100)).unwrap().total,
        evidence_before,
        "no evidence left behind"
    );
    assert_eq!(store.ledger_size().unwrap(), ledger_before);
    let together = store
        .record_testimony(Some(&new_event), Some(&file), &draft, &doc)
        .unwrap();
    let created = together.event.as_ref().unwrap();
    let added = together.evidence.as_ref().unwrap();
    assert_eq!(created.title, "Night search");
    assert_eq!(together.testimony.events, [created.id]);
    assert!(together.draft.acts.iter().all(|a| a.event == created.id));
    assert_eq!(together.testimony.evidence, [evidence.id, added.evidence.id]);
    assert_eq!(
        store.event(created.id).unwrap().unwrap().testimonies,
        [together.testimony.id]
    );
}
