//! Testimonies, events and dossiers, after the HURIDOCS Events Standard
//! Formats (2001): an *event* is something that happened (when, where); an
//! *act* is what was done to a victim within it; *involvement* links an
//! alleged perpetrator to an act with a degree; a *source* is who or what
//! tells of it. A testimony is one source's account and is stored as such:
//! claims with their sources, never verdicts. There is deliberately no
//! "verified perpetrator" anywhere: a perpetrator is always *alleged*.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::FuzzyDate;
use crate::error::{FieldError, Reason};
use crate::evidence::EvidenceId;
use crate::person::{code_enum, id_type, PersonId};
use crate::text::{optional_text, required_text};

id_type!(
    /// Identifies a testimony.
    TestimonyId
);
id_type!(
    /// Identifies an event that testimonies speak to.
    EventId
);
id_type!(
    /// Identifies a named recipient of dossiers.
    RecipientId
);
id_type!(
    /// Identifies a dossier.
    DossierId
);

/// Longest narrative, in characters (about sixty pages).
pub const MAX_NARRATIVE: usize = 200_000;
/// Longest short text (titles, places, names, citations).
pub const MAX_SHORT: usize = 300;
/// Longest note (reliability, consequences, purpose).
pub const MAX_NOTE: usize = 5_000;

/// The acts every installation knows, with their stable codes (HURIDOCS
/// "type of act", reduced to what the field records most). Administrators
/// add others with labels in each language.
pub const BUILT_IN_ACT_TYPES: [&str; 9] = [
    "arbitrary_detention",
    "torture_or_ill_treatment",
    "killing",
    "enforced_disappearance",
    "denial_of_family_contact",
    "forced_separation",
    "forced_labour",
    "threats",
    "assault",
];

/// An act type's code: 2 to 40 lowercase ASCII letters, digits and
/// underscores, so it is stable in URLs, files and the ledger.
pub fn act_type_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    let ok = (2..=40).contains(&t.len())
        && t.starts_with(|c: char| c.is_ascii_lowercase())
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if t.is_empty() {
        Err(FieldError::new(field, Reason::Required))
    } else if ok {
        Ok(t.to_string())
    } else {
        Err(FieldError::new(field, Reason::InvalidFormat))
    }
}

code_enum!(
    /// How an alleged perpetrator is said to be involved in an act
    /// (HURIDOCS "degree of involvement").
    Degree {
        /// Said to have carried it out.
        CarriedOut = "carried_out",
        /// Said to have ordered it.
        Ordered = "ordered",
        /// Said to have planned it.
        Planned = "planned",
        /// Said to have been complicit.
        Complicit = "complicit",
        /// Suspected by the source, without more.
        Suspected = "suspected",
    }
);

code_enum!(
    /// What kind of source tells of the events.
    SourceKind {
        /// The witness giving the testimony.
        Witness = "witness",
        /// A document (in the vault, or described).
        Document = "document",
        /// A published or external report, with its citation.
        ExternalReport = "external_report",
    }
);

code_enum!(
    /// The documenter's assessment of the account's reliability. It is an
    /// assessment of the source, recorded as such, not a finding of fact.
    Reliability {
        /// Consistent, detailed, and corroborated where checked.
        High = "high",
        /// Consistent, not yet corroborated.
        Medium = "medium",
        /// Inconsistencies or doubts, described in the note.
        Low = "low",
        /// Not assessed yet.
        NotAssessed = "not_assessed",
    }
);

code_enum!(
    /// Parts of a testimony that may be marked confidential: sealed at rest
    /// like everything protected, shown only to those who may see the
    /// witness's identity, and always withheld from dossiers.
    ConfidentialPart {
        /// The narrative.
        Narrative = "narrative",
        /// Victims' names.
        Victims = "victims",
        /// Alleged perpetrators' names.
        Perpetrators = "perpetrators",
        /// The sources' descriptions and citations.
        Sources = "sources",
    }
);

