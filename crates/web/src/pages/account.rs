//! One's own account: password, second factor, API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::audit::AuditAction;
use lantern_domain::user::NewPassword;
use lantern_domain::{FieldErrors, Reason};
use lantern_store::{ApiToken, NewApiToken, UserChange};

use super::{field, no_errors, Pairs};
use crate::authz::{need, Authz};
use crate::error::AppError;
use crate::security::{
    base32_encode, new_totp_secret, random_token, token_hash, totp_uri, verify_password, verify_totp,
};
use crate::view::{render_status, Page};
use crate::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Page,
    totp_enabled: bool,
    tokens: Vec<ApiToken>,
    errors: FieldErrors,
    /// A new TOTP secret being set up (base32) and its URI.
    totp_setup: Option<(String, String)>,
    /// A token just created: shown once.
    new_token: Option<String>,
    notice: Option<String>,
}

async fn page(
    state: &AppState,
    auth: &Authz<need::OwnAccount>,
    status: StatusCode,
    errors: FieldErrors,
    totp_setup: Option<(String, String)>,
    new_token: Option<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let id = auth.user.id;
    let tokens = state.db(move |s| s.api_tokens(id)).await?;
    let user = state.db(move |s| s.user(id)).await?.ok_or(AppError::NotFound)?;
    let c = Page::new(state, &auth.ctx, "account-title");
    let notice = notice
        .or(user.must_change_password.then_some("password-change-required"))
        .map(|k| c.t(k));
    Ok(render_status(
        status,
        &AccountPage {
            c,
            totp_enabled: user.totp_enabled,
            tokens,
            errors,
            totp_setup,
            new_token,
            notice,
        },
    ))
}

/// Applies a change to one's own account (audited as such) and shows the
/// account page with a notice.
async fn apply(
    state: &AppState,
    auth: &Authz<need::OwnAccount>,
    change: UserChange,
    notice: &'static str,
) -> Result<Response, AppError> {
    let id = auth.user.id;
    let audit = auth.ctx.audit(state.clock.now());
    let change = UserChange {
        action: Some(AuditAction::AccountUpdate),
        ..change
    };
    state.db(move |s| s.update_user(id, change, &audit)).await?;
    page(state, auth, StatusCode::OK, no_errors(), None, None, Some(notice)).await
}

/// Checks the user's current password (argon2, on the blocking pool).
async fn current_password_ok(
    state: &AppState,
    auth: &Authz<need::OwnAccount>,
    password: &str,
) -> Result<bool, AppError> {
    let username = auth.user.username.as_str().to_string();
    let creds = state
        .db(move |s| s.user_credentials(&username))
        .await?
        .ok_or(AppError::NotFound)?;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || verify_password(&password, &creds.password_hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub(crate) async fn show(State(state): State<AppState>, auth: Authz<need::OwnAccount>) -> Result<Response, AppError> {
    page(&state, &auth, StatusCode::OK, no_errors(), None, None, None).await
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    auth: Authz<need::OwnAccount>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let ok = current_password_ok(&state, &auth, field(&form, "current_password")).await?;
    let mut errors = FieldErrors::new();
    if !ok {
        errors.push("current_password", Reason::InvalidFormat);
    }
    let new = errors.take(NewPassword::parse(
        "new_password",
        field(&form, "new_password"),
        Some(&auth.user.username),
    ));
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return page(
            &state,
            &auth,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            None,
            None,
            None,
        )
        .await;
    };
    let hash = super::hash_new_password(new).await?;
    let change = UserChange {
        password_hash: Some(hash),
        must_change_password: Some(false),
        ..Default::default()
    };
    apply(&state, &auth, change, "password-changed").await
}

/// Three steps in one form: `start` shows a new secret, `confirm` checks a
/// code against it and turns the second factor on, `disable` turns it off
/// (with the password).
pub(crate) async fn totp(
    State(state): State<AppState>,
    auth: Authz<need::OwnAccount>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    match field(&form, "step") {
        "start" => {
            let secret = new_totp_secret();
            let account = auth.user.username.as_str().to_string();
            let setup = (base32_encode(&secret), totp_uri("Lantern", &account, &secret));
            page(&state, &auth, StatusCode::OK, no_errors(), Some(setup), None, None).await
        }
        "confirm" => {
            let secret_b32 = field(&form, "secret").to_string();
            let secret = base32_decode(&secret_b32).ok_or(AppError::Invalid(
                lantern_domain::FieldError::new("secret", Reason::InvalidFormat).into(),
            ))?;
            if !verify_totp(&secret, field(&form, "code"), now) {
                let mut errors = FieldErrors::new();
                errors.push("code", Reason::InvalidFormat);
                let account = auth.user.username.as_str().to_string();
                let setup = (secret_b32, totp_uri("Lantern", &account, &secret));
                return page(
                    &state,
                    &auth,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    errors,
                    Some(setup),
                    None,
                    None,
                )
                .await;
            }
            let change = UserChange {
                totp_secret: Some(Some(secret)),
                ..Default::default()
            };
            apply(&state, &auth, change, "totp-enabled").await
        }
        "disable" => {
            if !current_password_ok(&state, &auth, field(&form, "current_password")).await? {
                let mut errors = FieldErrors::new();
                errors.push("current_password", Reason::InvalidFormat);
                return page(
                    &state,
                    &auth,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    errors,
                    None,
                    None,
                    None,
                )
                .await;
            }
            let change = UserChange {
                totp_secret: Some(None),
                ..Default::default()
            };
            apply(&state, &auth, change, "totp-disabled").await
        }
        _ => Err(lantern_domain::FieldError::new("step", Reason::UnknownChoice).into()),
    }
}

/// Decodes unpadded RFC 4648 base32 (case-insensitive, spaces ignored).
fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    (out.len() >= 10).then_some(out)
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    auth: Authz<need::OwnAccount>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let name = match lantern_domain::text::required_text("token_name", field(&form, "token_name"), 100) {
        Ok(n) => n,
        Err(e) => {
            return page(
                &state,
                &auth,
                StatusCode::UNPROCESSABLE_ENTITY,
                e.into(),
                None,
                None,
                None,
            )
            .await
        }
    };
    let secret = format!("lantern_{}", random_token());
    let token = NewApiToken {
        user_id: auth.user.id,
        name,
        token_hash: token_hash(&secret),
        created_at: state.clock.now(),
    };
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.create_api_token(token, &audit)).await?;
    page(&state, &auth, StatusCode::OK, no_errors(), None, Some(secret), None).await
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    auth: Authz<need::OwnAccount>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let token = uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let user = auth.user.id;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.revoke_api_token(user, token, &audit)).await?;
    Ok(Redirect::to("/account").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trip() {
        let secret = new_totp_secret();
        assert_eq!(base32_decode(&base32_encode(&secret)), Some(secret));
        assert_eq!(base32_decode("not base32!"), None);
    }
}
