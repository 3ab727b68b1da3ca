//! Search over synthetic testimonies: builds an index of `N` (default
//! 100,000) narratives of about 150 words each, in Persian script with
//! Latin-script passages and names in both scripts, then runs 2,000
//! queries of one to three words (Persian script, Latin spellings of
//! Persian names, English words) with the scope of a documenter and of a
//! caseworker, and prints the latency percentiles.
//!
//! `cargo run --release -p lantern-search --example search-bench [N]`

use std::time::Instant;

use lantern_search::{Access, Document, Kind, Scope, SearchIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PERSIAN: &[&str] = &[
    "ما",
    "را",
    "در",
    "به",
    "از",
    "که",
    "آن",
    "سال",
    "شب",
    "روز",
    "بازداشت",
    "ساختمان",
    "اردوگاه",
    "خانواده",
    "اجازه",
    "تماس",
    "نداشتیم",
    "بردند",
    "نگهبان",
    "زندان",
    "اتاق",
    "هفته",
    "ماه",
    "برادرم",
    "خواهرم",
    "پدرم",
    "مادرم",
    "دوستم",
    "کتک",
    "زدند",
    "تهدید",
    "کردند",
    "نامه",
    "پیام",
    "ملاقات",
    "بیمارستان",
    "دارو",
    "غذا",
    "آب",
    "سرما",
    "گرما",
    "بازجویی",
    "پرسیدند",
    "گفتند",
    "نوشتند",
    "امضا",
    "مدرک",
    "عکس",
    "جدا",
    "کار",
    "اجباری",
    "ناپدید",
    "شد",
    "دیدم",
    "شنیدم",
    "ترسیدم",
    "فرار",
    "مرز",
    "جاده",
    "اتوبوس",
    "صبح",
    "عصر",
];
const ENGLISH: &[&str] = &[
    "detained",
    "building",
    "camp",
    "guard",
    "room",
    "family",
    "letter",
    "visit",
    "hospital",
    "interrogation",
    "signed",
    "document",
    "photo",
    "separated",
    "labour",
    "disappeared",
    "border",
    "morning",
    "night",
    "week",
];
const GIVEN: &[(&str, &str)] = &[
    ("مسعود", "Masoud"),
    ("محمد", "Mohammad"),
    ("علی", "Ali"),
    ("حسین", "Hossein"),
    ("رضا", "Reza"),
    ("زهرا", "Zahra"),
    ("فاطمه", "Fatemeh"),
    ("مریم", "Maryam"),
    ("جواد", "Javad"),
    ("مهدی", "Mehdi"),
    ("کریم", "Karim"),
    ("سعید", "Saeed"),
    ("نرگس", "Narges"),
    ("لیلا", "Leila"),
    ("امیر", "Amir"),
];
const FAMILY: &[(&str, &str)] = &[
    ("حسینی", "Hosseini"),
    ("رضایی", "Rezaei"),
    ("کریمی", "Karimi"),
    ("احمدی", "Ahmadi"),
    ("موسوی", "Mousavi"),
    ("جعفری", "Jafari"),
    ("قاسمی", "Ghasemi"),
    ("صادقی", "Sadeghi"),
    ("رحیمی", "Rahimi"),
    ("نوری", "Nouri"),
    ("طاهری", "Taheri"),
    ("شریفی", "Sharifi"),
    ("بهرامی", "Bahrami"),
    ("یوسفی", "Yousefi"),
    ("مرادی", "Moradi"),
];

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.random_range(0..v.len())]
}

fn narrative(rng: &mut StdRng) -> String {
    let mut words = Vec::with_capacity(160);
    for _ in 0..150 {
        let r: f64 = rng.random();
        let w = if r < 0.8 {
            pick(rng, PERSIAN).to_string()
        } else if r < 0.9 {
            pick(rng, ENGLISH).to_string()
        } else if r < 0.95 {
            pick(rng, GIVEN).0.to_string()
        } else {
            pick(rng, FAMILY).0.to_string()
        };
        words.push(w);
    }
    words.join(" ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut rng = StdRng::seed_from_u64(7);
    let index = SearchIndex::new().expect("index");
    let started = Instant::now();
    let mut batch = Vec::new();
    for i in 0..n {
        let (fa, _) = pick(&mut rng, GIVEN);
        let (fam, _) = pick(&mut rng, FAMILY);
        batch.push(Document {
            kind: Kind::Testimony,
            id: format!("t{i}"),
            open: vec![narrative(&mut rng), format!("رویداد {}", pick(&mut rng, PERSIAN))],
            restricted: vec![format!("{fa} {fam}")],
        });
        if batch.len() == 10_000 {
            index.put(std::mem::take(&mut batch)).expect("put");
        }
    }
    index.put(batch).expect("put");
    let build = started.elapsed();
    println!(
        "indexed {} testimonies in {:.1} s ({:.0} per s)",
        index.len(),
        build.as_secs_f64(),
        n as f64 / build.as_secs_f64()
    );
    let mut queries = Vec::new();
    for i in 0..2_000 {
        let q = match i % 5 {
            0 => pick(&mut rng, PERSIAN).to_string(),
            1 => format!("{} {}", pick(&mut rng, PERSIAN), pick(&mut rng, PERSIAN)),
            2 => pick(&mut rng, GIVEN).1.to_string(),
            3 => format!("{} {}", pick(&mut rng, GIVEN).1, pick(&mut rng, FAMILY).1),
            _ => format!("{} {}", pick(&mut rng, ENGLISH), pick(&mut rng, FAMILY).0),
        };
        queries.push(q);
    }
    for (who, scope) in [
        (
            "documenter (open and restricted parts)",
            Scope {
                testimonies: Access::All,
                evidence: Access::All,
            },
        ),
        (
            "caseworker (open parts)",
            Scope {
                testimonies: Access::Open,
                evidence: Access::None,
            },
        ),
    ] {
        let mut times = Vec::with_capacity(queries.len());
        let mut found = 0usize;
        for q in &queries {
            let t = Instant::now();
            let hits = index.search(q, scope, 20).expect("search");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found += usize::from(!hits.is_empty());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{who}: {} queries, {} with results; median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            times.len(),
            found,
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
}
