//! Errors a handler returns. They carry no text: the context middleware
//! renders them in the user's language, as a page or as JSON for the API.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_domain::{FieldError, FieldErrors};
use lantern_store::StoreError;

/// A handler's failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// No such page or record.
    #[error("not found")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Not logged in (pages redirect to the login form).
    #[error("authentication required")]
    Unauthenticated,
    /// Logged in but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// The user must first replace a password someone else chose.
    #[error("password change required")]
    PasswordChangeRequired,
    /// The form's CSRF token is missing or wrong.
    #[error("csrf token missing or invalid")]
    Csrf,
    /// Refused input, field by field.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The record changed since it was read.
    #[error("conflict")]
    Conflict,
    /// Too many attempts.
    #[error("too many requests")]
    TooManyRequests,
    /// Body larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The evidence storage cannot be reached; nothing was saved.
    #[error("storage unavailable: {0}")]
    StorageUnavailable(String),
    /// Something unexpected; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf | AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict => StatusCode::CONFLICT,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code of the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict => "conflict",
            AppError::TooManyRequests => "too_many_requests",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::StorageUnavailable(_) => "storage_unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict { .. } => AppError::Conflict,
            StoreError::Invalid(f) => AppError::Invalid(f.into()),
            StoreError::SetupClosed => AppError::Forbidden,
            StoreError::Backend(cause) => AppError::Internal(cause.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e.into())
    }
}

impl IntoResponse for AppError {
    /// An empty response with the error attached; the context middleware
    /// renders it for the client.
    fn into_response(self) -> Response {
        let mut r = self.status().into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Fallback for unknown routes.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Fallback for known routes with an unknown method.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
