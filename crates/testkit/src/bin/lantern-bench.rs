//! Registry load benchmark: prints latencies, asserts nothing.
//!
//! Fills a fresh SQLite registry with a synthetic population, starts the
//! real server on a loopback port, logs clients in (each as a registrar and
//! as a caseworker) and runs them concurrently through a mix of pages.
//! Prints median, p99 and throughput per operation.
//!
//! ```sh
//! cargo run --release -p lantern-testkit --bin lantern-bench -- --people 100000 --clients 20 --seconds 20
//! ```
//!
//! `--mix registry` (the default) is issue 2's registration desk: list
//! pages, name searches, person views, registrations. `--mix scale` is
//! issue 3's: name searches, list pages, person views, edits and tracing
//! requests filed. `--fill-requests N` first files synthetic tracing
//! requests until N are open (the requests every edit is matched against).
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
use lantern_store::{AuditContext, NewUser, PageRequest, Store};
use lantern_testkit::csrf_in;
use lantern_web::{AppState, WebConfig};

#[derive(Clone)]
struct Args {
    mix: Mix,
    fill_requests: Option<usize>,
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
        mix: Mix::Registry,
        fill_requests: None,
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
    let mut it = std::env::args().skip(1).peekable();
    while let Some(flag) = it.next() {
        if flag == "--mix" {
            a.mix = match it.next().as_deref() {
                Some("registry") => Mix::Registry,
                Some("scale") => Mix::Scale,
                _ => usage(),
            };
            continue;
        }
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
            // The count is optional: the next argument is only taken when it is one.
            let n = it.next_if(|v| v.parse::<u64>().is_ok());
            a.fill_cases = Some(n.and_then(|v| v.parse().ok()).unwrap_or(u64::MAX));
            continue;
        }
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--people", Some(v)) => a.people = v as usize,
            ("--requests", Some(v)) => a.requests = v as usize,
            ("--clients", Some(v)) => a.clients = v as usize,
            ("--seconds", Some(v)) => a.seconds = v,
            ("--fill-requests", Some(v)) => a.fill_requests = Some(v as usize),
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!(
        "usage: lantern-bench [--keep DIR] [--postgres URL] [--people N] [--fill-cases [N]] [--fill-requests N] \
         [--cases | --tracing [--requests N] | --mix registry|scale] [--clients N] [--seconds N]"
    );
    std::process::exit(2);
}

/// The operations each client cycles through.
#[derive(Clone, Copy, Debug)]
enum Mix {
    /// Issue 2's working day at a registration desk, per 13 operations:
    /// 4 list pages, 4 name searches, 4 person views, 1 registration.
    Registry,
    /// Issue 3's mix across the product, per 10 operations: 3 name
    /// searches, 1 list page, 4 person views, 1 edit (form and save) as a
    /// registrar, 1 tracing request filed (matched on filing) as a
    /// caseworker.
    Scale,
}