code_enum!(
    /// What a dossier withholds, on top of the confidential parts.
    Redaction {
        /// The witness's identity (the pseudonym stays).
        WitnessIdentity = "witness_identity",
        /// Exact places (the general area stays).
        ExactPlaces = "exact_places",
        /// Named third parties: victims and alleged perpetrators.
        ThirdParties = "third_parties",
    }
);

code_enum!(
    /// Kinds of recipient.
    RecipientKind {
        /// A member of a parliament or a parliamentary committee.
        Parliamentarian = "parliamentarian",
        /// A UN special procedure, treaty body or other UN mechanism.
        UnMechanism = "un_mechanism",
        /// A refugee agency.
        RefugeeAgency = "refugee_agency",
        /// Another recipient.
        Other = "other",
    }
);

/// Who gives the testimony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Witness {
    /// A person in the registry.
    Registered {
        /// The person.
        person: PersonId,
    },
    /// Someone not in the registry, or who must not be linked to it: the
    /// identity is sealed and shown only to those allowed.
    Sealed {
        /// Name as the witness gives it.
        name: String,
        /// How to reach them, if they agree.
        contact: Option<String>,
    },
}

/// An alleged perpetrator of an act and the degree of involvement alleged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Involvement {
    /// A name, a description, a unit or an office.
    pub name: String,
    /// The alleged degree.
    pub degree: Degree,
}

/// One act told of in a testimony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    /// The event it belongs to.
    pub event: EventId,
    /// Its type's code (see [`BUILT_IN_ACT_TYPES`]).
    pub act_type: String,
    /// Victims, as named by the source (the witness may be one).
    pub victims: Vec<String>,
    /// Alleged perpetrators.
    pub perpetrators: Vec<Involvement>,
    /// Consequences told of (injuries, loss, separation …).
    pub consequences: Option<String>,
}

/// A source the testimony rests on, besides the witness's own word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// What kind.
    pub kind: SourceKind,
    /// A description, or the citation of an external report.
    pub citation: String,
    /// Where a published report can be found.
    pub link: Option<String>,
    /// The file in the vault, for a document.
    pub evidence: Option<EvidenceId>,
}

/// A testimony as recorded (the stored record adds id, version and who
/// recorded it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestimonyDraft {
    /// Who gives it (sealed at rest).
    pub witness: Witness,
    /// The name shown to everyone who may not see the witness.
    pub pseudonym: String,
    /// When the witness gave it.
    #[serde(with = "crate::date::iso")]
    pub given_on: Date,
    /// The language it was given in (a BCP 47 tag such as `fa`, `ar`, `en`).
    pub language: String,
    /// The account in the witness's own words, any script.
    pub narrative: String,
    /// The events it speaks to.
    pub events: Vec<EventId>,
    /// Acts told of.
    pub acts: Vec<Act>,
    /// Other sources.
    pub sources: Vec<Source>,
    /// Files in the vault it cites.
    pub evidence: Vec<EvidenceId>,
    /// The documenter's assessment.
    pub reliability: Reliability,
    /// Why.
    pub reliability_note: Option<String>,
    /// Parts marked confidential.
    pub confidential: BTreeSet<ConfidentialPart>,
}

/// An event as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDraft {
    /// A short title ("Transfer of detainees from block 4").
    pub title: String,
    /// When it began, as precisely as known.
    pub start: Option<FuzzyDate>,
    /// When it ended.
    pub end: Option<FuzzyDate>,
    /// The general area (a town, a camp), shown unless withheld.
    pub place: Option<String>,
    /// The exact place (a building, a room, coordinates).
    pub exact_place: Option<String>,
    /// A description.
    pub description: Option<String>,
}

