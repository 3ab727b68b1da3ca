//! Tracing requests and the one rule that decides what reaches a family.
//!
//! A family asks for a relative; staff search, the matching engine proposes
//! candidates, a caseworker confirms one, and the sought person decides
//! what may be passed on. Following the tracing practice of the Red Cross
//! and Red Crescent, a person's whereabouts are passed on only with that
//! person's consent, and a refusal must not read differently from "not
//! found": the family is told "we could not pass on information" in both
//! cases.
//!
//! [`requester_view`] is the only function that decides what a requester
//! may see. Every page, API response and export meant for a requester is
//! built from its result, never from the records directly.

use std::collections::HashSet;

use crate::error::{FieldError, Reason};
use crate::person::{code_enum, id_type};
use crate::policy::Role;

id_type!(
    /// Identifies a tracing request.
    RequestId
);

id_type!(
    /// Identifies a message carried between a family and a resident.
    MessageId
);

code_enum!(
    /// Which way a message goes (family news, like a Red Cross message, and
    /// the reply carried back).
    MessageDirection {
        /// Written by the family, for the person sought.
        ToResident = "to_resident",
        /// The person's reply, for the family.
        ToFamily = "to_family",
    }
);

id_type!(
    /// Identifies a family visit.
    VisitId
);

id_type!(
    /// Identifies a visiting room.
    VisitRoomId
);

code_enum!(
    /// Where a visit stands, and how it ended.
    VisitStatus {
        /// Booked.
        Scheduled = "scheduled",
        /// It took place.
        Held = "held",
        /// The resident declined it when the time came.
        Refused = "refused",
        /// The visitors did not come.
        NoShow = "no_show",
        /// Access restrictions prevented it.
        Blocked = "blocked",
    }
);

impl VisitStatus {
    /// The outcomes that say who refused or blocked and why.
    pub fn needs_reason(self) -> bool {
        matches!(self, VisitStatus::Refused | VisitStatus::Blocked)
    }
}

/// May a visit be booked now? Only with the person's consent to be visited,
/// never for a person not to be traced.
pub fn visits_allowed(consent: Option<&Consent>) -> bool {
    consent.is_some_and(|c| !c.not_to_be_traced && c.scope.contains(&Scope::Visit))
}

/// Longest message (short family news).
pub const MAX_MESSAGE: usize = 2_000;

/// A message's text: required, at most [`MAX_MESSAGE`] characters, line
/// breaks kept.
pub fn message_text(field: &str, raw: &str) -> Result<String, FieldError> {
    crate::text::optional_text(field, raw, MAX_MESSAGE, true)?.ok_or_else(|| FieldError::new(field, Reason::Required))
}

/// May messages pass between the family and the person sought now? Only
/// with their consent to receive messages, and never for a person not to be
/// traced. Recording the family's message needs no consent (it waits);
/// delivering it and carrying a reply back do.
pub fn messages_allowed(consent: Option<&Consent>) -> bool {
    consent.is_some_and(|c| !c.not_to_be_traced && c.scope.contains(&Scope::Message))
}

code_enum!(
    /// What the family asks for.
    RequestKind {
        /// News of the person: are they alive, where are they.
        Find = "find",
        /// To send them a message.
        Message = "message",
        /// To visit them.
        Visit = "visit",
    }
);

code_enum!(
    /// How the request came in.
    Channel {
        /// At the camp gate.
        Gate = "gate",
        /// By telephone.
        Phone = "phone",
        /// Through a partner organisation.
        Partner = "partner",
        /// The public request form.
        PublicForm = "public_form",
    }
);

code_enum!(
    /// Where a request stands.
    RequestState {
        /// Received.
        Filed = "filed",
        /// Staff and the matching engine are looking.
        Searching = "searching",
        /// The engine proposed at least one candidate.
        CandidatesFound = "candidates_found",
        /// Nobody fits, for now.
        NoCandidate = "no_candidate",
        /// A caseworker confirmed that a registered resident is the person sought.
        MatchConfirmed = "match_confirmed",
        /// The person was asked what may be passed on.
        ConsentRequested = "consent_requested",
        /// The person agreed to pass on something (see the consent's scope).
        ConsentGiven = "consent_given",
        /// The person declined: nothing is passed on.
        ConsentDeclined = "consent_declined",
        /// A message was delivered (and a reply may be carried back).
        MessageDelivered = "message_delivered",
        /// A visit has a date.
        VisitScheduled = "visit_scheduled",
        /// The visit took place.
        VisitHeld = "visit_held",
        /// Closed: the family and the person are in contact.
        ClosedReunited = "closed_reunited",
        /// Closed: the person declined.
        ClosedDeclined = "closed_declined",
        /// Closed: not found.
        ClosedNotFound = "closed_not_found",
        /// Closed: the family withdrew the request.
        ClosedWithdrawn = "closed_withdrawn",
        /// Closed: the person has died.
        ClosedDeceased = "closed_deceased",
        /// Closed: the same as another request.
        ClosedDuplicate = "closed_duplicate",
    }
);

