//! A synthetic demo population: a few thousand residents of transit sites,
//! in households, with family links, named in Persian and Arabic script and
//! in the varied Latin spellings the field actually sees.
//!
//! Everything here is invented. The names are common given names and
//! family names of the region, combined at random; no record describes a
//! real person.

use lantern_domain::family::{FamilyLink, LinkKind};
use lantern_domain::person::{NameInput, PersonDraft, PersonId, PersonInput};
use lantern_store::{AuditContext, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use time::Date;

/// A name in Arabic script and the Latin spellings seen for it.
struct Name {
    arabic: &'static str,
    latin: &'static [&'static str],
}

const fn n(arabic: &'static str, latin: &'static [&'static str]) -> Name {
    Name { arabic, latin }
}

const MALE: &[Name] = &[
    n("محمد", &["Mohammad", "Muhammad", "Mohammed", "Mohamad"]),
    n("علی", &["Ali", "Aly"]),
    n("حسین", &["Hossein", "Hosein", "Hussein", "Husayn"]),
    n("رضا", &["Reza", "Rida"]),
    n("مهدی", &["Mehdi", "Mahdi"]),
    n("حسن", &["Hassan", "Hasan"]),
    n("مسعود", &["Masoud", "Massoud", "Mas'ud", "Masud"]),
    n("احمد", &["Ahmad", "Ahmed"]),
    n("محمود", &["Mahmoud", "Mahmud"]),
    n("جواد", &["Javad", "Jawad"]),
    n("سعید", &["Saeed", "Saeid", "Said"]),
    n("مجید", &["Majid", "Madjid"]),
    n("امیر", &["Amir", "Ameer"]),
    n("حمید", &["Hamid", "Hameed"]),
    n("کریم", &["Karim", "Kareem"]),
    n("فرهاد", &["Farhad"]),
    n("بهروز", &["Behrouz", "Behruz"]),
    n("داوود", &["Davood", "Davoud", "Dawud"]),
    n("ابراهیم", &["Ebrahim", "Ibrahim"]),
    n("اسماعیل", &["Esmail", "Ismail", "Esmaeil"]),
    n("مصطفی", &["Mostafa", "Mustafa"]),
    n("عباس", &["Abbas"]),
    n("مرتضی", &["Morteza", "Murtaza"]),
    n("محمدرضا", &["Mohammadreza", "Mohammad Reza", "Mohammad-Reza"]),
    n("عبدالله", &["Abdollah", "Abdullah", "Abdolah"]),
    n("جعفر", &["Jafar", "Ja'far", "Jaafar"]),
    n("یوسف", &["Yousef", "Yusuf", "Youssef"]),
    n("ناصر", &["Naser", "Nasser"]),
    n("خالد", &["Khaled", "Khalid"]),
    n("حمزه", &["Hamzeh", "Hamza"]),
    n("امید", &["Omid"]),
    n("کاظم", &["Kazem", "Kadhim"]),
];

const FEMALE: &[Name] = &[
    n("فاطمه", &["Fatemeh", "Fatima", "Fatemah"]),
    n("زهرا", &["Zahra", "Zahraa"]),
    n("مریم", &["Maryam", "Mariam"]),
    n("معصومه", &["Masoumeh", "Masumeh", "Masoomeh"]),
    n("زینب", &["Zeinab", "Zaynab", "Zainab"]),
    n("لیلا", &["Leila", "Leyla", "Layla"]),
    n("سکینه", &["Sakineh", "Sakina"]),
    n("رقیه", &["Roghayeh", "Ruqayya", "Roqayyeh"]),
    n("شیرین", &["Shirin", "Shireen"]),
    n("پروین", &["Parvin", "Parveen"]),
    n("نسرین", &["Nasrin", "Nasreen"]),
    n("مهناز", &["Mahnaz"]),
    n("سهیلا", &["Soheila", "Sohaila"]),
    n("اعظم", &["Azam", "A'zam"]),
    n("فرشته", &["Fereshteh", "Fereshte"]),
    n("مینا", &["Mina"]),
    n("نرگس", &["Narges", "Nargis"]),
    n("الهام", &["Elham", "Ilham"]),
    n("سمیه", &["Somayeh", "Sumayya"]),
    n("خدیجه", &["Khadijeh", "Khadija"]),
    n("طاهره", &["Tahereh", "Tahira"]),
    n("مژگان", &["Mojgan", "Mozhgan"]),
    n("ناهید", &["Nahid", "Naheed"]),
    n("نور", &["Nour", "Noor", "Nur"]),
    n("آمنه", &["Ameneh", "Amina"]),
];

const FAMILY: &[Name] = &[
    n("حسینی", &["Hosseini", "Hoseyni", "Husseini", "Hosseiny"]),
    n("محمدی", &["Mohammadi", "Mohamadi", "Muhammadi"]),
    n("احمدی", &["Ahmadi", "Ahmady"]),
    n("رضایی", &["Rezaei", "Rezaee", "Rezai"]),
    n("مرادی", &["Moradi", "Muradi"]),
    n("کریمی", &["Karimi", "Kareemi"]),
    n("جعفری", &["Jafari", "Jaafari", "Ja'fari"]),
    n("قاسمی", &["Ghasemi", "Qasemi", "Kasemi"]),
    n("رحیمی", &["Rahimi", "Raheemi"]),
    n("موسوی", &["Mousavi", "Musavi", "Moosavi"]),
    n("هاشمی", &["Hashemi", "Hashimi"]),
    n("صادقی", &["Sadeghi", "Sadeqi"]),
    n("حیدری", &["Heidari", "Heydari", "Haidari"]),
    n("کاظمی", &["Kazemi", "Kadhimi"]),
    n("اکبری", &["Akbari"]),
    n("ابراهیمی", &["Ebrahimi", "Ibrahimi"]),
    n("زمانی", &["Zamani"]),
    n("نوری", &["Nouri", "Nuri", "Noori"]),
    n("باقری", &["Bagheri", "Baqeri"]),
    n("نجفی", &["Najafi"]),
    n("صالحی", &["Salehi", "Salihi"]),
    n("عزیزی", &["Azizi"]),
    n("رستمی", &["Rostami", "Rustami"]),
    n("توکلی", &["Tavakoli", "Tavakkoli"]),
    n("یزدانی", &["Yazdani"]),
    n("علوی", &["Alavi", "Alawi"]),
    n("عباسی", &["Abbasi"]),
    n("فرجی", &["Faraji"]),
    n("التمیمی", &["Al-Tamimi", "Altamimi", "al Tamimi"]),
    n("الجبوری", &["Al-Jabouri", "Al-Juburi", "Aljubouri"]),
    n("الربیعی", &["Al-Rubaie", "Al-Rubaiy", "Rubaie"]),
    n("شریفی", &["Sharifi", "Sharifee"]),
    n("کرمانی", &["Kermani", "Kirmani"]),
    n("تهرانی", &["Tehrani", "Tahrani"]),
    n("بختیاری", &["Bakhtiari", "Bakhtiyari"]),
];

const PLACES: &[&str] = &[
    "Tehran",
    "تهران",
    "Mashhad",
    "Shiraz",
    "شیراز",
    "Tabriz",
    "Isfahan",
    "اصفهان",
    "Ahvaz",
    "Kermanshah",
    "Basra",
    "البصرة",
    "Baghdad",
    "Karbala",
    "Sulaymaniyah",
    "Rasht",
    "Qom",
];
const NATIONALITIES: &[&str] = &["Iranian", "Iraqi", "ایرانی", "عراقی"];
const SITES: &[&str] = &["Transit Site North", "Transit Site South", "Reception Centre"];

/// What the demo loader made.
#[derive(Debug)]
pub struct DemoSummary {
    /// People registered.
    pub people: usize,
    /// Households created.
    pub households: usize,
    /// Family links recorded.
    pub links: usize,
    /// Status and resettlement cases opened.
    pub cases: usize,
}

/// Synthetic name sets for benchmarks, as the demo writes them: the name in
/// Persian script and one Latin spelling of it. Deterministic for a seed.
pub fn synthetic_names(seed: u64, count: usize) -> Vec<Vec<String>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let given = if rng.random_bool(0.5) {
                pick(&mut rng, MALE)
            } else {
                pick(&mut rng, FEMALE)
            };
            let family = pick(&mut rng, FAMILY);
            vec![
                format!("{} {}", given.arabic, family.arabic),
                format!("{} {}", pick(&mut rng, given.latin), pick(&mut rng, family.latin)),
            ]
        })
        .collect()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn birth_date(rng: &mut StdRng, year: i32) -> String {
    // Approximate ranges reach two years past the year: keep them in the past.
    match rng.random_range(0..10) {
        0..=3 => format!("{year}"),
        4..=5 => format!("{year}-{:02}", rng.random_range(1..=12)),
        6..=8 => format!("{year}-{:02}-{:02}", rng.random_range(1..=12), rng.random_range(1..=28)),
        _ => format!("{}..{}", year - 2, year + 2),
    }
}