impl EventDraft {
    /// Parses an event's form fields.
    pub fn parse(
        title: &str,
        start: &str,
        end: &str,
        place: &str,
        exact_place: &str,
        description: &str,
        today: Date,
    ) -> Result<EventDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<Option<String>, FieldError>| {
            r.unwrap_or_else(|e| {
                errors.push(e);
                None
            })
        };
        let title_v = keep(required_text("title", title, MAX_SHORT).map(Some));
        let place = keep(optional_text("place", place, MAX_SHORT, false));
        let exact_place = keep(optional_text("exact_place", exact_place, MAX_SHORT, false));
        let description = keep(optional_text("description", description, MAX_NOTE, true));
        let start = FuzzyDate::parse("start", start, today).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let end = FuzzyDate::parse("end", end, today).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        if let (Some(s), Some(e)) = (start, end) {
            if e.latest_year() < s.earliest_year() {
                errors.push(FieldError::new("end", Reason::InvalidRange));
            }
        }
        match title_v {
            Some(title) if errors.is_empty() => Ok(EventDraft {
                title,
                start,
                end,
                place,
                exact_place,
                description,
            }),
            _ => Err(errors),
        }
    }
}

/// A language tag: 2 to 3 letters, optionally a region or script
/// (`fa`, `ar`, `en`, `ckb`, `fa-AF`).
pub fn language(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    let mut parts = t.split('-');
    let primary = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if t.is_empty() {
        Err(FieldError::new(field, Reason::Required))
    } else if ok {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(FieldError::new(field, Reason::InvalidFormat))
    }
}

/// A link to a published report: `https://` or `http://` only, so no
/// `javascript:` or file link reaches a reader's browser.
pub fn link(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let Some(t) = optional_text(field, raw, 2_000, false)? else {
        return Ok(None);
    };
    let lower = t.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !t.contains(char::is_whitespace) => Ok(Some(t)),
        _ => Err(FieldError::new(field, Reason::InvalidFormat)),
    }
}

impl TestimonyDraft {
    /// Trims and bounds every text of a draft received from outside
    /// (pseudonym, narrative, names, citations, links, notes), naming the
    /// first field that is refused; then [`check_testimony`].
    pub fn cleaned(mut self) -> Result<TestimonyDraft, Vec<FieldError>> {
        let one = |e: FieldError| vec![e];
        self.pseudonym = required_text("pseudonym", &self.pseudonym, MAX_SHORT).map_err(one)?;
        self.language = language("language", &self.language).map_err(one)?;
        self.narrative = optional_text("narrative", &self.narrative, MAX_NARRATIVE, true)
            .map_err(one)?
            .unwrap_or_default();
        if let Witness::Sealed { name, contact } = &mut self.witness {
            *name = required_text("witness_name", name, MAX_SHORT).map_err(one)?;
            *contact = match contact.as_deref() {
                Some(c) => optional_text("witness_contact", c, MAX_SHORT, false).map_err(one)?,
                None => None,
            };
        }
        for (i, act) in self.acts.iter_mut().enumerate() {
            act.act_type = act_type_code(&format!("acts[{i}].act_type"), &act.act_type).map_err(one)?;
            for v in &mut act.victims {
                *v = required_text(&format!("acts[{i}].victims"), v, MAX_SHORT).map_err(one)?;
            }
            for p in &mut act.perpetrators {
                p.name = required_text(&format!("acts[{i}].perpetrators"), &p.name, MAX_SHORT).map_err(one)?;
            }
            act.consequences = match act.consequences.as_deref() {
                Some(c) => optional_text(&format!("acts[{i}].consequences"), c, MAX_NOTE, true).map_err(one)?,
                None => None,
            };
        }
        for (i, src) in self.sources.iter_mut().enumerate() {
            src.citation = required_text(&format!("sources[{i}].citation"), &src.citation, MAX_NOTE).map_err(one)?;
            src.link = match src.link.as_deref() {
                Some(l) => link(&format!("sources[{i}].link"), l).map_err(one)?,
                None => None,
            };
        }
        self.reliability_note = match self.reliability_note.as_deref() {
            Some(n) => optional_text("reliability_note", n, MAX_NOTE, true).map_err(one)?,
            None => None,
        };
        check_testimony(&self)?;
        Ok(self)
    }
}