impl RequestState {
    /// No state follows a closed one.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            RequestState::ClosedReunited
                | RequestState::ClosedDeclined
                | RequestState::ClosedNotFound
                | RequestState::ClosedWithdrawn
                | RequestState::ClosedDeceased
                | RequestState::ClosedDuplicate
        )
    }

    /// The states that may follow this one.
    pub fn next(self) -> Vec<RequestState> {
        use RequestState as S;
        let mut out: Vec<RequestState> = match self {
            S::Filed => vec![S::Searching],
            S::Searching | S::NoCandidate => vec![S::CandidatesFound, S::NoCandidate, S::ClosedNotFound],
            // A rejected candidate sends the request back to the search.
            S::CandidatesFound => vec![S::MatchConfirmed, S::Searching],
            S::MatchConfirmed => vec![S::ConsentRequested],
            S::ConsentRequested => vec![S::ConsentGiven, S::ConsentDeclined],
            // Consent can be withdrawn, or widened after a first refusal.
            S::ConsentGiven => vec![
                S::MessageDelivered,
                S::VisitScheduled,
                S::ConsentDeclined,
                S::ClosedReunited,
            ],
            S::ConsentDeclined => vec![S::ConsentRequested, S::ClosedDeclined],
            // Consent can be withdrawn at any time, also after contact began.
            S::MessageDelivered => vec![
                S::MessageDelivered,
                S::VisitScheduled,
                S::ConsentDeclined,
                S::ClosedReunited,
            ],
            S::VisitScheduled => vec![S::VisitHeld, S::ConsentGiven, S::ConsentDeclined],
            S::VisitHeld => vec![S::VisitScheduled, S::ConsentDeclined, S::ClosedReunited],
            _ => vec![],
        };
        if !self.is_closed() {
            out.extend([S::ClosedWithdrawn, S::ClosedDeceased, S::ClosedDuplicate]);
        }
        out
    }

    /// Whether `to` may follow; the refusal names the field `state`.
    pub fn check_next(self, to: RequestState) -> Result<(), FieldError> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(FieldError::new("state", Reason::StepNotAllowed))
        }
    }
}

/// May `role` move a request to `to`? Family liaisons file requests, relay
/// answers and record withdrawals; caseworkers handle the search, the
/// match, the consent, messages and visits.
pub fn allows_transition(role: Role, to: RequestState) -> bool {
    use RequestState as S;
    match role {
        Role::Caseworker => true,
        Role::FamilyLiaison => matches!(to, S::ClosedWithdrawn | S::MessageDelivered),
        _ => false,
    }
}

code_enum!(
    /// Something the sought person may allow to be passed on.
    Scope {
        /// That they are alive and registered here.
        AliveAndRegistered = "alive_and_registered",
        /// Where they are (site).
        Location = "location",
        /// How to reach them.
        Contact = "contact",
        /// To receive a message from the family.
        Message = "message",
        /// To be visited.
        Visit = "visit",
    }
);

code_enum!(
    /// How consent was given or refused.
    ConsentMethod {
        /// Said aloud, with a witness named.
        VerbalWitnessed = "verbal_witnessed",
        /// A signed form, kept in the vault.
        SignedForm = "signed_form",
    }
);

/// The sought person's decision on one request, as it stands now (a
/// withdrawal is recorded as an empty scope).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consent {
    /// What may be passed on; empty: nothing.
    pub scope: HashSet<Scope>,
    /// The person asked not to be traced at all (protection concerns).
    pub not_to_be_traced: bool,
}

impl Consent {
    /// Whether `item` may be passed on.
    pub fn allows(&self, item: Scope) -> bool {
        !self.not_to_be_traced && self.scope.contains(&item)
    }
}