/// One resident: Arabic-script primary name, one or two Latin spellings as
/// aliases, sometimes an organisational name.
fn resident(rng: &mut StdRng, given: &Name, family: &Name, father: &Name, year: i32, female: bool) -> PersonInput {
    let mut names = vec![NameInput {
        text: format!("{} {}", given.arabic, family.arabic),
        kind: "primary".into(),
        language: "fa".into(),
    }];
    let mut latin: Vec<&&str> = given.latin.iter().collect();
    latin.shuffle(rng);
    let spellings = rng.random_range(1..=2.min(latin.len()));
    for g in latin.iter().take(spellings) {
        names.push(NameInput {
            text: format!("{} {}", g, pick(rng, family.latin)),
            kind: "alias".into(),
            language: String::new(),
        });
    }
    if rng.random_range(0..8) == 0 {
        let other = if female { pick(rng, FEMALE) } else { pick(rng, MALE) };
        names.push(NameInput {
            text: other.latin[0].to_string(),
            kind: "organisational".into(),
            language: String::new(),
        });
    }
    PersonInput {
        names,
        father_name: father.arabic.to_string(),
        sex: if female { "female" } else { "male" }.into(),
        birth_date: birth_date(rng, year),
        birth_place: pick(rng, PLACES).to_string(),
        nationality: pick(rng, NATIONALITIES).to_string(),
        ..Default::default()
    }
}