/// Checks the parts of a testimony that do not depend on the store.
pub fn check_testimony(t: &TestimonyDraft) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if t.pseudonym.trim().is_empty() {
        errors.push(FieldError::new("pseudonym", Reason::Required));
    }
    if t.narrative.trim().is_empty() {
        errors.push(FieldError::new("narrative", Reason::Required));
    }
    if t.narrative.chars().count() > MAX_NARRATIVE {
        errors.push(FieldError::new("narrative", Reason::TooLong { max: MAX_NARRATIVE }));
    }
    if let Witness::Sealed { name, .. } = &t.witness {
        if name.trim().is_empty() {
            errors.push(FieldError::new("witness_name", Reason::Required));
        }
    }
    for (i, act) in t.acts.iter().enumerate() {
        if !t.events.contains(&act.event) {
            errors.push(FieldError::new(format!("acts[{i}].event"), Reason::UnknownChoice));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

code_enum!(
    /// A witness's decision about sharing a testimony with a recipient.
    ShareDecision {
        /// The witness agreed.
        Given = "given",
        /// The witness refused.
        Declined = "declined",
        /// An earlier agreement was withdrawn.
        Withdrawn = "withdrawn",
    }
);

/// The one rule for sharing a testimony: the witness's latest decision
/// about this recipient must be an agreement. `decisions` are in the order
/// they were recorded. No decision, a refusal or a withdrawal all mean no.
pub fn may_share(decisions: &[(RecipientId, ShareDecision)], recipient: RecipientId) -> bool {
    decisions
        .iter()
        .rev()
        .find(|(r, _)| *r == recipient)
        .is_some_and(|(_, d)| *d == ShareDecision::Given)
}

/// The fields of a record's log entry a dossier withholds, given its
/// redaction profile and, for a testimony, the parts marked confidential.
/// Field names are those the store commits to (see
/// `crates/store-sql/src/testimony.rs`). Protected details of evidence
/// (file name, description) are withheld under any redaction, since they
/// often name people.
pub fn withheld_fields(
    record_kind: &str,
    redaction: &BTreeSet<Redaction>,
    confidential: &BTreeSet<ConfidentialPart>,
) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    match record_kind {
        "testimony" => {
            for part in confidential {
                out.insert(part.code());
            }
            if redaction.contains(&Redaction::WitnessIdentity) {
                out.insert("witness");
            }
            if redaction.contains(&Redaction::ThirdParties) {
                out.extend(["victims", "perpetrators"]);
            }
        }
        "event" if redaction.contains(&Redaction::ExactPlaces) => {
            out.insert("exact_place");
        }
        "evidence" if !redaction.is_empty() => {
            out.insert("details");
        }
        "custody"
            if redaction.contains(&Redaction::WitnessIdentity) || redaction.contains(&Redaction::ThirdParties) =>
        {
            out.insert("counterpart");
        }
        "person" => {
            // Documents, contact details and case notes never leave in a
            // dossier, whatever the profile, nor does a protection flag.
            out.extend(["protected", "not_to_be_traced"]);
            if redaction.contains(&Redaction::ExactPlaces) {
                out.extend(["site_id", "block", "room"]);
            }
            if redaction.contains(&Redaction::ThirdParties) {
                out.extend(["father_name", "mother_name", "household_id"]);
            }
        }
        _ => {}
    }
    out
}

/// The one rule for giving a registry record to a dossier's recipient:
/// the person must be the registered witness of one of the dossier's
/// testimonies (each of which the witness agreed to share with that
/// recipient, checked with [`may_share`]), and the profile must not hide
/// the witness's identity, which the record would reveal. Anyone else's
/// record (a relative, a victim, a neighbour) never goes, since they gave
/// no agreement. `witnesses` are the registered witnesses of the dossier's
/// testimonies.
pub fn may_include_person(
    person: PersonId,
    witnesses: &[PersonId],
    redaction: &BTreeSet<Redaction>,
) -> Result<(), Reason> {
    if !witnesses.contains(&person) {
        Err(Reason::NotAWitness)
    } else if redaction.contains(&Redaction::WitnessIdentity) {
        Err(Reason::HiddenByRedaction)
    } else {
        Ok(())
    }
}

/// A dossier as a documenter asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierDraft {
    /// A title.
    pub title: String,
    /// Who receives it.
    pub recipient: RecipientId,
    /// What it is for, as stated to the recipient.
    pub purpose: String,
    /// After this day the recipient no longer sees it.
    #[serde(with = "crate::date::iso")]
    pub expires: Date,
    /// What is withheld.
    pub redaction: BTreeSet<Redaction>,
    /// Testimonies (their events and cited evidence come with them).
    pub testimonies: Vec<TestimonyId>,
    /// Further events, on their own (an event tells what is alleged to
    /// have happened, not who said so; no witness's agreement is needed).
    #[serde(default)]
    pub events: Vec<EventId>,
    /// Further evidence records.
    pub evidence: Vec<EvidenceId>,
    /// Registry records: only registered witnesses' own records, see
    /// [`may_include_person`].
    #[serde(default)]
    pub people: Vec<PersonId>,
    /// Whether the bundle carries the files, or only their hashes.
    pub include_files: bool,
}

