//! Roles and the one permission matrix.
//!
//! Every access decision in Lantern is `allows(role, permission)`. The web
//! layer asks it in a single extractor; no handler compares roles itself.
//! The matrix follows data minimisation: a role gets what its work needs
//! (DESIGN.md, "Who uses it"), nothing because it might be handy.

use crate::case::CaseStep;
use crate::person::code_enum;

code_enum!(
    /// A user's role.
    Role {
        /// Users, roles, sites, settings, keys.
        Administrator = "administrator",
        /// Registers residents, households, family links, documents.
        Registrar = "registrar",
        /// Handles tracing, visit and message requests; records consent.
        Caseworker = "caseworker",
        /// Holds status and resettlement interviews.
        Interviewer = "interviewer",
        /// Files requests on behalf of families; relays answers.
        FamilyLiaison = "family_liaison",
        /// Records testimonies and evidence; builds dossiers.
        Documenter = "documenter",
        /// Reads only the dossiers shared with them.
        ExternalOfficial = "external_official",
        /// Reads the audit trail; changes nothing.
        Auditor = "auditor",
    }
);

code_enum!(
    /// Something a user may be allowed to do.
    Permission {
        /// See the staff dashboard (aggregate counts only).
        DashboardView = "dashboard_view",
        /// List, search and view people and households (unprotected fields).
        PersonRead = "person_read",
        /// Read a person's protected fields (documents, contact, notes).
        PersonReadProtected = "person_read_protected",
        /// Register and edit people, households and family links.
        PersonWrite = "person_write",
        /// Soft-delete people.
        PersonDelete = "person_delete",
        /// Manage users and roles.
        UserManage = "user_manage",
        /// Manage sites.
        SiteManage = "site_manage",
        /// Read the audit trail.
        AuditRead = "audit_read",
        /// Export the audit trail.
        AuditExport = "audit_export",
        /// Manage one's own account (password, language, second factor, tokens).
        OwnAccount = "own_account",
        /// List and view status and resettlement cases.
        CaseRead = "case_read",
        /// Open cases, record their steps (as [`allows_step`] permits) and obstacles.
        CaseWrite = "case_write",
        /// Write and read case notes and decisions (protected: sealed at
        /// rest, every read audited).
        CaseNotes = "case_notes",
        /// Export the case list with residents' names (audited).
        CaseExport = "case_export",
        /// List, view and file tracing requests (moving them is decided
        /// per state by [`crate::tracing::allows_transition`]).
        TracingWork = "tracing_work",
        /// Read a requester's contact details (audited).
        TracingRequester = "tracing_requester",
        /// List evidence records and their chain of custody.
        EvidenceRead = "evidence_read",
        /// Open or download evidence files (every access audited and
        /// recorded in the chain of custody).
        EvidenceOpen = "evidence_open",
        /// Upload evidence, working copies, and record custody transfers.
        EvidenceWrite = "evidence_write",
        /// List and view testimonies and events under their pseudonyms,
        /// without the parts marked confidential.
        TestimonyRead = "testimony_read",
        /// See witnesses' identities and confidential parts (audited).
        TestimonyConfidential = "testimony_confidential",
        /// Record testimonies, events, and witnesses' sharing decisions.
        TestimonyWrite = "testimony_write",
        /// Register recipients, build and export dossiers.
        DossierManage = "dossier_manage",
        /// Receive dossiers: see those shared with one's recipient, until
        /// they expire.
        DossierReceive = "dossier_receive",
        /// Extend the vocabulary of act types.
        VocabularyManage = "vocabulary_manage",
        /// Search the text of testimonies and evidence records (each
        /// search looks only into what the role may read of them).
        TextSearch = "text_search",
    }
);

