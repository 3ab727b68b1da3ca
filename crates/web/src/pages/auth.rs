//! Login, logout, first-run setup, language choice and the dashboard.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::audit::AuditAction;
use lantern_domain::policy::Role;
use lantern_domain::user::{display_name, NewPassword, UiLanguage, Username};
use lantern_domain::{FieldErrors, Reason};
use lantern_store::{NewSession, NewUser, Stats, UserChange};
use serde::Deserialize;

use super::{field, no_errors, safe_next, Pairs};
use crate::authz::{need, Authz};
use crate::context::{session_cookie_name, set_cookie, Ctx, LANG_COOKIE};
use crate::error::AppError;
use crate::security::{dummy_hash, random_token, token_hash, verify_password, verify_totp};
use crate::view::{render, render_status, Page};
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Page,
    username: String,
    next: String,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    setup: String,
}

pub(crate) async fn login_form(State(state): State<AppState>, ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    if ctx.user.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    let c = Page::new(&state, &ctx, "login-title");
    let notice = (q.setup == "done").then(|| c.t("setup-done"));
    render(&LoginPage {
        c,
        username: String::new(),
        next: q.next,
        message: None,
        notice,
    })
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let username = field(&form, "username").trim().to_ascii_lowercase();
    let password = field(&form, "password").to_string();
    let code = field(&form, "code").to_string();
    let next = field(&form, "next").to_string();
    let now = state.clock.now();
    let failed = |state: &AppState, key: &'static str, status: StatusCode| {
        let c = Page::new(state, &ctx, "login-title");
        let message = Some(c.t(key));
        render_status(
            status,
            &LoginPage {
                c,
                username: username.clone(),
                next: next.clone(),
                message,
                notice: None,
            },
        )
    };
    if state.throttle.is_blocked(&username, &ctx.address, now) {
        let mut audit = ctx.audit(now);
        audit.actor_name = username.clone();
        let event = audit.event(AuditAction::LoginFailed, "user", None, "throttled");
        state.db(move |s| s.record_audit(&event)).await?;
        return Ok(failed(&state, "login-throttled", StatusCode::TOO_MANY_REQUESTS));
    }
    let u = username.clone();
    let creds = state.db(move |s| s.user_credentials(&u)).await?;
    let hash = creds
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let verdict = match &creds {
        None => Err("unknown user"),
        Some(_) if !password_ok => Err("wrong password"),
        Some(c) if c.user.disabled => Err("disabled"),
        Some(c) => match &c.totp_secret {
            Some(secret) if !verify_totp(secret, &code, now) => Err("wrong second factor"),
            _ => Ok(c.user.clone()),
        },
    };
    let user = match verdict {
        Ok(user) => user,
        Err(why) => {
            state.throttle.fail(&username, &ctx.address, now);
            let mut audit = ctx.audit(now);
            audit.actor_name = username.clone();
            audit.actor_id = creds.as_ref().map(|c| c.user.id);
            let event = audit.event(
                AuditAction::LoginFailed,
                "user",
                creds.as_ref().map(|c| c.user.id.to_string()),
                why,
            );
            state.db(move |s| s.record_audit(&event)).await?;
            return Ok(failed(&state, "login-failed", StatusCode::UNAUTHORIZED));
        }
    };
    state.throttle.succeed(&username);
    let token = random_token();
    let session = NewSession {
        id_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_token(),
        created_at: now,
    };
    let mut audit = ctx.audit(now);
    audit.actor_id = Some(user.id);
    audit.actor_name = user.username.as_str().to_string();
    state.db(move |s| s.create_session(session, &audit)).await?;
    let secure = state.config.secure_cookies;
    let mut r = Redirect::to(&safe_next(&next)).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(session_cookie_name(secure), &token, secure, None),
    );
    Ok(r)
}

pub(crate) async fn logout(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(hash) = ctx.session_hash.clone() {
        let audit = ctx.audit(state.clock.now());
        state.db(move |s| s.delete_session(&hash, Some(&audit))).await?;
    }
    let secure = state.config.secure_cookies;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(session_cookie_name(secure), "", secure, Some(0)),
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Page,
    token: String,
    username: String,
    display_name: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub(crate) struct SetupQuery {
    #[serde(default)]
    token: String,
}

pub(crate) async fn setup_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SetupQuery>,
) -> Result<Response, AppError> {
    if state.db(|s| s.user_count()).await? > 0 {
        return Err(AppError::NotFound);
    }
    Ok(render(&SetupPage {
        c: Page::new(&state, &ctx, "setup-title"),
        token: q.token,
        username: String::new(),
        display_name: String::new(),
        errors: no_errors(),
    }))
}

pub(crate) async fn setup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let username = errors.take(Username::parse("username", field(&form, "username")));
    let name = errors.take(display_name("display_name", field(&form, "display_name")));
    let password = errors.take(NewPassword::parse(
        "password",
        field(&form, "password"),
        username.as_ref(),
    ));
    if password.is_some() && field(&form, "password") != field(&form, "password_confirm") {
        errors.push("password_confirm", Reason::InvalidFormat);
    }
    let token = field(&form, "token").to_string();
    let (Some(username), Some(name), Some(password), true) = (username, name, password, errors.is_empty()) else {
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                c: Page::new(&state, &ctx, "setup-title"),
                token,
                username: field(&form, "username").to_string(),
                display_name: field(&form, "display_name").to_string(),
                errors,
            },
        ));
    };
    let hash = super::hash_new_password(password).await?;
    let user = NewUser {
        username,
        display_name: name,
        role: Role::Administrator,
        language: ctx.lang,
        password_hash: hash,
        must_change_password: false,
    };
    let audit = ctx.audit(state.clock.now());
    let token_hash = token_hash(&token);
    state.db(move |s| s.complete_setup(&token_hash, user, &audit)).await?;
    Ok(Redirect::to("/login?setup=done").into_response())
}

pub(crate) async fn language(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let lang = UiLanguage::parse("lang", field(&form, "lang"))?;
    if let Some(user) = &ctx.user {
        let id = user.id;
        let audit = ctx.audit(state.clock.now());
        let change = UserChange {
            language: Some(lang),
            action: Some(AuditAction::AccountUpdate),
            ..Default::default()
        };
        state.db(move |s| s.update_user(id, change, &audit)).await?;
    }
    let mut r = Redirect::to(&safe_next(field(&form, "back"))).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LANG_COOKIE,
            lang.code(),
            state.config.secure_cookies,
            Some(365 * 24 * 3600),
        ),
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Page,
    stats: Stats,
}

/// The start page: the dashboard, or for a role without one (an external
/// official) the page that role works from, so logging in never ends on a
/// refusal.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    auth: Authz<need::OwnAccount>,
) -> Result<Response, AppError> {
    use lantern_domain::policy::{allows, Permission};
    if auth.user.must_change_password {
        return Ok(Redirect::to("/account").into_response());
    }
    if !allows(auth.user.role, Permission::DashboardView) {
        let start = if allows(auth.user.role, Permission::DossierReceive) {
            "/shared"
        } else {
            "/account"
        };
        return Ok(Redirect::to(start).into_response());
    }
    let stats = state.db(|s| s.stats()).await?;
    Ok(render(&DashboardPage {
        c: Page::new(&state, &auth.ctx, "dashboard-title"),
        stats,
    }))
}
