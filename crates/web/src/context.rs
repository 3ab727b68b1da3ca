//! The middleware every request passes through, and the per-request
//! context it leaves for handlers.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use lantern_domain::audit::AuditAction;
use lantern_domain::user::UiLanguage;
use lantern_store::{AuditContext, User};
use time::Duration;

use crate::error::AppError;
use crate::security::{constant_time_eq, random_token, token_hash};
use crate::{view, AppState};

/// The session cookie. `__Host-` binds it to this origin over HTTPS
/// (RFC 6265bis, "Cookie Name Prefixes"); plain HTTP cannot use the prefix.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-lantern_session"
    } else {
        "lantern_session"
    }
}

/// The cookie carrying the CSRF token of visitors without a session
/// (login and setup forms): double-submit, SameSite=Strict.
pub const CSRF_COOKIE: &str = "lantern_csrf";
/// The cookie keeping an anonymous visitor's language choice.
pub const LANG_COOKIE: &str = "lantern_lang";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// What the middleware learned about a request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Random id, also written to the audit trail and the log.
    pub request_id: String,
    /// The client's IP address.
    pub address: String,
    /// The language to answer in.
    pub lang: UiLanguage,
    /// The logged-in user (session for pages, token for the API).
    pub user: Option<User>,
    /// Hash of the session cookie, when logged in through a session.
    pub session_hash: Option<String>,
    /// The CSRF token forms must carry.
    pub csrf: String,
    /// True for `/api/` requests.
    pub is_api: bool,
    /// The path, for redirects back after login.
    pub path: String,
}

impl Ctx {
    /// The audit context of this request at `at`.
    pub fn audit(&self, at: time::OffsetDateTime) -> AuditContext {
        AuditContext {
            actor_id: self.user.as_ref().map(|u| u.id),
            actor_name: self
                .user
                .as_ref()
                .map(|u| u.username.as_str().to_string())
                .unwrap_or_default(),
            request_id: self.request_id.clone(),
            address: Some(self.address.clone()),
            at,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("request context missing".into()))
    }
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with Lantern's attributes.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the user of a page request from its session cookie, ending
/// sessions past their idle or absolute limit.
async fn session_user(state: &AppState, headers: &HeaderMap) -> Result<Option<(String, String, User)>, AppError> {
    let Some(raw) = cookie(headers, session_cookie_name(state.config.secure_cookies)) else {
        return Ok(None);
    };
    let hash = token_hash(&raw);
    let h = hash.clone();
    let Some((session, user)) = state.db(move |s| s.session(&h)).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let expired = now - session.last_seen_at > state.config.session_idle
        || now - session.created_at > state.config.session_absolute;
    if expired {
        let h = hash.clone();
        state.db(move |s| s.delete_session(&h, None)).await?;
        return Ok(None);
    }
    // Record activity at most once a minute: enough for idle expiry,
    // without a write on every request.
    if now - session.last_seen_at > Duration::minutes(1) {
        let h = hash.clone();
        state.db(move |s| s.touch_session(&h, now)).await?;
    }
    Ok(Some((hash, session.csrf_token, user)))
}

async fn token_user(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, AppError> {
    let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return Err(AppError::Unauthenticated);
    };
    let hash = token_hash(token.trim());
    let now = state.clock.now();
    match state.db(move |s| s.user_by_api_token(&hash, now)).await? {
        Some(user) => Ok(Some(user)),
        None => Err(AppError::Unauthenticated),
    }
}

/// The CSRF token a state-changing request carries: the `X-CSRF-Token`
/// header, or the `csrf_token` field of a URL-encoded or multipart form body
/// (which is read and put back for the handler).
async fn provided_csrf(
    req: Request,
    max_body: usize,
    max_upload: usize,
) -> Result<(Option<String>, Request), AppError> {
    if let Some(v) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        let v = v.to_string();
        return Ok((Some(v), req));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let multipart = content_type.starts_with("multipart/form-data");
    if !content_type.starts_with("application/x-www-form-urlencoded") && !multipart {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    if multipart {
        let (token, body) = multipart_csrf(&content_type, body, max_body, max_upload).await?;
        return Ok((token, Request::from_parts(parts, body)));
    }
    let bytes = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// What the start of a multipart body says about its first field.
enum FirstField {
    /// The first field is the CSRF token, with this value.
    Token(String),
    /// The first field is something else.
    Other,
    /// More of the body is needed to tell.
    Incomplete,
}

async fn first_field(content_type: &str, prefix: axum::body::Bytes) -> FirstField {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return FirstField::Other;
    };
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(prefix) });
    let mut form = multer::Multipart::new(stream, boundary);
    match form.next_field().await {
        Ok(Some(field)) if field.name() == Some(CSRF_FIELD) => match field.text().await {
            Ok(t) => FirstField::Token(t),
            Err(_) => FirstField::Incomplete,
        },
        Ok(Some(_)) | Ok(None) => FirstField::Other,
        Err(_) => FirstField::Incomplete,
    }
}

