//! Testimonies and dossiers over HTTP: a testimony in Persian with a file,
//! a dossier for a recipient that needs the witness's consent, its bundle
//! downloaded by the external official and verified offline.

use lantern_domain::policy::Role;
use lantern_testkit::{username, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const WITNESS: &str = "Maryam Rahimi-Testname";
const PERPETRATOR: &str = "Guard unit Zeta-7";
const NARRATIVE: &str = "ما را شبانه به بلوک چهار بردند و تا صبح نگه داشتند.";

#[tokio::test]
async fn a_dossier_needs_consent_hides_what_its_profile_withholds_and_verifies_offline() {
    let srv = TestServer::start().await;
    let doc = srv.api_token(Role::Documenter).await;
    let official = srv.api_token(Role::ExternalOfficial).await;
    let cw = srv.api_token(Role::Caseworker).await;
    use reqwest::Method as M;

    // A scanned letter as evidence.
    let file = b"synthetic scanned letter, page 1".to_vec();
    let form = reqwest::multipart::Form::new().text("title", "Letter").part(
        "file",
        reqwest::multipart::Part::bytes(file.clone())
            .file_name("letter.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = srv
        .client()
        .post(srv.url("/api/v1/evidence"))
        .bearer_auth(&doc)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let evidence: Value = r.json().await.unwrap();

    let (status, event) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/events",
            Some(json!({
                "title": "Night transfer", "start": "2019", "place": "North camp", "exact_place": "Block 4, room 12"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    let testimony = json!({
        "witness": {"kind": "sealed", "name": WITNESS, "contact": null},
        "pseudonym": "Witness M",
        "given_on": "2026-02-20",
        "language": "fa",
        "narrative": NARRATIVE,
        "events": [event["id"]],
        "acts": [{"event": event["id"], "act_type": "arbitrary_detention", "victims": ["Her brother"],
                  "perpetrators": [{"name": PERPETRATOR, "degree": "carried_out"}], "consequences": null}],
        "sources": [],
        "evidence": [evidence["id"]],
        "reliability": "medium",
        "reliability_note": null,
        "confidential": []
    });
    // Bad input names its field.
    let mut bad = testimony.clone();
    bad["language"] = json!("Persian language");
    let (status, body) = srv.api(&doc, M::POST, "/api/v1/testimonies", Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.to_string().contains("language"), "{body}");
    let (status, t) = srv.api(&doc, M::POST, "/api/v1/testimonies", Some(testimony)).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let tid = t["id"].as_str().unwrap().to_string();

    // A caseworker sees the testimony, never the witness.
    let (status, seen) = srv.api(&cw, M::GET, &format!("/api/v1/testimonies/{tid}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen["testimony"]["witness"].is_null());
    assert!(!seen.to_string().contains(WITNESS));
    // Nor may a caseworker build dossiers.
    let (status, _) = srv.api(&cw, M::GET, "/api/v1/dossiers", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let official_id = {
        let name = username(Role::ExternalOfficial);
        srv.db(move |s| s.user_credentials(&name).unwrap().unwrap().user.id)
            .await
    };
    let (status, recipient) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/recipients",
            Some(json!({
                "name": "Committee on Human Rights", "kind": "parliamentarian", "language": "en",
                "users": [official_id.to_string()]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{recipient}");
    let dossier = json!({
        "title": "Night transfer", "recipient_id": recipient["id"], "purpose": "Hearing on detention",
        "expires": "2026-06-30", "redaction": ["witness_identity", "third_parties", "exact_places"],
        "testimonies": [tid]
    });
    let (status, body) = srv.api(&doc, M::POST, "/api/v1/dossiers", Some(dossier.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("not-consented"), "{body}");
    let (status, _) = srv
        .api(
            &doc,
            M::POST,
            &format!("/api/v1/testimonies/{tid}/sharing"),
            Some(json!({
                "recipient_id": recipient["id"], "decision": "given", "how": "verbal, witnessed by a colleague"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, built) = srv.api(&doc, M::POST, "/api/v1/dossiers", Some(dossier)).await;
    assert_eq!(status, StatusCode::CREATED, "{built}");
    let did = built["id"].as_str().unwrap().to_string();

    // The official sees it and downloads it; the documenter's route is not theirs.
    let (status, list) = srv.api(&official, M::GET, "/api/v1/shared-dossiers", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, _) = srv.api(&official, M::GET, "/api/v1/dossiers", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let download = |token: String| {
        let (client, url) = (srv.client(), srv.url(&format!("/api/v1/shared-dossiers/{did}/bundle")));
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let r = download(official.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    // Parts are stored uncompressed, so withheld text would show in the bytes.
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(NARRATIVE), "the narrative is shown");
    assert!(!contains(WITNESS), "the witness's identity is withheld");
    assert!(!contains(PERPETRATOR), "named third parties are withheld");
    assert!(!contains("Block 4, room 12"), "exact places are withheld");
    assert!(
        bytes.windows(file.len()).any(|w| w == file.as_slice()),
        "the file is included"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dossier.zip");
    std::fs::write(&path, &bytes).unwrap();
    let key = srv.ledger_key();
    let today = time::macros::date!(2026 - 03 - 02);
    let (ok, report) = lantern_verify::verify_path(&path, Some(&key), today).unwrap();
    assert!(ok, "{report}");
    assert!(
        report.contains("withheld (redacted): perpetrators, victims, witness"),
        "{report}"
    );
    assert!(report.contains("withheld (redacted): exact_place"), "{report}");
    assert!(report.contains("Result: VALID"), "{report}");
    // A second download proves against the same checkpoint.
    let again = download(official.clone()).await.bytes().await.unwrap();
    let checkpoint_of = |zip: &[u8]| {
        let mut a = lantern_ledger::bundle::ZipSource::new(std::io::Cursor::new(zip.to_vec())).unwrap();
        use lantern_ledger::bundle::Source;
        a.bytes(lantern_ledger::bundle::CHECKPOINT).unwrap().unwrap()
    };
    assert_eq!(checkpoint_of(&bytes), checkpoint_of(&again));
    // The readable summary is in the recipient's language (English here)
    // and names what is withheld.
    let (summary, pdf) = {
        let mut a = lantern_ledger::bundle::ZipSource::new(std::io::Cursor::new(bytes.clone())).unwrap();
        use lantern_ledger::bundle::Source;
        (
            String::from_utf8(a.bytes("summary.html").unwrap().unwrap()).unwrap(),
            a.bytes("summary.pdf").unwrap().unwrap(),
        )
    };
    assert!(pdf.starts_with(b"%PDF-1.7\n") && pdf.ends_with(b"%%EOF\n"));
    let pdf_text = String::from_utf8_lossy(&pdf);
    assert!(pdf_text.contains("/FontFile2") && pdf_text.contains("beginbfchar"));
    assert!(summary.contains("<html lang=\"en\" dir=\"ltr\">"), "{summary}");
    assert!(
        summary.contains("Withheld: perpetrators, victims, witness"),
        "{summary}"
    );
    assert!(summary.contains(&key), "{summary}");

    // Every view and download is audited; the files' export is in the custody chain.
    assert!(srv.audit_count("dossier.view").await >= 1);
    assert_eq!(srv.audit_count("dossier.download").await, 2);
    let eid = lantern_domain::evidence::EvidenceId::parse("id", evidence["id"].as_str().unwrap()).unwrap();
    let custody = srv.db(move |s| s.custody(eid).unwrap()).await;
    assert!(custody
        .iter()
        .any(|c| c.kind == lantern_domain::evidence::CustodyKind::Exported));

    // After the expiry the official no longer sees it.
    srv.clock.advance(time::Duration::days(130));
    let (_, list) = srv.api(&official, M::GET, "/api/v1/shared-dossiers", None).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(download(official).await.status(), StatusCode::NOT_FOUND);
}

/// A registered witness's own registry record travels with their
/// testimony when they agreed and their identity is shown; protected
/// fields never do, and no one else's record goes.
#[tokio::test]
async fn a_registered_witness_record_goes_only_with_their_agreement_and_never_its_protected_fields() {
    use reqwest::Method as M;
    const CONTACT: &str = "+00 555 0199 (synthetic)";
    let srv = TestServer::start().await;
    let doc = srv.api_token(Role::Documenter).await;
    let reg = srv.api_token(Role::Registrar).await;
    let official = srv.api_token(Role::ExternalOfficial).await;
    let person = |name: &str| {
        let body = json!({"names": [{"text": name}], "birth_date": "1984", "sex": "female",
                          "block": "Block Q17", "room": "12", "contact": CONTACT});
        let (srv, reg) = (&srv, reg.clone());
        async move {
            let (status, p) = srv.api(&reg, M::POST, "/api/v1/people", Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{p}");
            p["id"].as_str().unwrap().to_string()
        }
    };
    let witness = person("Zahra Karimi-Testname").await;
    let neighbour = person("Leila Moradi").await;
    let (_, event) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/events",
            Some(json!({"title": "Room search", "start": "2021", "place": "North camp"})),
        )
        .await;
    let (status, t) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/testimonies",
            Some(json!({
                "witness": {"kind": "registered", "person": witness},
                "pseudonym": "Witness Z", "given_on": "2026-02-20", "language": "en",
                "narrative": "They searched our room at night.",
                "events": [event["id"]],
                "acts": [{"event": event["id"], "act_type": "threats", "victims": [], "perpetrators": [],
                          "consequences": null}],
                "sources": [], "evidence": [], "reliability": "medium", "reliability_note": null,
                "confidential": []
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let official_id = {
        let name = username(Role::ExternalOfficial);
        srv.db(move |s| s.user_credentials(&name).unwrap().unwrap().user.id)
            .await
    };
    let (status, recipient) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/recipients",
            Some(
                json!({"name": "Special Rapporteur", "kind": "un_mechanism", "language": "en",
                        "users": [official_id.to_string()]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{recipient}");
    let (status, _) = srv
        .api(
            &doc,
            M::POST,
            &format!("/api/v1/testimonies/{}/sharing", t["id"].as_str().unwrap()),
            Some(json!({"recipient_id": recipient["id"], "decision": "given", "how": "signed form"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let dossier = |people: Value, redaction: Value| {
        json!({"title": "Room search", "recipient_id": recipient["id"], "purpose": "Communication",
               "expires": "2026-06-30", "redaction": redaction, "testimonies": [t["id"]], "people": people})
    };
    let refused = |body: Value| {
        let (srv, doc) = (&srv, doc.clone());
        async move {
            let (status, b) = srv.api(&doc, M::POST, "/api/v1/dossiers", Some(body)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            let f = &b["error"]["fields"][0];
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        }
    };
    assert_eq!(
        refused(dossier(json!([neighbour]), json!(["exact_places"]))).await,
        ("people[0]".to_string(), "not-a-witness".to_string())
    );
    assert_eq!(
        refused(dossier(json!([witness]), json!(["witness_identity"]))).await,
        ("people[0]".to_string(), "hidden-by-redaction".to_string())
    );
    // The builder page asks for "the registered witnesses' records" and
    // refuses them while the witness's identity is to be hidden.
    let page = srv.login(Role::Documenter).await;
    let tid = t["id"].as_str().unwrap();
    let rid = recipient["id"].as_str().unwrap();
    let mut form = vec![
        ("title", "Room search"),
        ("recipient", rid),
        ("purpose", "Communication"),
        ("expires", "2026-06-30"),
        ("testimonies", tid),
        ("witness_records", "yes"),
        ("redaction", "witness_identity"),
    ];
    let r = page.post_form("/dossiers", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("The redaction profile chosen hides this."), "{html}");
    form.pop();
    let r = page.post_form("/dossiers", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let made = srv.db(|s| s.dossiers(None).unwrap()).await;
    assert!(made[0].records.iter().any(|r| r.kind == "person" && r.id == witness));

    let (status, built) = srv
        .api(
            &doc,
            M::POST,
            "/api/v1/dossiers",
            Some(dossier(json!([witness]), json!(["exact_places"]))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{built}");
    let kinds: Vec<&str> = built["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["testimony", "event", "person"]);

    let r = srv
        .client()
        .get(srv.url(&format!(
            "/api/v1/shared-dossiers/{}/bundle",
            built["id"].as_str().unwrap()
        )))
        .bearer_auth(&official)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains("Zahra Karimi-Testname"), "the witness's record is shown");
    assert!(!contains(CONTACT), "protected fields never leave");
    assert!(!contains("Block Q17"), "exact places are withheld");
    assert!(!contains("Leila Moradi"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dossier.zip");
    std::fs::write(&path, &bytes).unwrap();
    let (ok, report) =
        lantern_verify::verify_path(&path, Some(&srv.ledger_key()), time::macros::date!(2026 - 03 - 02)).unwrap();
    assert!(ok, "{report}");
    assert!(
        report.contains("withheld (redacted): block, protected, room, site_id"),
        "{report}"
    );
}
