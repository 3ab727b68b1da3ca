//! Status and resettlement cases: the steps from registration to departure,
//! which step may follow which, and the obstacles that hold a case up.
//!
//! A case follows one resident (or a household, through its principal
//! applicant) through the refugee agency's procedure: registration is
//! verified, an interview is requested, scheduled and held, a decision is
//! made (and may be appealed), a recognised case is submitted to a
//! resettlement country, which accepts or refuses it, and an accepted case
//! departs. Any open case can be closed (withdrawn, deceased, left by other
//! means). Obstacles are facts of their own, dated and attributed, so the
//! statistics show why cases wait, not only that they wait.

use crate::error::{FieldError, Reason};
use crate::person::{code_enum, id_type};
use crate::text::required_text;

id_type!(
    /// Identifies a case.
    CaseId
);
id_type!(
    /// Identifies an obstacle recorded on a case.
    ObstacleId
);
id_type!(
    /// Identifies a note on a case.
    CaseNoteId
);

code_enum!(
    /// What a case note records.
    NoteKind {
        /// A decision and its reasons.
        Decision = "decision",
        /// What a member said, or an interviewer's observation.
        Note = "note",
    }
);

/// Longest case note.
pub const MAX_NOTE: usize = 20_000;

/// A case note's text (required, at most [`MAX_NOTE`] characters, line breaks kept).
pub fn note_text(field: &str, raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, Reason::Required));
    }
    if text.chars().count() > MAX_NOTE {
        return Err(FieldError::new(field, Reason::TooLong { max: MAX_NOTE }));
    }
    Ok(text.to_string())
}

code_enum!(
    /// Where a case stands.
    CaseStep {
        /// Opened from the registry.
        Registered = "registered",
        /// The registration was checked against the person and documents.
        RegistrationVerified = "registration_verified",
        /// An interview was asked of the refugee agency.
        InterviewRequested = "interview_requested",
        /// The interview has a date.
        InterviewScheduled = "interview_scheduled",
        /// The interview took place.
        Interviewed = "interviewed",
        /// Recognised as a refugee (first instance or on appeal).
        Recognised = "recognised",
        /// Not recognised (first instance or on appeal).
        Rejected = "rejected",
        /// A rejection was appealed; the appeal is pending.
        AppealLodged = "appeal_lodged",
        /// Submitted to a resettlement country (named on the step).
        Submitted = "submitted",
        /// Accepted by that country.
        Accepted = "accepted",
        /// Refused by that country (another country may follow).
        Refused = "refused",
        /// A departure date is set.
        DepartureScheduled = "departure_scheduled",
        /// Left for the resettlement country.
        Departed = "departed",
        /// Closed: the resident withdrew.
        Withdrawn = "withdrawn",
        /// Closed: the resident died.
        Deceased = "deceased",
        /// Closed: the resident left by other means.
        LeftOtherwise = "left_otherwise",
    }
);

impl CaseStep {
    /// The pipeline's steps in order, for funnels and tables (closures last).
    pub const PIPELINE: &'static [CaseStep] = CaseStep::ALL;