/// The CSRF token of a multipart body, without holding the body: when the
/// token is the first field (as Lantern's upload forms send it), only the
/// bytes up to it are read and the rest streams on to the handler, so an
/// evidence file of any size is never buffered. Other multipart forms
/// (small ones) are read whole, up to `max_upload`.
async fn multipart_csrf(
    content_type: &str,
    body: Body,
    max_prefix: usize,
    max_upload: usize,
) -> Result<(Option<String>, Body), AppError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::<u8>::new();
    let token = loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                prefix.extend_from_slice(&chunk);
                // The first field can only have ended where a boundary
                // line begins: parse again only then.
                let tail = prefix.len().saturating_sub(chunk.len() + 3);
                if !prefix[tail..].windows(4).any(|w| w == b"\r\n--") && prefix.len() <= max_prefix {
                    continue;
                }
            }
            Some(Err(_)) => return Err(AppError::PayloadTooLarge),
            None => break multipart_field(content_type, prefix.clone().into(), CSRF_FIELD).await,
        }
        match first_field(content_type, prefix.clone().into()).await {
            FirstField::Token(t) => break Some(t),
            FirstField::Incomplete if prefix.len() <= max_prefix => continue,
            FirstField::Incomplete | FirstField::Other => {
                // Not an upload form: read it whole, as small forms are.
                while let Some(chunk) = stream.next().await {
                    prefix.extend_from_slice(&chunk.map_err(|_| AppError::PayloadTooLarge)?);
                    if prefix.len() > max_upload {
                        return Err(AppError::PayloadTooLarge);
                    }
                }
                break multipart_field(content_type, prefix.clone().into(), CSRF_FIELD).await;
            }
        }
    };
    let head = futures_util::stream::once(async move { Ok::<_, axum::Error>(axum::body::Bytes::from(prefix)) });
    Ok((token, Body::from_stream(head.chain(stream))))
}

/// The text of one field of a multipart body (RFC 7578), if present.
async fn multipart_field(content_type: &str, body: axum::body::Bytes, name: &str) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// True when the request comes from another origin. Browsers say so in
/// `Sec-Fetch-Site` (Fetch Metadata); older ones only in `Origin`, compared
/// with `Host`.
fn cross_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    let origin_host = origin.split("://").nth(1).unwrap_or(origin);
    origin_host != host
}

/// Identifies the request, resolves the user, enforces CSRF on page
/// requests that change state, renders errors and sets security headers.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = {
        let mut b = [0u8; 8];
        getrandom::getrandom(&mut b).ok();
        hex::encode(b)
    };
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    let headers = req.headers().clone();
    let mut lang = cookie(&headers, LANG_COOKIE)
        .and_then(|c| UiLanguage::parse("lang", &c).ok())
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(UiLanguage::from_accept_language)
        })
        .unwrap_or(UiLanguage::En);

    let mut ctx = Ctx {
        request_id,
        address,
        lang,
        user: None,
        session_hash: None,
        csrf: String::new(),
        is_api,
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    };

    let identity = if path.starts_with("/static/") {
        Ok(None)
    } else if is_api {
        token_user(&state, &headers).await.map(|u| u.map(|u| (None, None, u)))
    } else {
        session_user(&state, &headers)
            .await
            .map(|s| s.map(|(h, c, u)| (Some(h), Some(c), u)))
    };
    let mut new_csrf_cookie = None;
    match identity {
        Ok(Some((hash, csrf, user))) => {
            lang = user.language;
            ctx.lang = lang;
            ctx.session_hash = hash;
            ctx.csrf = csrf.unwrap_or_default();
            ctx.user = Some(user);
        }
        Ok(None) => {
            // Static files never carry forms; issuing them a token would race
            // with the page's own (parallel requests, each setting a new cookie).
            if !is_api && !path.starts_with("/static/") {
                ctx.csrf = match cookie(&headers, CSRF_COOKIE) {
                    Some(c) if c.len() >= 32 => c,
                    _ => {
                        let t = random_token();
                        new_csrf_cookie = Some(t.clone());
                        t
                    }
                };
            }
        }
        Err(e) => return finish(&state, &ctx, e.into_response(), None),
    }

    let mut req = req;
    if !is_api && !is_safe(req.method()) {
        let (provided, rebuilt) = match provided_csrf(req, state.config.max_body, state.config.max_upload).await {
            Ok(v) => v,
            Err(e) => return finish(&state, &ctx, e.into_response(), None),
        };
        req = rebuilt;
        let ok = new_csrf_cookie.is_none()
            && !cross_origin(&headers)
            && provided.is_some_and(|p| constant_time_eq(&p, &ctx.csrf));
        if !ok {
            let event =
                ctx.audit(state.clock.now())
                    .event(AuditAction::AccessDenied, "route", Some(path.clone()), "csrf");
            let _ = state.db(move |s| s.record_audit(&event)).await;
            return finish(&state, &ctx, AppError::Csrf.into_response(), new_csrf_cookie);
        }
    }

    req.extensions_mut().insert(ctx.clone());
    let method = req.method().clone();
    let response = next.run(req).await;
    tracing::debug!(request_id = %ctx.request_id, %method, %path, status = %response.status().as_u16());
    finish(&state, &ctx, response, new_csrf_cookie)
}

/// Renders an error response for the client and adds the headers every
/// response carries.
fn finish(state: &AppState, ctx: &Ctx, mut response: Response, new_csrf: Option<String>) -> Response {
    if let Some(err) = response.extensions_mut().remove::<AppError>() {
        if let AppError::Internal(cause) = &err {
            tracing::error!(request_id = %ctx.request_id, "internal error: {cause}");
        }
        response = if ctx.is_api {
            crate::api::error_response(state, ctx, &err)
        } else if matches!(err, AppError::Unauthenticated) {
            let next: String = form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        } else if matches!(err, AppError::PasswordChangeRequired) {
            Redirect::to("/account").into_response()
        } else {
            view::error_page(state, ctx, &err)
        };
    }
    let h = response.headers_mut();
    // A handler may set a stricter policy (downloads of uploaded files are
    // sandboxed); every other response gets the site's.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        "x-request-id",
        HeaderValue::from_str(&ctx.request_id).unwrap_or(HeaderValue::from_static("")),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages may hold protected data: never keep them in a shared or disk cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(t) = new_csrf {
        h.append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &t, state.config.secure_cookies, None),
        );
    }
    response
}