/// The permission matrix: may `role` do `permission`?
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match permission {
        P::OwnAccount => true,
        P::DashboardView => !matches!(role, R::ExternalOfficial),
        P::PersonRead => matches!(
            role,
            R::Administrator | R::Registrar | R::Caseworker | R::Interviewer | R::Documenter
        ),
        P::PersonReadProtected => matches!(role, R::Registrar | R::Caseworker),
        P::PersonWrite | P::PersonDelete => matches!(role, R::Registrar),
        P::UserManage | P::SiteManage => matches!(role, R::Administrator),
        P::AuditRead => matches!(role, R::Auditor | R::Administrator),
        P::AuditExport => matches!(role, R::Auditor),
        P::CaseRead => matches!(role, R::Administrator | R::Registrar | R::Interviewer),
        P::CaseWrite => matches!(role, R::Registrar | R::Interviewer),
        P::CaseNotes => matches!(role, R::Interviewer),
        P::CaseExport => matches!(role, R::Registrar | R::Interviewer),
        P::TracingWork => matches!(role, R::Caseworker | R::FamilyLiaison),
        P::TracingRequester => matches!(role, R::Caseworker | R::FamilyLiaison),
        // Caseworkers keep signed consent forms; documenters testimonies'
        // evidence. Auditors see the chain of custody, never the files.
        P::EvidenceRead => matches!(role, R::Documenter | R::Caseworker | R::Auditor),
        P::EvidenceOpen | P::EvidenceWrite => matches!(role, R::Documenter | R::Caseworker),
        // Caseworkers learn that a resident has testified (protection
        // work); only documenters know who the witness is.
        P::TestimonyRead => matches!(role, R::Documenter | R::Caseworker),
        P::TestimonyConfidential | P::TestimonyWrite | P::DossierManage => matches!(role, R::Documenter),
        P::DossierReceive => matches!(role, R::ExternalOfficial),
        P::VocabularyManage => matches!(role, R::Administrator),
        P::TextSearch => allows(role, P::TestimonyRead) || allows(role, P::EvidenceRead),
    }
}

/// May `role` record that a case reached `step`? (Whether the step may
/// follow the case's current one is the case's rule, [`CaseStep::next`].)
/// Registrars verify registrations, record departures at the gate and close
/// cases; interviews, decisions and resettlement steps are the
/// interviewers'.
pub fn allows_step(role: Role, step: CaseStep) -> bool {
    use CaseStep as S;
    if !allows(role, Permission::CaseWrite) {
        return false;
    }
    match step {
        S::Registered => false,
        S::RegistrationVerified | S::Departed | S::Withdrawn | S::Deceased | S::LeftOtherwise => true,
        _ => role == Role::Interviewer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_officials_see_no_registry_data() {
        for p in Permission::ALL {
            let expected = matches!(p, Permission::OwnAccount | Permission::DossierReceive);
            assert_eq!(allows(Role::ExternalOfficial, *p), expected, "{p:?}");
        }
    }

    #[test]
    fn auditors_change_nothing() {
        for p in [
            Permission::PersonWrite,
            Permission::PersonDelete,
            Permission::UserManage,
            Permission::SiteManage,
            Permission::PersonReadProtected,
        ] {
            assert!(!allows(Role::Auditor, p), "{p:?}");
        }
        assert!(allows(Role::Auditor, Permission::AuditRead));
        assert!(allows(Role::Auditor, Permission::AuditExport));
    }

    #[test]
    fn protected_fields_only_for_registrars_and_caseworkers() {
        let readers: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| allows(*r, Permission::PersonReadProtected))
            .collect();
        assert_eq!(readers, [Role::Registrar, Role::Caseworker]);
    }

    #[test]
    fn administrators_manage_users_but_do_not_edit_people() {
        assert!(allows(Role::Administrator, Permission::UserManage));
        assert!(!allows(Role::Administrator, Permission::PersonWrite));
        assert!(!allows(Role::Registrar, Permission::UserManage));
    }

    #[test]
    fn interviewers_decide_and_registrars_verify_and_close() {
        assert!(allows_step(Role::Interviewer, CaseStep::Recognised));
        assert!(!allows_step(Role::Registrar, CaseStep::Recognised));
        assert!(allows_step(Role::Registrar, CaseStep::RegistrationVerified));
        assert!(allows_step(Role::Registrar, CaseStep::Withdrawn));
        for role in Role::ALL {
            assert!(!allows_step(*role, CaseStep::Registered), "cases open as registered");
            if !allows(*role, Permission::CaseWrite) {
                for step in CaseStep::ALL {
                    assert!(!allows_step(*role, *step), "{role:?} {step:?}");
                }
            }
        }
    }

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse("role", r.code()).unwrap(), *r);
        }
        assert!(Role::parse("role", "superuser").is_err());
    }
}