    /// No step follows a final one.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseStep::Departed | CaseStep::Withdrawn | CaseStep::Deceased | CaseStep::LeftOtherwise
        )
    }

    /// A closure rather than a step of the procedure.
    pub fn is_closure(self) -> bool {
        matches!(self, CaseStep::Withdrawn | CaseStep::Deceased | CaseStep::LeftOtherwise)
    }

    /// The step names a resettlement country.
    pub fn needs_country(self) -> bool {
        self == CaseStep::Submitted
    }

    /// The steps that may follow this one, in the procedure's order.
    pub fn next(self) -> Vec<CaseStep> {
        use CaseStep as S;
        let procedure: &[CaseStep] = match self {
            S::Registered => &[S::RegistrationVerified],
            S::RegistrationVerified => &[S::InterviewRequested],
            S::InterviewRequested => &[S::InterviewScheduled],
            // Held, or back to waiting for a new date (no-show, cancellation).
            S::InterviewScheduled => &[S::Interviewed, S::InterviewRequested],
            S::Interviewed | S::AppealLodged => &[S::Recognised, S::Rejected],
            S::Rejected => &[S::AppealLodged],
            S::Recognised => &[S::Submitted],
            S::Submitted => &[S::Accepted, S::Refused],
            S::Refused => &[S::Submitted],
            S::Accepted => &[S::DepartureScheduled],
            S::DepartureScheduled => &[S::Departed, S::Accepted],
            S::Departed | S::Withdrawn | S::Deceased | S::LeftOtherwise => &[],
        };
        let mut out = procedure.to_vec();
        if !self.is_final() {
            out.extend([S::Withdrawn, S::Deceased, S::LeftOtherwise]);
        }
        out
    }

    /// Whether `to` may follow this step; the refusal names the field `step`.
    pub fn check_next(self, to: CaseStep) -> Result<(), FieldError> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(FieldError::new("step", Reason::StepNotAllowed))
        }
    }
}

code_enum!(
    /// What held a case up.
    ObstacleKind {
        /// The resident did not come to the interview.
        DidNotAttend = "did_not_attend",
        /// Access to the resident was denied (by whom is recorded).
        AccessDenied = "access_denied",
        /// No interpreter for the resident's language.
        InterpreterUnavailable = "interpreter_unavailable",
        /// The resident asked for the interview elsewhere.
        AskedElsewhere = "asked_elsewhere",
        /// Documents the procedure needs are missing.
        DocumentsMissing = "documents_missing",
        /// Someone other than the resident, the interviewer and the
        /// interpreter was present at the interview.
        OtherPersonPresent = "other_person_present",
        /// Anything else (described).
        Other = "other",
    }
);

/// Longest obstacle description, country name or "by whom".
pub const MAX_TEXT: usize = 500;

/// A resettlement country as entered (trimmed, required, at most 100 characters).
pub fn country(field: &str, raw: &str) -> Result<String, FieldError> {
    required_text(field, raw, 100)
}

/// An obstacle's optional free text (at most [`MAX_TEXT`] characters).
pub fn optional_text(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    required_text(field, t, MAX_TEXT).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_procedure_runs_from_registration_to_departure() {
        use CaseStep as S;
        let path = [
            S::Registered,
            S::RegistrationVerified,
            S::InterviewRequested,
            S::InterviewScheduled,
            S::Interviewed,
            S::Rejected,
            S::AppealLodged,
            S::Recognised,
            S::Submitted,
            S::Refused,
            S::Submitted,
            S::Accepted,
            S::DepartureScheduled,
            S::Departed,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].check_next(pair[1]).is_ok(), "{:?} -> {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn illegal_moves_are_refused_with_a_reason() {
        use CaseStep as S;
        for (from, to) in [
            (S::Registered, S::Interviewed),
            (S::InterviewRequested, S::Recognised),
            (S::Recognised, S::Departed),
            (S::Departed, S::Withdrawn),
            (S::Withdrawn, S::Registered),
            (S::Rejected, S::Submitted),
        ] {
            let err = from.check_next(to).unwrap_err();
            assert_eq!((err.field.as_str(), err.reason.code()), ("step", "step-not-allowed"));
        }
    }

    #[test]
    fn every_open_case_can_close_and_final_steps_lead_nowhere() {
        for step in CaseStep::ALL {
            if step.is_final() {
                assert!(step.next().is_empty(), "{step:?}");
            } else {
                for closure in [CaseStep::Withdrawn, CaseStep::Deceased, CaseStep::LeftOtherwise] {
                    assert!(step.check_next(closure).is_ok(), "{step:?}");
                }
            }
        }
    }

    #[test]
    fn every_step_is_reachable_from_registration() {
        let mut seen = vec![CaseStep::Registered];
        let mut i = 0;
        while i < seen.len() {
            for n in seen[i].next() {
                if !seen.contains(&n) {
                    seen.push(n);
                }
            }
            i += 1;
        }
        assert_eq!(seen.len(), CaseStep::ALL.len());
    }
}