/// Loads about `target` residents (never fewer) in households into an empty
/// store. Deterministic for a given seed.
pub fn load(store: &dyn Store, target: usize, seed: u64, ctx: &AuditContext) -> anyhow::Result<DemoSummary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today: Date = ctx.at.date();
    let existing = store.sites()?;
    let mut sites = Vec::new();
    for name in SITES {
        match existing.iter().find(|s| s.name == *name) {
            Some(site) => sites.push(site.clone()),
            None => sites.push(store.create_site(name, ctx)?),
        }
    }
    // Two interview rooms per site and a few interpreters, for scheduling.
    let rooms = store.rooms()?;
    for site in &sites {
        for name in ["Room 1", "Room 2"] {
            if !rooms.iter().any(|r| r.site_id == site.id && r.name == name) {
                store.create_room(site.id, name, ctx)?;
            }
        }
    }
    // A visiting room per site, open on weekday mornings, for family visits.
    let visit_rooms = store.visit_rooms()?;
    let mornings = lantern_domain::interview::windows(
        "hours",
        "mon 09:00-12:00; tue 09:00-12:00; wed 09:00-12:00; thu 09:00-12:00; sun 09:00-12:00",
    )?;
    for site in &sites {
        if !visit_rooms.iter().any(|r| r.site_id == site.id) {
            store.create_visit_room(site.id, "Family visiting room", 4, &mornings, ctx)?;
        }
    }
    if store.interpreters()?.is_empty() {
        for (name, langs) in INTERPRETERS {
            let langs: Vec<String> = langs.iter().map(|l| l.to_string()).collect();
            store.create_interpreter(name, &langs, ctx)?;
        }
    }
    let (mut people, mut households, mut links, mut cases) = (0, 0, 0, 0);
    while people < target {
        let family = pick(&mut rng, FAMILY);
        let site = pick(&mut rng, &sites);
        let label = format!("{} {}", family.latin[0], households + 1);
        let household = store.create_household(&label, Some(site.id), ctx)?;
        households += 1;
        let block = format!("{}", (b'A' + rng.random_range(0..8u8)) as char);
        let room = rng.random_range(1..=40).to_string();
        let status = match rng.random_range(0..20) {
            0 => "departed",
            1 => "transferred",
            2 => "unknown",
            _ => "resident",
        };
        // A couple, sometimes alone, with 0 to 5 children.
        let father_of_parents = pick(&mut rng, MALE);
        let head_year = rng.random_range(1950..=1990);
        let mut members: Vec<(PersonInput, &'static str)> = Vec::new();
        let head_female = rng.random_range(0..5) == 0;
        let head_given = if head_female {
            pick(&mut rng, FEMALE)
        } else {
            pick(&mut rng, MALE)
        };
        members.push((
            resident(&mut rng, head_given, family, father_of_parents, head_year, head_female),
            "head",
        ));
        let has_spouse = rng.random_range(0..4) != 0;
        if has_spouse {
            let spouse_family = pick(&mut rng, FAMILY);
            let spouse_father = pick(&mut rng, MALE);
            let spouse_given = if head_female {
                pick(&mut rng, MALE)
            } else {
                pick(&mut rng, FEMALE)
            };
            let year = (head_year + rng.random_range(-6..=6)).min(today.year() - 18);
            members.push((
                resident(&mut rng, spouse_given, spouse_family, spouse_father, year, !head_female),
                "spouse",
            ));
        }
        let children = rng.random_range(0..=5);
        for _ in 0..children {
            let female = rng.random_bool(0.5);
            let given = if female {
                pick(&mut rng, FEMALE)
            } else {
                pick(&mut rng, MALE)
            };
            let parent_given = if head_female { pick(&mut rng, MALE) } else { head_given };
            let year = (head_year + rng.random_range(18..=40)).min(today.year() - 3);
            members.push((resident(&mut rng, given, family, parent_given, year, female), "child"));
        }
        let mut drafts: Vec<PersonDraft> = Vec::new();
        for (mut input, _) in members.iter().cloned() {
            input.site_id = site.id.to_string();
            input.household_id = household.id.to_string();
            input.block = block.clone();
            input.room = room.clone();
            input.status = status.into();
            drafts.push(
                input
                    .parse(today)
                    .map_err(|e| anyhow::anyhow!("demo record refused: {e:?}"))?,
            );
        }
        let ids: Vec<PersonId> = store.import_people(&drafts, ctx)?;
        people += ids.len();
        let head = ids[0];
        if status == "resident" && rng.random_bool(0.6) {
            demo_case(store, &mut rng, head, ctx)?;
            cases += 1;
        }
        for (i, (_, role)) in members.iter().enumerate().skip(1) {
            let kind = if *role == "spouse" {
                LinkKind::Spouse
            } else {
                LinkKind::Child
            };
            store.add_link(
                FamilyLink {
                    person: head,
                    relative: ids[i],
                    kind,
                },
                ctx,
            )?;
            links += 1;
            if *role == "child" && has_spouse {
                store.add_link(
                    FamilyLink {
                        person: ids[1],
                        relative: ids[i],
                        kind: LinkKind::Child,
                    },
                    ctx,
                )?;
                links += 1;
            }
        }
    }
    Ok(DemoSummary {
        people,
        households,
        links,
        cases,
    })
}

