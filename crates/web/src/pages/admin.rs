//! Users, roles and sites (administrators).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::policy::Role;
use lantern_domain::user::{display_name, NewPassword, UiLanguage, UserId, Username};
use lantern_domain::FieldErrors;
use lantern_store::{NewUser, Site, User, UserChange};

use super::{field, no_errors, Pairs};
use crate::authz::{need, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::view::{render_status, Page};
use crate::AppState;

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Page,
    users: Vec<User>,
    roles: Vec<&'static str>,
    errors: FieldErrors,
    form: Pairs,
}

impl UsersPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

async fn users_page(state: &AppState, ctx: &Ctx, errors: FieldErrors, form: Pairs) -> Result<Response, AppError> {
    let users = state.db(|s| s.users()).await?;
    let status = super::form_status(&errors);
    Ok(render_status(
        status,
        &UsersPage {
            c: Page::new(state, ctx, "users-title"),
            users,
            roles: Role::ALL.iter().map(|r| r.code()).collect(),
            errors,
            form,
        },
    ))
}

pub(crate) async fn users(State(state): State<AppState>, auth: Authz<need::UserManage>) -> Result<Response, AppError> {
    users_page(&state, &auth.ctx, no_errors(), Vec::new()).await
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    auth: Authz<need::UserManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let username = errors.take(Username::parse("username", field(&form, "username")));
    let name = errors.take(display_name("display_name", field(&form, "display_name")));
    let role = errors.take(Role::parse("role", field(&form, "role")));
    let language = match field(&form, "language") {
        "" => Some(UiLanguage::En),
        l => errors.take(UiLanguage::parse("language", l)),
    };
    let password = errors.take(NewPassword::parse(
        "password",
        field(&form, "password"),
        username.as_ref(),
    ));
    let (Some(username), Some(name), Some(role), Some(language), Some(password), true) =
        (username, name, role, language, password, errors.is_empty())
    else {
        let keep: Pairs = form.into_iter().filter(|(k, _)| k != "password").collect();
        return users_page(&state, &auth.ctx, errors, keep).await;
    };
    let hash = super::hash_new_password(password).await?;
    let user = NewUser {
        username,
        display_name: name,
        role,
        language,
        password_hash: hash,
        must_change_password: true,
    };
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.create_user(user, &audit)).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(AppError::Invalid(errors)) => {
            let keep: Pairs = form.into_iter().filter(|(k, _)| k != "password").collect();
            users_page(&state, &auth.ctx, errors, keep).await
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    auth: Authz<need::UserManage>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = UserId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let mut change = UserChange::default();
    if !field(&form, "role").is_empty() {
        change.role = Some(Role::parse("role", field(&form, "role"))?);
    }
    match field(&form, "disabled") {
        "true" => change.disabled = Some(true),
        "false" => change.disabled = Some(false),
        _ => {}
    }
    if id == auth.user.id && (change.disabled == Some(true) || change.role.is_some_and(|r| r != Role::Administrator)) {
        // An administrator cannot lock themselves (and possibly everyone) out.
        return Err(AppError::Forbidden);
    }
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.update_user(id, change, &audit)).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    c: Page,
    sites: Vec<Site>,
    errors: FieldErrors,
}

async fn sites_page(state: &AppState, ctx: &Ctx, errors: FieldErrors) -> Result<Response, AppError> {
    let sites = state.db(|s| s.sites()).await?;
    let status = super::form_status(&errors);
    Ok(render_status(
        status,
        &SitesPage {
            c: Page::new(state, ctx, "sites-title"),
            sites,
            errors,
        },
    ))
}

pub(crate) async fn sites(State(state): State<AppState>, auth: Authz<need::SiteManage>) -> Result<Response, AppError> {
    sites_page(&state, &auth.ctx, no_errors()).await
}

pub(crate) async fn create_site(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let name = field(&form, "name").to_string();
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.create_site(&name, &audit)).await {
        Ok(_) => Ok(Redirect::to("/admin/sites").into_response()),
        Err(AppError::Invalid(errors)) => sites_page(&state, &auth.ctx, errors).await,
        Err(e) => Err(e),
    }
}