/// What staff know about the sought person, from which a requester's view
/// is cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoughtFacts {
    /// The site where they live.
    pub site: Option<String>,
    /// How to reach them.
    pub contact: Option<String>,
    /// Their reply to a delivered message.
    pub reply: Option<String>,
    /// The date and place of a scheduled visit.
    pub visit: Option<String>,
}

code_enum!(
    /// What a requester is told about the state of their request. Several
    /// states read alike on purpose: a refusal, a confirmed match still
    /// waiting for consent and "not found" must not be told apart.
    RequesterStatus {
        /// Received; being looked into.
        InProgress = "in_progress",
        /// Nothing can be passed on (not found, declined, or not yet allowed).
        CouldNotPassOn = "could_not_pass_on",
        /// Information is available below.
        Information = "information",
        /// Closed at the requester's own wish.
        Withdrawn = "withdrawn",
    }
);

/// What a requester may see: the status and only the facts the consent
/// allows at this moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequesterView {
    /// The status, in words the requester can be given.
    pub status: RequesterStatus,
    /// That the person is alive and registered here.
    pub alive_and_registered: bool,
    /// The site.
    pub site: Option<String>,
    /// How to reach them.
    pub contact: Option<String>,
    /// Their reply to the family's message.
    pub reply: Option<String>,
    /// The visit.
    pub visit: Option<String>,
}

impl RequesterView {
    fn nothing(status: RequesterStatus) -> Self {
        RequesterView {
            status,
            alive_and_registered: false,
            site: None,
            contact: None,
            reply: None,
            visit: None,
        }
    }
}

