//! Server-rendered pages.

mod account;
mod admin;
mod audit;
mod auth;
pub(crate) mod cases;
pub(crate) mod evidence;
pub(crate) mod interviews;
mod people;
mod search;
pub(crate) mod testimonies;
pub(crate) mod tracing;

pub(crate) use people::photo_response;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use lantern_domain::FieldErrors;

use crate::AppState;

/// Every page route.
pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(auth::dashboard))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup", get(auth::setup_form).post(auth::setup))
        .route("/language", post(auth::language))
        .route("/people", get(people::list).post(people::create))
        .route("/people/new", get(people::new_form))
        .route("/people/{id}", get(people::show))
        .route("/people/{id}/edit", get(people::edit_form).post(people::update))
        .route("/people/{id}/protected", get(people::show_protected))
        .route("/people/{id}/delete", post(people::delete))
        .route("/people/{id}/history", get(people::history))
        .route(
            "/people/{id}/photo",
            get(people::photo)
                .post(people::upload_photo)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route("/people/{id}/links", post(people::add_link))
        .route("/people/{id}/links/remove", post(people::remove_link))
        .route("/households", get(people::households).post(people::create_household))
        .route("/households/{id}", get(people::household))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases.csv", get(cases::list_csv))
        .route("/cases/pipeline", get(cases::pipeline))
        .route("/cases/pipeline.csv", get(cases::pipeline_csv))
        .route("/cases/{id}", get(cases::show))
        .route("/cases/{id}/step", post(cases::step))
        .route("/cases/{id}/obstacles", post(cases::add_obstacle))
        .route("/cases/{id}/notes", get(cases::notes).post(cases::add_note))
        .route("/cases/{id}/household-copy", get(cases::household_copy))
        .route(
            "/cases/{id}/interviews",
            get(interviews::for_case).post(interviews::book),
        )
        .route("/interviews", get(interviews::day))
        .route("/interviews/bulk", post(interviews::bulk))
        .route("/interviews/{id}/outcome", post(interviews::close))
        .route("/admin/rooms", get(interviews::rooms).post(interviews::create_room))
        .route("/admin/interpreters", post(interviews::create_interpreter))
        .route("/admin/visit-rooms", post(interviews::create_visit_room))
        .route("/tracing/{id}/visits", get(tracing::visits).post(tracing::book_visit))
        .route("/visits/{id}/outcome", post(tracing::close_visit))
        .route("/admin/availability", post(interviews::set_availability))
        .route(
            "/admin/interviewer-languages",
            post(interviews::set_interviewer_languages),
        )
        .route(
            "/tracing",
            get(tracing::list)
                .post(tracing::create)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route(
            "/tracing/{id}/photo",
            get(tracing::photo)
                .post(tracing::upload_photo)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route("/tracing/new", get(tracing::new_form))
        .route("/tracing/{id}", get(tracing::show))
        .route("/tracing/{id}/edit", get(tracing::edit_form).post(tracing::edit))
        .route("/tracing/{id}/requester", get(tracing::requester))
        .route("/tracing/{id}/search", post(tracing::search))
        .route(
            "/tracing/{id}/messages",
            get(tracing::messages).post(tracing::add_message),
        )
        .route(
            "/tracing/{id}/messages/{message}/deliver",
            post(tracing::deliver_message),
        )
        .route("/tracing/{id}/decide", post(tracing::decide))
        .route("/tracing/{id}/state", post(tracing::move_state))
        .route(
            "/tracing/{id}/consent",
            post(tracing::consent).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/status", get(tracing::status_form).post(tracing::status))
        .route(
            "/request",
            get(tracing::public_form)
                .post(tracing::public_create)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route(
            "/evidence",
            get(evidence::list)
                .post(evidence::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}", get(evidence::show))
        .route(
            "/evidence/{id}/copies",
            post(evidence::upload_copy).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}/download", get(evidence::download))
        .route("/evidence/{id}/transfer", post(evidence::transfer))
        .route(
            "/testimonies",
            get(testimonies::list)
                .post(testimonies::create)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/testimonies/new", get(testimonies::new_form))
        .route("/testimonies/{id}", get(testimonies::show))
        .route("/testimonies/{id}/sharing", post(testimonies::share))
        .route("/events/{id}", get(testimonies::event))
        .route(
            "/dossiers",
            get(testimonies::dossiers).post(testimonies::create_dossier),
        )
        .route("/dossiers/recipients", post(testimonies::create_recipient))
        .route("/dossiers/{id}", get(testimonies::dossier))
        .route("/dossiers/{id}/bundle", get(testimonies::bundle))
        .route("/shared", get(testimonies::shared))
        .route("/search", get(search::search))
        .route("/shared/{id}/bundle", get(testimonies::shared_bundle))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route("/admin/sites", get(admin::sites).post(admin::create_site))
        .route("/audit", get(audit::list))
        .route("/audit.csv", get(audit::export_csv))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/totp", post(account::totp))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

/// Form bodies as key/value pairs, so repeated and indexed fields
/// (`names[0].text`) can be read.
pub(crate) type Pairs = Vec<(String, String)>;

/// The value of a form field (first occurrence), or "".
pub(crate) fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// An empty error set, for forms shown the first time.
pub(crate) fn no_errors() -> FieldErrors {
    FieldErrors::new()
}

/// 200 for a form shown with no error, 422 when it comes back with errors.
pub(crate) fn form_status(errors: &FieldErrors) -> axum::http::StatusCode {
    if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Hashes a new password on the blocking pool (argon2id is deliberately slow).
pub(crate) async fn hash_new_password(
    password: lantern_domain::user::NewPassword,
) -> Result<String, crate::error::AppError> {
    use crate::error::AppError;
    tokio::task::spawn_blocking(move || crate::security::hash_password(password.expose()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)
}

/// A local path to go back to after a form: only same-site paths, so the
/// parameter cannot send the user elsewhere.
pub(crate) fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// A form's text fields and its `photo` file, if one was chosen: forms
/// with a photo are multipart; a URL-encoded body is read too (no photo).
pub(crate) async fn form_with_photo(
    req: axum::extract::Request,
) -> Result<(Pairs, Option<Vec<u8>>), crate::error::AppError> {
    use crate::error::AppError;
    use axum::extract::FromRequest;
    use axum::Form;
    use lantern_domain::{FieldError, Reason};
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(pairs) = Form::<Pairs>::from_request(req, &())
            .await
            .map_err(|_| FieldError::new("body", Reason::InvalidFormat))?;
        return Ok((pairs, None));
    }
    let mut parts = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|_| FieldError::new("body", Reason::InvalidFormat))?;
    let (mut pairs, mut photo) = (Vec::new(), None);
    while let Some(field) = parts.next_field().await.map_err(|_| AppError::PayloadTooLarge)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "photo" {
            let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            // A file input left empty still sends an empty part.
            if !bytes.is_empty() {
                photo = Some(bytes.to_vec());
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|_| FieldError::new(name.clone(), Reason::InvalidFormat))?;
            pairs.push((name, text));
        }
    }
    Ok((pairs, photo))
}
