//! The corroboration view over HTTP: accounts of one event by the same
//! witness or in nearly the same words are flagged as not independent, an
//! event recorded twice is pointed out, and only documenters see the view
//! (it compares witnesses).

use lantern_domain::policy::Role;
use lantern_testkit::TestServer;
use reqwest::Method as M;
use reqwest::StatusCode;
use serde_json::{json, Value};

const STORY: &str = "ما را شبانه به بلوک چهار بردند و تا صبح در حیاط نگه داشتند، بعد به اتاق‌ها فرستادند.";

async fn testify(
    srv: &TestServer,
    doc: &str,
    event: &Value,
    witness: &str,
    narrative: &str,
    report: Option<&str>,
) -> String {
    let sources = match report {
        Some(r) => json!([{"kind": "external_report", "citation": r, "link": null, "evidence": null}]),
        None => json!([]),
    };
    let (status, t) = srv
        .api(
            doc,
            M::POST,
            "/api/v1/testimonies",
            Some(json!({
                "witness": {"kind": "sealed", "name": witness, "contact": null},
                "pseudonym": format!("Witness {}", witness.len()),
                "given_on": "2026-01-10", "language": "fa", "narrative": narrative,
                "events": [event["id"]], "acts": [], "sources": sources, "evidence": [],
                "reliability": "not_assessed", "reliability_note": null, "confidential": []
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn dependent_accounts_and_events_recorded_twice_are_flagged_for_documenters() {
    let srv = TestServer::start().await;
    let doc = srv.api_token(Role::Documenter).await;
    let cw = srv.api_token(Role::Caseworker).await;
    let (_, event) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/events",
            Some(json!({"title": "Night transfer from block 4", "start": "2019", "place": "North camp"})),
        )
        .await;
    let (_, twice) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/events",
            Some(json!({"title": "Transfer from block 4 at night", "start": "2018..2020", "place": "North camp"})),
        )
        .await;
    let (_, other) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/events",
            Some(json!({"title": "Visits refused", "start": "2019", "place": "North camp"})),
        )
        .await;
    let first = testify(&srv, &doc, &event, "Zahra K.", STORY, None).await;
    let again = testify(
        &srv,
        &doc,
        &event,
        "zahra k.",
        "Years later she told it again, in her own words.",
        None,
    )
    .await;
    let copied = "ما را شبانه به بلوك چهار بردند و تا صبح در حياط نگه داشتند، بعد به اتاق‌ها فرستادند ما.";
    let copy = testify(&srv, &doc, &event, "Another witness", copied, None).await;
    let alone = testify(
        &srv,
        &doc,
        &event,
        "A third witness",
        "من در درمانگاه بودم و صدای ماشین‌ها را شنیدم.",
        Some("Annual report 2020"),
    )
    .await;

    let path = format!("/api/v1/events/{}/corroboration", event["id"].as_str().unwrap());
    let (status, view) = srv.api(&doc, M::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["accounts"].as_array().unwrap().len(), 4);
    let groups = view["corroboration"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{view}");
    assert!(groups.iter().any(|g| g == &json!([alone])), "{view}");
    let pairs = view["corroboration"]["pairs"].as_array().unwrap();
    let reason = |a: &str, b: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|p| (p["a"] == a && p["b"] == b) || (p["a"] == b && p["b"] == a))
            .flat_map(|p| p["reasons"].as_array().unwrap().iter())
            .map(|r| r["reason"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(reason(&first, &again), ["same_witness"]);
    assert_eq!(reason(&first, &copy), ["near_copy"]);
    assert!(reason(&again, &copy).is_empty());
    let duplicates: Vec<&Value> = view["possible_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(duplicates, [&twice["id"]], "{view}");
    assert!(!duplicates.contains(&&other["id"]));
    // Reading the accounts with their witnesses is audited.
    assert!(srv.audit_count("testimony.read_confidential").await >= 4);

    // Caseworkers see testimonies, not this comparison of witnesses.
    let (status, _) = srv.api(&cw, M::GET, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let page = srv.login(Role::Documenter).await;
    let html = page
        .get(&format!("/events/{}", event["id"].as_str().unwrap()))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("2 independent accounts"), "{html}");
    assert!(html.contains("nearly the same words"));
    assert!(html.contains("Transfer from block 4 at night"));
}