/// The one decision of what a requester may see about their request.
///
/// Nothing about the person leaves before a match is confirmed and consent
/// is given; then exactly the consented items, and no more. Every state in
/// which nothing may be passed on yields the same view, whether the person
/// was not found, declined, withdrew their consent, asked not to be traced,
/// or has not answered yet.
pub fn requester_view(state: RequestState, consent: Option<&Consent>, facts: &SoughtFacts) -> RequesterView {
    use RequestState as S;
    match state {
        S::ClosedWithdrawn => return RequesterView::nothing(RequesterStatus::Withdrawn),
        S::Filed | S::Searching | S::CandidatesFound | S::NoCandidate => {
            return RequesterView::nothing(RequesterStatus::InProgress)
        }
        _ => {}
    }
    // From a confirmed match on, what may be said depends on consent alone;
    // without consent, every state reads "could not pass on".
    let consented = matches!(
        state,
        S::ConsentGiven | S::MessageDelivered | S::VisitScheduled | S::VisitHeld | S::ClosedReunited
    );
    let Some(consent) = consent.filter(|c| consented && !c.not_to_be_traced && !c.scope.is_empty()) else {
        return RequesterView::nothing(RequesterStatus::CouldNotPassOn);
    };
    let allowed = |item: Scope, value: &Option<String>| value.clone().filter(|_| consent.allows(item));
    RequesterView {
        status: RequesterStatus::Information,
        alive_and_registered: consent.allows(Scope::AliveAndRegistered),
        site: allowed(Scope::Location, &facts.site),
        contact: allowed(Scope::Contact, &facts.contact),
        reply: allowed(Scope::Message, &facts.reply),
        visit: allowed(Scope::Visit, &facts.visit),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn consent_can_be_withdrawn_at_any_time_after_it_was_given() {
        use RequestState as S;
        for s in [S::ConsentGiven, S::MessageDelivered, S::VisitScheduled, S::VisitHeld] {
            assert!(s.next().contains(&S::ConsentDeclined), "{s:?}");
        }
    }
    use super::*;

    fn facts() -> SoughtFacts {
        SoughtFacts {
            site: Some("North Site".into()),
            contact: Some("via the site office".into()),
            reply: Some("I am well".into()),
            visit: Some("Tuesday 10:00, visiting room 2".into()),
        }
    }

    /// A small deterministic generator (xorshift64*).
    struct Gen(u64);
    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        }
    }

    fn random_consent(g: &mut Gen) -> Option<Consent> {
        if g.next(4) == 0 {
            return None;
        }
        let mut c = Consent {
            scope: HashSet::new(),
            not_to_be_traced: g.next(6) == 0,
        };
        for s in Scope::ALL {
            if g.next(2) == 0 {
                c.scope.insert(*s);
            }
        }
        Some(c)
    }

    #[test]
    fn nothing_beyond_consent_ever_reaches_a_requester() {
        // Random states and consents: every item shown is allowed by the
        // consent in force, and nothing shows before consent is given.
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        let f = facts();
        for _ in 0..5_000 {
            let state = RequestState::ALL[g.next(RequestState::ALL.len())];
            let consent = random_consent(&mut g);
            let v = requester_view(state, consent.as_ref(), &f);
            let may = |item: Scope| consent.as_ref().is_some_and(|c| c.allows(item));
            let before_consent = matches!(
                state,
                RequestState::Filed
                    | RequestState::Searching
                    | RequestState::CandidatesFound
                    | RequestState::NoCandidate
                    | RequestState::MatchConfirmed
                    | RequestState::ConsentRequested
                    | RequestState::ConsentDeclined
                    | RequestState::ClosedDeclined
                    | RequestState::ClosedNotFound
                    | RequestState::ClosedWithdrawn
                    | RequestState::ClosedDeceased
                    | RequestState::ClosedDuplicate
            );
            let shown = v.alive_and_registered
                || v.site.is_some()
                || v.contact.is_some()
                || v.reply.is_some()
                || v.visit.is_some();
            assert!(!(before_consent && shown), "{state:?} {consent:?} {v:?}");
            assert!(!v.alive_and_registered || may(Scope::AliveAndRegistered));
            assert!(v.site.is_none() || may(Scope::Location), "{state:?} {consent:?}");
            assert!(v.contact.is_none() || may(Scope::Contact));
            assert!(v.reply.is_none() || may(Scope::Message));
            assert!(v.visit.is_none() || may(Scope::Visit));
        }
    }

    #[test]
    fn a_refusal_reads_exactly_like_not_found() {
        let f = facts();
        let declined = Consent::default();
        let do_not_trace = Consent {
            scope: Scope::ALL.iter().copied().collect(),
            not_to_be_traced: true,
        };
        let not_found = requester_view(RequestState::ClosedNotFound, None, &f);
        for v in [
            requester_view(RequestState::ConsentDeclined, Some(&declined), &f),
            requester_view(RequestState::ClosedDeclined, Some(&declined), &f),
            requester_view(RequestState::MatchConfirmed, None, &f),
            requester_view(RequestState::ConsentRequested, None, &f),
            requester_view(RequestState::ConsentGiven, Some(&do_not_trace), &f),
            requester_view(RequestState::ClosedDeceased, None, &f),
        ] {
            assert_eq!(v, not_found);
        }
        assert_eq!(not_found.status, RequesterStatus::CouldNotPassOn);
    }

    #[test]
    fn a_partial_consent_passes_on_exactly_its_scope() {
        let visit_only = Consent {
            scope: [Scope::AliveAndRegistered, Scope::Visit].into_iter().collect(),
            not_to_be_traced: false,
        };
        let v = requester_view(RequestState::VisitScheduled, Some(&visit_only), &facts());
        assert_eq!(v.status, RequesterStatus::Information);
        assert!(v.alive_and_registered);
        assert_eq!(v.visit.as_deref(), Some("Tuesday 10:00, visiting room 2"));
        assert_eq!(
            (v.site, v.contact, v.reply),
            (None, None, None),
            "no location, contact or reply"
        );
    }

    #[test]
    fn transitions_and_roles() {
        use RequestState as S;
        for pair in [
            (S::Filed, S::Searching),
            (S::Searching, S::CandidatesFound),
            (S::CandidatesFound, S::MatchConfirmed),
            (S::MatchConfirmed, S::ConsentRequested),
            (S::ConsentRequested, S::ConsentGiven),
            (S::ConsentGiven, S::VisitScheduled),
            (S::VisitScheduled, S::VisitHeld),
            (S::VisitHeld, S::ClosedReunited),
        ] {
            assert!(pair.0.check_next(pair.1).is_ok(), "{pair:?}");
        }
        assert_eq!(
            S::Filed.check_next(S::ConsentGiven).unwrap_err().reason,
            Reason::StepNotAllowed
        );
        assert!(S::ClosedReunited.next().is_empty());
        assert!(allows_transition(Role::FamilyLiaison, S::ClosedWithdrawn));
        assert!(!allows_transition(Role::FamilyLiaison, S::MatchConfirmed));
        assert!(!allows_transition(Role::Interviewer, S::Searching));
        assert!(allows_transition(Role::Caseworker, S::MatchConfirmed));
    }
}
