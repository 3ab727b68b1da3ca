use super::*;

const ALL: Scope = Scope {
    testimonies: Access::All,
    evidence: Access::All,
};
const OPEN: Scope = Scope {
    testimonies: Access::Open,
    evidence: Access::Open,
};

fn doc(kind: Kind, id: &str, open: &str, restricted: &str) -> Document {
    Document {
        kind,
        id: id.into(),
        open: vec![open.into()],
        restricted: vec![restricted.into()],
    }
}

fn ids(index: &SearchIndex, q: &str, scope: Scope) -> Vec<String> {
    let mut v: Vec<String> = index.search(q, scope, 10).unwrap().into_iter().map(|h| h.id).collect();
    v.sort();
    v
}

fn index() -> SearchIndex {
    let i = SearchIndex::new().unwrap();
    i.put([
        doc(
            Kind::Testimony,
            "t1",
            "مسعود را در تابستان ۱۳۹۱ به ساختمان سه بردند. خانوادهٔ حسین‌زاده خبری نداشتند.",
            "شاهد: زهره کریمی",
        ),
        doc(
            Kind::Testimony,
            "t2",
            "Mr Hosseini was held in building three without charge.",
            "exact place: room 14",
        ),
        doc(
            Kind::Evidence,
            "e1",
            "Photo of building three",
            "received from the family of Ali",
        ),
    ])
    .unwrap();
    i
}

#[test]
fn finds_arabic_letter_variants_vowel_marks_and_digits() {
    let i = index();
    // Arabic kaf and yeh for Persian ones, a vowel mark, Arabic-Indic digits.
    assert_eq!(ids(&i, "مَسعود", ALL), ["t1"]);
    assert_eq!(ids(&i, "ساختمان", ALL), ["t1"]);
    assert_eq!(ids(&i, "1391", ALL), ["t1"]);
    assert_eq!(ids(&i, "١٣٩١", ALL), ["t1"]);
}

#[test]
fn joined_and_split_forms_of_a_zwnj_word_meet() {
    let i = index();
    assert_eq!(ids(&i, "حسین‌زاده", ALL), ["t1"], "as written");
    assert_eq!(ids(&i, "حسینزاده", ALL), ["t1"], "joined");
    assert_eq!(ids(&i, "حسین زاده", ALL), ["t1"], "split");
}

#[test]
fn a_latin_spelling_finds_arabic_script_and_back() {
    let i = index();
    for spelling in ["Masoud", "Massoud", "Mas'ud", "masud"] {
        assert_eq!(ids(&i, spelling, ALL), ["t1"], "{spelling}");
    }
    // حسینی and Hosseini share their skeleton with the حسین of حسین‌زاده,
    // so both testimonies match; the same word ranks above a match by
    // skeleton alone.
    assert_eq!(ids(&i, "حسینی", ALL), ["t1", "t2"]);
    let hits = i.search("Hosseini", ALL, 10).unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id, "t2");
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn every_word_must_match_except_particles() {
    let i = index();
    assert_eq!(ids(&i, "building three", ALL), ["e1", "t2"]);
    assert!(ids(&i, "building seven", ALL).is_empty());
    assert_eq!(ids(&i, "al charge", ALL), ["t2"], "a particle may be missing");
    assert!(ids(&i, "", ALL).is_empty());
    assert!(ids(&i, " ، ؟ ", ALL).is_empty());
}

#[test]
fn restricted_text_is_searched_only_with_full_access() {
    let i = index();
    assert_eq!(ids(&i, "کریمی", ALL), ["t1"]);
    assert!(
        ids(&i, "کریمی", OPEN).is_empty(),
        "the sealed witness name must not match"
    );
    assert!(ids(&i, "Karimi", OPEN).is_empty(), "nor by its cross-script key");
    assert_eq!(ids(&i, "room", ALL), ["t2"]);
    assert!(ids(&i, "room", OPEN).is_empty());
    let only_testimonies = Scope {
        testimonies: Access::All,
        evidence: Access::None,
    };
    assert_eq!(ids(&i, "building", only_testimonies), ["t2"]);
    let evidence_open = Scope {
        testimonies: Access::None,
        evidence: Access::Open,
    };
    assert!(ids(&i, "family", evidence_open).is_empty());
    assert_eq!(ids(&i, "photo", evidence_open), ["e1"]);
}

#[test]
fn putting_a_document_again_replaces_it() {
    let i = index();
    assert_eq!(i.len(), 3);
    i.put([doc(Kind::Testimony, "t2", "A different account", "")]).unwrap();
    assert_eq!(i.len(), 3);
    assert!(ids(&i, "charge", ALL).is_empty());
    assert_eq!(ids(&i, "different", ALL), ["t2"]);
    // The same id in another kind is another document.
    i.put([doc(Kind::Evidence, "t2", "different", "")]).unwrap();
    assert_eq!(i.len(), 4);
    let kinds: Vec<Kind> = i
        .search("different", ALL, 10)
        .unwrap()
        .into_iter()
        .map(|h| h.kind)
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&Kind::Evidence) && kinds.contains(&Kind::Testimony));
}