/// Demo testimonies: synthetic accounts of three events, in Persian,
/// Arabic and English, by sealed witnesses under pseudonyms. Two accounts
/// are near-copies of each other and two come from the same witness, so
/// the corroboration view has something to show; one marks its victims
/// confidential. A recipient receives the dossiers of the demo's external
/// official, and three witnesses have agreed to share with it.
pub fn testimonies(
    store: &dyn Store,
    official: Option<lantern_domain::user::UserId>,
    ctx: &AuditContext,
) -> anyhow::Result<()> {
    use lantern_domain::testimony::{
        Act, ConfidentialPart, Degree, EventDraft, Involvement, RecipientKind, Reliability, ShareDecision,
        TestimonyDraft, Witness,
    };
    if store.testimonies(lantern_store::PageRequest::new(1, 1))?.total > 0 {
        return Ok(());
    }
    let today = ctx.at.date();
    let event = |title: &str, start: &str, end: &str, place: &str, exact: &str| -> anyhow::Result<_> {
        let draft = EventDraft::parse(title, start, end, place, exact, "", today)
            .map_err(|e| anyhow::anyhow!("demo event: {e:?}"))?;
        Ok(store.create_event(&draft, ctx)?)
    };
    let transfer = event(
        "Night transfer from block 4",
        "2019-07",
        "",
        "North camp",
        "Block 4, yard",
    )?;
    let visits = event("Family visits refused", "2015", "2017", "North camp", "")?;
    let letters = event("Letters returned unopened", "2016..2018", "", "East camp", "Gate house")?;
    let story = "ما را شبانه از بلوک چهار بیرون آوردند و تا صبح در حیاط نگه داشتند. کسی نگفت به کجا می‌رویم.";
    let accounts: [(&str, &str, &str, &str, _, Vec<ConfidentialPart>); 5] = [
        ("Witness A", "زهره کریمی", "fa", story, transfer.id, vec![]),
        (
            "Witness B",
            "مریم رحیمی",
            "fa",
            "ما را شبانه از بلوک چهار بیرون آوردند و تا صبح در حیاط نگه داشتند. کسی به ما نگفت به کجا می‌رویم.",
            transfer.id,
            vec![],
        ),
        (
            "Witness C",
            "Hassan Nouri",
            "en",
            "For two years my mother came to the gate every month and was sent away. We were never told why.",
            visits.id,
            vec![ConfidentialPart::Victims],
        ),
        (
            "Witness D",
            "علي الموسوي",
            "ar",
            "أرسلت رسائل إلى عائلتي كل شهر، وعادت كلها دون أن تُفتح.",
            letters.id,
            vec![],
        ),
        (
            "Witness A",
            "زهره کریمی",
            "fa",
            "سال‌ها بعد هم نامه‌هایم به خانواده نرسید؛ همه را پس فرستادند.",
            letters.id,
            vec![],
        ),
    ];
    let act_of = |event, i: usize| match i {
        0 | 1 => Act {
            event,
            act_type: "arbitrary_detention".into(),
            victims: vec!["The witness".into()],
            perpetrators: vec![Involvement {
                name: "Guard unit (not named)".into(),
                degree: Degree::CarriedOut,
            }],
            consequences: None,
        },
        2 => Act {
            event,
            act_type: "denial_of_family_contact".into(),
            victims: vec!["The witness's mother".into()],
            perpetrators: vec![],
            consequences: None,
        },
        _ => Act {
            event,
            act_type: "denial_of_family_contact".into(),
            victims: vec!["The witness".into()],
            perpetrators: vec![],
            consequences: None,
        },
    };
    let mut recorded = Vec::new();
    for (i, (pseudonym, name, language, narrative, event, confidential)) in accounts.into_iter().enumerate() {
        let draft = TestimonyDraft {
            witness: Witness::Sealed {
                name: name.into(),
                contact: None,
            },
            pseudonym: pseudonym.into(),
            given_on: today - time::Duration::days(30 * (i as i64 + 1)),
            language: language.into(),
            narrative: narrative.into(),
            events: vec![event],
            acts: vec![act_of(event, i)],
            sources: vec![],
            evidence: vec![],
            reliability: if i == 3 {
                Reliability::Medium
            } else {
                Reliability::NotAssessed
            },
            reliability_note: None,
            confidential: confidential.into_iter().collect(),
        };
        recorded.push(store.create_testimony(&draft, ctx)?.id);
    }
    let recipient = store.create_recipient(
        "Parliamentary committee (synthetic)",
        RecipientKind::Parliamentarian,
        "en",
        &official.into_iter().collect::<Vec<_>>(),
        ctx,
    )?;
    for t in recorded.iter().take(3) {
        store.record_share_decision(
            *t,
            &lantern_store::NewShareDecision {
                recipient: recipient.id,
                decision: ShareDecision::Given,
                how: "verbal, with a second staff member present (demo)".into(),
                form: None,
            },
            ctx,
        )?;
    }
    Ok(())
}

