//! The search page: testimonies and evidence records by any word, in any
//! script, within what the user's role may read ([`crate::search`]).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::authz::{need, Authz};
use crate::error::AppError;
use crate::search::{run, Found, MAX_RESULTS};
use crate::view::{render, Page};
use crate::AppState;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Page,
    q: String,
    results: Vec<Found>,
    complete: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct Params {
    #[serde(default)]
    q: String,
}

pub(crate) async fn search(
    State(state): State<AppState>,
    auth: Authz<need::TextSearch>,
    Query(p): Query<Params>,
) -> Result<Response, AppError> {
    let results = if p.q.trim().is_empty() {
        Vec::new()
    } else {
        run(&state, auth.user.role, &p.q, MAX_RESULTS).await?
    };
    Ok(render(&SearchPage {
        c: Page::new(&state, &auth.ctx, "search-title"),
        q: p.q,
        results,
        complete: state.search_complete(),
    }))
}
