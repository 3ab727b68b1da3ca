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
    people: usize,
    clients: usize,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        keep: None,
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
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--people", Some(v)) => a.people = v as usize,
            ("--clients", Some(v)) => a.clients = v as usize,
            ("--seconds", Some(v)) => a.seconds = v,
            _ => {
                eprintln!("usage: lantern-bench [--keep DIR] [--people N] [--clients N] [--seconds N]");
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

#[tokio::main]
async fn main() {
    let a = args();
    // A kept folder is reused: the population is loaded only once.
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = a.keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    lantern_app::prepare_data_dir(&dir).expect("data dir");
    let (keys, _) = lantern_app::load_or_create_keys(&dir).expect("keys");
    let store: Arc<dyn Store> =
        Arc::new(lantern_store_sqlite::open(&dir.join("lantern.db"), Arc::new(keys)).expect("store"));
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

    let state = AppState::new(store.clone(), clock.clone(), WebConfig::default()).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(lantern_app::serve(listener, state, std::future::pending()));

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
