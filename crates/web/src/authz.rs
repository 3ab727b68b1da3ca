//! The one place where access is decided for web requests.
//!
//! A handler states what it needs in its signature, `Authz<need::PersonWrite>`,
//! and the extractor asks the domain's permission matrix. A refusal is
//! audited and answered 403; a missing login is answered with the login form
//! (pages) or 401 (API).

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lantern_domain::audit::AuditAction;
use lantern_domain::policy::{allows, Permission};
use lantern_store::User;

use crate::context::Ctx;
use crate::error::AppError;
use crate::AppState;

/// A permission named as a type, so a handler's signature says what it needs.
pub trait Need: Send + Sync + 'static {
    /// The permission.
    const PERMISSION: Permission;
}

/// The permissions as types.
pub mod need {
    use super::Need;
    use lantern_domain::policy::Permission;

    macro_rules! needs {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Requires `Permission::", stringify!($name), "`.")]
            #[derive(Debug)]
            pub struct $name;
            impl Need for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    needs!(
        DashboardView,
        PersonRead,
        PersonReadProtected,
        PersonWrite,
        PersonDelete,
        UserManage,
        SiteManage,
        AuditRead,
        AuditExport,
        OwnAccount,
        CaseRead,
        CaseWrite,
        CaseNotes,
        CaseExport,
        TracingWork,
        TracingRequester,
        EvidenceRead,
        EvidenceOpen,
        EvidenceWrite,
        TestimonyRead,
        TestimonyConfidential,
        TestimonyWrite,
        DossierManage,
        DossierReceive,
        VocabularyManage,
        TextSearch,
    );
}

/// Proof that the request's user holds permission `N`.
#[derive(Debug)]
pub struct Authz<N: Need> {
    /// The user.
    pub user: User,
    /// The request context.
    pub ctx: Ctx,
    _need: PhantomData<N>,
}

impl<N: Need> FromRequestParts<AppState> for Authz<N> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let Some(user) = ctx.user.clone() else {
            return Err(AppError::Unauthenticated);
        };
        // A password someone else chose (an administrator, the demo loader)
        // opens only the account page until the user replaces it.
        if user.must_change_password && N::PERMISSION != Permission::OwnAccount {
            return Err(AppError::PasswordChangeRequired);
        }
        if allows(user.role, N::PERMISSION) {
            return Ok(Authz {
                user,
                ctx,
                _need: PhantomData,
            });
        }
        let event = ctx.audit(state.clock.now()).event(
            AuditAction::AccessDenied,
            "route",
            Some(format!("{} {}", parts.method, parts.uri.path())),
            N::PERMISSION.code(),
        );
        state.db(move |s| s.record_audit(&event)).await?;
        Err(AppError::Forbidden)
    }
}

/// Whether the user may move a tracing request to `to`
/// ([`lantern_domain::tracing::allows_transition`]); a refusal is audited
/// and answered 403.
pub async fn require_transition(
    state: &AppState,
    auth: &Authz<need::TracingWork>,
    to: lantern_domain::tracing::RequestState,
) -> Result<(), AppError> {
    if lantern_domain::tracing::allows_transition(auth.user.role, to) {
        return Ok(());
    }
    let event = auth.ctx.audit(state.clock.now()).event(
        AuditAction::AccessDenied,
        "request_state",
        Some(to.code().to_string()),
        auth.user.role.code(),
    );
    state.db(move |s| s.record_audit(&event)).await?;
    Err(AppError::Forbidden)
}

/// Whether the user may record that a case reached `step`
/// ([`lantern_domain::policy::allows_step`]); a refusal is audited and
/// answered 403, like the extractor's.
pub async fn require_step(
    state: &AppState,
    auth: &Authz<need::CaseWrite>,
    step: lantern_domain::case::CaseStep,
) -> Result<(), AppError> {
    if lantern_domain::policy::allows_step(auth.user.role, step) {
        return Ok(());
    }
    let event = auth.ctx.audit(state.clock.now()).event(
        AuditAction::AccessDenied,
        "case_step",
        Some(step.code().to_string()),
        auth.user.role.code(),
    );
    state.db(move |s| s.record_audit(&event)).await?;
    Err(AppError::Forbidden)
}