impl DossierDraft {
    /// Checks what does not need the store: a purpose, an expiry in the
    /// future (at most two years ahead) and something to share.
    pub fn check(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.title.trim().is_empty() {
            errors.push(FieldError::new("title", Reason::Required));
        }
        if self.purpose.trim().is_empty() {
            errors.push(FieldError::new("purpose", Reason::Required));
        }
        if self.expires <= today {
            errors.push(FieldError::new("expires", Reason::NotInFuture));
        } else if self.expires > today.saturating_add(time::Duration::days(731)) {
            errors.push(FieldError::new("expires", Reason::TooFarAhead));
        }
        if self.testimonies.is_empty() && self.events.is_empty() && self.evidence.is_empty() {
            errors.push(FieldError::new("testimonies", Reason::Required));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> TestimonyDraft {
        let event = EventId::new();
        TestimonyDraft {
            witness: Witness::Sealed {
                name: "W".into(),
                contact: None,
            },
            pseudonym: "Witness A".into(),
            given_on: time::macros::date!(2026 - 10 - 01),
            language: "fa".into(),
            narrative: "روایت".into(),
            events: vec![event],
            acts: vec![Act {
                event,
                act_type: "threats".into(),
                victims: vec![],
                perpetrators: vec![],
                consequences: None,
            }],
            sources: vec![],
            evidence: vec![],
            reliability: Reliability::NotAssessed,
            reliability_note: None,
            confidential: BTreeSet::new(),
        }
    }

    #[test]
    fn sharing_follows_the_latest_decision_for_that_recipient_only() {
        let (a, b) = (RecipientId::new(), RecipientId::new());
        assert!(!may_share(&[], a), "no decision is no");
        let given = [(a, ShareDecision::Given)];
        assert!(may_share(&given, a));
        assert!(!may_share(&given, b), "consent is per recipient");
        assert!(!may_share(
            &[(a, ShareDecision::Given), (a, ShareDecision::Withdrawn)],
            a
        ));
        assert!(may_share(
            &[
                (a, ShareDecision::Declined),
                (b, ShareDecision::Withdrawn),
                (a, ShareDecision::Given)
            ],
            a
        ));
    }

    #[test]
    fn a_testimony_needs_a_pseudonym_a_narrative_and_acts_within_its_events() {
        assert!(check_testimony(&draft()).is_ok());
        let mut t = draft();
        t.pseudonym = " ".into();
        t.narrative = String::new();
        t.acts[0].event = EventId::new();
        let fields: Vec<String> = check_testimony(&t).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["pseudonym", "narrative", "acts[0].event"]);
    }

    #[test]
    fn codes_languages_and_links_are_checked() {
        assert_eq!(act_type_code("code", " forced_eviction ").unwrap(), "forced_eviction");
        for bad in ["X", "a", "1abc", "with space", "ümlaut"] {
            assert!(act_type_code("code", bad).is_err(), "{bad}");
        }
        assert_eq!(language("language", "fa-AF").unwrap(), "fa-af");
        assert!(language("language", "persian").is_err());
        assert!(link("link", "javascript:alert(1)").is_err());
        assert!(link("link", "https://").is_err());
        assert_eq!(
            link("link", "https://example.org/report").unwrap().as_deref(),
            Some("https://example.org/report")
        );
        assert_eq!(link("link", "").unwrap(), None);
    }

    #[test]
    fn events_parse_fuzzy_dates_in_order() {
        let today = time::macros::date!(2026 - 11 - 28);
        let e = EventDraft::parse("Transfer", "2019", "2019-05", "Camp", "", "", today).unwrap();
        assert_eq!(e.start, Some(FuzzyDate::Year { year: 2019 }));
        let err = EventDraft::parse("", "2020", "2018", "", "", "", today).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "end"]);
    }

    #[test]
    fn redaction_withholds_the_fields_it_names_and_confidential_parts_always() {
        let none = BTreeSet::new();
        let open = BTreeSet::new();
        assert!(withheld_fields("testimony", &none, &open).is_empty());
        let witness: BTreeSet<_> = [Redaction::WitnessIdentity].into();
        let narrative: BTreeSet<_> = [ConfidentialPart::Narrative].into();
        assert_eq!(
            withheld_fields("testimony", &witness, &narrative),
            ["narrative", "witness"].into()
        );
        let third: BTreeSet<_> = [Redaction::ThirdParties].into();
        assert_eq!(
            withheld_fields("testimony", &third, &open),
            ["perpetrators", "victims"].into()
        );
        assert_eq!(withheld_fields("custody", &third, &open), ["counterpart"].into());
        let places: BTreeSet<_> = [Redaction::ExactPlaces].into();
        assert_eq!(withheld_fields("event", &places, &open), ["exact_place"].into());
        assert!(withheld_fields("event", &witness, &open).is_empty());
        assert_eq!(withheld_fields("evidence", &places, &open), ["details"].into());
        assert_eq!(
            withheld_fields("person", &none, &open),
            ["not_to_be_traced", "protected"].into()
        );
        assert_eq!(
            withheld_fields("person", &places, &open),
            ["block", "not_to_be_traced", "protected", "room", "site_id"].into()
        );
        assert_eq!(
            withheld_fields("person", &third, &open),
            [
                "father_name",
                "household_id",
                "mother_name",
                "not_to_be_traced",
                "protected"
            ]
            .into()
        );
    }

    #[test]
    fn only_a_shown_witness_own_record_may_go_in_a_dossier() {
        let (witness, relative) = (PersonId::new(), PersonId::new());
        let none = BTreeSet::new();
        assert_eq!(may_include_person(witness, &[witness], &none), Ok(()));
        assert_eq!(
            may_include_person(relative, &[witness], &none),
            Err(Reason::NotAWitness)
        );
        assert_eq!(may_include_person(witness, &[], &none), Err(Reason::NotAWitness));
        let hidden: BTreeSet<_> = [Redaction::WitnessIdentity].into();
        assert_eq!(
            may_include_person(witness, &[witness], &hidden),
            Err(Reason::HiddenByRedaction)
        );
        let places: BTreeSet<_> = [Redaction::ExactPlaces].into();
        assert_eq!(may_include_person(witness, &[witness], &places), Ok(()));
    }

    #[test]
    fn dossiers_need_a_purpose_a_near_future_expiry_and_content() {
        let today = time::macros::date!(2026 - 11 - 28);
        let d = DossierDraft {
            title: "T".into(),
            recipient: RecipientId::new(),
            purpose: "Hearing".into(),
            expires: time::macros::date!(2027 - 06 - 30),
            redaction: BTreeSet::new(),
            testimonies: vec![TestimonyId::new()],
            events: vec![],
            evidence: vec![],
            people: vec![],
            include_files: true,
        };
        assert!(d.check(today).is_ok());
        let mut bad = d.clone();
        bad.expires = today;
        bad.testimonies.clear();
        let fields: Vec<String> = bad.check(today).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["expires", "testimonies"]);
        bad.expires = time::macros::date!(2030 - 01 - 01);
        assert_eq!(bad.check(today).unwrap_err()[0].reason, Reason::TooFarAhead);
    }
}
