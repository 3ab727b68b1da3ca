//! What every page template shares: the language, the user, the CSRF
//! token, and helpers to translate text and show field errors.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use fluent_bundle::FluentValue;
use lantern_domain::policy::{allows, Permission};
use lantern_domain::user::UiLanguage;
use lantern_domain::FieldErrors;

use crate::context::Ctx;
use crate::error::AppError;
use crate::AppState;

/// Numbers a message can count (page numbers, totals, versions).
pub trait Count {
    /// The number as Fluent counts it.
    fn count(self) -> f64;
}

macro_rules! count_impl {
    ($($t:ty),*) => {$(
        impl Count for $t {
            fn count(self) -> f64 {
                self as f64
            }
        }
        impl Count for &$t {
            fn count(self) -> f64 {
                *self as f64
            }
        }
    )*};
}
count_impl!(u32, u64, i64, usize);

/// A moment as people read it: date, hours and minutes, UTC.
pub fn utc_minutes(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute())
}

/// The shared part of every page.
pub struct Page {
    state: AppState,
    /// The request context.
    pub ctx: Ctx,
    /// The page title's message id.
    pub title_key: &'static str,
}

impl Page {
    /// A page titled by the message `title_key`.
    pub fn new(state: &AppState, ctx: &Ctx, title_key: &'static str) -> Self {
        Page {
            state: state.clone(),
            ctx: ctx.clone(),
            title_key,
        }
    }

    /// A moment as staff read it: see [`utc_minutes`].
    pub fn when(&self, t: &time::OffsetDateTime) -> String {
        utc_minutes(*t)
    }

    /// A message in the page's language.
    pub fn t(&self, key: &str) -> String {
        self.state.i18n.text(self.ctx.lang, key, &[])
    }

    /// A message with one number argument.
    pub fn tn(&self, key: &str, name: &str, value: impl Count) -> String {
        self.state
            .i18n
            .text(self.ctx.lang, key, &[(name, FluentValue::from(value.count()))])
    }

    /// A probability as a whole percentage.
    pub fn percent(&self, p: &f64) -> String {
        format!("{:.0} %", p * 100.0)
    }

    /// `value`, or `default` when it is empty.
    pub fn or<'a>(&self, value: &'a str, default: &'a str) -> &'a str {
        if value.is_empty() {
            default
        } else {
            value
        }
    }

    /// ` selected` when a form's value equals an option's, for `<option>`.
    pub fn sel(&self, value: &str, option: &str) -> &'static str {
        if value == option {
            " selected"
        } else {
            ""
        }
    }

    /// The label of an enumeration value (`status-resident`, `role-auditor`,
    /// `action-person_create` …).
    pub fn label(&self, prefix: &str, code: &str) -> String {
        // Fluent identifiers allow no dots; audit codes have them.
        self.t(&format!("{prefix}-{}", code.replace('.', "_")))
    }

    /// The page title.
    pub fn title(&self) -> String {
        self.t(self.title_key)
    }

    /// `rtl` or `ltr`.
    pub fn dir(&self) -> &'static str {
        if self.ctx.lang.is_rtl() {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// The page's language code.
    pub fn lang(&self) -> &'static str {
        self.ctx.lang.code()
    }

    /// Every interface language, for the switcher.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        UiLanguage::ALL
            .iter()
            .map(|l| (l.code(), l.native_name(), *l == self.ctx.lang))
            .collect()
    }

    /// The CSRF token for forms.
    pub fn csrf(&self) -> &str {
        &self.ctx.csrf
    }

    /// The logged-in user's display name.
    pub fn user_name(&self) -> Option<&str> {
        self.ctx.user.as_ref().map(|u| u.display_name.as_str())
    }

    /// The logged-in user's role label.
    pub fn user_role(&self) -> String {
        self.ctx
            .user
            .as_ref()
            .map(|u| self.label("role", u.role.code()))
            .unwrap_or_default()
    }

    /// Whether to show a link to something the user may do (the decision on
    /// the request itself is always the extractor's).
    pub fn can(&self, permission: &str) -> bool {
        let Some(user) = &self.ctx.user else {
            return false;
        };
        Permission::parse("permission", permission).is_ok_and(|p| allows(user.role, p))
    }

    /// The error for `field`, translated, if any.
    pub fn err(&self, errors: &FieldErrors, field: &str) -> Option<String> {
        errors
            .for_field(field)
            .map(|e| self.state.i18n.field_error(self.ctx.lang, e))
    }

    /// Every error of a form, translated, with its field, for the summary at
    /// the top of the form.
    pub fn all_errors(&self, errors: &FieldErrors) -> Vec<(String, String)> {
        errors
            .0
            .iter()
            .map(|e| (e.field.clone(), self.state.i18n.field_error(self.ctx.lang, e)))
            .collect()
    }

    /// The label of a form field named as in a [`FieldError`]:
    /// `names[0].text` is labelled by the message `field-names-text`.
    ///
    /// [`FieldError`]: lantern_domain::FieldError
    pub fn field_label(&self, field: &str) -> String {
        let mut key = String::from("field-");
        let mut skipping = false;
        for ch in field.chars() {
            match ch {
                '[' => skipping = true,
                ']' => skipping = false,
                _ if skipping => {}
                '.' | '_' => key.push('-'),
                c => key.push(c),
            }
        }
        self.t(&key)
    }

    /// The name of a field in a repeated group: `names[2].text`.
    pub fn idx(&self, group: &str, index: impl std::fmt::Display, sub: &str) -> String {
        format!("{group}[{index}].{sub}")
    }

    /// The current path, for the language switcher to return to.
    pub fn path(&self) -> &str {
        &self.ctx.path
    }
}

/// Renders a template as a page.
pub fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

/// Renders a template with a status.
pub fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("template: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Page,
    heading: String,
    message: String,
    errors: Vec<(String, String)>,
}

/// The page for an error, in the user's language.
pub fn error_page(state: &AppState, ctx: &Ctx, err: &AppError) -> Response {
    let key = format!("http-{}", err.code());
    let c = Page::new(state, ctx, "error-title");
    let errors = match err {
        AppError::Invalid(e) => c.all_errors(e),
        _ => Vec::new(),
    };
    let page = ErrorPage {
        heading: c.t(&format!("{key}-title")),
        message: c.t(&key),
        errors,
        c,
    };
    render_status(err.status(), &page)
}
