//! Old addresses of an imported site and how often each is still used:
//! which links out there (search engines, other sites, bookmarks) still
//! point at the old site.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::{Admin, AdminChrome, page};
use crate::domain::article::Kind;
use crate::domain::role::Capability;
use crate::publishing::permalink;
use crate::store::Place;
use crate::web::AppState;
use crate::web::error::AppError;

const PER_PAGE: u32 = 100;

struct Row {
    old: String,
    /// Where it leads now; `None` when its target is gone or not public.
    to: Option<String>,
    hits: i64,
    last_hit: String,
}

#[derive(Template)]
#[template(path = "admin/redirects.html")]
struct RedirectsPage {
    chrome: AdminChrome,
    rows: Vec<Row>,
    total: i64,
    page: u32,
    pages: u32,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RedirectsQuery {
    page: u32,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<RedirectsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = admin.require(Capability::EditOthers) {
        return refused.page(&state);
    }
    let total = match state.store.count_redirects().await {
        Ok(n) => n,
        Err(err) => return AppError::from(err).into_response(),
    };
    let pages = (total.max(1) as u32).div_ceil(PER_PAGE);
    let page_number = query.map(|Query(q)| q.page).unwrap_or_default().clamp(1, pages);
    let found = match state.store.redirects(PER_PAGE, (page_number - 1) * PER_PAGE).await {
        Ok(rows) => rows,
        Err(err) => return AppError::from(err).into_response(),
    };
    let now = Utc::now().timestamp();
    let tz = state.config.time_zone;
    let mut rows = Vec::with_capacity(found.len());
    for r in found {
        let place = match r.target() {
            Some(target) => state.store.place(target, now).await.ok().flatten(),
            None => None,
        };
        let to = place.map(|place| match place {
            Place::Article { kind, slug, published_at } => {
                let kind = if kind == "page" { Kind::Page } else { Kind::Article };
                permalink(kind, &slug, Some(published_at), tz)
            }
            Place::Category(slugs) => format!("/category/{}/", slugs.join("/")),
            Place::Tag(slug) => format!("/tag/{slug}/"),
            Place::Author(slug) => format!("/author/{slug}/"),
            Place::Media(url) => url,
        });
        let last_hit = r
            .last_hit_at
            .and_then(|at| DateTime::<Utc>::from_timestamp(at, 0))
            .map(|at| at.with_timezone(&tz).format("%-d %b %Y, %H:%M").to_string())
            .unwrap_or_default();
        rows.push(Row { old: r.old, to, hits: r.hits, last_hit });
    }
    let template = RedirectsPage {
        chrome: AdminChrome::new(&state, &admin, "Old addresses", "redirects").await,
        rows,
        total,
        page: page_number,
        pages,
    };
    page(StatusCode::OK, &template)
}
