//! Builds record-level evaluation sets and fits the field weights.
//!
//! ```sh
//! match-fit record-set --wikidata W.tsv --google G.txt --out DIR [--people N --found N --missing N --seed S --arabic P]
//! match-fit fit --wikidata W.fit.tsv --google G.fit.txt
//! match-fit bench --wikidata W.tsv --google G.txt [--people 1000000 --found N --missing N --threads 2]
//! match-fit fit-dedupe --wikidata W.fit.tsv --google G.fit.txt [--people N --copies N]
//! match-fit dedupe --wikidata W.tsv --google G.txt [--people 1000000 --copies N --threads 2]
//! ```
//!
//! `record-set` writes `registry.csv`, `queries.csv` and `truth.csv` in the
//! evaluation format (see [`lantern_matching::synth`]). `fit` builds a set
//! from the given (`*.fit`) name files, estimates `m` from the labelled
//! pairs (each query beside the person it is for) and fits the second-stage
//! calibration ([`lantern_matching::fields::COMBINE`]) by logistic
//! regression; it prints both as Rust constants to paste into
//! `crates/matching/src/fields.rs`. `bench` measures speed and memory on a
//! large made-up registry (see [`bench()`]). `fit-dedupe` fits
//! deduplication's second stage ([`lantern_matching::dedupe::COMBINE`]) on
//! a made-up registry with `--copies` second registrations; `dedupe`
//! measures deduplication's time, memory and quality on one (see
//! [`dedupe`]). A development tool: the tests
//! never run it, and it reads only the files it is given.

use std::collections::BTreeMap;
use std::f64::consts::LN_2;
use std::path::PathBuf;

use lantern_matching::fields::{log2_odds, Table, FIELDS, LEVELS};
use lantern_matching::{batch, synth};

