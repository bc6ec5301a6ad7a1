//! Categories (hierarchical) and tags: add, rename, delete.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::{Admin, AdminChrome, page};
use crate::domain::article::MAX_NAME;
use crate::domain::role::Capability;
use crate::domain::slug::Slug;
use crate::store::{StoreError, Taxonomy, Term};
use crate::web::AppState;
use crate::web::error::AppError;

struct Row {
    term: Term,
    /// Nesting level, for categories.
    depth: usize,
    path: String,
}

#[derive(Template)]
#[template(path = "admin/taxonomy.html")]
struct TaxonomyPage {
    chrome: AdminChrome,
    categories: Vec<Row>,
    tags: Vec<Row>,
    message: Option<String>,
    notice: Option<&'static str>,
    new_name: String,
}

/// Categories in tree order: each followed by its children.
fn tree(categories: Vec<Term>) -> Vec<Row> {
    fn visit(parent: Option<i64>, depth: usize, prefix: &str, all: &[Term], out: &mut Vec<Row>) {
        for term in all.iter().filter(|t| t.parent_id == parent) {
            if out.iter().any(|r| r.term.id == term.id) || depth > 16 {
                continue;
            }
            let path = if prefix.is_empty() { term.name.clone() } else { format!("{prefix} › {}", term.name) };
            out.push(Row { term: term.clone(), depth, path: path.clone() });
            visit(Some(term.id), depth + 1, &path, all, out);
        }
    }
    let mut out = Vec::new();
    visit(None, 0, "", &categories, &mut out);
    // Any left over (a parent that no longer exists) at the top.
    for term in &categories {
        if !out.iter().any(|r| r.term.id == term.id) {
            out.push(Row { term: term.clone(), depth: 0, path: term.name.clone() });
        }
    }
    out
}

async fn taxonomy_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    message: Option<String>,
    notice: Option<&'static str>,
    new_name: String,
) -> Response {
    let (categories, tags) =
        match tokio::try_join!(state.store.categories_with_counts(), state.store.tags_with_counts()) {
            Ok(found) => found,
            Err(err) => return AppError::from(err).into_response(),
        };
    let tags = tags.into_iter().map(|term| Row { path: term.name.clone(), term, depth: 0 }).collect();
    let template = TaxonomyPage {
        chrome: AdminChrome::new(state, admin, "Categories and tags", "taxonomy").await,
        categories: tree(categories),
        tags,
        message,
        notice,
        new_name,
    };
    page(status, &template)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TaxonomyQuery {
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<TaxonomyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = admin.require(Capability::EditOthers) {
        return refused.page(&state);
    }
    let notice = match query.map(|Query(q)| q.done).unwrap_or_default().as_str() {
        "added" => Some("Category added."),
        "renamed" => Some("Renamed. Its address stays the same."),
        "deleted" => Some("Deleted. The articles that had it keep everything else."),
        _ => None,
    };
    taxonomy_page(&state, &admin, StatusCode::OK, None, notice, String::new()).await
}

/// A name for a category or tag: 1 to 100 characters with a letter or digit.
fn check_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || Slug::from_title(name).is_err() {
        return Err(format!("A name is 1 to {MAX_NAME} characters, with letters or digits."));
    }
    Ok(name)
}

pub async fn change(State(state): State<AppState>, admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    if let Err(refused) = admin.check_form(&state, &headers, field("csrf")) {
        return refused.page(&state);
    }
    if let Err(refused) = admin.require(Capability::EditOthers) {
        return refused.page(&state);
    }
    let now = Utc::now().timestamp();
    let action = field("do");
    let target = |prefix: &str| action.strip_prefix(prefix).and_then(|id| id.parse::<i64>().ok());
    let result = if action == "add" {
        match check_name(field("name")) {
            Ok(name) => {
                let parent = field("parent").parse::<i64>().ok();
                state.store.create_category(name, parent, now).await.map(|_| "added")
            }
            Err(message) => Err(StoreError::Rejected(message)),
        }
    } else if let Some((taxonomy, id)) = target("rename-category:")
        .map(|id| (Taxonomy::Category, id))
        .or_else(|| target("rename-tag:").map(|id| (Taxonomy::Tag, id)))
    {
        match check_name(field("rename")) {
            Ok(name) => state.store.rename_term(taxonomy, id, name, now).await.map(|()| "renamed"),
            Err(message) => Err(StoreError::Rejected(message)),
        }
    } else if let Some((taxonomy, id)) = target("delete-category:")
        .map(|id| (Taxonomy::Category, id))
        .or_else(|| target("delete-tag:").map(|id| (Taxonomy::Tag, id)))
    {
        state.store.delete_term(taxonomy, id, now).await.map(|()| "deleted")
    } else {
        Err(StoreError::Rejected("Choose what to do: add, rename or delete.".into()))
    };
    match result {
        Ok(done) => {
            super::refresh(&state).await;
            tracing::info!(user.id = admin.user.id, action, "categories or tags changed");
            Redirect::to(&format!("/admin/categories?done={done}")).into_response()
        }
        Err(StoreError::Rejected(message)) => {
            let message = format!("{}{}", message[..1].to_uppercase(), &message[1..]);
            let kept = field("name").to_owned();
            taxonomy_page(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, Some(message), None, kept).await
        }
        Err(StoreError::NotFound) => {
            let message = "That category or tag no longer exists.".to_owned();
            taxonomy_page(&state, &admin, StatusCode::NOT_FOUND, Some(message), None, String::new()).await
        }
        Err(err) => AppError::from(err).into_response(),
    }
}
