//! Dossier export and verification benchmark: prints timings, asserts
//! nothing.
//!
//! Starts a test server (SQLite, or the PostgreSQL server named by
//! `LANTERN_TEST_POSTGRES`), uploads `--files` evidence files of
//! `--file-mib` MiB each through the API (pseudo-random content, so
//! nothing compresses), records `--testimonies` testimonies each with its
//! own event (the first ones citing the files) and the witnesses'
//! agreement, builds one dossier of all of them, downloads its bundle as
//! the documenter (the export), verifies it in-process with the same code
//! as `lantern verify`, and hashes the same bundle with `sha256sum` (and
//! `openssl dgst -sha256`, when there is one) for comparison, in the same
//! run.
//!
//! ```sh
//! cargo run --release -p lantern-testkit --bin lantern-dossier-bench -- --testimonies 490 --files 8 --file-mib 128
//! ```

use std::time::Instant;

use lantern_domain::clock::Clock;
use lantern_domain::policy::Role;
use lantern_domain::testimony::{
    DossierDraft, EventDraft, RecipientKind, Redaction, Reliability, ShareDecision, TestimonyDraft, Witness,
};
use lantern_store::{AuditContext, NewShareDecision};
use lantern_testkit::TestServer;

struct Args {
    testimonies: usize,
    files: usize,
    file_mib: usize,
}

fn args() -> Args {
    let mut a = Args {
        testimonies: 490,
        files: 8,
        file_mib: 128,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--testimonies", Some(v)) => a.testimonies = v,
            ("--files", Some(v)) => a.files = v,
            ("--file-mib", Some(v)) => a.file_mib = v,
            _ => {
                eprintln!("usage: lantern-dossier-bench [--testimonies N] [--files N] [--file-mib N]");
                std::process::exit(2);
            }
        }
    }
    a
}

/// Pseudo-random bytes (xorshift64*), fast and incompressible enough; an
/// odd `seed` (the low bit is forced on) gives its own sequence.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

#[tokio::main]
async fn main() {
    let a = args();
    let srv = TestServer::start().await;
    let doc = srv.api_token(Role::Documenter).await;
    let client = srv.client();

    let started = Instant::now();
    let mut evidence = Vec::new();
    for i in 0..a.files {
        let content = noise(2 * i as u64 + 1, a.file_mib * 1024 * 1024);
        let form = reqwest::multipart::Form::new()
            .text("title", format!("Recording {i}"))
            .part(
                "file",
                reqwest::multipart::Part::bytes(content)
                    .file_name(format!("recording-{i}.bin"))
                    .mime_str("application/octet-stream")
                    .expect("mime"),
            );
        let r = client
            .post(srv.url("/api/v1/evidence"))
            .bearer_auth(&doc)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), reqwest::StatusCode::CREATED, "upload {i}");
        let body: serde_json::Value = r.json().await.expect("json");
        let id = body["id"].as_str().expect("id");
        evidence.push(lantern_domain::evidence::EvidenceId::parse("id", id).expect("id"));
    }
    println!(
        "uploaded {} files of {} MiB in {:.1} s",
        a.files,
        a.file_mib,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let n = a.testimonies;
    let dossier = srv
        .db(move |s| {
            // The test server's clock stands still at its start.
            let ctx = AuditContext::system("bench", lantern_testkit::START);
            let recipient = s
                .create_recipient("Synthetic committee", RecipientKind::Parliamentarian, "en", &[], &ctx)
                .expect("recipient");
            let mut ids = Vec::new();
            for i in 0..n {
                let event = s
                    .create_event(
                        &EventDraft::parse(&format!("Event {i}"), "2019", "", "North camp", "", "", ctx.at.date())
                            .expect("event"),
                        &ctx,
                    )
                    .expect("event");
                let t = s
                    .create_testimony(
                        &TestimonyDraft {
                            witness: Witness::Sealed {
                                name: format!("Witness {i}"),
                                contact: None,
                            },
                            pseudonym: format!("W{i}"),
                            given_on: ctx.at.date(),
                            language: "fa".into(),
                            narrative: format!("روایت شمارهٔ {i}: ما را شبانه به بلوک چهار بردند."),
                            events: vec![event.id],
                            acts: vec![],
                            sources: vec![],
                            evidence: evidence.get(i).copied().into_iter().collect(),
                            reliability: Reliability::NotAssessed,
                            reliability_note: None,
                            confidential: Default::default(),
                        },
                        &ctx,
                    )
                    .expect("testimony");
                s.record_share_decision(
                    t.id,
                    &NewShareDecision {
                        recipient: recipient.id,
                        decision: ShareDecision::Given,
                        how: "verbal".into(),
                        form: None,
                    },
                    &ctx,
                )
                .expect("consent");
                ids.push(t.id);
            }
            s.create_dossier(
                &DossierDraft {
                    title: "Benchmark dossier".into(),
                    recipient: recipient.id,
                    purpose: "Measuring".into(),
                    expires: ctx.at.date() + time::Duration::days(30),
                    redaction: [Redaction::WitnessIdentity].into(),
                    testimonies: ids,
                    events: vec![],
                    evidence: vec![],
                    people: vec![],
                    include_files: true,
                },
                &ctx,
            )
            .expect("dossier")
        })
        .await;
    println!(
        "recorded {n} testimonies and the dossier ({} records, {} files) in {:.1} s",
        dossier.records.len(),
        dossier.files.len(),
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("dossier.zip");
    let started = Instant::now();
    let r = client
        .get(srv.url(&format!("/api/v1/dossiers/{}/bundle", dossier.id)))
        .bearer_auth(&doc)
        .send()
        .await
        .expect("download");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let mut r = r;
    let mut file = std::fs::File::create(&path).expect("file");
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        std::io::Write::write_all(&mut file, &chunk).expect("write");
    }
    file.sync_all().expect("sync");
    drop(file);
    let export = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).expect("size").len();
    let mib = size as f64 / (1024.0 * 1024.0);
    println!(
        "export: {mib:.0} MiB bundle in {export:.1} s ({:.0} MiB/s)",
        mib / export
    );

    let key = srv.ledger_key();
    let today = srv.clock.now().date();
    let started = Instant::now();
    let (ok, report) = lantern_verify::verify_path(&path, Some(&key), today).expect("verify");
    let verify = started.elapsed().as_secs_f64();
    assert!(ok, "{report}");
    let started = Instant::now();
    let out = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("sha256sum");
    let sha = started.elapsed().as_secs_f64();
    assert!(out.status.success());
    println!(
        "verify: {verify:.2} s ({:.0} MiB/s); sha256sum of the same bundle: {sha:.2} s ({:.0} MiB/s); \
         verification runs at {:.0} % of sha256sum's speed",
        mib / verify,
        mib / sha,
        100.0 * sha / verify
    );
    // OpenSSL uses the processor's SHA instructions where it has them, as
    // the verifier does; coreutils' sha256sum does not. Shown for context.
    let started = Instant::now();
    if let Ok(out) = std::process::Command::new("openssl")
        .args(["dgst", "-sha256"])
        .arg(&path)
        .output()
    {
        if out.status.success() {
            let openssl = started.elapsed().as_secs_f64();
            println!(
                "openssl dgst -sha256 of the same bundle: {openssl:.2} s ({:.0} MiB/s); verification at {:.0} % of it",
                mib / openssl,
                100.0 * openssl / verify
            );
        }
    }
}