/// The demo's interpreters (synthetic names) and their languages.
const INTERPRETERS: &[(&str, &[&str])] = &[
    ("Interpreter A", &["fa", "prs"]),
    ("Interpreter B", &["ar", "fa"]),
    ("Interpreter C", &["ckb", "fa"]),
];

/// Resettlement countries of the demo: placeholders, not real countries.
const COUNTRIES: &[&str] = &["Country A", "Country B", "Country C", "Country D"];

/// Opens a household case for `head` some years ago and walks it along the
/// procedure to a random depth (most cases wait early on, as in the
/// field), with the obstacles that make interviews fail.
fn demo_case(store: &dyn Store, rng: &mut StdRng, head: PersonId, ctx: &AuditContext) -> anyhow::Result<()> {
    use lantern_domain::case::{CaseStep as S, ObstacleKind};
    let mut at = ctx.at - time::Duration::days(rng.random_range(200..1200));
    let ctx_at = |at: time::OffsetDateTime| AuditContext { at, ..ctx.clone() };
    let case = store.create_case(head, true, &ctx_at(at))?;
    // The lower of two draws: depths near the start are the likeliest.
    let depth = rng.random_range(0..=9).min(rng.random_range(0..=9));
    let mut step = S::Registered;
    for _ in 0..depth {
        if step.is_final() {
            break;
        }
        let next = match step {
            S::Interviewed => {
                if rng.random_bool(0.15) {
                    S::Rejected
                } else {
                    S::Recognised
                }
            }
            S::Rejected => S::AppealLodged,
            S::InterviewScheduled if rng.random_bool(0.3) => {
                let kind = *pick(
                    rng,
                    &[
                        ObstacleKind::DidNotAttend,
                        ObstacleKind::AccessDenied,
                        ObstacleKind::InterpreterUnavailable,
                        ObstacleKind::OtherPersonPresent,
                    ],
                );
                let by_whom = matches!(kind, ObstacleKind::AccessDenied | ObstacleKind::OtherPersonPresent)
                    .then(|| "site management".to_string());
                store.add_obstacle(
                    case.id,
                    &lantern_store::NewObstacle {
                        kind,
                        occurred_on: at.date(),
                        by_whom,
                        detail: None,
                    },
                    &ctx_at(at),
                )?;
                S::InterviewRequested
            }
            other => other.next()[0],
        };
        let gap = time::Duration::days(rng.random_range(5..120));
        if at + gap >= ctx.at {
            break;
        }
        at += gap;
        let country = next.needs_country().then(|| pick(rng, COUNTRIES).to_string());
        store.move_case(case.id, step, next, country, &ctx_at(at))?;
        step = next;
    }
    Ok(())
}