struct Args {
    command: String,
    wikidata: PathBuf,
    google: PathBuf,
    out: PathBuf,
    people: usize,
    found: usize,
    missing: usize,
    seed: u64,
    arabic: f64,
    threads: usize,
    copies: Option<usize>,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        command: it
            .next()
            .ok_or("a command: record-set, fit, bench, fit-dedupe or dedupe")?,
        wikidata: PathBuf::new(),
        google: PathBuf::new(),
        out: PathBuf::new(),
        people: 20_000,
        found: 2_000,
        missing: 1_000,
        seed: 1,
        arabic: 0.5,
        threads: 2,
        copies: None,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag}: a value is needed"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: a number is needed"))
        };
        match flag.as_str() {
            "--wikidata" => a.wikidata = value.clone().into(),
            "--google" => a.google = value.clone().into(),
            "--out" => a.out = value.clone().into(),
            "--people" => a.people = number()?,
            "--found" => a.found = number()?,
            "--missing" => a.missing = number()?,
            "--seed" => a.seed = number()? as u64,
            "--threads" => a.threads = number()?.max(1),
            "--copies" => a.copies = Some(number()?),
            "--arabic" => {
                a.arabic = value
                    .parse()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or("--arabic: a share from 0 to 1 is needed")?
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("match-fit: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let a = args()?;
    let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let forms = synth::name_forms(&read(&a.wikidata)?, &read(&a.google)?);
    if forms.len() < 100 {
        return Err(format!("only {} names read: give both name files", forms.len()));
    }
    // A tenth of the people registered twice, unless told otherwise.
    let copies = a.copies.unwrap_or(a.people / 10);
    match a.command.as_str() {
        "fit-dedupe" => {
            fit_dedupe(&forms, a.people, copies, a.seed, a.threads);
            return Ok(());
        }
        "dedupe" => {
            dedupe(&forms, a.people, copies, a.seed, a.threads);
            return Ok(());
        }
        _ => {}
    }
    let set = synth::build_with(&forms, a.people, a.found, a.missing, a.seed, a.arabic);
    match a.command.as_str() {
        "record-set" => write_set(&set, &a.out),
        "bench" if set.queries.is_empty() => Err("bench: --found and --missing give no queries".into()),
        "bench" => {
            bench(&set, &a);
            Ok(())
        }
        "fit" => {
            fit(&set);
            Ok(())
        }
        other => Err(format!("unknown command {other}")),
    }
}

fn write_set(set: &synth::Set, out: &std::path::Path) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", out.display());
    std::fs::create_dir_all(out).map_err(io)?;
    let file = |name: &str| std::fs::File::create(out.join(name)).map_err(io);
    batch::write_rows(&set.registry, file("registry.csv")?).map_err(io)?;
    batch::write_rows(&set.queries, file("queries.csv")?).map_err(io)?;
    let mut w = csv::Writer::from_writer(file("truth.csv")?);
    w.write_record(["query_id", "person_id"]).map_err(|e| e.to_string())?;
    for (q, p) in &set.truth {
        if let Some(p) = p {
            w.write_record([q, p]).map_err(|e| e.to_string())?;
        }
    }
    w.flush().map_err(io)?;
    println!(
        "{}: {} registered, {} queries",
        out.display(),
        set.registry.len(),
        set.queries.len()
    );
    Ok(())
}

fn fit(set: &synth::Set) {
    let mut m = batch::matcher(&set.registry);
    let truth: BTreeMap<&str, &str> = set
        .truth
        .iter()
        .filter_map(|(q, p)| Some((q.as_str(), p.as_deref()?)))
        .collect();
    // m from labelled pairs: each query beside the person it is for.
    let mut counts = [[0.5f64; LEVELS]; 6];
    for q in &set.queries {
        let Some(p) = truth.get(q.id.as_str()) else { continue };
        for (f, l) in m.levels_of(&q.details, p).unwrap_or([None; 6]).iter().enumerate() {
            if let Some(l) = l {
                counts[f][*l as usize] += 1.0;
            }
        }
    }
    let mut fitted: Table = [[0.0; LEVELS]; 6];
    for (f, field) in FIELDS.iter().enumerate() {
        let n = field.levels().len();
        let total: f64 = counts[f][..n].iter().sum();
        for l in 0..n {
            fitted[f][l] = counts[f][l] / total;
        }
    }
    m.set_m(fitted);
    // The second stage: the label on (log2 odds of the names, weight, 1).
    let mut rows = Vec::new();
    for q in &set.queries {
        let names = q.name_refs();
        for c in m.search_with(&names, &q.details, 10) {
            let y = truth.get(q.id.as_str()) == Some(&c.id.as_str());
            rows.push((
                [
                    log2_odds(c.names),
                    c.weight - c.against,
                    c.against,
                    1.0,
                    f64::from(c.namesakes).ln_1p() / LN_2,
                ],
                y,
            ));
        }
    }
    let w = logistic(&rows);
    println!("// {} labelled pairs", rows.len());
    println!("pub const DEFAULT_M: Table = [");
    for row in &fitted {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.4}")).collect();
        println!("    [{}],", cells.join(", "));
    }
    println!("];");
    let c: Vec<String> = w.iter().map(|v| format!("{:.4}", v / LN_2)).collect();
    println!("pub const COMBINE: [f64; 5] = [{}];", c.join(", "));
}

