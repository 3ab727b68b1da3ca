//! Registry load benchmark: prints latencies, asserts nothing.
//!
//! Fills a fresh SQLite registry with a synthetic population, starts the
//! real server on a loopback port, logs in as a registrar and runs
//! concurrent clients against the people list, name search, person view and
//! the registration form. Prints median, p99 and throughput per operation.
//!
//! ```sh
//! cargo run --release -p lantern-testkit --bin lantern-bench -- --people 100000 --clients 20 --seconds 20
//! ```
//!
//! With `--cases`, it measures the resettlement pipeline instead: the
//! dashboard page, sequentially, and bulk scheduling of 500 waiting cases;
//! `--fill-cases N` first opens cases for residents who have none until
//! there are N (without N: for every resident).
//! With `--postgres URL` the store is that (empty or kept) PostgreSQL
//! database instead of SQLite.
//!
//! With `--tracing`, it measures the matching engine as tracing uses it,
//! in memory and without a store: an index of `--people` synthetic names
//! and one of `--requests` open requests; filing (a request's names against
//! the people) and re-matching after an edit (a person's names against the
//! requests).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lantern_domain::clock::{Clock, SystemClock};
use lantern_domain::policy::Role;
use lantern_domain::user::{UiLanguage, Username};
use lantern_store::{AuditContext, NewUser, PageRequest, PersonQuery, Store};
use lantern_testkit::csrf_in;
use lantern_web::{AppState, WebConfig};

struct Args {
    keep: Option<std::path::PathBuf>,
    postgres: Option<String>,
    cases: bool,
    tracing: bool,
    requests: usize,
    fill_cases: Option<u64>,
    people: usize,
    clients: usize,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        keep: None,
        postgres: None,
        cases: false,
        tracing: false,
        requests: 100_000,
        fill_cases: None,
        people: 100_000,
        clients: 20,
        seconds: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--keep" {
            a.keep = it.next().map(Into::into);
            continue;
        }
        if flag == "--postgres" {
            a.postgres = it.next();
            continue;
        }
        if flag == "--cases" {
            a.cases = true;
            continue;
        }
        if flag == "--tracing" {
            a.tracing = true;
            continue;
        }
        if flag == "--fill-cases" {
            a.fill_cases = Some(it.next().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX));
            continue;
        }
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--people", Some(v)) => a.people = v as usize,
            ("--requests", Some(v)) => a.requests = v as usize,
            ("--clients", Some(v)) => a.clients = v as usize,
            ("--seconds", Some(v)) => a.seconds = v,
            _ => {
                eprintln!(
                    "usage: lantern-bench [--keep DIR] [--postgres URL] [--cases [--fill-cases N]] [--tracing [--requests N]] [--people N] [--clients N] [--seconds N]"
                );
                std::process::exit(2);
            }
        }
    }
    a
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    List,
    Search,
    View,
    Register,
}

const OPS: [Op; 4] = [Op::List, Op::Search, Op::View, Op::Register];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Searches timed per operation in `--tracing`.
const RUNS: usize = 100;