impl Mix {
    /// The `i`-th operation of a client.
    fn op(self, i: usize) -> Op {
        match self {
            Mix::Registry => match i % 13 {
                0..=3 => Op::List,
                4..=7 => Op::Search,
                8..=11 => Op::View,
                _ => Op::Register,
            },
            Mix::Scale => match i % 10 {
                0..=2 => Op::Search,
                3 => Op::List,
                4..=7 => Op::View,
                8 => Op::Edit,
                _ => Op::File,
            },
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    List,
    Search,
    View,
    Register,
    Edit,
    File,
}

const OPS: [Op; 6] = [Op::List, Op::Search, Op::View, Op::Register, Op::Edit, Op::File];

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

/// The registry the load runs against, prepared before the async runtime
/// starts (the PostgreSQL client blocks, and may not run on it).
struct Prepared {
    store: Arc<dyn Store>,
    vault: lantern_vault::objects::ObjectVault,
    /// Live people.
    people: u64,
}

/// The bench users' password (test data: the bench's own registry).
const PASSWORD: &str = "bench passphrase long enough";

/// People sampled for views, edits and searches.
const SAMPLE: usize = 5_000;

fn prepare(a: &Args, dir: &std::path::Path, clock: &dyn Clock) -> Prepared {
    lantern_app::prepare_data_dir(dir).expect("data dir");
    let (keys, _) = lantern_app::load_or_create_keys(dir).expect("keys");
    let keys = Arc::new(keys);
    let vault = lantern_vault::objects::ObjectVault::open(
        &lantern_vault::objects::Location::Local(dir.join("objects")),
        keys.clone(),
    )
    .expect("vault");
    let store: Arc<dyn Store> = match &a.postgres {
        Some(url) => Arc::new(lantern_store_postgres::open(url, keys).expect("store")),
        None => Arc::new(lantern_store_sqlite::open(&dir.join("lantern.db"), keys).expect("store")),
    };
    let started = Instant::now();
    let existing = store.stats().expect("stats").people as usize;
    if existing < a.people {
        // A kept folder whose load was cut short is topped up (households
        // are written whole, so what is there is consistent), with other
        // made-up people than the first load's.
        let ctx = AuditContext::system("bench", clock.now());
        let summary = lantern_app::demo::load(store.as_ref(), a.people - existing, 11 + existing as u64, &ctx)
            .expect("population");
        println!(
            "population: {} people in {} households, {} links, loaded in {:.1} s ({existing} there before)",
            summary.people,
            summary.households,
            summary.links,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("population: {existing} people already in {}", dir.display());
    }
    for (name, role) in [("bench", Role::Registrar), ("bench-caseworker", Role::Caseworker)] {
        if store.user_credentials(name).expect("user").is_none() {
            store
                .create_user(
                    NewUser {
                        username: Username::parse("u", name).expect("name"),
                        display_name: name.into(),
                        role,
                        language: UiLanguage::En,
                        password_hash: lantern_web::security::hash_password(PASSWORD).expect("hash"),
                        must_change_password: false,
                    },
                    &AuditContext::system("bench", clock.now()),
                )
                .expect("bench user");
        }
    }
    if let Some(target) = a.fill_cases {
        let t = Instant::now();
        let opened = fill_cases(store.as_ref(), clock, target);
        println!("opened {opened} more cases in {:.1} s", t.elapsed().as_secs_f64());
    }
    if let Some(target) = a.fill_requests {
        let t = Instant::now();
        let filed = fill_requests(store.as_ref(), clock, target);
        println!(
            "filed {filed} more tracing requests in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    Prepared {
        people: store.stats().expect("stats").people,
        store,
        vault,
    }
}

/// People spread evenly over the registry, taken from the server's
/// matching index (it holds every live person already: reading them all
/// again costs 16 s at 1,000,000), with their primary names.
fn sample(state: &AppState, store: &dyn Store) -> (Vec<String>, Vec<String>) {
    let ids: Vec<lantern_domain::person::PersonId> = {
        let m = state.matcher.read().unwrap_or_else(|e| e.into_inner());
        let live = m.ids().count();
        m.ids()
            .step_by((live / SAMPLE).max(1))
            .take(SAMPLE)
            .filter_map(|id| lantern_domain::person::PersonId::parse("id", id).ok())
            .collect()
    };
    let people = store.person_summaries(&ids).expect("sampled people");
    (
        people.iter().map(|p| p.id.to_string()).collect(),
        people
            .iter()
            .map(|p| p.primary_name.text.as_str().to_string())
            .collect(),
    )
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
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let prepared = {
        let (c, args) = (clock.clone(), a.clone());
        tokio::task::spawn_blocking(move || prepare(&args, &dir, c.as_ref()))
            .await
            .expect("join")
    };
    let Prepared { store, vault, people } = prepared;
    let (s, c) = (store.clone(), clock.clone());
    let state = tokio::task::spawn_blocking(move || AppState::new(s, vault, c, WebConfig::default()))
        .await
        .expect("join")
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let sampled = {
        let (state, s) = (state.clone(), store.clone());
        tokio::task::spawn_blocking(move || sample(&state, s.as_ref()))
    };
    tokio::spawn(lantern_app::serve(listener, state, std::future::pending()));
    if a.cases {
        cases_bench(store, clock, &base, PASSWORD, people).await;
        return;
    }
    // People to view and edit, and the primary names of some of them
    // (searches for one person).
    let (ids, names) = sampled.await.expect("join");

    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let ids = Arc::new(ids);
    let names = Arc::new(names);
    let mut tasks = Vec::new();
    for client_no in 0..a.clients {
        let (base, ids, names, mix, clients) = (base.clone(), ids.clone(), names.clone(), a.mix, a.clients);
        tasks.push(tokio::spawn(async move {
            let registrar = logged_in_as(&base, "bench", PASSWORD).await;
            let caseworker = logged_in_as(&base, "bench-caseworker", PASSWORD).await;
            let page = registrar.get(format!("{base}/people/new")).send().await.expect("form");
            let csrf = csrf_in(&page.text().await.expect("body")).expect("csrf");
            let page = caseworker
                .get(format!("{base}/tracing/new"))
                .send()
                .await
                .expect("form");
            let tracing_csrf = csrf_in(&page.text().await.expect("body")).expect("csrf");
            // Each client edits its own people, so two clients never edit
            // the same record at once (that would be a conflict, not load).
            let mine: Vec<&String> = ids.iter().skip(client_no).step_by(clients).collect();
            let newcomers = lantern_app::demo::synthetic_names(1_000 + client_no as u64, 500);
            // (operation, time, answered as expected, a search by a full name)
            let mut samples: Vec<(Op, Duration, bool, bool)> = Vec::new();
            let mut i = client_no;
            while Instant::now() < deadline {
                let op = mix.op(i);
                let full_name = op == Op::Search && i % 2 == 1;
                let t = Instant::now();
                let ok = match op {
                    Op::List => {
                        ok(
                            registrar.get(format!("{base}/people?page={}", 1 + i % 50)).send().await,
                            200,
                        )
                        .await
                    }
                    Op::Search => {
                        // Alternately a common word and one person's full name.
                        let q = if full_name {
                            names[i % names.len()].as_str()
                        } else {
                            SEARCHES[(i / 2) % SEARCHES.len()]
                        };
                        ok(
                            registrar.get(format!("{base}/people")).query(&[("q", q)]).send().await,
                            200,
                        )
                        .await
                    }
                    Op::View => {
                        ok(
                            registrar
                                .get(format!("{base}/people/{}", ids[i % ids.len()]))
                                .send()
                                .await,
                            200,
                        )
                        .await
                    }
                    Op::Register => {
                        // New people with names like everyone else's; when
                        // the duplicate check warns about namesakes, the
                        // registrar confirms, as at the desk (both posts timed).
                        let name = &newcomers[(i / 13) % newcomers.len()];
                        let born = (1950 + i % 50).to_string();
                        let mut form = vec![
                            ("csrf_token", csrf.as_str()),
                            ("names[0].text", name[0].as_str()),
                            ("names[1].text", name[1].as_str()),
                            ("birth_date", born.as_str()),
                        ];
                        let url = format!("{base}/people");
                        match registrar.post(&url).form(&form).send().await {
                            Ok(r) if r.status() == 200 => {
                                let warned = r.text().await.is_ok_and(|html| html.contains("id=\"duplicates\""));
                                form.push(("confirmed_new", "yes"));
                                warned && ok(registrar.post(&url).form(&form).send().await, 303).await
                            }
                            other => ok(other, 303).await,
                        }
                    }
                    Op::Edit => match mine.get((i / 10) % mine.len().max(1)) {
                        Some(id) => edit(&registrar, &base, id, i).await,
                        None => false,
                    },
                    Op::File => {
                        let sought = names[(i * 7 + 3) % names.len()].as_str();
                        let form = [
                            ("csrf_token", tracing_csrf.as_str()),
                            ("kind", "find"),
                            ("channel", "gate"),
                            ("names", sought),
                            ("birth_date", "1975"),
                            ("requester_name", "Bench Requester"),
                            ("relationship", "sister"),
                            ("contact", "+00 555 0100"),
                        ];
                        ok(caseworker.post(format!("{base}/tracing")).form(&form).send().await, 200).await
                    }
                };
                samples.push((op, t.elapsed(), ok, full_name));
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
        "load ({:?} mix): {} clients for {} s against {} people on {} (server and clients in one process, {} cores)",
        a.mix,
        a.clients,
        a.seconds,
        people,
        if a.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!(
        "{:<10} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "operation", "count", "errors", "median ms", "p99 ms", "per s"
    );
    for op in OPS {
        let mut d: Vec<Duration> = all.iter().filter(|s| s.0 == op).map(|s| s.1).collect();
        if d.is_empty() {
            continue;
        }
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
        if op == Op::Search {
            // The two halves of the searches apart: a full name also
            // lists similar names from the matching engine.
            for (label, full) in [("  one word", false), ("  full name", true)] {
                let mut d: Vec<Duration> = all.iter().filter(|s| s.0 == op && s.3 == full).map(|s| s.1).collect();
                d.sort();
                if !d.is_empty() {
                    println!(
                        "{label:<10} {:>8} {:>8} {:>10.2} {:>10.2} {:>10.1}",
                        d.len(),
                        "",
                        percentile(&d, 0.5).as_secs_f64() * 1000.0,
                        percentile(&d, 0.99).as_secs_f64() * 1000.0,
                        d.len() as f64 / a.seconds as f64
                    );
                }
            }
        }
    }
    println!(
        "all: {:.1} operations per s; peak resident memory of the process: {}",
        all.len() as f64 / a.seconds as f64,
        peak_memory()
    );
}

/// Name searches: common and rare words, Latin and Persian script.
const SEARCHES: [&str; 15] = [
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

/// Whether a request got through with the expected status (its body read).
async fn ok(response: reqwest::Result<reqwest::Response>, expected: u16) -> bool {
    match response {
        Ok(r) => {
            let status = r.status().as_u16();
            r.bytes().await.is_ok() && status == expected
        }
        Err(_) => false,
    }
}

/// One edit as a registrar makes it: the form (with the protected fields,
/// an audited read), then the save, with a changed note.
async fn edit(client: &reqwest::Client, base: &str, id: &str, i: usize) -> bool {
    let path = format!("/people/{id}/edit");
    let Ok(page) = client.get(format!("{base}{path}")).send().await else {
        return false;
    };
    let Ok(html) = page.text().await else { return false };
    let Some(mut fields) = lantern_testkit::form_fields(&html, &path) else {
        return false;
    };
    for (name, value) in &mut fields {
        if name == "notes" {
            *value = format!("Checked at the bench, round {i}.");
        }
    }
    ok(client.post(format!("{base}{path}")).form(&fields).send().await, 303).await
}

/// The process's peak resident memory, from /proc (Linux).
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Logs a client in as one of the bench users.
async fn logged_in_as(base: &str, username: &str, password: &str) -> reqwest::Client {
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
            ("username", username),
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
    let client = logged_in_as(base, "bench", password).await;
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
    let mut ids = Vec::new();
    store.match_people(&mut |id, _| ids.push(id)).expect("people");
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

/// Files tracing requests straight into the store until `target` are open
/// (`--fill-requests N`): the open requests every edit is matched against.
/// Names sought are synthetic, one Latin spelling each, as at the gate.
fn fill_requests(store: &dyn Store, clock: &dyn Clock, target: usize) -> usize {
    let open = store.searching_requests().expect("requests").len();
    let missing = target.saturating_sub(open);
    let ctx = AuditContext::system("bench", clock.now());
    let names = lantern_app::demo::synthetic_names(2 + open as u64, missing);
    for (n, name) in names.iter().enumerate() {
        let request = lantern_store::NewTracingRequest {
            kind: lantern_domain::tracing::RequestKind::Find,
            channel: lantern_domain::tracing::Channel::Gate,
            requester: lantern_store::Requester {
                name: "Bench Requester".into(),
                relationship: "sibling".into(),
                contact: String::new(),
            },
            sought: lantern_store::SoughtPerson {
                names: vec![name[1].clone()],
                birth_date: Some(format!("{}", 1950 + n % 50)),
                ..Default::default()
            },
        };
        store.file_request(&request, "not used", &ctx).expect("request");
    }
    missing
}