/// Speed and memory on `set` (issue 4's targets at 1,000,000 people:
/// index build ≤ 60 s, one query p95 ≤ 20 ms on one core, 1,000 queries/s
/// on two, resident memory ≤ 2 GiB). Prints the
/// index build time; each query's latency on one thread (median, p95, p99);
/// the queries per second on `--threads` threads; the quality of the
/// answers (so a faster engine that finds less shows it); and the
/// process's resident memory before the index is built, after the run and
/// at its peak. Deduplication has its own command ([`dedupe`]).
fn bench(set: &synth::Set, a: &Args) {
    use std::time::Instant;
    const TOP: usize = 10;
    println!(
        "{} registered, {} queries ({} for registered people), {} threads",
        set.registry.len(),
        set.queries.len(),
        set.truth.iter().filter(|(_, p)| p.is_some()).count(),
        a.threads
    );
    // The made-up rows stay in memory beside the index: the index's own
    // share is the growth from here.
    println!("resident memory before the index: {}", memory("VmRSS:"));
    let start = Instant::now();
    let m = batch::matcher(&set.registry);
    let _ = m.u();
    println!("index build: {:.1} s", start.elapsed().as_secs_f64());

    let mut ranked = BTreeMap::new();
    let mut times = Vec::with_capacity(set.queries.len());
    for q in &set.queries {
        let t = Instant::now();
        let found = m.search_with(&q.name_refs(), &q.details, TOP);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        ranked.insert(q.id.clone(), found.into_iter().map(|c| (c.id, c.probability)).collect());
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "one query, one thread: median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.0} queries/s)",
        at(0.5),
        at(0.95),
        at(0.99),
        times[times.len() - 1],
        times.len() as f64 / (times.iter().sum::<f64>() / 1e3)
    );
    let q = synth::evaluate(&set.truth, &ranked);
    println!(
        "quality: recall@1 {:.3}, recall@10 {:.3}, precision at p >= 0.5 {:.3}, false alarms {:.0} per 1,000, ECE {:.3}",
        q.recall_at_1, q.recall_at_10, q.precision, q.false_alarms, q.ece
    );

    // Why the missed were missed: compared but ranked below ten, or never
    // compared field by field (not proposed by the blocking index, or
    // beyond the MAX_FIELDS_SCORED best names: asked for MAX_SCORED, a
    // search returns every candidate it compared).
    let (mut ranked_lower, mut not_compared) = (0, 0);
    for (q, (_, truth)) in set.queries.iter().zip(&set.truth) {
        let Some(truth) = truth else { continue };
        if ranked[&q.id].iter().any(|(id, _)| id == truth) {
            continue;
        }
        let all = m.search_with(&q.name_refs(), &q.details, lantern_matching::MAX_SCORED);
        if all.iter().any(|c| &c.id == truth) {
            ranked_lower += 1;
        } else {
            not_compared += 1;
            if not_compared <= 8 {
                let person = set
                    .registry
                    .iter()
                    .find(|r| &r.id == truth)
                    .map(|r| r.names.join(" | "));
                println!(
                    "  not compared: {} for {}",
                    q.names.join(" | "),
                    person.unwrap_or_default()
                );
            }
        }
    }
    println!("registered people missed in the top {TOP}: {ranked_lower} ranked lower, {not_compared} never compared");

    let start = Instant::now();
    let chunk = set.queries.len().div_ceil(a.threads);
    std::thread::scope(|s| {
        for part in set.queries.chunks(chunk.max(1)) {
            let m = &m;
            s.spawn(move || {
                for q in part {
                    std::hint::black_box(m.search_with(&q.name_refs(), &q.details, TOP));
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} threads: {:.0} queries/s",
        a.threads,
        set.queries.len() as f64 / secs
    );

    println!(
        "resident memory after: {}, peak: {}",
        memory("VmRSS:"),
        memory("VmHWM:")
    );
}

/// Fits deduplication's second stage: every pair the blocks propose in a
/// made-up registry of `people` with `copies` second registrations, labelled
/// by whether it is one person, by logistic regression on the features of
/// [`lantern_matching::fields::COMBINE`]. Prints the coefficients as a
/// Rust constant to paste into `crates/matching/src/dedupe.rs`.
fn fit_dedupe(forms: &[synth::NameForm], people: usize, copies: usize, seed: u64, threads: usize) {
    let (rows, truth) = synth::build_duplicates(forms, people, copies, seed);
    let m = batch::matcher(&rows);
    let proposed = lantern_matching::dedupe::proposals(&m, threads);
    let rows: Vec<([f64; N], bool)> = proposed
        .iter()
        .map(|(a, b, e)| {
            (
                [
                    log2_odds(e.names),
                    e.agreement,
                    e.disagreement,
                    1.0,
                    f64::from(e.namesakes).ln_1p() / LN_2,
                ],
                truth.contains_key(*a) && truth.get(*a) == truth.get(*b),
            )
        })
        .collect();
    let w = logistic(&rows);
    println!(
        "// {} proposed pairs, {} of one person",
        rows.len(),
        rows.iter().filter(|(_, y)| *y).count()
    );
    let c: Vec<String> = w.iter().map(|v| format!("{:.4}", v / LN_2)).collect();
    println!("pub const COMBINE: [f64; 5] = [{}];", c.join(", "));
}

/// Deduplication on a made-up registry of `people` with `copies` second
/// registrations (issue 4's target at 1,000,000 people: 2 minutes on two
/// cores): prints the time to build the index and to deduplicate, the
/// clusters and pairs to review found, their pairwise precision and recall
/// against the truth, and the resident memory at the end and at its peak.
fn dedupe(forms: &[synth::NameForm], people: usize, copies: usize, seed: u64, threads: usize) {
    use std::time::Instant;
    println!("{people} people, {copies} registered twice, {threads} threads");
    // Each row goes into the index as it is made, as `lantern match dedupe`
    // reads its file: the rows are never held all at once. The copies'
    // true people are kept to build the truth after the deduplication.
    let mut m = lantern_matching::Matcher::new();
    let mut copied = Vec::with_capacity(copies);
    let mut adding = std::time::Duration::ZERO;
    synth::each_duplicate(forms, people, copies, seed, |row, person| {
        if row.id.starts_with('d') {
            copied.push(person);
        }
        let start = Instant::now();
        m.add(row.record());
        adding += start.elapsed();
    });
    println!(
        "index build: {:.1} s; resident memory: {}",
        adding.as_secs_f64(),
        memory("VmRSS:")
    );
    let start = Instant::now();
    let out = lantern_matching::dedupe::dedupe(&m, threads);
    println!("deduplication: {:.1} s", start.elapsed().as_secs_f64());
    let peak = memory("VmHWM:");
    let truth: BTreeMap<String, String> = (0..people)
        .map(|i| (format!("p{i}"), format!("g{i}")))
        .chain(
            copied
                .iter()
                .enumerate()
                .map(|(k, i)| (format!("d{k}"), format!("g{i}"))),
        )
        .collect();
    let (precision, recall) = lantern_matching::dedupe::pairwise_quality(&out.clusters, &truth);
    println!(
        "{} clusters, {} pairs to review; pairwise precision {precision:.3}, recall {recall:.3}",
        out.clusters.len(),
        out.review.len()
    );
    println!("resident memory at its peak during the deduplication: {peak}");
}

/// A memory figure of this process from `/proc/self/status` (`VmRSS:`
/// now resident, `VmHWM:` the peak).
fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Logistic regression by Newton's method (natural-log odds).
fn logistic(rows: &[([f64; N], bool)]) -> [f64; N] {
    let mut w = [0.0f64; N];
    for _ in 0..50 {
        let mut g = [0.0; N];
        let mut h = [[0.0; N]; N];
        for (x, y) in rows {
            let z: f64 = (0..N).map(|i| w[i] * x[i]).sum();
            let p = 1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp());
            for i in 0..N {
                g[i] += (p - f64::from(u8::from(*y))) * x[i];
                for j in 0..N {
                    h[i][j] += p * (1.0 - p) * x[i] * x[j] + if i == j { 1e-6 } else { 0.0 };
                }
            }
        }
        let step = solve(h, g);
        for i in 0..N {
            w[i] -= step[i];
        }
    }
    w
}

/// Features of the second stage.
const N: usize = 5;

/// Solves an N×N system by Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; N]; N], mut b: [f64; N]) -> [f64; N] {
    for c in 0..N {
        let p = (c..N)
            .max_by(|i, j| a[*i][c].abs().total_cmp(&a[*j][c].abs()))
            .unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..N {
            let f = a[r][c] / a[c][c];
            let pivot = a[c];
            for (x, p) in a[r].iter_mut().zip(pivot).skip(c) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; N];
    for r in (0..N).rev() {
        x[r] = (b[r] - (r + 1..N).map(|k| a[r][k] * x[k]).sum::<f64>()) / a[r][r];
    }
    x
}