/// The matching engine at tracing scale, in memory.
fn tracing_bench(people: usize, requests: usize) {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let t = Instant::now();
    let names = lantern_app::demo::synthetic_names(1, people);
    let mut registry = lantern_matching::Matcher::new();
    for (i, n) in names.iter().enumerate() {
        let n: Vec<&str> = n.iter().map(String::as_str).collect();
        registry.add(lantern_matching::Record::new(i.to_string(), &n));
    }
    // Requests give one Latin spelling (the family's), as at the gate.
    let asked = lantern_app::demo::synthetic_names(2, requests);
    let mut open = lantern_matching::Matcher::new();
    for (i, n) in asked.iter().enumerate() {
        open.add(lantern_matching::Record::new(i.to_string(), &[n[1].as_str()]));
    }
    println!(
        "indexes: {people} people, {requests} open requests, built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut filing = Vec::new();
    for _ in 0..RUNS {
        let q = &asked[next(asked.len())];
        let t = Instant::now();
        let found = registry.search(&[q[1].as_str()], 10);
        filing.push(t.elapsed());
        assert!(found.len() <= 10);
    }
    let mut rematch = Vec::new();
    for _ in 0..RUNS {
        let p = &names[next(names.len())];
        let t = Instant::now();
        let n: Vec<&str> = p.iter().map(String::as_str).collect();
        let found = open.search(&n, 10);
        rematch.push(t.elapsed());
        assert!(found.len() <= 10);
    }
    for (label, mut v) in [
        ("filing: a request's names against the people", filing),
        ("re-matching: an edited person against the open requests", rematch),
    ] {
        v.sort();
        println!(
            "{label}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms ({RUNS} runs)",
            percentile(&v, 0.5).as_secs_f64() * 1e3,
            percentile(&v, 0.95).as_secs_f64() * 1e3,
            v.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    if a.tracing {
        tracing_bench(a.people, a.requests);
        return;
    }
    // A kept folder is reused: the population is loaded only once.
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = a.keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    lantern_app::prepare_data_dir(&dir).expect("data dir");
    let (keys, _) = lantern_app::load_or_create_keys(&dir).expect("keys");
    let keys = Arc::new(keys);
    let vault = lantern_vault::objects::ObjectVault::open(
        &lantern_vault::objects::Location::Local(dir.join("objects")),
        keys.clone(),
    )
    .expect("vault");
    let store: Arc<dyn Store> = match a.postgres.clone() {
        Some(url) => tokio::task::spawn_blocking(move || {
            Arc::new(lantern_store_postgres::open(&url, keys).expect("store")) as Arc<dyn Store>
        })
        .await
        .expect("join"),
        None => Arc::new(lantern_store_sqlite::open(&dir.join("lantern.db"), keys).expect("store")),
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    let started = Instant::now();
    let existing = store.stats().expect("stats").people as usize;
    if existing == 0 {
        let (s, c, n) = (store.clone(), clock.clone(), a.people);
        let summary = tokio::task::spawn_blocking(move || {
            let ctx = AuditContext::system("bench", c.now());
            lantern_app::demo::load(s.as_ref(), n, 11, &ctx)
        })
        .await
        .expect("join")
        .expect("population");
        println!(
            "population: {} people in {} households, {} links, loaded in {:.1} s",
            summary.people,
            summary.households,
            summary.links,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("population: {existing} people already in {}", dir.display());
    }
    let people = store.stats().expect("stats").people;

    let password = "bench passphrase long enough";
    let _ = store.create_user(
        NewUser {
            username: Username::parse("u", "bench").expect("name"),
            display_name: "Bench".into(),
            role: Role::Registrar,
            language: UiLanguage::En,
            password_hash: lantern_web::security::hash_password(password).expect("hash"),
            must_change_password: false,
        },
        &AuditContext::system("bench", clock.now()),
    );
    let ids: Vec<String> = store
        .search_people(&PersonQuery {
            page: PageRequest::new(1, 200),
            ..Default::default()
        })
        .expect("ids")
        .items
        .iter()
        .map(|p| p.id.to_string())
        .collect();

    let (s, c) = (store.clone(), clock.clone());
    let state = tokio::task::spawn_blocking(move || AppState::new(s, vault, c, WebConfig::default()))
        .await
        .expect("join")
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(lantern_app::serve(listener, state, std::future::pending()));
    if let Some(target) = a.fill_cases {
        let (s, c) = (store.clone(), clock.clone());
        let t = Instant::now();
        let opened = tokio::task::spawn_blocking(move || fill_cases(s.as_ref(), c.as_ref(), target))
            .await
            .expect("join");
        println!("opened {opened} more cases in {:.1} s", t.elapsed().as_secs_f64());
    }
    if a.cases {
        cases_bench(store, clock, &base, password, people).await;
        return;
    }

    let searches = [
        "hoss",
        "mohammad",
        "zahra",
        "karimi",
        "محمد",
        "حسینی",
        "fatemeh",
        "rezaei",
        "ali",
        "masoud",
        "mousavi",
        "مریم",
        "ahmadi",
        "heidari",
        "jafar",
    ];
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for client_no in 0..a.clients {
        let base = base.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client");
            let login_page = client.get(format!("{base}/login")).send().await.expect("login page");
            let token = csrf_in(&login_page.text().await.expect("body")).expect("csrf");
            let r = client
                .post(format!("{base}/login"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("username", "bench"),
                    ("password", password),
                ])
                .send()
                .await
                .expect("login");
            assert_eq!(r.status(), 303, "login failed");
            let page = client.get(format!("{base}/people/new")).send().await.expect("form");
            let csrf = csrf_in(&page.text().await.expect("body")).expect("csrf");
            let mut samples: Vec<(Op, Duration, bool)> = Vec::new();
            let mut i = client_no;
            while Instant::now() < deadline {
                // Mostly reads, as on a working day: 4 lists, 4 searches, 4 views, 1 registration.
                let op = match i % 13 {
                    0..=3 => Op::List,
                    4..=7 => Op::Search,
                    8..=11 => Op::View,
                    _ => Op::Register,
                };
                let t = Instant::now();
                let response = match op {
                    Op::List => client.get(format!("{base}/people?page={}", 1 + i % 50)).send().await,
                    Op::Search => {
                        let q = searches[i % searches.len()];
                        client.get(format!("{base}/people")).query(&[("q", q)]).send().await
                    }
                    Op::View => client.get(format!("{base}/people/{}", ids[i % ids.len()])).send().await,
                    Op::Register => {
                        let name = format!("Bench Person {client_no} {i}");
                        client
                            .post(format!("{base}/people"))
                            .form(&[
                                ("csrf_token", csrf.as_str()),
                                ("names[0].text", "نام آزمایشی"),
                                ("names[1].text", name.as_str()),
                                ("birth_date", "1980"),
                            ])
                            .send()
                            .await
                    }
                };
                let ok = match response {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        if op == Op::Register {
                            status == 303
                        } else {
                            status == 200
                        }
                    }
                    Err(_) => false,
                };
                samples.push((op, t.elapsed(), ok));
                i += 1;
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    println!(
        "load: {} clients for {} s against {} people (server and clients in one process, {} cores)",
        a.clients,
        a.seconds,
        people,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!(
        "{:<10} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "operation", "count", "errors", "median ms", "p99 ms", "per s"
    );
    for op in OPS {
        let mut d: Vec<Duration> = all.iter().filter(|s| s.0 == op).map(|s| s.1).collect();
        let errors = all.iter().filter(|s| s.0 == op && !s.2).count();
        d.sort();
        println!(
            "{:<10} {:>8} {:>8} {:>10.2} {:>10.2} {:>10.1}",
            format!("{op:?}").to_lowercase(),
            d.len(),
            errors,
            percentile(&d, 0.5).as_secs_f64() * 1000.0,
            percentile(&d, 0.99).as_secs_f64() * 1000.0,
            d.len() as f64 / a.seconds as f64
        );
    }
}

/// Logs a client in as the bench user.
async fn logged_in(base: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login_page = client.get(format!("{base}/login")).send().await.expect("login page");
    let token = csrf_in(&login_page.text().await.expect("body")).expect("csrf");
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "bench"),
            ("password", password),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 303, "login failed");
    client
}

/// The pipeline dashboard, sequentially, and bulk scheduling of 500 cases.
async fn cases_bench(store: Arc<dyn Store>, clock: Arc<dyn Clock>, base: &str, password: &str, people: u64) {
    use lantern_domain::case::CaseStep as S;
    let cases = {
        let s = store.clone();
        tokio::task::spawn_blocking(move || s.pipeline(&Default::default(), time::OffsetDateTime::now_utc()))
            .await
            .expect("join")
            .expect("pipeline")
            .total
    };
    let client = logged_in(base, password).await;
    let mut d = Vec::new();
    for _ in 0..31 {
        let t = Instant::now();
        let r = client
            .get(format!("{base}/cases/pipeline"))
            .send()
            .await
            .expect("dashboard");
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
        d.push(t.elapsed());
    }
    d.remove(0); // the first request warms the caches
    d.sort();
    println!(
        "pipeline dashboard: {people} people, {cases} cases, {} sequential requests",
        d.len()
    );
    println!(
        "  median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&d, 0.5).as_secs_f64() * 1000.0,
        percentile(&d, 0.95).as_secs_f64() * 1000.0,
        d.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );

    // Bulk scheduling: 500 cases brought to the interview queue (not
    // timed), then booked in one call per interviewer on one day.
    let s = store.clone();
    let report = tokio::task::spawn_blocking(move || {
        let ctx = AuditContext::system("bench", clock.now());
        let site = s.sites().expect("sites")[0].id;
        let rooms = s.rooms().expect("rooms");
        // Enough rooms that rooms are not what runs out: 25 interviewers
        // with 20 slots each fill 25 rooms.
        for n in 0..25 {
            let name = format!("Bench Room {n}");
            if !rooms.iter().any(|r| r.name == name) {
                s.create_room(site, &name, &ctx).expect("room");
            }
        }
        let mut interviewers = Vec::new();
        for n in 0..25 {
            let name = format!("bench-interviewer-{n}");
            let user = match s.user_credentials(&name).expect("user") {
                Some(c) => c.user,
                None => s
                    .create_user(
                        NewUser {
                            username: Username::parse("u", &name).expect("name"),
                            display_name: name.clone(),
                            role: Role::Interviewer,
                            language: UiLanguage::En,
                            password_hash: "not used".into(),
                            must_change_password: false,
                        },
                        &ctx,
                    )
                    .expect("interviewer"),
            };
            interviewers.push(user.id);
        }
        let mut waiting = Vec::new();
        let mut page = 1;
        while waiting.len() < 500 {
            let list = s
                .cases(&lantern_store::CaseQuery {
                    step: Some(S::Registered),
                    site: None,
                    page: PageRequest::new(page, 200),
                })
                .expect("cases");
            if list.items.is_empty() {
                break;
            }
            for c in list.items.iter().take(500 - waiting.len()) {
                s.move_case(c.id, S::Registered, S::RegistrationVerified, None, &ctx)
                    .expect("move");
                s.move_case(c.id, S::RegistrationVerified, S::InterviewRequested, None, &ctx)
                    .expect("move");
                waiting.push(c.id);
            }
            page += 1;
        }
        // A day with no interview yet (a kept folder keeps earlier runs' bookings).
        let mut day = (clock.now() + time::Duration::days(30)).date().midnight().assume_utc();
        while !s
            .interviews(&lantern_store::InterviewQuery {
                site: None,
                from: day,
                until: day + time::Duration::days(1),
            })
            .expect("interviews")
            .is_empty()
        {
            day += time::Duration::days(1);
        }
        let plan = |cases: Vec<lantern_domain::case::CaseId>, who| lantern_store::BulkSchedule {
            cases,
            site,
            first: day + time::Duration::hours(8),
            last_end: day + time::Duration::hours(18),
            length: time::Duration::minutes(30),
            interviewer: who,
            interpreter: None,
            language: None,
        };
        // One call with all 500 cases and one interviewer (20 slots).
        let t = Instant::now();
        let first = s
            .bulk_schedule(&plan(waiting.clone(), interviewers[0]), &ctx)
            .expect("bulk");
        let one_call = t.elapsed();
        // Then the rest, one call per interviewer, until all are booked.
        let mut left: Vec<_> = first.left_out.iter().map(|(c, _)| *c).collect();
        let mut booked = first.booked.len();
        let t = Instant::now();
        for who in &interviewers[1..] {
            if left.is_empty() {
                break;
            }
            let r = s.bulk_schedule(&plan(left.clone(), *who), &ctx).expect("bulk");
            booked += r.booked.len();
            left = r.left_out.iter().map(|(c, _)| *c).collect();
        }
        (
            waiting.len(),
            first.booked.len(),
            one_call,
            booked,
            t.elapsed() + one_call,
        )
    })
    .await
    .expect("join");
    let (waiting, first_booked, one_call, booked, all) = report;
    println!("bulk scheduling: {waiting} waiting cases, 25 rooms or more, 30-minute slots from 08:00 to 18:00");
    println!(
        "  one call with all of them, one interviewer (20 slots): {first_booked} booked, {} left out, {:.0} ms",
        waiting - first_booked,
        one_call.as_secs_f64() * 1000.0
    );
    println!(
        "  then one call per interviewer until none is left: {booked} booked with 25 interviewers, {:.0} ms in total",
        all.as_secs_f64() * 1000.0
    );
}

/// Opens cases for residents without one until there are `target` cases
/// (`--fill-cases N`; without N, for every resident), for the dashboard at
/// scale.
fn fill_cases(store: &dyn Store, clock: &dyn Clock, target: u64) -> usize {
    let ctx = AuditContext::system("bench", clock.now());
    let mut opened = 0;
    let mut total = store
        .pipeline(&Default::default(), clock.now())
        .expect("pipeline")
        .total;
    let ids: Vec<_> = store
        .match_people()
        .expect("people")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for id in ids {
        if total >= target {
            break;
        }
        match store.create_case(id, false, &ctx) {
            Ok(_) => {
                opened += 1;
                total += 1;
            }
            Err(lantern_store::StoreError::Invalid(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    opened
}
