//! What the audit trail records.

use crate::person::code_enum;

code_enum!(
    /// An audited action. Codes are stable: exports and filters use them.
    AuditAction {
        /// A person was registered.
        PersonCreate = "person.create",
        /// A person was edited.
        PersonUpdate = "person.update",
        /// A person was (soft-)deleted.
        PersonDelete = "person.delete",
        /// A person's protected fields were read.
        PersonReadProtected = "person.read_protected",
        /// A person's photo was set.
        PersonPhoto = "person.photo",
        /// A family link was added.
        LinkAdd = "link.add",
        /// A family link was removed.
        LinkRemove = "link.remove",
        /// A household was created.
        HouseholdCreate = "household.create",
        /// A site was created.
        SiteCreate = "site.create",
        /// A user was created.
        UserCreate = "user.create",
        /// A user's role, status or password was changed by an administrator.
        UserUpdate = "user.update",
        /// A user changed their own settings.
        AccountUpdate = "account.update",
        /// The first administrator was created through the setup link.
        SetupComplete = "setup.complete",
        /// A successful login.
        Login = "login",
        /// A failed login.
        LoginFailed = "login.failed",
        /// A logout.
        Logout = "logout",
        /// A request was refused for lack of permission.
        AccessDenied = "access.denied",
        /// An API token was created.
        TokenCreate = "token.create",
        /// An API token was revoked.
        TokenRevoke = "token.revoke",
        /// The audit trail was exported.
        AuditExport = "audit.export",
        /// A case was opened.
        CaseCreate = "case.create",
        /// A case moved to another step.
        CaseStep = "case.step",
        /// An obstacle was recorded on a case.
        CaseObstacle = "case.obstacle",
        /// An interview was booked.
        InterviewBook = "interview.book",
        /// What became of an interview was recorded.
        InterviewClose = "interview.close",
        /// An interview room was added.
        RoomCreate = "room.create",
        /// An interpreter was added.
        InterpreterCreate = "interpreter.create",
        /// A case note or decision was written.
        CaseNoteAdd = "case.note_add",
        /// A case's notes were read.
        CaseNotesRead = "case.notes_read",
        /// The case list was exported.
        CaseExport = "case.export",
        /// Someone's weekly availability was set.
        AvailabilitySet = "availability.set",
        /// A tracing request was filed.
        RequestFile = "request.file",
        /// A tracing request changed state.
        RequestState = "request.state",
        /// What is known of the person sought on a request was corrected.
        RequestEdit = "request.edit",
        /// A photo of the person sought was added to a request.
        RequestPhoto = "request.photo",
        /// The matching engine's candidates were recorded on a request.
        RequestCandidates = "request.candidates",
        /// A candidate was confirmed or rejected.
        RequestDecide = "request.decide",
        /// The sought person's consent was recorded.
        RequestConsent = "request.consent",
        /// An evidence file was uploaded (an original or a working copy).
        EvidenceAdd = "evidence.add",
        /// An evidence record's protected details were read.
        EvidenceView = "evidence.view",
        /// An evidence file was opened or downloaded.
        EvidenceOpen = "evidence.open",
        /// A custody transfer was recorded.
        EvidenceTransfer = "evidence.transfer",
        /// A requester's protected details were read.
        RequestReadRequester = "request.read_requester",
        /// A message between a family and a resident was recorded.
        RequestMessage = "request.message",
        /// A family's message was delivered to the resident.
        RequestMessageDelivered = "request.message_delivered",
        /// A request's messages were read.
        RequestReadMessages = "request.read_messages",
        /// A visiting room was added.
        VisitRoomCreate = "visit_room.create",
        /// A family visit was booked.
        VisitBook = "visit.book",
        /// What became of a visit was recorded.
        VisitClose = "visit.close",
        /// A request's visits (with the visitors' names) were read.
        RequestReadVisits = "request.read_visits",
        /// An act type was added to the vocabulary.
        ActTypeCreate = "act_type.create",
        /// An event was recorded.
        EventCreate = "event.create",
        /// A testimony was recorded.
        TestimonyCreate = "testimony.create",
        /// A testimony's narrative and names (not the confidential parts) were read.
        TestimonyView = "testimony.view",
        /// A testimony's witness identity or confidential parts were read.
        TestimonyReadConfidential = "testimony.read_confidential",
        /// A witness's decision about sharing with a recipient was recorded.
        TestimonyShareConsent = "testimony.share_consent",
        /// A recipient of dossiers was registered.
        RecipientCreate = "recipient.create",
        /// A dossier was built (its entry is in the ledger).
        DossierCreate = "dossier.create",
        /// A dossier was viewed.
        DossierView = "dossier.view",
        /// A dossier's bundle was downloaded.
        DossierDownload = "dossier.download",
    }
);
