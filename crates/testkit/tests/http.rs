//! HTTP tests against a real server on port 0 with a fresh SQLite database.

use lantern_domain::clock::Clock;
use lantern_domain::policy::Role;
use lantern_testkit::{csrf_in, username, TestServer, PASSWORD};
use lantern_web::WebConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

/// Registers a person through the form, confirming it is a new person if
/// the form warns about similar registrations; returns the new record's id.
async fn register(s: &lantern_testkit::Session, fields: &[(&str, &str)]) -> String {
    let mut all = fields.to_vec();
    all.push(("confirmed_new", "yes"));
    let r = s.post_form("/people", &all).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    location.trim_start_matches("/people/").to_string()
}

#[tokio::test]
async fn setup_flow_creates_the_first_administrator_once() {
    let srv = TestServer::empty().await;
    let token = "setup-token-for-test-0123456789abcdef";
    let expires = srv.clock.now() + Duration::hours(1);
    srv.db(move |s| s.create_setup_token(&lantern_web::security::token_hash(token), expires))
        .await
        .unwrap();
    let mut s = lantern_testkit::Session::anonymous(&srv);
    s.refresh_csrf(&format!("/setup?token={token}")).await;
    assert!(!s.csrf.is_empty());
    // A weak password is refused, field by field, and nothing is created.
    let r = s
        .post_form(
            "/setup",
            &[
                ("token", token),
                ("username", "chief"),
                ("display_name", "Chief"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("At least 12 characters"), "{html}");
    assert_eq!(srv.db(|s| s.user_count()).await.unwrap(), 0);
    // A wrong token is refused.
    let good = [
        ("username", "chief"),
        ("display_name", "Chief Admin"),
        ("password", "correct horse battery staple"),
        ("password_confirm", "correct horse battery staple"),
    ];
    let mut with_wrong = vec![("token", "wrong")];
    with_wrong.extend_from_slice(&good);
    assert_eq!(s.post_form("/setup", &with_wrong).await.status(), StatusCode::FORBIDDEN);
    let mut with_token = vec![("token", token)];
    with_token.extend_from_slice(&good);
    let r = s.post_form("/setup", &with_token).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(srv.db(|s| s.user_count()).await.unwrap(), 1);
    assert_eq!(srv.audit("setup.complete").await.len(), 1);
    // The link works once; the setup page is gone once a user exists.
    assert_eq!(s.post_form("/setup", &with_token).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.get("/setup").await.status(), StatusCode::NOT_FOUND);
    let admin = srv.login_as("chief", "correct horse battery staple").await.unwrap();
    assert_eq!(admin.get("/admin/users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_failures_are_audited_and_throttled() {
    let srv = TestServer::start().await;
    let name = username(Role::Registrar);
    for _ in 0..5 {
        assert_eq!(
            srv.login_as(&name, "wrong password!!").await.err(),
            Some(StatusCode::UNAUTHORIZED)
        );
    }
    // The sixth attempt is refused even with the right password.
    assert_eq!(
        srv.login_as(&name, PASSWORD).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    let failed = srv.audit("login.failed").await;
    assert_eq!(failed.len(), 6);
    assert!(failed.iter().all(|e| e.actor_name == name));
    assert_eq!(failed[0].detail, "throttled");
    // Other accounts are not affected; after the window the account works again.
    srv.login(Role::Caseworker).await;
    srv.clock.advance(Duration::minutes(16));
    srv.login_as(&name, PASSWORD).await.unwrap();
    // An unknown user fails the same way as a wrong password.
    assert_eq!(
        srv.login_as("nobody", PASSWORD).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn second_factor_is_required_once_enabled() {
    let srv = TestServer::start().await;
    let secret = b"12345678901234567890".to_vec();
    let user = srv.db(|s| s.user_credentials("auditor")).await.unwrap().unwrap().user;
    let (change, ctx) = (
        lantern_store::UserChange {
            totp_secret: Some(Some(secret.clone())),
            ..Default::default()
        },
        lantern_store::AuditContext::system("test", srv.clock.now()),
    );
    srv.db(move |s| s.update_user(user.id, change, &ctx)).await.unwrap();
    assert_eq!(
        srv.login_as("auditor", PASSWORD).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let step = (srv.clock.now().unix_timestamp() / 30) as u64;
    let code = format!("{:06}", lantern_web::security::hotp(&secret, step));
    let mut s = lantern_testkit::Session::anonymous(&srv);
    s.refresh_csrf("/login").await;
    let r = s
        .post_form(
            "/login",
            &[("username", "auditor"), ("password", PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    let srv = TestServer::start().await;
    let s = srv.login(Role::Registrar).await;
    let fields = [("names[0].text", "زهرا احمدی")];
    // No token, a wrong token, a cross-site request: all refused, nothing written.
    assert_eq!(s.post_raw("/people", &fields).await.status(), StatusCode::FORBIDDEN);
    let wrong = [("csrf_token", "x".repeat(43)), ("names[0].text", "زهرا احمدی".into())];
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(s.post_raw("/people", &wrong).await.status(), StatusCode::FORBIDDEN);
    let cross = s
        .client
        .post(srv.url("/people"))
        .header("origin", "http://evil.example")
        .form(&[("csrf_token", s.csrf.as_str()), ("names[0].text", "زهرا احمدی")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let fetch_metadata = s
        .client
        .post(srv.url("/people"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf_token", s.csrf.as_str()), ("names[0].text", "زهرا احمدی")])
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), StatusCode::FORBIDDEN);
    assert_eq!(srv.db(|s| s.stats()).await.unwrap().people, 0);
    let denials = srv.audit("access.denied").await;
    assert_eq!(denials.len(), 4);
    assert!(denials.iter().all(|e| e.detail == "csrf"));
    // The login form itself is protected too (double-submit cookie).
    let anon = lantern_testkit::Session::anonymous(&srv);
    let r = anon
        .post_raw("/login", &[("username", "registrar"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the token it works, also when a browser says it is the same origin.
    let same = s
        .client
        .post(srv.url("/people"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", srv.base.as_str())
        .form(&[("csrf_token", s.csrf.as_str()), ("names[0].text", "Maryam Ahmadi")])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::SEE_OTHER);
    register(&s, &fields).await;
    assert_eq!(srv.db(|s| s.stats()).await.unwrap().people, 2);
}

/// Which roles may use each route. Written from the role descriptions in
/// DESIGN.md, independently of the permission matrix, so a change to the
/// matrix that contradicts them fails here.
fn route_table(person: &str, household: &str, case: &str, request: &str) -> Vec<(&'static str, String, Vec<Role>)> {
    use Role::*;
    let staff = vec![
        Administrator,
        Registrar,
        Caseworker,
        Interviewer,
        FamilyLiaison,
        Documenter,
        Auditor,
    ];
    let readers = vec![Administrator, Registrar, Caseworker, Interviewer, Documenter];
    let case_readers = vec![Administrator, Registrar, Interviewer];
    let case_writers = vec![Registrar, Interviewer];
    let tracers = vec![Caseworker, FamilyLiaison];
    let all = Role::ALL.to_vec();
    vec![
        // Every role has a start page: an external official's is the list
        // of dossiers shared with them.
        ("GET", "/".into(), Role::ALL.to_vec()),
        ("GET", "/people".into(), readers.clone()),
        ("GET", "/people/new".into(), vec![Registrar]),
        ("POST", "/people".into(), vec![Registrar]),
        ("GET", format!("/people/{person}"), readers.clone()),
        ("GET", format!("/people/{person}/edit"), vec![Registrar]),
        ("POST", format!("/people/{person}/edit"), vec![Registrar]),
        (
            "GET",
            format!("/people/{person}/protected"),
            vec![Registrar, Caseworker],
        ),
        ("GET", format!("/people/{person}/history"), readers.clone()),
        ("GET", format!("/people/{person}/photo"), readers.clone()),
        ("POST", format!("/people/{person}/photo"), vec![Registrar]),
        ("POST", format!("/people/{person}/links"), vec![Registrar]),
        ("POST", format!("/people/{person}/links/remove"), vec![Registrar]),
        ("POST", format!("/people/{person}/delete"), vec![Registrar]),
        ("GET", "/households".into(), readers.clone()),
        ("POST", "/households".into(), vec![Registrar]),
        ("GET", format!("/households/{household}"), readers.clone()),
        ("GET", "/admin/users".into(), vec![Administrator]),
        ("POST", "/admin/users".into(), vec![Administrator]),
        ("POST", format!("/admin/users/{}", uuid_zero()), vec![Administrator]),
        ("GET", "/admin/sites".into(), vec![Administrator]),
        ("POST", "/admin/sites".into(), vec![Administrator]),
        ("GET", "/audit".into(), vec![Administrator, Auditor]),
        ("GET", "/audit.csv".into(), vec![Auditor]),
        ("GET", "/account".into(), all.clone()),
        ("POST", "/account/password".into(), all.clone()),
        ("POST", "/account/totp".into(), all.clone()),
        ("POST", "/account/tokens".into(), all.clone()),
        ("POST", format!("/account/tokens/{}/revoke", uuid_zero()), all.clone()),
        ("GET", "/api/v1/me".into(), all.clone()),
        ("GET", "/api/v1/people".into(), readers.clone()),
        ("POST", "/api/v1/people".into(), vec![Registrar]),
        ("GET", format!("/api/v1/people/{person}"), readers.clone()),
        ("PUT", format!("/api/v1/people/{person}"), vec![Registrar]),
        ("DELETE", format!("/api/v1/people/{person}"), vec![Registrar]),
        (
            "GET",
            format!("/api/v1/people/{person}/protected"),
            vec![Registrar, Caseworker],
        ),
        ("GET", format!("/api/v1/people/{person}/history"), readers.clone()),
        ("GET", format!("/api/v1/people/{person}/photo"), readers.clone()),
        ("PUT", format!("/api/v1/people/{person}/photo"), vec![Registrar]),
        ("POST", format!("/api/v1/people/{person}/links"), vec![Registrar]),
        ("DELETE", format!("/api/v1/people/{person}/links"), vec![Registrar]),
        ("GET", "/api/v1/households".into(), readers.clone()),
        ("POST", "/api/v1/households".into(), vec![Registrar]),
        ("GET", format!("/api/v1/households/{household}"), readers.clone()),
        ("GET", "/api/v1/sites".into(), readers.clone()),
        ("GET", "/api/v1/audit".into(), vec![Administrator, Auditor]),
        ("GET", "/cases".into(), case_readers.clone()),
        ("POST", "/cases".into(), case_writers.clone()),
        ("GET", format!("/cases/{case}"), case_readers.clone()),
        ("POST", format!("/cases/{case}/step"), case_writers.clone()),
        ("POST", format!("/cases/{case}/obstacles"), case_writers.clone()),
        ("GET", "/cases.csv".into(), vec![Registrar, Interviewer]),
        ("GET", "/tracing".into(), tracers.clone()),
        ("GET", "/tracing/new".into(), tracers.clone()),
        ("POST", "/tracing".into(), tracers.clone()),
        ("GET", format!("/tracing/{request}"), tracers.clone()),
        ("GET", format!("/tracing/{request}/requester"), tracers.clone()),
        ("GET", format!("/tracing/{request}/edit"), tracers.clone()),
        ("GET", format!("/tracing/{request}/photo"), tracers.clone()),
        ("POST", format!("/tracing/{request}/photo"), tracers.clone()),
        ("POST", format!("/tracing/{request}/edit"), tracers.clone()),
        ("POST", format!("/tracing/{request}/search"), vec![Caseworker]),
        ("POST", format!("/tracing/{request}/decide"), tracers.clone()),
        ("POST", format!("/tracing/{request}/state"), tracers.clone()),
        ("POST", format!("/tracing/{request}/consent"), tracers.clone()),
        ("GET", "/api/v1/tracing".into(), tracers.clone()),
        ("POST", "/api/v1/tracing".into(), tracers.clone()),
        ("GET", format!("/api/v1/tracing/{request}"), tracers.clone()),
        ("PUT", format!("/api/v1/tracing/{request}"), tracers.clone()),
        ("GET", format!("/api/v1/tracing/{request}/photo"), tracers.clone()),
        ("PUT", format!("/api/v1/tracing/{request}/photo"), tracers.clone()),
        ("GET", format!("/api/v1/tracing/{request}/requester"), tracers.clone()),
        ("POST", format!("/api/v1/tracing/{request}/search"), vec![Caseworker]),
        ("POST", format!("/api/v1/tracing/{request}/decide"), tracers.clone()),
        ("POST", format!("/api/v1/tracing/{request}/state"), tracers.clone()),
        ("POST", format!("/api/v1/tracing/{request}/consent"), tracers.clone()),
        ("GET", format!("/tracing/{request}/messages"), tracers.clone()),
        ("POST", format!("/tracing/{request}/messages"), tracers.clone()),
        ("GET", format!("/api/v1/tracing/{request}/messages"), tracers.clone()),
        ("GET", format!("/tracing/{request}/visits"), tracers.clone()),
        ("POST", format!("/tracing/{request}/visits"), tracers.clone()),
        ("POST", "/admin/visit-rooms".into(), vec![Administrator]),
        ("POST", format!("/visits/{}/outcome", uuid_zero()), tracers.clone()),
        ("GET", format!("/api/v1/tracing/{request}/visits"), tracers.clone()),
        ("POST", format!("/api/v1/tracing/{request}/visits"), tracers.clone()),
        (
            "POST",
            format!("/api/v1/visits/{}/outcome", uuid_zero()),
            tracers.clone(),
        ),
        ("GET", "/api/v1/visit-rooms".into(), tracers.clone()),
        ("POST", "/api/v1/visit-rooms".into(), vec![Administrator]),
        ("POST", format!("/api/v1/tracing/{request}/messages"), tracers.clone()),
        ("GET", "/cases/pipeline".into(), staff.clone()),
        ("GET", "/cases/pipeline.csv".into(), staff.clone()),
        ("GET", "/api/v1/cases".into(), case_readers.clone()),
        ("POST", "/api/v1/cases".into(), case_writers.clone()),
        ("GET", format!("/api/v1/cases/{case}"), case_readers.clone()),
        ("POST", format!("/api/v1/cases/{case}/steps"), case_writers.clone()),
        ("POST", format!("/api/v1/cases/{case}/obstacles"), case_writers.clone()),
        ("GET", "/api/v1/cases/pipeline".into(), staff.clone()),
        ("GET", format!("/cases/{case}/interviews"), case_readers.clone()),
        ("GET", format!("/cases/{case}/notes"), vec![Interviewer]),
        ("POST", format!("/cases/{case}/notes"), vec![Interviewer]),
        ("GET", format!("/cases/{case}/household-copy"), vec![Interviewer]),
        ("GET", format!("/api/v1/cases/{case}/notes"), vec![Interviewer]),
        ("POST", format!("/api/v1/cases/{case}/notes"), vec![Interviewer]),
        ("POST", format!("/cases/{case}/interviews"), case_writers.clone()),
        ("GET", "/interviews".into(), case_readers.clone()),
        ("POST", "/interviews/bulk".into(), case_writers.clone()),
        (
            "POST",
            format!("/interviews/{}/outcome", uuid_zero()),
            case_writers.clone(),
        ),
        ("GET", "/admin/rooms".into(), vec![Administrator]),
        ("POST", "/admin/rooms".into(), vec![Administrator]),
        ("POST", "/admin/interpreters".into(), vec![Administrator]),
        ("POST", "/admin/availability".into(), vec![Administrator]),
        ("POST", "/admin/interviewer-languages".into(), vec![Administrator]),
        (
            "GET",
            format!("/api/v1/availability/interpreter/{}", uuid_zero()),
            case_readers.clone(),
        ),
        (
            "PUT",
            format!("/api/v1/availability/interpreter/{}", uuid_zero()),
            vec![Administrator],
        ),
        ("GET", "/api/v1/interviews".into(), case_readers.clone()),
        ("POST", format!("/api/v1/cases/{case}/interviews"), case_writers.clone()),
        ("POST", "/api/v1/interviews/bulk".into(), case_writers.clone()),
        (
            "POST",
            format!("/api/v1/interviews/{}/outcome", uuid_zero()),
            case_writers.clone(),
        ),
        ("GET", "/api/v1/rooms".into(), case_readers.clone()),
        ("POST", "/api/v1/rooms".into(), vec![Administrator]),
        ("GET", "/api/v1/interpreters".into(), case_readers.clone()),
        ("POST", "/api/v1/interpreters".into(), vec![Administrator]),
        ("GET", "/evidence".into(), vec![Caseworker, Documenter, Auditor]),
        ("GET", "/testimonies".into(), vec![Caseworker, Documenter]),
        ("POST", "/testimonies".into(), vec![Documenter]),
        ("GET", "/testimonies/new".into(), vec![Documenter]),
        (
            "GET",
            format!("/testimonies/{}", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        (
            "POST",
            format!("/testimonies/{}/sharing", uuid_zero()),
            vec![Documenter],
        ),
        ("GET", "/dossiers".into(), vec![Documenter]),
        ("POST", "/dossiers".into(), vec![Documenter]),
        ("POST", "/dossiers/recipients".into(), vec![Documenter]),
        ("GET", format!("/dossiers/{}", uuid_zero()), vec![Documenter]),
        ("GET", format!("/dossiers/{}/bundle", uuid_zero()), vec![Documenter]),
        ("GET", "/shared".into(), vec![ExternalOfficial]),
        ("GET", format!("/events/{}", uuid_zero()), vec![Documenter]),
        (
            "GET",
            format!("/api/v1/events/{}/corroboration", uuid_zero()),
            vec![Documenter],
        ),
        ("GET", "/search?q=x".into(), vec![Caseworker, Documenter, Auditor]),
        (
            "GET",
            "/api/v1/search?q=x".into(),
            vec![Caseworker, Documenter, Auditor],
        ),
        ("GET", format!("/shared/{}/bundle", uuid_zero()), vec![ExternalOfficial]),
        ("GET", "/api/v1/act-types".into(), vec![Caseworker, Documenter]),
        ("POST", "/api/v1/act-types".into(), vec![Administrator]),
        ("GET", "/api/v1/events".into(), vec![Caseworker, Documenter]),
        ("POST", "/api/v1/events".into(), vec![Documenter]),
        ("GET", "/api/v1/testimonies".into(), vec![Caseworker, Documenter]),
        ("POST", "/api/v1/testimonies".into(), vec![Documenter]),
        (
            "GET",
            format!("/api/v1/testimonies/{}", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        (
            "POST",
            format!("/api/v1/testimonies/{}/sharing", uuid_zero()),
            vec![Documenter],
        ),
        ("GET", "/api/v1/recipients".into(), vec![Documenter]),
        ("POST", "/api/v1/recipients".into(), vec![Documenter]),
        ("GET", "/api/v1/dossiers".into(), vec![Documenter]),
        ("POST", "/api/v1/dossiers".into(), vec![Documenter]),
        (
            "GET",
            format!("/api/v1/dossiers/{}/bundle", uuid_zero()),
            vec![Documenter],
        ),
        ("GET", "/api/v1/shared-dossiers".into(), vec![ExternalOfficial]),
        (
            "GET",
            format!("/api/v1/shared-dossiers/{}", uuid_zero()),
            vec![ExternalOfficial],
        ),
        (
            "GET",
            format!("/api/v1/shared-dossiers/{}/bundle", uuid_zero()),
            vec![ExternalOfficial],
        ),
        ("POST", "/evidence".into(), vec![Caseworker, Documenter]),
        (
            "GET",
            format!("/evidence/{}", uuid_zero()),
            vec![Caseworker, Documenter, Auditor],
        ),
        (
            "GET",
            format!("/evidence/{}/download", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        (
            "POST",
            format!("/evidence/{}/copies", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        (
            "POST",
            format!("/evidence/{}/transfer", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        ("GET", "/api/v1/evidence".into(), vec![Caseworker, Documenter, Auditor]),
        ("POST", "/api/v1/evidence".into(), vec![Caseworker, Documenter]),
        (
            "GET",
            format!("/api/v1/evidence/{}", uuid_zero()),
            vec![Caseworker, Documenter, Auditor],
        ),
        (
            "GET",
            format!("/api/v1/evidence/{}/content", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        (
            "POST",
            format!("/api/v1/evidence/{}/copies", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
        (
            "POST",
            format!("/api/v1/evidence/{}/transfers", uuid_zero()),
            vec![Caseworker, Documenter],
        ),
    ]
}

fn uuid_zero() -> &'static str {
    "00000000-0000-7000-8000-000000000000"
}

#[tokio::test]
async fn every_route_allows_exactly_its_roles() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let person = register(&reg, &[("names[0].text", "Test Person")]).await;
    let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
    let household = srv
        .db(move |s| s.create_household("Test household", None, &ctx))
        .await
        .unwrap()
        .id
        .to_string();
    let person_id = lantern_domain::person::PersonId::parse("id", &person).unwrap();
    let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
    let case = srv
        .db(move |s| s.create_case(person_id, false, &ctx))
        .await
        .unwrap()
        .id
        .to_string();
    let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
    let request = srv
        .db(move |s| {
            s.file_request(
                &lantern_store::NewTracingRequest {
                    kind: lantern_domain::tracing::RequestKind::Find,
                    channel: lantern_domain::tracing::Channel::Gate,
                    requester: Default::default(),
                    sought: lantern_store::SoughtPerson {
                        names: vec!["Someone Sought".into()],
                        ..Default::default()
                    },
                },
                "hash",
                &ctx,
            )
        })
        .await
        .unwrap()
        .id
        .to_string();
    let table = route_table(&person, &household, &case, &request);
    let mut checked = 0;
    for role in Role::ALL {
        let s = srv.login(*role).await;
        let token = srv.api_token(*role).await;
        for (method, path, allowed) in &table {
            let denials_before = srv.audit_count("access.denied").await;
            let status = if path.starts_with("/api/") {
                let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                let mut req = s.client.request(m, srv.url(path)).bearer_auth(&token);
                if *method == "POST" || *method == "PUT" {
                    req = req.json(&json!({}));
                }
                req.send().await.unwrap().status()
            } else if *method == "GET" {
                s.get(path).await.status()
            } else {
                // An empty form: allowed roles get past the permission check
                // (to a validation error, a redirect or a missing record).
                s.post_form(path, &[]).await.status()
            };
            let may = allowed.contains(role);
            if may {
                assert_ne!(status, StatusCode::FORBIDDEN, "{role:?} {method} {path}");
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{role:?} {method} {path}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {method} {path}");
                assert_eq!(
                    srv.audit_count("access.denied").await,
                    denials_before + 1,
                    "denial audited: {role:?} {method} {path}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Role::ALL.len() * table.len());
    // Without a login, pages send to the login form and the API answers 401.
    let anon = lantern_testkit::Session::anonymous(&srv);
    for (method, path, _) in &table {
        let status = if path.starts_with("/api/") {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            anon.client.request(m, srv.url(path)).send().await.unwrap().status()
        } else if *method == "GET" {
            anon.get(path).await.status()
        } else {
            continue; // POSTs without a session fail CSRF first (tested elsewhere).
        };
        let expected = if path.starts_with("/api/") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::SEE_OTHER
        };
        assert_eq!(status, expected, "anonymous {method} {path}");
    }
}

#[tokio::test]
async fn every_change_and_every_protected_read_is_audited() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let id = register(
        &reg,
        &[
            ("names[0].text", "مسعود کریمی"),
            ("names[1].text", "Masoud Karimi"),
            ("documents[0].kind", "passport"),
            ("documents[0].number", "X1234567"),
            ("contact", "cousin in Karaj"),
        ],
    )
    .await;
    assert_eq!(srv.audit("person.create").await.len(), 1);
    // A plain view shows no protected field and reads none.
    let html = reg.get(&format!("/people/{id}")).await.text().await.unwrap();
    assert!(html.contains("Masoud Karimi"));
    assert!(!html.contains("X1234567"));
    assert_eq!(srv.audit("person.read_protected").await.len(), 0);
    // Showing them is audited, with who and from where.
    let cw = srv.login(Role::Caseworker).await;
    let html = cw.get(&format!("/people/{id}/protected")).await.text().await.unwrap();
    assert!(html.contains("X1234567") && html.contains("cousin in Karaj"));
    let reads = srv.audit("person.read_protected").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].actor_name, "caseworker");
    assert_eq!(reads[0].address.as_deref(), Some("127.0.0.1"));
    assert!(!reads[0].request_id.is_empty());
    // The edit form shows them too: another audited read.
    let form = reg.get(&format!("/people/{id}/edit")).await.text().await.unwrap();
    assert!(form.contains("X1234567"));
    assert_eq!(srv.audit("person.read_protected").await.len(), 2);
    // The API read is audited as well.
    let token = srv.api_token(Role::Caseworker).await;
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/api/v1/people/{id}/protected")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["documents"][0]["number"], "X1234567");
    assert_eq!(srv.audit("person.read_protected").await.len(), 3);
    // An edit is audited with the fields it changed.
    let r = reg
        .post_form(
            &format!("/people/{id}/edit"),
            &[
                ("version", "1"),
                ("names[0].text", "مسعود کریمی"),
                ("names[1].text", "Masoud Karimi"),
                ("birth_date", "1971"),
                ("documents[0].kind", "passport"),
                ("documents[0].number", "X1234567"),
                ("contact", "cousin in Karaj"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let updates = srv.audit("person.update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].detail, "birth_date");
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_in_the_users_language() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let r = reg
        .post_form(
            "/people",
            &[
                ("names[0].text", ""),
                ("names[1].text", "Ali"),
                ("birth_date", "1985-02-30"),
                ("sex", "robot"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"birth_date-error\""), "error next to the field");
    assert!(html.contains("Not a valid date"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("value=\"Ali\""), "what was typed is kept");
    assert_eq!(srv.db(|s| s.stats()).await.unwrap().people, 0, "nothing written");
    // The same in Persian.
    let r = reg
        .post_form("/language", &[("lang", "fa"), ("back", "/people/new")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = reg
        .post_form("/people", &[("names[0].text", "علی"), ("birth_date", "2099")])
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("dir=\"rtl\"") && html.contains("lang=\"fa\""));
    assert!(html.contains("تاریخ در آینده است"), "{html}");
    // The API names the field and a stable code.
    let token = srv.api_token(Role::Registrar).await;
    let api = reqwest::Client::new();
    let r = api
        .post(srv.url("/api/v1/people"))
        .bearer_auth(&token)
        .json(&json!({"names": [{"text": "  "}], "birth_date": "1990..1970", "household_id": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    let fields: Vec<(String, String)> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        fields.contains(&("birth_date".into(), "invalid-range".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("household_id".into(), "invalid-id".into())),
        "{fields:?}"
    );
    // Malformed JSON, a wrong type, a relation to oneself.
    let r = api
        .post(srv.url("/api/v1/people"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = api
        .post(srv.url("/api/v1/people"))
        .bearer_auth(&token)
        .json(&json!({"names": "Ali"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "names");
    let r = api
        .post(srv.url("/api/v1/people"))
        .bearer_auth(&token)
        .json(&json!({"names": [{"text": "Ali Moradi"}]}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = api
        .post(srv.url(&format!("/api/v1/people/{id}/links")))
        .bearer_auth(&token)
        .json(&json!({"relative_id": id, "kind": "sibling"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["code"], "self-relation");
    // Oversized bodies, unknown routes and methods.
    let big = "x".repeat(2 * 1024 * 1024);
    let r = reg.post_form("/people", &[("notes", big.as_str())]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reg.get("/no/such/page").await.status(), StatusCode::NOT_FOUND);
    let r = api
        .get(srv.url("/api/v1/nothing"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    let r = api
        .patch(srv.url("/api/v1/people"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn history_shows_every_version_with_its_author() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let id = register(&reg, &[("names[0].text", "Leila Moradi"), ("birth_date", "1980")]).await;
    for (v, date) in [("1", "1981"), ("2", "1981-05")] {
        let r = reg
            .post_form(
                &format!("/people/{id}/edit"),
                &[("version", v), ("names[0].text", "Leila Moradi"), ("birth_date", date)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // A stale version is refused and the newer data kept.
    let r = reg
        .post_form(
            &format!("/people/{id}/edit"),
            &[("version", "1"), ("names[0].text", "Overwritten")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = reg.get(&format!("/people/{id}/history")).await.text().await.unwrap();
    for needle in [
        "Version 3",
        "Version 2",
        "Version 1",
        "1981-05",
        "registrar",
        "Person edited",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    let token = srv.api_token(Role::Interviewer).await;
    let h: Value = reqwest::Client::new()
        .get(srv.url(&format!("/api/v1/people/{id}/history")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dates: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["birth_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["1980", "1981", "1981-05"]);
}

#[tokio::test]
async fn people_search_by_any_name_status_and_year() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let a = register(
        &reg,
        &[
            ("names[0].text", "محمدرضا حسینی"),
            ("names[1].text", "Mohammadreza Hosseini"),
            ("birth_date", "1966"),
        ],
    )
    .await;
    let b = register(
        &reg,
        &[
            ("names[0].text", "Zahra Hosseini"),
            ("status", "departed"),
            ("birth_date", "1990"),
        ],
    )
    .await;
    let has = |html: &str, id: &str| html.contains(&format!("/people/{id}\""));
    let html = reg
        .get("/people?q=%D8%AD%D8%B3%DB%8C%D9%86%DB%8C")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        has(&html, &a) && !has(&html, &b),
        "Persian script finds only the Persian-script record"
    );
    let html = reg.get("/people?q=hoss").await.text().await.unwrap();
    assert!(has(&html, &a) && has(&html, &b));
    let html = reg.get("/people?q=hoss&status=departed").await.text().await.unwrap();
    assert!(!has(&html, &a) && has(&html, &b));
    let html = reg.get("/people?year=1966").await.text().await.unwrap();
    assert!(has(&html, &a) && !has(&html, &b));
    let r = reg.get("/people?year=abc").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let token = srv.api_token(Role::Documenter).await;
    let body: Value = reqwest::Client::new()
        .get(srv.url("/api/v1/people?q=mohammadr"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["id"], a.as_str());
}

#[tokio::test]
async fn family_links_show_on_both_sides() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let mother = register(&reg, &[("names[0].text", "Parvin Rahimi")]).await;
    let son = register(&reg, &[("names[0].text", "Omid Rahimi")]).await;
    let r = reg
        .post_form(
            &format!("/people/{son}/links"),
            &[("relative_id", &mother), ("kind", "parent")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = reg.get(&format!("/people/{mother}")).await.text().await.unwrap();
    assert!(html.contains("Child") && html.contains("Omid Rahimi"));
    // A second relation between the same two people is refused.
    let r = reg
        .post_form(
            &format!("/people/{mother}/links"),
            &[("relative_id", &son), ("kind", "parent")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("This already exists"));
    // The grandson as the mother's parent would be a cycle.
    let grandson = register(&reg, &[("names[0].text", "Navid Rahimi")]).await;
    let r = reg
        .post_form(
            &format!("/people/{son}/links"),
            &[("relative_id", &grandson), ("kind", "child")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = reg
        .post_form(
            &format!("/people/{mother}/links"),
            &[("relative_id", &grandson), ("kind", "parent")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("their own ancestor"), "{html}");
    assert_eq!(srv.audit("link.add").await.len(), 2);
}

#[tokio::test]
async fn sessions_expire_and_logout_ends_them() {
    let srv = TestServer::start().await;
    let s = srv.login(Role::Registrar).await;
    assert_eq!(s.get("/people").await.status(), StatusCode::OK);
    srv.clock.advance(Duration::hours(3));
    let r = s.get("/people").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "idle session expired");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));
    let mut s = srv.login(Role::Registrar).await;
    s.refresh_csrf("/people").await;
    let cookie_check = s.get("/people").await.status();
    assert_eq!(cookie_check, StatusCode::OK);
    assert_eq!(s.post_form("/logout", &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.get("/people").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(srv.audit("logout").await.len(), 1);
}

#[tokio::test]
async fn pages_carry_security_headers_and_no_outside_assets() {
    let srv = TestServer::start().await;
    let s = srv.login(Role::Registrar).await;
    let r = s.get("/people").await;
    let h = r.headers().clone();
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external references"
    );
    // The session cookie is HttpOnly and SameSite=Strict.
    let anon = srv.client();
    let login = anon.get(srv.url("/login")).send().await.unwrap();
    let set = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    let csrf = csrf_in(&login.text().await.unwrap()).unwrap();
    let r = anon
        .post(srv.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "registrar"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let set = r.headers()["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("lantern_session=") && set.contains("HttpOnly") && set.contains("SameSite=Strict"));
}

#[tokio::test]
async fn auditors_filter_and_export_the_trail() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    register(&reg, &[("names[0].text", "=HYPERLINK(\"x\")")]).await;
    let aud = srv.login(Role::Auditor).await;
    let html = aud.get("/audit?action=person.create").await.text().await.unwrap();
    assert!(html.contains("Person registered"));
    let r = aud.get("/audit.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "seq,at,actor_id,actor_name,action,record_kind,record_id,request_id,address,detail"
    );
    assert!(csv.contains(",registrar,person.create,person,"));
    assert!(csv.contains(",auditor,login,"));
    assert_eq!(srv.audit("audit.export").await.len(), 1);
    let r = aud.get("/audit?from=yesterday").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn api_tokens_are_required_hashed_and_revocable() {
    let srv = TestServer::start().await;
    let api = reqwest::Client::new();
    let r = api.get(srv.url("/api/v1/people")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "unauthenticated");
    let r = api
        .get(srv.url("/api/v1/people"))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A token made on the account page works once shown, and stops when revoked.
    let s = srv.login(Role::Interviewer).await;
    let html = s
        .post_form("/account/tokens", &[("token_name", "laptop")])
        .await
        .text()
        .await
        .unwrap();
    let at = html.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = html[at..at + html[at..].find('<').unwrap()].to_string();
    let r = api.get(srv.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["role"], "interviewer");
    let tokens = srv
        .db(|s| s.api_tokens(s.user_credentials("interviewer").unwrap().unwrap().user.id))
        .await
        .unwrap();
    let r = s
        .post_form(&format!("/account/tokens/{}/revoke", tokens[0].id), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = api.get(srv.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The OpenAPI document is served and describes the routes.
    let doc: Value = api
        .get(srv.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/people",
        "/people/{id}",
        "/people/{id}/protected",
        "/households",
        "/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} not described");
    }
}

/// Every API route in the route table is in the OpenAPI document, with its
/// method.
#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let srv = TestServer::start().await;
    let doc: Value = srv
        .client()
        .get(srv.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let zero = uuid_zero();
    let table = route_table(zero, zero, zero, zero);
    let mut missing = Vec::new();
    for (method, path, _) in &table {
        let Some(api) = path.strip_prefix("/api/v1") else {
            continue;
        };
        let api = api
            .split('?')
            .next()
            .unwrap()
            .replace(zero, "{id}")
            .replace("/availability/interpreter/", "/availability/{kind}/");
        if !doc["paths"][&api][method.to_lowercase()].is_object() {
            missing.push(format!("{method} {api}"));
        }
    }
    assert!(missing.is_empty(), "not described: {missing:?}");
}

#[tokio::test]
async fn administrators_manage_users_and_cannot_lock_themselves_out() {
    let srv = TestServer::start().await;
    let admin = srv.login(Role::Administrator).await;
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "new.registrar"),
                ("display_name", "New Registrar"),
                ("role", "registrar"),
                ("password", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The password an administrator chose opens only the account page until
    // the new user replaces it.
    let newbie = srv.login_as("new.registrar", "another long passphrase").await.unwrap();
    let r = newbie.get("/people").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/account");
    assert!(newbie
        .get("/account")
        .await
        .text()
        .await
        .unwrap()
        .contains("Choose your own password"));
    let r = newbie
        .post_form(
            "/account/password",
            &[
                ("current_password", "another long passphrase"),
                ("new_password", "my very own passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(newbie.get("/people").await.status(), StatusCode::OK);
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "new.registrar"),
                ("display_name", "Again"),
                ("role", "registrar"),
                ("password", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("This already exists"));
    let me = srv
        .db(|s| s.user_credentials("administrator"))
        .await
        .unwrap()
        .unwrap()
        .user;
    let r = admin
        .post_form(&format!("/admin/users/{}", me.id), &[("disabled", "true")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let other = srv
        .db(|s| s.user_credentials("new.registrar"))
        .await
        .unwrap()
        .unwrap()
        .user;
    let r = admin
        .post_form(&format!("/admin/users/{}", other.id), &[("disabled", "true")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        srv.login_as("new.registrar", "my very own passphrase").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn static_files_do_not_replace_the_forms_csrf_cookie() {
    // A browser loads the stylesheet and script in parallel with the login
    // page; if they set a fresh CSRF cookie, the login form's token no longer
    // matches and the first login fails.
    let srv = TestServer::start().await;
    let anon = srv.client();
    for path in ["/static/app.css", "/static/app.js"] {
        let r = anon.get(srv.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get("set-cookie").is_none(), "{path} set a cookie");
    }
    let mut s = lantern_testkit::Session::anonymous(&srv);
    s.refresh_csrf("/login").await;
    anon.get(srv.url("/static/app.css")).send().await.unwrap();
    let r = s
        .post_form("/login", &[("username", "registrar"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn photos_are_uploaded_checked_encrypted_and_served() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let id = register(&reg, &[("names[0].text", "Photo Owner")]).await;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(b"synthetic-image-marker-1234567890");
    let upload = |bytes: Vec<u8>, with_token: bool| {
        let mut form = reqwest::multipart::Form::new();
        if with_token {
            form = form.text("csrf_token", reg.csrf.clone());
        }
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("face.png")
            .mime_str("image/png")
            .unwrap();
        reg.client
            .post(srv.url(&format!("/people/{id}/photo")))
            .multipart(form.part("photo", part))
            .send()
    };
    // Without the CSRF token: refused.
    assert_eq!(
        upload(png.clone(), false).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Not an image (whatever the client claims): refused next to the field.
    let r = upload(b"<svg onload=alert(1)>".to_vec(), true).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"photo-error\""));
    // Too large: refused before it is read whole.
    let big = vec![0xFFu8; 7 * 1024 * 1024];
    let r = upload(big, true).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A real upload.
    assert_eq!(upload(png.clone(), true).await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(srv.audit("person.photo").await.len(), 1);
    let viewer = srv.login(Role::Interviewer).await;
    let r = viewer.get(&format!("/people/{id}/photo")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let html = viewer.get(&format!("/people/{id}")).await.text().await.unwrap();
    assert!(html.contains(&format!("src=\"/people/{id}/photo\"")));
    // The API takes a raw image body.
    let token = srv.api_token(Role::Registrar).await;
    let r = reqwest::Client::new()
        .put(srv.url(&format!("/api/v1/people/{id}/photo")))
        .bearer_auth(&token)
        .header("content-type", "image/jpeg")
        .body(vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        viewer.get(&format!("/people/{id}/photo")).await.headers()["content-type"],
        "image/jpeg"
    );
}

#[tokio::test]
async fn users_turn_the_second_factor_on_and_off_themselves() {
    let srv = TestServer::start().await;
    let s = srv.login(Role::Documenter).await;
    let html = s
        .post_form("/account/totp", &[("step", "start")])
        .await
        .text()
        .await
        .unwrap();
    let at = html.find("name=\"secret\" value=\"").unwrap() + "name=\"secret\" value=\"".len();
    let secret_b32 = html[at..at + html[at..].find('"').unwrap()].to_string();
    assert!(html.contains("otpauth://totp/Lantern:documenter?secret="));
    // A wrong code is refused and nothing changes.
    let r = s
        .post_form(
            "/account/totp",
            &[("step", "confirm"), ("secret", &secret_b32), ("code", "000000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!totp_enabled(&srv, "documenter").await);
    // The right code turns it on.
    let secret = base32_decode(&secret_b32);
    let step = (srv.clock.now().unix_timestamp() / 30) as u64;
    let code = format!("{:06}", lantern_web::security::hotp(&secret, step));
    let r = s
        .post_form(
            "/account/totp",
            &[("step", "confirm"), ("secret", &secret_b32), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(totp_enabled(&srv, "documenter").await);
    assert_eq!(
        srv.login_as("documenter", PASSWORD).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    // Turning it off needs the password.
    let r = s
        .post_form(
            "/account/totp",
            &[("step", "disable"), ("current_password", "wrong one")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post_form("/account/totp", &[("step", "disable"), ("current_password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    srv.login_as("documenter", PASSWORD).await.unwrap();
    assert_eq!(srv.audit("account.update").await.len(), 2);
}

/// RFC 4648 base32 without padding, as the account page shows TOTP secrets.
fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

#[tokio::test]
async fn registering_warns_about_the_same_person_in_another_script() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let first = register(&reg, &[("names[0].text", "مسعود حسینی"), ("birth_date", "1968")]).await;
    // The same person typed in a Latin spelling: the form comes back with a
    // warning naming the registered record, and nothing is written.
    let r = reg.post_form("/people", &[("names[0].text", "Massoud Husseini")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"duplicates\"") && html.contains(&format!("/people/{first}")),
        "{html}"
    );
    assert!(html.contains("value=\"Massoud Husseini\""), "what was typed is kept");
    assert_eq!(srv.db(|s| s.stats()).await.unwrap().people, 1);
    // The API asks the same question.
    let token = srv.api_token(Role::Registrar).await;
    let api = reqwest::Client::new();
    let r = api
        .post(srv.url("/api/v1/people"))
        .bearer_auth(&token)
        .json(&json!({"names": [{"text": "Masoud Hoseyni"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "possible_duplicate");
    assert!(
        body["error"]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == first.as_str()),
        "{body}"
    );
    // Confirmed as a different person, it is registered.
    let r = reg
        .post_form(
            "/people",
            &[("names[0].text", "Massoud Husseini"), ("confirmed_new", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Confirmed through the API too.
    let r = api
        .post(srv.url("/api/v1/people?confirm_new=true"))
        .bearer_auth(&token)
        .json(&json!({"names": [{"text": "Masoud Hoseyni"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A different name is registered without a warning, and so is one
    // that shares only a given name.
    for other in ["Leila Bakhtiari", "Masoud Rahimi"] {
        let r = reg.post_form("/people", &[("names[0].text", other)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{other}");
    }
    // Searching in one script shows the other script's registration among
    // the similar names.
    let html = reg.get("/people?q=Masoud+Hosseini").await.text().await.unwrap();
    let similar = &html[html.find("id=\"similar\"").expect("similar names section")..];
    assert!(similar.contains(&format!("/people/{first}")), "{similar}");
    // A name that shares no word with the search is not among them, nor
    // one that shares a given name only: the engine proposes it, unlikely
    // to be the person (below the similar names' floor).
    assert!(!similar.contains("Bakhtiari"), "{similar}");
    assert!(!similar.contains("Rahimi"), "{similar}");
    // One word: the other spellings registered, each with its count and a
    // search of its own; the word itself and its prefix matches are not
    // among them.
    let html = reg.get("/people?q=masoud").await.text().await.unwrap();
    assert!(!html.contains("id=\"similar\""), "one word lists spellings, not people");
    let start = html.find("id=\"spellings\"").expect("spellings section");
    let spellings = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(spellings.contains("href=\"/people?q=massoud\""), "{spellings}");
    assert!(
        spellings.contains("href=\"/people?q=%D9%85%D8%B3%D8%B9%D9%88%D8%AF\""),
        "مسعود: {spellings}"
    );
    assert!(
        spellings.contains(">massoud</a> <small>1 person</small>"),
        "{spellings}"
    );
    assert!(!spellings.contains("q=masoud\""), "{spellings}");
    assert!(!spellings.contains("leila"), "{spellings}");
    // A hyphenated compound is two words: similar people, not spellings.
    let html = reg.get("/people?q=Masoud-Hosseini").await.text().await.unwrap();
    assert!(html.contains("id=\"similar\"") && !html.contains("id=\"spellings\""));
    // A spelling the prefix search covers is not offered again.
    let html = reg.get("/people?q=mas").await.text().await.unwrap();
    assert!(!html.contains("q=massoud\""), "massoud starts with mas");
}

async fn totp_enabled(srv: &TestServer, user: &'static str) -> bool {
    srv.db(move |s| s.user_credentials(user))
        .await
        .unwrap()
        .unwrap()
        .user
        .totp_enabled
}

#[tokio::test]
async fn cases_move_through_their_steps_and_obstacles_show_in_the_pipeline() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let person = register(&reg, &[("names[0].text", "Pipeline Person")]).await;
    let int = srv.login(Role::Interviewer).await;
    // The person's page offers to open a case; opening one shows it.
    let page = int.get(&format!("/people/{person}")).await.text().await.unwrap();
    assert!(page.contains("action=\"/cases\""), "{page}");
    let r = int.post_form("/cases", &[("person_id", &person)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case_path = r.headers()["location"].to_str().unwrap().to_string();
    // A second open case for the same resident is refused.
    let r = int.post_form("/cases", &[("person_id", &person)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let step = |expected: &'static str, to: &'static str| {
        let int = &int;
        let path = format!("{case_path}/step");
        async move { int.post_form(&path, &[("expected", expected), ("step", to)]).await }
    };
    assert_eq!(
        step("registered", "registration_verified").await.status(),
        StatusCode::SEE_OTHER
    );
    // An illegal step is refused with the reason, in the user's language.
    let r = step("registration_verified", "departed").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("cannot follow"));
    // A stale form (someone else moved the case) is a conflict.
    assert_eq!(
        step("registered", "registration_verified").await.status(),
        StatusCode::CONFLICT
    );
    // A registrar does not record decisions: refused and audited.
    for (e, t) in [
        ("registration_verified", "interview_requested"),
        ("interview_requested", "interview_scheduled"),
        ("interview_scheduled", "interviewed"),
    ] {
        assert_eq!(step(e, t).await.status(), StatusCode::SEE_OTHER, "{e} -> {t}");
    }
    let denials = srv.audit_count("access.denied").await;
    let r = reg
        .post_form(
            &format!("{case_path}/step"),
            &[("expected", "interviewed"), ("step", "recognised")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(srv.audit_count("access.denied").await, denials + 1);
    // The interview had someone else in the room: an obstacle.
    let r = int
        .post_form(
            &format!("{case_path}/obstacles"),
            &[
                ("obstacle", "other_person_present"),
                ("occurred_on", "2026-03-01"),
                ("by_whom", "a visitor"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = int
        .post_form(
            &format!("{case_path}/obstacles"),
            &[("obstacle", "other"), ("occurred_on", "2099-01-01")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = int.get(&case_path).await.text().await.unwrap();
    assert!(page.contains("Another person present at the interview") && page.contains("a visitor"));
    assert!(page.contains("Interviewed"));
    assert_eq!(srv.audit("case.step").await.len(), 4);
    assert_eq!(srv.audit("case.obstacle").await.len(), 1);

    // The pipeline counts it, in both languages, and exports aggregates only.
    let admin = srv.login(Role::Administrator).await;
    let page = admin.get("/cases/pipeline").await.text().await.unwrap();
    assert!(page.contains("<svg") && page.contains("Another person present at the interview"));
    let csv = admin.get("/cases/pipeline.csv").await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[1].starts_with("#date,"), "{csv}");
    assert!(lines.iter().any(|l| l.ends_with(",cases_now,interviewed,,1")), "{csv}");
    assert!(
        lines.iter().any(|l| l.ends_with(",cases_reached,interviewed,,1")),
        "{csv}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with(",obstacles,other_person_present,,1")),
        "{csv}"
    );
    // The case list, with names, is exported only by roles that work cases, audited.
    assert_eq!(admin.get("/cases.csv").await.status(), StatusCode::FORBIDDEN);
    let list = int.get("/cases.csv?step=interviewed").await.text().await.unwrap();
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(rows[0], "case_id,resident,household,site,step,since,obstacles");
    assert_eq!(rows.len(), 2, "{list}");
    assert!(
        rows[1].contains(",Pipeline Person,,,interviewed,") && rows[1].ends_with(",1"),
        "{list}"
    );
    assert_eq!(srv.audit("case.export").await.len(), 1);
    // A period before the obstacle leaves it out; a reversed period is refused.
    let csv = admin
        .get("/cases/pipeline.csv?until=2026-02-01")
        .await
        .text()
        .await
        .unwrap();
    assert!(!csv.contains(",obstacles,"), "{csv}");
    let r = admin.get("/cases/pipeline?from=2026-03-02&until=2026-03-01").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!csv.contains("Pipeline Person"), "no personal data in aggregates");

    // The API: the same rules.
    let token = srv.api_token(Role::Interviewer).await;
    let api = reqwest::Client::new();
    let id = case_path.trim_start_matches("/cases/");
    let r = api
        .post(srv.url(&format!("/api/v1/cases/{id}/steps")))
        .bearer_auth(&token)
        .json(&json!({"expected": "interviewed", "step": "recognised"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = api
        .post(srv.url(&format!("/api/v1/cases/{id}/steps")))
        .bearer_auth(&token)
        .json(&json!({"expected": "recognised", "step": "submitted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["fields"][0]["field"],
        "country"
    );
    let case: Value = api
        .post(srv.url(&format!("/api/v1/cases/{id}/steps")))
        .bearer_auth(&token)
        .json(&json!({"expected": "recognised", "step": "submitted", "country": "Country B"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (case["step"].as_str(), case["country"].as_str()),
        (Some("submitted"), Some("Country B"))
    );
    assert_eq!(
        case["next"],
        json!(["accepted", "refused", "withdrawn", "deceased", "left_otherwise"])
    );
    let pipeline: Value = api
        .get(srv.url("/api/v1/cases/pipeline"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pipeline["total"], 1);
    assert_eq!(
        pipeline["obstacles"][0],
        json!({"obstacle": "other_person_present", "count": 1})
    );
    // Persian pages translate steps and obstacles.
    admin
        .post_form("/language", &[("lang", "fa"), ("back", "/cases/pipeline")])
        .await;
    let page = admin.get("/cases/pipeline").await.text().await.unwrap();
    assert!(page.contains("شخص دیگری در مصاحبه حاضر بود"), "{page}");
}

#[tokio::test]
async fn interviews_are_scheduled_in_bulk_held_privately_or_missed() {
    let srv = TestServer::start().await;
    let admin = srv.login(Role::Administrator).await;
    let r = admin.post_form("/admin/sites", &[("name", "North Site")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
    let site = srv.db(|s| s.sites()).await.unwrap()[0].id.to_string();
    for room in ["Room A", "Room B"] {
        let r = admin
            .post_form("/admin/rooms", &[("site_id", &site), ("name", room)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = admin
        .post_form("/admin/rooms", &[("site_id", &site), ("name", "Room A")])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "room names are unique per site"
    );
    let r = admin
        .post_form(
            "/admin/interpreters",
            &[("interpreter_name", "Interpreter X"), ("languages", "fa, ar")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = admin
        .post_form(
            "/admin/interpreters",
            &[("interpreter_name", "Y"), ("languages", "not a tag!")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Three residents of the site wait for an interview.
    let reg = srv.login(Role::Registrar).await;
    let mut cases = Vec::new();
    for name in ["Waiting One", "Waiting Two", "Waiting Three"] {
        let person = register(&reg, &[("names[0].text", name), ("site_id", &site)]).await;
        let pid = lantern_domain::person::PersonId::parse("id", &person).unwrap();
        let ctx = ctx.clone();
        let case = srv
            .db(move |s| {
                use lantern_domain::case::CaseStep as S;
                let c = s.create_case(pid, false, &ctx)?;
                s.move_case(c.id, S::Registered, S::RegistrationVerified, None, &ctx)?;
                s.move_case(c.id, S::RegistrationVerified, S::InterviewRequested, None, &ctx)
            })
            .await
            .unwrap();
        cases.push(case.id.to_string());
    }
    let int = srv.login(Role::Interviewer).await;
    let interviewer = srv
        .db(|s| s.user_credentials("interviewer"))
        .await
        .unwrap()
        .unwrap()
        .user
        .id
        .to_string();
    // The day plan lists the waiting cases for bulk scheduling.
    let page = int
        .get(&format!("/interviews?site={site}&date=2026-03-03"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Waiting Two") && page.contains("action=\"/interviews/bulk\""),
        "{page}"
    );
    // Two one-hour slots in two rooms with one interviewer: two fit, one is left out.
    let mut form = vec![
        ("site", site.as_str()),
        ("date", "2026-03-03"),
        ("first", "09:00"),
        ("last_end", "11:00"),
        ("minutes", "60"),
        ("interviewer_id", interviewer.as_str()),
    ];
    for c in &cases {
        form.push(("case", c.as_str()));
    }
    let r = int.post_form("/interviews/bulk", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("2 interviews booked."), "{page}");
    assert!(page.contains(&cases[2]) && page.contains("Already booked at an overlapping time."));
    // A registrar may not schedule interviews: refused and audited.
    let denials = srv.audit_count("access.denied").await;
    let r = reg.post_form("/interviews/bulk", &form).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(srv.audit_count("access.denied").await, denials + 1);
    // The third case is booked by hand, and a clash is named.
    let room_b = srv.db(|s| s.rooms()).await.unwrap()[1].id.to_string();
    // The interviewer works mornings only (2026-03-03 is a Tuesday).
    let r = admin
        .post_form(
            "/admin/availability",
            &[
                ("person", &format!("interviewer:{interviewer}")),
                ("availability", "tue 08:00-12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = admin
        .post_form(
            "/admin/availability",
            &[
                ("person", &format!("interviewer:{interviewer}")),
                ("availability", "tuesday 8-12"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post_form(
            "/admin/interviewer-languages",
            &[("interviewer_id", &interviewer), ("languages", "fa, ckb")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rooms_page = admin.get("/admin/rooms").await.text().await.unwrap();
    assert!(rooms_page.contains("tue 08:00-12:00"), "{rooms_page}");
    let plan_page = int
        .get(&format!("/interviews?site={site}&date=2026-03-03"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        plan_page.contains("(fa, ckb)"),
        "the interviewer's languages show when booking"
    );
    let (room_b, interviewer) = (room_b.as_str(), interviewer.as_str());
    let book = move |time: &'static str| {
        vec![
            ("date", "2026-03-03"),
            ("time", time),
            ("minutes", "60"),
            ("room_id", room_b),
            ("interviewer_id", interviewer),
        ]
    };
    let path = format!("/cases/{}/interviews", cases[2]);
    let r = int.post_form(&path, &book("09:30")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Already booked"));
    let r = int.post_form(&path, &book("13:00")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Outside this person"));
    assert_eq!(
        int.post_form(&path, &book("11:00")).await.status(),
        StatusCode::SEE_OTHER
    );
    // The first interview is held with someone else present: an obstacle.
    let plan = srv
        .db(move |s| {
            s.interviews(&lantern_store::InterviewQuery {
                site: None,
                from: time::macros::datetime!(2026-03-03 00:00 UTC),
                until: time::macros::datetime!(2026-03-04 00:00 UTC),
            })
        })
        .await
        .unwrap();
    assert_eq!(plan.len(), 3);
    let first = &plan[0];
    let r = int
        .post_form(
            &format!("/interviews/{}/outcome", first.id),
            &[
                ("case_id", &first.case.to_string()),
                ("outcome", "held"),
                ("others_present", "a site official"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case_page = int.get(&format!("/cases/{}", first.case)).await.text().await.unwrap();
    assert!(case_page.contains("Another person present at the interview") && case_page.contains("a site official"));
    // The second is missed, through the API: the case waits again.
    let token = srv.api_token(Role::Interviewer).await;
    let api = reqwest::Client::new();
    let r: Value = api
        .post(srv.url(&format!("/api/v1/interviews/{}/outcome", plan[1].id)))
        .bearer_auth(&token)
        .json(&json!({"outcome": "no_show"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "no_show");
    let case: Value = api
        .get(srv.url(&format!("/api/v1/cases/{}", plan[1].case)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case["step"], "interview_requested");
    assert_eq!(case["obstacles"][0]["obstacle"], "did_not_attend");
    let day: Value = api
        .get(srv.url(&format!("/api/v1/interviews?site={site}&date=2026-03-03")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = day
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["held", "no_show", "scheduled"]);
    assert_eq!(srv.audit("interview.book").await.len(), 3);
    assert_eq!(srv.audit("interview.close").await.len(), 2);
}

#[tokio::test]
async fn case_notes_are_sealed_audited_and_kept_from_the_household() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let r = reg.post_form("/households", &[("label", "Family Q")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let household = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/households/")
        .to_string();
    let head = register(
        &reg,
        &[("names[0].text", "Household Head"), ("household_id", &household)],
    )
    .await;
    let spouse = register(
        &reg,
        &[("names[0].text", "Household Spouse"), ("household_id", &household)],
    )
    .await;
    let int = srv.login(Role::Interviewer).await;
    let r = int
        .post_form("/cases", &[("person_id", &head), ("whole_household", "on")])
        .await;
    let case_path = r.headers()["location"].to_str().unwrap().to_string();
    let r = int
        .post_form(
            &format!("{case_path}/notes"),
            &[
                ("note_kind", "note"),
                ("about", &spouse),
                ("confidential", "on"),
                ("text", "What the spouse asked to keep private."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = int
        .post_form(
            &format!("{case_path}/notes"),
            &[("note_kind", "decision"), ("text", "Recognised: reasons.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = int
        .post_form(
            &format!("{case_path}/notes"),
            &[("note_kind", "decision"), ("text", " ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The case page lists notes without their words; the registrar sees no notes at all.
    let page = int.get(&case_path).await.text().await.unwrap();
    assert!(page.contains("Kept from the rest of the household") && !page.contains("keep private"));
    let page = reg.get(&case_path).await.text().await.unwrap();
    assert!(!page.contains("Notes and decisions"));
    assert_eq!(srv.audit("case.notes_read").await.len(), 0);
    // Opening them is audited; the household's copy leaves the private one out.
    let all = int.get(&format!("{case_path}/notes")).await.text().await.unwrap();
    assert!(all.contains("keep private") && all.contains("Recognised: reasons."));
    let copy = int
        .get(&format!("{case_path}/household-copy"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!copy.contains("keep private") && copy.contains("Recognised: reasons."));
    assert_eq!(srv.audit("case.notes_read").await.len(), 2);
    // The API: the same, and a note about someone outside the household is refused.
    let token = srv.api_token(Role::Interviewer).await;
    let api = reqwest::Client::new();
    let id = case_path.trim_start_matches("/cases/");
    let notes: Value = api
        .get(srv.url(&format!("/api/v1/cases/{id}/notes?household_copy=true")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(notes.as_array().unwrap().len(), 1);
    assert_eq!(notes[0]["note_kind"], "decision");
    let r = api
        .post(srv.url(&format!("/api/v1/cases/{id}/notes")))
        .bearer_auth(&token)
        .json(&json!({"note_kind": "note", "about": uuid_zero(), "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["fields"][0]["field"], "about");
}

#[tokio::test]
async fn a_family_traces_a_relative_and_sees_only_what_they_consented_to() {
    let srv = TestServer::start().await;
    let admin = srv.login(Role::Administrator).await;
    admin.post_form("/admin/sites", &[("name", "East Site")]).await;
    let site = srv.db(|s| s.sites()).await.unwrap()[0].id.to_string();
    // The resident is registered under Persian script.
    let reg = srv.login(Role::Registrar).await;
    let person = register(
        &reg,
        &[
            ("names[0].text", "مسعود کریمی"),
            ("birth_date", "1975"),
            ("site_id", &site),
        ],
    )
    .await;
    // A family files at the gate with a Latin spelling and a year.
    let liaison = srv.login(Role::FamilyLiaison).await;
    let r = liaison
        .post_form(
            "/tracing",
            &[
                ("kind", "visit"),
                ("channel", "gate"),
                ("names", "Massoud Karimi"),
                ("birth_date", "1975"),
                ("requester_name", "Requesting Sister"),
                ("relationship", "sister"),
                ("contact", "+00 555 0199"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    let reference = page
        .split("<strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let secret = page
        .split("id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(
        reference.starts_with("TR-") && secret.len() == 16,
        "{reference} {secret}"
    );
    let requests = srv.db(|s| s.tracing_requests(&Default::default())).await.unwrap();
    let id = requests.items[0].id.to_string();
    // Malformed input is refused field by field.
    let r = liaison
        .post_form(
            "/tracing",
            &[("kind", "visit"), ("channel", "gate"), ("birth_date", "19x5")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The family sees that the request is in progress, nothing more.
    let mut family = lantern_testkit::Session::anonymous(&srv);
    family.refresh_csrf("/status").await;
    assert!(family_status(&family, &reference, &secret)
        .await
        .contains("We are looking into your request."));
    let r = family
        .post_form("/status", &[("reference", &reference), ("secret", "guess")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A family liaison does not run the search or confirm matches.
    assert_eq!(
        liaison.post_form(&format!("/tracing/{id}/search"), &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    // The caseworker searches across scripts and confirms the candidate.
    let cw = srv.login(Role::Caseworker).await;
    assert_eq!(
        cw.post_form(&format!("/tracing/{id}/search"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = cw.get(&format!("/tracing/{id}")).await.text().await.unwrap();
    assert!(
        page.contains("مسعود کریمی") && page.contains("Candidates found"),
        "{page}"
    );
    let r = cw
        .post_form(
            &format!("/tracing/{id}/decide"),
            &[("person_id", &person), ("decision", "confirm")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Still nothing for the family: a confirmed match is not consent.
    assert!(family_status(&family, &reference, &secret)
        .await
        .contains("We could not pass on information."));
    let r = cw
        .post_form(
            &format!("/tracing/{id}/state"),
            &[("expected", "match_confirmed"), ("state", "consent_requested")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The resident agrees to a visit, not to their location being shared.
    let r = upload_evidence(
        &srv,
        &cw,
        &format!("/tracing/{id}/consent"),
        &[
            ("scope", "alive_and_registered"),
            ("scope", "visit"),
            ("method", "verbal_witnessed"),
            ("witness", "site officer"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let seen = family_status(&family, &reference, &secret).await;
    assert!(seen.contains("The person is alive and registered here."), "{seen}");
    assert!(!seen.contains("East Site"), "the location was not consented to");
    // A message from the family waits: it cannot be delivered, nor a reply
    // carried back, without consent to messages.
    let liaison = srv.login(Role::FamilyLiaison).await;
    let r = liaison
        .post_form(
            &format!("/tracing/{id}/messages"),
            &[("direction", "to_resident"), ("text", "We are all well. Your sister")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let request = lantern_domain::tracing::RequestId::parse("id", &id).unwrap();
    let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
    let news = srv
        .db(move |s| s.read_messages(request, &ctx).unwrap())
        .await
        .remove(0)
        .id;
    let r = liaison
        .post_form(&format!("/tracing/{id}/messages/{news}/deliver"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("has not agreed to this"));
    let r = cw
        .post_form(
            &format!("/tracing/{id}/messages"),
            &[("direction", "to_family"), ("text", "Reply")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Consent widened to messages: delivered, and the reply reaches the
    // family's status page.
    let r = upload_evidence(
        &srv,
        &cw,
        &format!("/tracing/{id}/consent"),
        &[
            ("scope", "alive_and_registered"),
            ("scope", "visit"),
            ("scope", "message"),
            ("method", "verbal_witnessed"),
            ("witness", "site officer"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = liaison
        .post_form(&format!("/tracing/{id}/messages/{news}/deliver"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = cw
        .post_form(
            &format!("/tracing/{id}/messages"),
            &[
                ("direction", "to_family"),
                ("text", "Tell everyone I am well, Zanjirak"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let seen = family_status(&family, &reference, &secret).await;
    assert!(seen.contains("Tell everyone I am well, Zanjirak"), "{seen}");
    let page = cw.get(&format!("/tracing/{id}/messages")).await.text().await.unwrap();
    assert!(page.contains("We are all well. Your sister") && page.contains("Delivered"));
    // Consent withdrawn on a signed form: without the form, refused; with
    // it, the form goes to the vault and the consent points to it. The
    // family is back to "could not pass on".
    let r = upload_evidence(
        &srv,
        &cw,
        &format!("/tracing/{id}/consent"),
        &[("method", "signed_form")],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"form-error\""));
    let r = upload_evidence(
        &srv,
        &cw,
        &format!("/tracing/{id}/consent"),
        &[("method", "signed_form")],
        Some(b"%PDF synthetic signed withdrawal".to_vec()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let request = lantern_domain::tracing::RequestId::parse("id", &id).unwrap();
    let form = srv
        .db(move |s| s.tracing_request(request).unwrap().unwrap().consent.unwrap().form)
        .await
        .expect("the consent names its signed form");
    let page = cw.get(&format!("/tracing/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("href=\"/evidence/{form}\"")));
    let scan = cw.get(&format!("/evidence/{form}/download")).await;
    assert_eq!(
        scan.bytes().await.unwrap().as_ref(),
        b"%PDF synthetic signed withdrawal"
    );
    let seen = family_status(&family, &reference, &secret).await;
    assert!(
        seen.contains("We could not pass on information.") && !seen.contains("alive") && !seen.contains("Zanjirak"),
        "{seen}"
    );
    // The requester's details are protected: shown on demand, audited.
    let page = cw.get(&format!("/tracing/{id}")).await.text().await.unwrap();
    assert!(!page.contains("555 0199"));
    let page = cw.get(&format!("/tracing/{id}/requester")).await.text().await.unwrap();
    assert!(page.contains("555 0199"));
    assert_eq!(srv.audit("request.read_requester").await.len(), 1);
    assert_eq!(srv.audit("request.consent").await.len(), 3);
    // The API: filing by phone returns the secret once; the request shows
    // the steps the caller may take.
    let token = srv.api_token(Role::FamilyLiaison).await;
    let api = reqwest::Client::new();
    let r = api
        .post(srv.url("/api/v1/tracing"))
        .bearer_auth(&token)
        .json(&json!({"kind": "find", "channel": "phone", "names": ["زهرا"], "requester_name": "A Cousin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let filed: Value = r.json().await.unwrap();
    assert_eq!(filed["secret"].as_str().unwrap().len(), 16);
    // The engine ran at once: nobody of that name is registered.
    assert_eq!(filed["request"]["state"], "no_candidate");
    assert_eq!(filed["request"]["next"], json!(["closed_withdrawn"]));
    let r = api
        .post(srv.url("/api/v1/tracing"))
        .bearer_auth(&token)
        .json(&json!({"kind": "find", "channel": "phone", "names": [], "requester_name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn family_status(family: &lantern_testkit::Session, reference: &str, secret: &str) -> String {
    family
        .post_form("/status", &[("reference", reference), ("secret", secret)])
        .await
        .text()
        .await
        .unwrap()
}

/// Uploads a file through the evidence page; returns the response.
async fn upload_evidence(
    srv: &TestServer,
    s: &lantern_testkit::Session,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<Vec<u8>>,
) -> reqwest::Response {
    // The token first, as the page's form sends it.
    let mut form = reqwest::multipart::Form::new().text("csrf_token", s.csrf.clone());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(bytes) = file {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("زندان report.pdf")
            .mime_str("application/pdf")
            .unwrap();
        form = form.part("file", part);
    }
    s.client.post(srv.url(path)).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn evidence_is_streamed_encrypted_deduplicated_and_every_access_is_in_the_custody_chain() {
    let config = WebConfig {
        max_evidence: 3 * 1024 * 1024,
        ..WebConfig::default()
    };
    let srv = TestServer::start_with(config, true).await;
    let doc = srv.login(Role::Documenter).await;
    // Larger than one multipart part and one sealing batch; a marker that
    // must never be stored in the clear.
    let mut content = Vec::new();
    while content.len() < 2 * 1024 * 1024 + 12345 {
        content.extend_from_slice(b"synthetic-evidence-marker-0123456789 ");
    }
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&content))
    };
    // Refusals keep nothing: a missing title, a file over the limit.
    let objects_before = srv.vault.list().await.unwrap().len();
    let r = upload_evidence(&srv, &doc, "/evidence", &[("title", " ")], Some(content.clone())).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"title-error\""));
    let big = vec![7u8; 3 * 1024 * 1024 + 1];
    let r = upload_evidence(&srv, &doc, "/evidence", &[("title", "Too big")], Some(big)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("The file is larger than the limit of 3 MB."));
    assert_eq!(
        srv.vault.list().await.unwrap().len(),
        objects_before,
        "a refused upload left an object"
    );
    assert_eq!(srv.db(|s| s.vault_objects().unwrap().len()).await, 0);
    // Without the token: refused before anything is stored.
    let form = reqwest::multipart::Form::new()
        .text("title", "No token")
        .part("file", reqwest::multipart::Part::bytes(b"x".to_vec()));
    let r = doc
        .client
        .post(srv.url("/evidence"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A real upload.
    let r = upload_evidence(
        &srv,
        &doc,
        "/evidence",
        &[
            ("title", "Report on the north block"),
            ("description", "Pages 1 to 12, synthetic"),
            ("received_from", "A former resident"),
            ("received_how", "In person, on paper, scanned"),
        ],
        Some(content.clone()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/evidence/").to_string();
    let page = doc.get(&location).await.text().await.unwrap();
    assert!(page.contains(&sha), "the page shows the content's hash");
    assert!(page.contains("Pages 1 to 12, synthetic"));
    assert!(page.contains("A former resident"));
    // Stored encrypted: the marker is nowhere in the objects.
    if lantern_testkit::test_s3().is_none() {
        let objects = srv.vault.list().await.unwrap();
        assert_eq!(objects.len(), objects_before + 1);
    }
    let stored = srv.db(|s| s.vault_objects().unwrap()).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].sha256, sha);
    let mut raw = Vec::new();
    let mut sealed = srv.vault.get_sealed(&stored[0].name).await.unwrap();
    while let Some(piece) = futures_util::StreamExt::next(&mut sealed).await {
        raw.extend_from_slice(&piece.unwrap());
    }
    assert!(raw.len() > content.len());
    assert!(
        !raw.windows(26).any(|w| w == b"synthetic-evidence-marker-"),
        "plaintext stored"
    );
    // The same file again: a second record flagged as a duplicate, one object.
    let r = upload_evidence(
        &srv,
        &doc,
        "/evidence",
        &[("title", "Same report, again")],
        Some(content.clone()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(srv.db(|s| s.vault_objects().unwrap().len()).await, 1);
    if lantern_testkit::test_s3().is_none() {
        assert_eq!(
            srv.vault.list().await.unwrap().len(),
            objects_before + 1,
            "the second copy was not deleted"
        );
    }
    let list = doc.get("/evidence").await.text().await.unwrap();
    assert_eq!(list.matches("Same file recorded as").count(), 2);
    // Download: the original bytes, as an attachment, recorded first.
    let r = doc.get(&format!("/evidence/{id}/download")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-evidence-sha256"], sha.as_str());
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''%D8%B2"), "{disposition}");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), content);
    // A working copy and a hand-over, through the API.
    let token = srv.api_token(Role::Documenter).await;
    let form = reqwest::multipart::Form::new()
        .text("title", "Report, names blacked out")
        .text("derivation", "redacted")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"redacted synthetic copy".to_vec())
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/api/v1/evidence/{id}/copies")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let copy: Value = r.json().await.unwrap();
    assert_eq!(copy["derived_from"], id.as_str());
    assert_eq!(copy["derivation"], "redacted");
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/api/v1/evidence/{id}/transfers")))
        .bearer_auth(&token)
        .json(&json!({"to": "", "method": "courier"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/api/v1/evidence/{id}/transfers")))
        .bearer_auth(&token)
        .json(&json!({"to": "Legal adviser", "method": "sealed envelope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/api/v1/evidence/{id}/content")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), content);
    let detail: Value = reqwest::Client::new()
        .get(srv.url(&format!("/api/v1/evidence/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = detail["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["received", "accessed", "derived", "transferred", "accessed"]);
    assert!(detail["custody"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["sha256"] == sha.as_str()));
    assert_eq!(detail["evidence"]["copies"].as_array().unwrap().len(), 1);
    assert_eq!(srv.audit_count("evidence.open").await, 2);
    assert_eq!(srv.audit_count("evidence.add").await, 3);
    // An auditor sees the chain of custody, never the file or its description.
    let auditor = srv.login(Role::Auditor).await;
    let page = auditor.get(&location).await.text().await.unwrap();
    assert!(page.contains("Handed over"));
    assert!(!page.contains("Pages 1 to 12"));
    assert_eq!(
        auditor.get(&format!("/evidence/{id}/download")).await.status(),
        StatusCode::FORBIDDEN
    );
    // The log holds it all, and the objects match their records.
    assert_eq!(srv.db(|s| s.check_records().unwrap()).await, Vec::new());
    for o in srv.db(|s| s.vault_objects().unwrap()).await {
        let h = lantern_vault::objects::hash_from_hex(&o.sha256).unwrap();
        assert_eq!(srv.vault.check(&o.name, &o.wrapped_key, h).await.unwrap(), o.size);
    }
}

#[tokio::test]
async fn an_unreachable_object_store_fails_the_upload_cleanly() {
    // A port nothing listens on: the storage is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = lantern_vault::objects::Location::S3(lantern_vault::objects::S3Config {
        bucket: "evidence".into(),
        prefix: String::new(),
        endpoint: format!("http://127.0.0.1:{port}"),
        region: "garage".into(),
        access_key_id: "GK-test".into(),
        secret_access_key: "not-a-secret".into(),
    });
    let srv = TestServer::start_custom(WebConfig::default(), true, Some(gone)).await;
    let doc = srv.login(Role::Documenter).await;
    let r = upload_evidence(
        &srv,
        &doc,
        "/evidence",
        &[("title", "Lost in transit")],
        Some(vec![1u8; 100_000]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("nothing was saved"));
    let token = srv.api_token(Role::Documenter).await;
    let form = reqwest::multipart::Form::new()
        .text("title", "Lost in transit")
        .part("file", reqwest::multipart::Part::bytes(vec![2u8; 1000]));
    let r = reqwest::Client::new()
        .post(srv.url("/api/v1/evidence"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "storage_unavailable");
    // No record, no catalogue row, nothing logged as added.
    assert_eq!(srv.db(|s| s.vault_objects().unwrap().len()).await, 0);
    assert_eq!(
        srv.db(|s| s.evidence_list(lantern_store::PageRequest::new(1, 10)).unwrap().total)
            .await,
        0
    );
    assert_eq!(srv.audit_count("evidence.add").await, 0);
}

#[tokio::test]
async fn keys_rotate_and_retire_while_the_server_runs() {
    let srv = TestServer::start().await;
    let token = srv.api_token(Role::Registrar).await;
    let api = reqwest::Client::new();
    let register = |contact: &'static str| {
        api.post(srv.url("/api/v1/people?confirm_new=true"))
            .bearer_auth(&token)
            .json(&json!({"names": [{"text": "Rotation Person", "kind": "primary"}], "contact": contact}))
            .send()
    };
    let created: Value = register("before the rotation").await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    // A second process (`lantern keys rotate`): its own keyring from the
    // file and its own connection to the database.
    let settings = srv.settings();
    let rotate = {
        let settings = settings.clone();
        move |retire: Option<u32>| {
            let (keys, _) = lantern_app::load_or_create_keys(&settings.data_dir).unwrap();
            let keys = std::sync::Arc::new(keys);
            let store = lantern_app::open_store(&settings, keys.clone()).unwrap();
            match retire {
                None => lantern_app::keys::rotate(&settings.data_dir, &settings.ledger_origin, &keys, store.as_ref()),
                Some(g) => lantern_app::keys::retire(&settings.data_dir, &keys, store.as_ref(), g),
            }
        }
    };
    let report = tokio::task::spawn_blocking({
        let rotate = rotate.clone();
        move || rotate(None)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        report.contains("Generation 2 added") && report.contains("Back up"),
        "{report}"
    );
    // The running server reads what was re-sealed under the generation it
    // did not know, without a restart.
    let protected: Value = api
        .get(srv.url(&format!("/api/v1/people/{id}/protected")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(protected["contact"], "before the rotation", "{protected}");
    let usage = srv.db(|s| s.key_usage().unwrap()).await;
    assert!(usage.iter().all(|u| u.generation == 2), "{usage:?}");
    // Generation 1 goes once nothing needs it; the current one never.
    let report = tokio::task::spawn_blocking({
        let rotate = rotate.clone();
        move || rotate(Some(1))
    })
    .await
    .unwrap()
    .unwrap();
    assert!(report.contains("Generation 1 removed"), "{report}");
    let refused = tokio::task::spawn_blocking(move || rotate(Some(2))).await.unwrap();
    assert!(format!("{:#}", refused.unwrap_err()).contains("generation 2 still seals values"));
    // New registrations still seal and open.
    let created: Value = register("after the rotation").await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let protected: Value = api
        .get(srv.url(&format!("/api/v1/people/{id}/protected")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(protected["contact"], "after the rotation");
}

#[tokio::test]
async fn families_file_through_the_public_form_within_a_rate_limit() {
    let config = WebConfig {
        public_filings_per_address: 3,
        status_lookups_per_address: 4,
        ..WebConfig::default()
    };
    let srv = TestServer::start_with(config, true).await;
    let mut family = lantern_testkit::Session::anonymous(&srv);
    family.refresh_csrf("/request").await;
    assert!(!family.csrf.is_empty(), "the public form carries a CSRF token");
    let page = family.get("/request").await.text().await.unwrap();
    assert!(page.contains("Ask us to find a relative") && !page.contains("name=\"channel\""));
    // Incomplete is fine (a single name); malformed is refused field by field.
    let r = family
        .post_form(
            "/request",
            &[
                ("kind", "find"),
                ("names", "Masoud Hosseini"),
                ("birth_date", "around 1970"),
                ("contact", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"birth_date-error\""), "{body}");
    assert!(body.contains("Masoud Hosseini"), "what was typed is kept");
    let mut secrets = Vec::new();
    for name in ["Masoud Hosseini", "مسعود حسینی", "Massoud Husseini"] {
        let r = family
            .post_form(
                "/request",
                &[
                    ("kind", "visit"),
                    ("names", name),
                    ("requester_name", "A sister"),
                    ("contact", "+00 000 0000"),
                    ("channel", "gate"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        let reference = body
            .split("<strong>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        let secret = body
            .split("id=\"secret\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        assert!(reference.starts_with("TR-"), "{reference}");
        assert!(!body.contains("/tracing/"), "the public page links to no staff page");
        secrets.push((reference, secret));
    }
    // The fourth filing from the same address within the hour is refused.
    let r = family
        .post_form("/request", &[("kind", "find"), ("names", "One More"), ("contact", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let filed = srv
        .db(|s| {
            s.tracing_requests(&lantern_store::RequestQuery {
                state: None,
                page: lantern_store::PageRequest::new(1, 50),
            })
            .unwrap()
        })
        .await;
    assert_eq!(filed.total, 3);
    for r in &filed.items {
        let id = r.id;
        let full = srv.db(move |s| s.tracing_request(id).unwrap().unwrap()).await;
        assert_eq!(
            full.channel,
            lantern_domain::tracing::Channel::PublicForm,
            "the channel is the form's"
        );
    }
    // Oversized bodies are refused.
    let big = "x".repeat(2 * 1024 * 1024);
    let r = family.post_form("/request", &[("kind", "find"), ("names", &big)]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The family follows the request; guessing secrets is rate-limited too.
    let (reference, secret) = &secrets[0];
    let r = family
        .post_form("/status", &[("reference", reference), ("secret", secret)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("We are looking into your request."));
    for _ in 0..3 {
        let r = family
            .post_form("/status", &[("reference", reference), ("secret", "wrong")])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = family
        .post_form("/status", &[("reference", reference), ("secret", secret)])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(srv.audit("request.file").await.len(), 3);
    assert!(srv
        .audit("request.file")
        .await
        .iter()
        .all(|e| e.actor_name == "public form"));
}

#[tokio::test]
async fn a_family_visit_is_booked_held_and_shown_without_the_residents_site() {
    let srv = TestServer::start().await;
    let admin = srv.login(Role::Administrator).await;
    let r = admin.post_form("/admin/sites", &[("name", "North Site")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let site = srv.db(|s| s.sites().unwrap()).await.remove(0).id.to_string();
    // 2026-03-05 is a Thursday; the room is open on Thursday mornings.
    let r = admin
        .post_form(
            "/admin/visit-rooms",
            &[
                ("visit_site_id", &site),
                ("visit_room_name", "Gate family room"),
                ("capacity", "0"),
                ("hours", "thu 09:00-12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post_form(
            "/admin/visit-rooms",
            &[
                ("visit_site_id", &site),
                ("visit_room_name", "Gate family room"),
                ("capacity", "3"),
                ("hours", "thu 09:00-12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(admin
        .get("/admin/rooms")
        .await
        .text()
        .await
        .unwrap()
        .contains("Gate family room"));
    let room = srv.db(|s| s.visit_rooms().unwrap()).await.remove(0).id.to_string();
    // A matched request whose person agreed to a visit, not to their location.
    let reg = srv.login(Role::Registrar).await;
    let person = register(&reg, &[("names[0].text", "مسعود کریمی"), ("site_id", &site)]).await;
    let person = lantern_domain::person::PersonId::parse("id", &person).unwrap();
    let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
    let (request, reference) = srv
        .db(move |s| {
            use lantern_domain::tracing::{Consent, ConsentMethod, RequestState as R, Scope};
            let r = s
                .file_request(
                    &lantern_store::NewTracingRequest {
                        kind: lantern_domain::tracing::RequestKind::Visit,
                        channel: lantern_domain::tracing::Channel::Gate,
                        requester: Default::default(),
                        sought: lantern_store::SoughtPerson {
                            names: vec!["Masoud Karimi".into()],
                            ..Default::default()
                        },
                    },
                    &lantern_web::security::token_hash("family-secret"),
                    &ctx,
                )
                .unwrap();
            s.move_request(r.id, R::Filed, R::Searching, None, &ctx).unwrap();
            s.propose_candidates(r.id, &[(person, 0.9)], &ctx).unwrap();
            s.decide_candidate(r.id, person, true, &ctx).unwrap();
            s.move_request(r.id, R::MatchConfirmed, R::ConsentRequested, None, &ctx)
                .unwrap();
            let consent = lantern_store::ConsentInput {
                consent: Consent {
                    scope: [Scope::AliveAndRegistered, Scope::Visit].into_iter().collect(),
                    not_to_be_traced: false,
                },
                method: ConsentMethod::VerbalWitnessed,
                witness: Some("officer".into()),
                form: None,
            };
            s.record_consent(r.id, &consent, &ctx).unwrap();
            (r.id, r.reference)
        })
        .await;
    let cw = srv.login(Role::Caseworker).await;
    let book = |time: &'static str, visitors: &'static str| {
        let (cw, room) = (&cw, room.clone());
        async move {
            cw.post_form(
                &format!("/tracing/{request}/visits"),
                &[
                    ("room_id", &room),
                    ("date", "2026-03-05"),
                    ("time", time),
                    ("minutes", "60"),
                    ("visitors", visitors),
                ],
            )
            .await
        }
    };
    // Outside the room's hours, or more visitors than it holds: refused.
    let r = book("14:00", "Sister").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"starts_at-error\""));
    let r = book("09:00", "A\nB\nC\nD").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(book("09:00", "Sister\nNephew").await.status(), StatusCode::SEE_OTHER);
    // The same hour again: the room (and the person) are taken.
    let r = book("09:30", "Sister").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Already booked"));
    // The family sees the visit's time and room, never the site where the person lives.
    let mut family = lantern_testkit::Session::anonymous(&srv);
    family.refresh_csrf("/status").await;
    let seen = family
        .post_form("/status", &[("reference", &reference), ("secret", "family-secret")])
        .await
        .text()
        .await
        .unwrap();
    assert!(seen.contains("2026-03-05 09:00 UTC, Gate family room"), "{seen}");
    assert!(!seen.contains("North Site"), "{seen}");
    // Held: the request moves on; the visit shows as held to staff.
    let visit = {
        let ctx = lantern_store::AuditContext::system("t", srv.clock.now());
        srv.db(move |s| s.read_visits(request, &ctx).unwrap()).await.remove(0)
    };
    assert_eq!(visit.visitors, ["Sister", "Nephew"]);
    let r = cw
        .post_form(
            &format!("/visits/{}/outcome", visit.id),
            &[("request_id", &request.to_string()), ("status", "refused")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refusal says who and why"
    );
    let r = cw
        .post_form(
            &format!("/visits/{}/outcome", visit.id),
            &[("request_id", &request.to_string()), ("status", "held")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = cw
        .get(&format!("/tracing/{request}/visits"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Held") && page.contains("Sister, Nephew"), "{page}");
    assert_eq!(
        srv.db(move |s| s.tracing_request(request).unwrap().unwrap().state)
            .await,
        lantern_domain::tracing::RequestState::VisitHeld
    );
    assert!(srv.audit("request.read_visits").await.len() >= 2);
    // The requests page and the API show the figures.
    let list = cw.get("/tracing").await.text().await.unwrap();
    assert!(list.contains("Days from filing to first contact: median"), "{list}");
    let token = srv.api_token(Role::Caseworker).await;
    let figures: Value = reqwest::Client::new()
        .get(srv.url("/api/v1/tracing-figures"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(figures["contacted"], 1);
    assert_eq!(figures["open_by_state"], json!([["visit_held", 1]]));
}

#[tokio::test]
async fn requests_are_matched_when_filed_and_again_when_the_person_is_registered() {
    let srv = TestServer::start().await;
    let liaison = srv.login(Role::FamilyLiaison).await;
    let r = liaison
        .post_form(
            "/tracing",
            &[
                ("kind", "find"),
                ("channel", "gate"),
                ("names", "Behzad Kianpour"),
                ("birth_date", "1980"),
                ("father_name", "Karim"),
                ("requester_name", "A brother"),
                ("relationship", "brother"),
                ("contact", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = srv.db(|s| s.tracing_requests(&Default::default()).unwrap()).await.items[0].id;
    let state = |srv: &TestServer| {
        let srv_store = srv.store.clone();
        async move {
            tokio::task::spawn_blocking(move || srv_store.tracing_request(id).unwrap().unwrap())
                .await
                .unwrap()
        }
    };
    let r = state(&srv).await;
    assert_eq!(
        r.state,
        lantern_domain::tracing::RequestState::NoCandidate,
        "searched when filed"
    );
    // Registered later, under Persian script: proposed at once, by the engine.
    let reg = srv.login(Role::Registrar).await;
    let person = register(
        &reg,
        &[
            ("names[0].text", "بهزاد کیان‌پور"),
            ("birth_date", "1981"),
            ("father_name", "کریم"),
        ],
    )
    .await;
    let r = state(&srv).await;
    assert_eq!(r.state, lantern_domain::tracing::RequestState::CandidatesFound);
    assert_eq!(r.candidates.len(), 1);
    assert_eq!(r.candidates[0].person.to_string(), person);
    let proposed_by: Vec<String> = srv
        .audit("request.candidates")
        .await
        .into_iter()
        .map(|e| e.actor_name)
        .collect();
    assert!(proposed_by.iter().all(|a| a == "matching engine"), "{proposed_by:?}");
    // The requests list shows the new candidate; the request page says
    // how each word met.
    let cw = srv.login(Role::Caseworker).await;
    let list = cw.get("/tracing").await.text().await.unwrap();
    assert!(list.contains("<strong>1</strong>"), "{list}");
    let page = cw.get(&format!("/tracing/{id}")).await.text().await.unwrap();
    assert!(
        page.contains("behzad</span> → <span dir=\"auto\">بهزاد</span>: same consonants (another spelling or script)"),
        "{page}"
    );
    // … and what each other field weighed, the family's year being one off.
    assert!(page.contains("birth date: 1 year apart, <span dir=\"ltr\">+"), "{page}");
    assert!(
        page.contains("father&#x27;s name: the same, <span dir=\"ltr\">+"),
        "{page}"
    );
    assert!(
        !page.contains("nationality:"),
        "a field the request does not give weighs nothing"
    );
    // Rejected, the pair is not proposed again when the person is edited
    // in what does not bear on the match (a room), only when what it was
    // judged on changes (a birth place given).
    let r = cw
        .post_form(
            &format!("/tracing/{id}/decide"),
            &[("person_id", &person), ("decision", "reject")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let token = srv.api_token(Role::Registrar).await;
    let version = srv
        .db({
            let id = lantern_domain::person::PersonId::parse("id", &person).unwrap();
            move |s| s.person(id).unwrap().unwrap().version
        })
        .await;
    let edit = |version: i64, extra: Value| {
        let mut body = json!({
            "version": version,
            "names": [{"text": "بهزاد کیان‌پور", "kind": "primary"}],
            "birth_date": "1981",
            "father_name": "کریم",
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (url, token) = (srv.url(&format!("/api/v1/people/{person}")), token.clone());
        async move {
            let r = reqwest::Client::new()
                .put(url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
            r.json::<Value>().await.unwrap()["version"].as_i64().unwrap()
        }
    };
    let version = edit(version, json!({"room": "12"})).await;
    let r = state(&srv).await;
    assert_eq!(r.candidates[0].decision, "rejected");
    // The engine ran again after the edit and found nobody new.
    assert_eq!(r.state, lantern_domain::tracing::RequestState::NoCandidate);
    edit(version, json!({"room": "12", "birth_place": "Somewhere"})).await;
    let r = state(&srv).await;
    assert_eq!(r.candidates[0].decision, "proposed", "new data, a new look");
    assert_eq!(r.state, lantern_domain::tracing::RequestState::CandidatesFound);

    // Marked not to be traced in the registry form: the proposal is
    // withdrawn, the record says so, and a new request does not find them.
    let form = reg.get(&format!("/people/{person}/edit")).await.text().await.unwrap();
    assert!(form.contains("name=\"not_to_be_traced\""), "{form}");
    let version = srv
        .db({
            let id = lantern_domain::person::PersonId::parse("id", &person).unwrap();
            move |s| s.person(id).unwrap().unwrap().version
        })
        .await
        .to_string();
    let r = reg
        .post_form(
            &format!("/people/{person}/edit"),
            &[
                ("version", version.as_str()),
                ("names[0].text", "بهزاد کیان‌پور"),
                ("room", "12"),
                ("birth_place", "Somewhere"),
                ("not_to_be_traced", "yes"),
                ("notes", "Protection concern reported at the site office."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = state(&srv).await;
    assert_eq!(r.candidates[0].decision, "withdrawn");
    // (back to the search, where the engine, run after the edit, found no one)
    assert_eq!(r.state, lantern_domain::tracing::RequestState::NoCandidate);
    let view = cw.get(&format!("/people/{person}")).await.text().await.unwrap();
    assert!(view.contains("id=\"not-traced\""), "{view}");
    let page = cw.get(&format!("/tracing/{id}")).await.text().await.unwrap();
    assert!(page.contains("Withdrawn: not to be traced"), "{page}");
    let r = liaison
        .post_form(
            "/tracing",
            &[
                ("kind", "find"),
                ("channel", "gate"),
                ("names", "Behzad Kianpour"),
                ("requester_name", "A cousin"),
                ("relationship", "cousin"),
                ("contact", "y"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let newest = srv.db(|s| s.tracing_requests(&Default::default()).unwrap()).await.items;
    let second = newest.iter().find(|x| x.id != id).unwrap().id;
    let r = srv.db(move |s| s.tracing_request(second).unwrap().unwrap()).await;
    assert!(r.candidates.is_empty(), "{:?}", r.candidates);
    assert_eq!(r.state, lantern_domain::tracing::RequestState::NoCandidate);
}

/// A small deterministic generator for the random action sequences below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test]
async fn whatever_happens_the_family_sees_nothing_the_person_did_not_allow() {
    use lantern_domain::tracing::{
        Channel, Consent, ConsentMethod, MessageDirection, RequestKind, RequestState as R, Scope, VisitStatus,
    };
    let config = WebConfig {
        status_lookups_per_address: 10_000,
        ..WebConfig::default()
    };
    let srv = TestServer::start_with(config, true).await;
    let ctx = move |srv: &TestServer| lantern_store::AuditContext::system("test", srv.clock.now());
    // Two sites (the person moves between them), an always-open visiting room.
    let (sites, room, person) = {
        let c = ctx(&srv);
        srv.db(move |s| {
            let a = s.create_site("Site-Zeta-A", &c).unwrap();
            let b = s.create_site("Site-Zeta-B", &c).unwrap();
            let room = s.create_visit_room(a.id, "Room-Omega", 4, &[], &c).unwrap();
            let mut input = lantern_domain::person::PersonInput {
                names: vec![lantern_domain::person::NameInput {
                    text: "Sought Person".into(),
                    ..Default::default()
                }],
                site_id: a.id.to_string(),
                ..Default::default()
            };
            let p = s.create_person(&input.parse(c.at.date()).unwrap(), &c).unwrap();
            input.site_id = b.id.to_string();
            (vec![a.id, b.id], room.id, p.id)
        })
        .await
    };
    let mut family = lantern_testkit::Session::anonymous(&srv);
    family.refresh_csrf("/status").await;
    let scopes = [
        Scope::AliveAndRegistered,
        Scope::Location,
        Scope::Contact,
        Scope::Message,
        Scope::Visit,
    ];
    // How often each kind of information was shown: the sequences must
    // reach the states where something may be shown, or the test proves little.
    let mut shown = [0usize; 4];
    let mut flagged_steps = 0usize;
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let c = ctx(&srv);
        let (request, reference) = srv
            .db(move |s| {
                let r = s
                    .file_request(
                        &lantern_store::NewTracingRequest {
                            kind: RequestKind::Visit,
                            channel: Channel::Phone,
                            requester: Default::default(),
                            sought: lantern_store::SoughtPerson {
                                names: vec!["Sought Person".into()],
                                ..Default::default()
                            },
                        },
                        &lantern_web::security::token_hash("family-secret"),
                        &c,
                    )
                    .unwrap();
                (r.id, r.reference)
            })
            .await;
        let mut step = 0;
        for _ in 0..60 {
            step += 1;
            let c = ctx(&srv);
            let action = rng.below(9);
            let pick: Vec<Scope> = scopes.iter().copied().filter(|_| rng.below(2) == 0).collect();
            let site = sites[rng.below(2) as usize];
            let hour = 8 + rng.below(8) as u8;
            let marker = format!("reply-marker-{seed}-{step}");
            srv.db(move |s| {
                let r = s.tracing_request(request).unwrap().unwrap();
                // Each action may be refused by the rules; that is part of the test.
                let _ = match action {
                    // Move the request along the search.
                    0 => match r.state {
                        R::Filed => s.move_request(request, R::Filed, R::Searching, None, &c).map(|_| ()),
                        R::Searching | R::NoCandidate => {
                            s.propose_candidates(request, &[(person, 0.9)], &c).map(|_| ())
                        }
                        R::CandidatesFound => s.decide_candidate(request, person, true, &c).map(|_| ()),
                        R::MatchConfirmed => s
                            .move_request(request, R::MatchConfirmed, R::ConsentRequested, None, &c)
                            .map(|_| ()),
                        _ => Ok(()),
                    },
                    // Consent given in part, or withdrawn.
                    1 | 2 => s
                        .record_consent(
                            request,
                            &lantern_store::ConsentInput {
                                consent: Consent {
                                    scope: pick.into_iter().collect(),
                                    not_to_be_traced: false,
                                },
                                method: ConsentMethod::VerbalWitnessed,
                                witness: Some("officer".into()),
                                form: None,
                            },
                            &c,
                        )
                        .map(|_| ()),
                    3 => s
                        .add_message(request, MessageDirection::ToResident, "family news", &c)
                        .and_then(|m| s.deliver_message(request, m.id, &c))
                        .map(|_| ()),
                    4 => s
                        .add_message(request, MessageDirection::ToFamily, &marker, &c)
                        .map(|_| ()),
                    5 => {
                        let start =
                            time::macros::datetime!(2026-03-09 00:00 UTC) + time::Duration::hours(i64::from(hour));
                        s.book_visit(
                            &lantern_store::NewVisit {
                                request,
                                room,
                                slot: lantern_domain::interview::Slot::new(start, time::Duration::minutes(30)),
                                visitors: vec!["Visitor".into()],
                            },
                            &c,
                        )
                        .and_then(|v| s.close_visit(v.id, VisitStatus::Held, None, None, &c))
                        .map(|_| ())
                    }
                    // The person moves to another site, or (rarely) is
                    // marked not to be traced, or no longer.
                    _ => {
                        let p = s.person(person).unwrap().unwrap();
                        let ctx2 = c.clone();
                        let protected = s.read_protected(person, &ctx2).unwrap();
                        let mut input = lantern_domain::person::PersonInput::from_draft(&p.core, &protected);
                        input.site_id = site.to_string();
                        if action == 8 && hour.is_multiple_of(2) {
                            input.not_to_be_traced = !input.not_to_be_traced;
                        }
                        s.update_person(person, p.version, &input.parse(c.at.date()).unwrap(), &c)
                            .map(|_| ())
                    }
                };
            })
            .await;
            // What the family sees now, against what the consent allows now.
            let seen = family
                .post_form("/status", &[("reference", &reference), ("secret", "family-secret")])
                .await
                .text()
                .await
                .unwrap();
            let r = srv.db(move |s| s.tracing_request(request).unwrap().unwrap()).await;
            // Read from the person's record itself, not from the request.
            let flagged = srv
                .db(move |s| s.person(person).unwrap().unwrap().core.not_to_be_traced)
                .await;
            if flagged {
                flagged_steps += 1;
            }
            let consent = r
                .consent
                .as_ref()
                .map(|c| c.consent.clone())
                .filter(|c| !c.not_to_be_traced && !flagged);
            let may = |scope: Scope| {
                consent.as_ref().is_some_and(|c| c.scope.contains(&scope))
                    && matches!(
                        r.state,
                        R::ConsentGiven | R::MessageDelivered | R::VisitScheduled | R::VisitHeld | R::ClosedReunited
                    )
            };
            let context = format!("seed {seed} step {step} state {:?} consent {consent:?}", r.state);
            for (i, (needle, scope)) in [
                ("alive and registered", Scope::AliveAndRegistered),
                ("Site-Zeta", Scope::Location),
                ("reply-marker", Scope::Message),
                ("Room-Omega", Scope::Visit),
            ]
            .into_iter()
            .enumerate()
            {
                if seen.contains(needle) {
                    assert!(may(scope), "{needle} shown: {context}");
                    shown[i] += 1;
                }
            }
            if !may(Scope::AliveAndRegistered)
                && !may(Scope::Location)
                && !may(Scope::Message)
                && !may(Scope::Visit)
                && !may(Scope::Contact)
            {
                assert!(
                    seen.contains("We are looking into your request.")
                        || seen.contains("We could not pass on information."),
                    "nothing allowed, yet: {context}"
                );
            }
        }
    }
    assert!(
        shown.iter().all(|n| *n > 0),
        "some information was never shown: {shown:?}"
    );
    assert!(flagged_steps > 0, "the person was never marked not to be traced");
}

#[tokio::test]
async fn a_testimony_form_refused_for_its_file_comes_back_with_what_was_typed() {
    let config = WebConfig {
        max_evidence: 64 * 1024,
        ..WebConfig::default()
    };
    let srv = TestServer::start_with(config, true).await;
    let doc = srv.login(Role::Documenter).await;
    let narrative = "روایتی بلند که نباید از دست برود، نوشته‌شده با حوصله.";
    let fields = [
        ("witness_kind", "sealed"),
        ("witness_name", "Witness name"),
        ("pseudonym", "Witness P"),
        ("given_on", "2026-03-01"),
        ("language", "fa"),
        ("narrative", narrative),
        ("event_title", "An event"),
        ("reliability", "not_assessed"),
    ];
    let r = upload_evidence(&srv, &doc, "/testimonies", &fields, Some(vec![7u8; 200 * 1024])).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains(narrative), "the narrative is kept");
    assert!(page.contains("id=\"file-error\""), "the file is named as the problem");
    // Nothing was written.
    assert_eq!(srv.db(|s| s.events().unwrap().len()).await, 0);
    assert_eq!(
        srv.db(|s| s.evidence_list(lantern_store::PageRequest::new(1, 5)).unwrap().total)
            .await,
        0
    );
    // With a file within the limit, the testimony, its event and the file are recorded.
    let r = upload_evidence(&srv, &doc, "/testimonies", &fields, Some(vec![7u8; 1024])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/testimonies/"), "{location}");
    let testimonies = srv
        .db(|s| s.testimonies(lantern_store::PageRequest::new(1, 5)).unwrap())
        .await;
    assert_eq!(testimonies.total, 1);
    assert_eq!(testimonies.items[0].evidence.len(), 1);
    assert_eq!(testimonies.items[0].events.len(), 1);
}

#[tokio::test]
async fn a_corrected_request_is_searched_again_and_a_refused_correction_keeps_what_was_typed() {
    let srv = TestServer::start().await;
    let reg = srv.login(Role::Registrar).await;
    let person = register(
        &reg,
        &[("names[0].text", "Kaveh Samadi-Testname"), ("birth_date", "1970")],
    )
    .await;
    let token = srv.api_token(Role::FamilyLiaison).await;
    let (status, filed) = srv
        .api(
            &token,
            reqwest::Method::POST,
            "/api/v1/tracing",
            Some(
                json!({"kind": "find", "channel": "phone", "names": ["Arash Tehrani-Othername"],
                        "requester_name": "A sister"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    let id = filed["request"]["id"].as_str().unwrap().to_string();
    assert_eq!(filed["request"]["state"], "no_candidate");
    let liaison = srv.login(Role::FamilyLiaison).await;
    let form = liaison.get(&format!("/tracing/{id}/edit")).await.text().await.unwrap();
    assert!(
        form.contains("Arash Tehrani-Othername"),
        "the form holds the description"
    );
    // A bad birth date: refused by field, what was typed comes back.
    let typed = "Arash Tehrani-Othername\nکاوه صمدی";
    let r = liaison
        .post_form(
            &format!("/tracing/{id}/edit"),
            &[("version", "3"), ("names", typed), ("birth_date", "19x0")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("کاوه صمدی") && html.contains("19x0"), "{html}");
    // Based on an old version: a conflict, nothing saved, the text kept.
    let r = liaison
        .post_form(
            &format!("/tracing/{id}/edit"),
            &[("version", "1"), ("names", typed), ("birth_date", "1970")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("کاوه صمدی"));
    // The correction (another name the family remembers) finds the person.
    let version = filed["request"]["version"].as_i64().unwrap().to_string();
    let r = liaison
        .post_form(
            &format!("/tracing/{id}/edit"),
            &[
                ("version", version.as_str()),
                ("names", "Arash Tehrani-Othername\nKaveh Samadi-Testname"),
                ("birth_date", "1970"),
                ("notes", "Has a scar on the left hand."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = liaison.get(&format!("/tracing/{id}")).await.text().await.unwrap();
    assert!(page.contains("Has a scar on the left hand."));
    let (_, now) = srv
        .api(&token, reqwest::Method::GET, &format!("/api/v1/tracing/{id}"), None)
        .await;
    assert_eq!(now["state"], "candidates_found", "{now}");
    assert_eq!(now["candidates"][0]["person_id"], person.as_str());
    // With the engine's reasons: the names word by word, the birth year.
    let why = &now["candidates"][0]["why"];
    assert_eq!(why["words"][0]["agreement"], "same", "{why}");
    assert_eq!(why["fields"][0]["field"], "birth_date", "{why}");
    assert_eq!(why["fields"][0]["level"], "same-year", "{why}");
    assert!(why["fields"][0]["weight"].as_f64().unwrap() > 0.0, "{why}");
    assert_eq!(srv.audit("request.edit").await[0].detail, "names birth_date notes");
    // The API takes the same correction; a closed request refuses it.
    let (status, body) = srv
        .api(
            &token,
            reqwest::Method::PUT,
            &format!("/api/v1/tracing/{id}"),
            Some(json!({"version": now["version"], "names": []})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"][0]["field"], "names");
    let (status, closed) = srv
        .api(
            &token,
            reqwest::Method::POST,
            &format!("/api/v1/tracing/{id}/state"),
            Some(json!({"expected": "candidates_found", "state": "closed_withdrawn"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (status, body) = srv
        .api(
            &token,
            reqwest::Method::PUT,
            &format!("/api/v1/tracing/{id}"),
            Some(json!({"version": closed["version"], "names": ["Kaveh Samadi"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "step-not-allowed");
}

#[tokio::test]
async fn a_family_can_give_a_photo_on_the_public_form_and_only_staff_see_it() {
    let srv = TestServer::start().await;
    let mut family = lantern_testkit::Session::anonymous(&srv);
    family.refresh_csrf("/request").await;
    let send = |photo: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", family.csrf.clone())
            .text("kind", "find")
            .text("names", "Dariush Moghaddam-Testname")
            .text("requester_name", "A daughter")
            .part(
                "photo",
                reqwest::multipart::Part::bytes(photo)
                    .file_name("father.png")
                    .mime_str("image/png")
                    .unwrap(),
            );
        family.client.post(srv.url("/request")).multipart(form).send()
    };
    // Not an image: refused by field, with what was typed kept, nothing filed.
    let r = send(b"not an image at all".to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"photo-error\"") && html.contains("Dariush Moghaddam-Testname"),
        "{html}"
    );
    assert!(srv
        .db(|s| s.tracing_requests(&Default::default()).unwrap())
        .await
        .items
        .is_empty());
    // An oversized upload is refused before anything is read into a request.
    let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
    huge.resize(WebConfig::default().max_upload + 1024, 0);
    assert_eq!(send(huge).await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    let filed = srv.db(|s| s.tracing_requests(&Default::default()).unwrap()).await;
    assert!(filed.items.is_empty());
    let png = b"\x89PNG\r\n\x1a\nsynthetic-photo-bytes".to_vec();
    let r = send(png.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = srv.db(|s| s.tracing_requests(&Default::default()).unwrap()).await.items[0].id;
    assert!(srv.db(move |s| s.tracing_request(id).unwrap().unwrap()).await.has_photo);
    // Staff see it; the family's session and other roles do not.
    let liaison = srv.login(Role::FamilyLiaison).await;
    let r = liaison.get(&format!("/tracing/{id}/photo")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    assert!(liaison
        .get(&format!("/tracing/{id}"))
        .await
        .text()
        .await
        .unwrap()
        .contains(&format!("/tracing/{id}/photo\"")));
    assert_ne!(
        family.get(&format!("/tracing/{id}/photo")).await.status(),
        StatusCode::OK
    );
    let registrar = srv.login(Role::Registrar).await;
    assert_eq!(
        registrar.get(&format!("/tracing/{id}/photo")).await.status(),
        StatusCode::FORBIDDEN
    );
    // Replaced through the API; every upload is audited.
    let token = srv.api_token(Role::Caseworker).await;
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 7, 7, 7];
    let r = srv
        .client()
        .put(srv.url(&format!("/api/v1/tracing/{id}/photo")))
        .bearer_auth(&token)
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = srv
        .client()
        .get(srv.url(&format!("/api/v1/tracing/{id}/photo")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);
    assert_eq!(srv.audit_count("request.photo").await, 2);
}
