//! Articles and pages in the admin: the list (with filters and search), the
//! editor (new and existing), preview, saving as draft, publishing or
//! scheduling, and revisions. Saving goes through `publishing::save_draft`,
//! as the `publish` command's files do, so publishing invalidates exactly
//! the pages that showed or now show the article.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};

use super::{Admin, AdminChrome, page};
use crate::domain::article::{CategoryPath, Kind};
use crate::domain::article_form::{ArticleForm, Intent};
use crate::domain::comment::FieldErrors;
use crate::domain::role::Capability;
use crate::domain::{dates, markdown};
use crate::publishing::{self, PublishError, permalink};
use crate::store::{ArticleFilter, ArticleRow, CategoryRow, Edit, EditableArticle, StoreError, Target};
use crate::web::AppState;
use crate::web::error::AppError;

const PER_PAGE: u32 = 30;

// ---------- the list ----------

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    category: String,
    author: String,
    q: String,
    page: u32,
    saved: Option<i64>,
}

struct ListRow {
    row: ArticleRow,
    state: &'static str,
    date_text: String,
    public_path: String,
    can_edit: bool,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ListPage {
    chrome: AdminChrome,
    rows: Vec<ListRow>,
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    authors: Vec<Choice>,
    q: String,
    older: Option<String>,
    newer: Option<String>,
}

fn state_of(status: &str, published_at: Option<i64>, now: i64) -> &'static str {
    match (status, published_at) {
        ("published", Some(at)) if at > now => "scheduled",
        ("published", _) => "published",
        _ => "draft",
    }
}

/// Who may edit an article: editors any, others their own (contributors
/// only while it is a draft).
fn may_edit(admin: &Admin, created_by: Option<i64>, status: &str) -> bool {
    let role = admin.user.role;
    if role.can(Capability::EditOthers) {
        return true;
    }
    let own = created_by == Some(admin.user.id);
    own && (role.can(Capability::PublishOwn) || status == "draft")
}

/// Category paths from the top, e.g. "News > Local", by number.
/// Sorted by path, so that subcategories follow their parent.
fn category_paths(categories: &[CategoryRow]) -> Vec<(i64, Vec<String>)> {
    let mut paths: Vec<(i64, Vec<String>)> = categories
        .iter()
        .map(|c| {
            let mut path = vec![c.name.clone()];
            let mut parent = c.parent_id;
            for _ in 0..16 {
                let Some(up) = parent.and_then(|p| categories.iter().find(|c| c.id == p)) else { break };
                path.insert(0, up.name.clone());
                parent = up.parent_id;
            }
            (c.id, path)
        })
        .collect();
    paths.sort_by(|a, b| a.1.cmp(&b.1));
    paths
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let now = Utc::now().timestamp();
    let page_number = query.page.max(1);
    let filter = ArticleFilter {
        status: Some(query.status.clone()).filter(|s| ["draft", "scheduled", "published"].contains(&s.as_str())),
        category: query.category.parse().ok(),
        author: query.author.parse().ok(),
        search: query.q.clone(),
        owner: (!admin.user.role.can(Capability::EditOthers)).then_some(admin.user.id),
    };
    let found = tokio::try_join!(
        state.store.admin_articles(&filter, now, PER_PAGE + 1, (page_number - 1) * PER_PAGE),
        state.store.categories(),
        state.store.authors()
    );
    let (rows, categories, authors) = match found {
        Ok(found) => found,
        Err(err) => return AppError::from(err).into_response(),
    };
    let tz = state.config.time_zone;
    let more = rows.len() > PER_PAGE as usize;
    let rows = rows
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|row| {
            let kind = if row.kind == "page" { Kind::Page } else { Kind::Article };
            let shown = row.published_at.unwrap_or(row.updated_at);
            ListRow {
                state: state_of(&row.status, row.published_at, now),
                date_text: dates::dateline(DateTime::<Utc>::from_timestamp(shown, 0).unwrap_or_default(), tz),
                public_path: permalink(kind, &row.slug, row.published_at, tz),
                can_edit: may_edit(&admin, row.created_by, &row.status),
                row,
            }
        })
        .collect();
    let choice = |value: String, label: String, current: &str| Choice { selected: value == current, value, label };
    let statuses = [("", "Any state"), ("published", "Published"), ("scheduled", "Scheduled"), ("draft", "Drafts")]
        .into_iter()
        .map(|(v, l)| choice(v.into(), l.into(), &query.status))
        .collect();
    let mut category_choices = vec![choice(String::new(), "Any category".into(), &query.category)];
    category_choices.extend(
        category_paths(&categories)
            .into_iter()
            .map(|(id, path)| choice(id.to_string(), path.join(" › "), &query.category)),
    );
    let mut author_choices = vec![choice(String::new(), "Any byline".into(), &query.author)];
    author_choices.extend(authors.into_iter().map(|(id, name)| choice(id.to_string(), name, &query.author)));
    let link = |n: u32| {
        let q = serde_urlencoded::to_string([
            ("status", query.status.as_str()),
            ("category", query.category.as_str()),
            ("author", query.author.as_str()),
            ("q", query.q.as_str()),
        ])
        .unwrap_or_default();
        format!("/admin/articles?{q}&page={n}")
    };
    let template = ListPage {
        chrome: AdminChrome::new(&state, &admin, "Articles", "articles").await,
        rows,
        statuses,
        categories: category_choices,
        authors: author_choices,
        q: query.q.clone(),
        older: more.then(|| link(page_number + 1)),
        newer: (page_number > 1).then(|| link(page_number - 1)),
    };
    page(StatusCode::OK, &template)
}

// ---------- the editor ----------

struct CategoryBox {
    id: i64,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/editor.html")]
struct EditorPage {
    chrome: AdminChrome,
    /// `None` for a new article.
    id: Option<i64>,
    kind: &'static str,
    form: ArticleForm,
    errors: FieldErrors,
    notice: Option<String>,
    alert: Option<String>,
    categories: Vec<CategoryBox>,
    preview_html: Option<String>,
    can_publish: bool,
    state: &'static str,
    public_path: Option<String>,
    revisions: usize,
    action: String,
    /// The media library's images, to choose the featured image from.
    media: Vec<(String, String)>,
}

impl EditorPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct EditorQuery {
    saved: String,
    kind: String,
}

/// The form filled from a stored article.
fn form_of(article: &EditableArticle, categories: &[i64], tags: &[String], tz: chrono_tz::Tz) -> ArticleForm {
    ArticleForm {
        headline: article.headline.clone(),
        slug: article.slug.clone(),
        standfirst: article.standfirst.clone(),
        body: article.body_markdown.clone(),
        byline: article.byline.clone().unwrap_or_default(),
        agency: article.agency.clone().unwrap_or_default(),
        categories: categories.iter().map(i64::to_string).collect(),
        tags: tags.join(", "),
        image_src: article.image_src.clone().unwrap_or_default(),
        image_alt: article.image_alt.clone().unwrap_or_default(),
        image_caption: article.image_caption.clone().unwrap_or_default(),
        image_credit: article.image_credit.clone().unwrap_or_default(),
        publish_at: article
            .published_at
            .and_then(|at| DateTime::<Utc>::from_timestamp(at, 0))
            .map(|at| at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        comments_open: article.comments_open != 0,
        version: article.version.to_string(),
        csrf: String::new(),
        intent: String::new(),
    }
}

/// What the editor page needs besides the form.
struct Context {
    id: Option<i64>,
    kind: Kind,
    state: &'static str,
    public_path: Option<String>,
    revisions: usize,
    owner: Option<i64>,
}

#[expect(clippy::too_many_arguments, reason = "one page and everything it shows")]
async fn editor_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    context: &Context,
    form: ArticleForm,
    errors: FieldErrors,
    notice: Option<String>,
    alert: Option<String>,
    preview_html: Option<String>,
) -> Response {
    let (categories, media) = match tokio::try_join!(state.store.categories(), state.store.media(200, 0)) {
        Ok(found) => found,
        Err(err) => return AppError::from(err).into_response(),
    };
    let media = media.into_iter().map(|m| (m.url, format!("{} — {}", m.original_name, m.alt))).collect();
    let ticked = form.category_ids();
    let boxes: Vec<CategoryBox> = category_paths(&categories)
        .into_iter()
        .map(|(id, path)| CategoryBox { id, label: path.join(" › "), checked: ticked.contains(&id) })
        .collect();
    let kind = context.kind.as_str();
    let title = match (context.id, context.kind) {
        (None, Kind::Page) => "New page",
        (None, Kind::Article) => "New article",
        (Some(_), Kind::Page) => "Edit page",
        (Some(_), Kind::Article) => "Edit article",
    };
    let own = context.owner.is_none_or(|owner| owner == admin.user.id);
    let can_publish =
        admin.user.role.can(Capability::EditOthers) || (own && admin.user.role.can(Capability::PublishOwn));
    let template = EditorPage {
        chrome: AdminChrome::new(state, admin, title, "articles").await,
        id: context.id,
        kind,
        form,
        errors,
        notice,
        alert,
        categories: boxes,
        preview_html,
        can_publish,
        state: context.state,
        public_path: context.public_path.clone(),
        revisions: context.revisions,
        media,
        action: context
            .id
            .map_or_else(|| format!("/admin/articles/new?kind={kind}"), |id| format!("/admin/articles/{id}")),
    };
    page(status, &template)
}

pub async fn new_form(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<EditorQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let kind = if query.kind == "page" { Kind::Page } else { Kind::Article };
    if kind == Kind::Page
        && let Err(refused) = admin.require(Capability::EditOthers)
    {
        return refused.page(&state);
    }
    let form = ArticleForm { comments_open: kind == Kind::Article, ..ArticleForm::default() };
    let context = Context { id: None, kind, state: "new", public_path: None, revisions: 0, owner: None };
    editor_page(&state, &admin, StatusCode::OK, &context, form, FieldErrors::new(), None, None, None).await
}

async fn load(state: &AppState, admin: &Admin, id: i64) -> Result<(EditableArticle, ArticleForm, Context), Response> {
    let (article, categories, tags) = match state.store.editable_article(id).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(AppError::NotFound.into_response()),
        Err(err) => return Err(AppError::from(err).into_response()),
    };
    if !may_edit(admin, article.created_by, &article.status) {
        return Err(super::session::Refused::Role.page(state));
    }
    let revisions = state.store.revisions(id).await.map(|r| r.len()).unwrap_or(0);
    let now = Utc::now().timestamp();
    let tz = state.config.time_zone;
    let kind = if article.kind == "page" { Kind::Page } else { Kind::Article };
    let context = Context {
        id: Some(id),
        kind,
        state: state_of(&article.status, article.published_at, now),
        public_path: (article.status == "published").then(|| permalink(kind, &article.slug, article.published_at, tz)),
        revisions,
        owner: article.created_by,
    };
    let form = form_of(&article, &categories, &tags, tz);
    Ok((article, form, context))
}

pub async fn edit_form(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    query: Result<Query<EditorQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (article, form, context) = match load(&state, &admin, id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let notice = match query.saved.as_str() {
        "draft" => Some("Saved as a draft.".to_owned()),
        "published" => Some("Published.".to_owned()),
        "scheduled" => Some("Scheduled: it will appear at the time given.".to_owned()),
        _ => article.admin_note,
    };
    editor_page(&state, &admin, StatusCode::OK, &context, form, FieldErrors::new(), notice, None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    query: Result<Query<EditorQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let kind = if query.kind == "page" { Kind::Page } else { Kind::Article };
    let context = Context { id: None, kind, state: "new", public_path: None, revisions: 0, owner: None };
    save(&state, &admin, &headers, &body, context, None).await
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let (article, _, context) = match load(&state, &admin, id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    save(&state, &admin, &headers, &body, context, Some(article)).await
}

/// Checks, then previews or saves; any refusal re-shows the form as sent.
async fn save(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    body: &[u8],
    context: Context,
    existing: Option<EditableArticle>,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut form = ArticleForm::from_pairs(&pairs);
    if let Err(refused) = admin.check_form(state, headers, &form.csrf) {
        return refused.page(state);
    }
    if context.kind == Kind::Page
        && let Err(refused) = admin.require(Capability::EditOthers)
    {
        return refused.page(state);
    }
    let reshow = |status: StatusCode, form: ArticleForm, errors: FieldErrors, alert: Option<String>| {
        editor_page(state, admin, status, &context, form, errors, None, alert, None)
    };
    let Some(intent) = form.intent() else {
        let alert = "Choose Preview, Save draft or Publish.".to_owned();
        return reshow(StatusCode::UNPROCESSABLE_ENTITY, form, FieldErrors::new(), Some(alert)).await;
    };
    let categories = match state.store.categories().await {
        Ok(categories) => categories,
        Err(err) => return AppError::from(err).into_response(),
    };
    let paths = category_paths(&categories);
    let known = |id: i64| paths.iter().find(|(c, _)| *c == id).map(|(_, path)| CategoryPath(path.clone()));
    // An image from the library brings its words, unless the editor wrote others.
    let library_image = match form.image_src.trim() {
        src if src.starts_with("/media/") => match state.store.media_by_url(src).await {
            Ok(found) => Some(found),
            Err(err) => return AppError::from(err).into_response(),
        },
        _ => None,
    };
    if let Some(Some(item)) = &library_image {
        for (field, value) in [
            (&mut form.image_alt, &item.alt),
            (&mut form.image_caption, &item.caption),
            (&mut form.image_credit, &item.credit),
        ] {
            if field.trim().is_empty() {
                field.clone_from(value);
            }
        }
    }
    // The article's own image may stay, library or not: images published from
    // Markdown files (and the demo's) are stored without a library entry.
    let keeps_its_image =
        existing.as_ref().and_then(|a| a.image_src.as_deref()).is_some_and(|src| src == form.image_src.trim());
    let checked = form.to_draft(context.kind, intent, &known).and_then(|draft| match library_image {
        Some(None) if !keeps_its_image => {
            let mut errors = FieldErrors::new();
            errors.insert("image_src", "This image is not in the media library: upload it there first.".into());
            Err(errors)
        }
        _ => Ok(draft),
    });
    let draft = match checked {
        Ok(draft) => draft,
        Err(errors) => {
            let alert = "Some fields need attention: see the messages below. Nothing was saved.".to_owned();
            return reshow(StatusCode::UNPROCESSABLE_ENTITY, form, errors, Some(alert)).await;
        }
    };
    if intent == Intent::Preview {
        let html = markdown::render(&draft.body_markdown);
        return editor_page(state, admin, StatusCode::OK, &context, form, FieldErrors::new(), None, None, Some(html))
            .await;
    }
    let own = context.owner.is_none_or(|owner| owner == admin.user.id);
    let may_publish =
        admin.user.role.can(Capability::EditOthers) || (own && admin.user.role.can(Capability::PublishOwn));
    if intent == Intent::Publish && !may_publish {
        let alert = "Your role cannot publish. Save it as a draft: an editor will publish it.".to_owned();
        return reshow(StatusCode::FORBIDDEN, form, FieldErrors::new(), Some(alert)).await;
    }
    let target = match (&existing, form.version.trim().parse::<i64>()) {
        (None, _) => Target::New,
        (Some(article), Ok(version)) => Target::Edit(Edit { id: article.id, version }),
        (Some(_), Err(_)) => {
            let alert = "This form is missing its version; reload the article and make your change again.".to_owned();
            return reshow(StatusCode::UNPROCESSABLE_ENTITY, form, FieldErrors::new(), Some(alert)).await;
        }
    };
    let created_by = existing.is_none().then_some(admin.user.id);
    let now = Utc::now();
    match publishing::save_draft(&state.store, &state.config, &draft, None, now, target, created_by).await {
        Ok(saved) => {
            tracing::info!(user.id = admin.user.id, article.id = saved.id, version = saved.version, "article saved");
            super::refresh(state).await;
            let outcome = match intent {
                Intent::Publish if draft_is_scheduled(&draft, state, now) => "scheduled",
                Intent::Publish => "published",
                _ => "draft",
            };
            Redirect::to(&format!("/admin/articles/{}?saved={outcome}", saved.id)).into_response()
        }
        Err(PublishError::Store(StoreError::Conflict)) => {
            let alert = "Someone else saved this article after you opened it. Your version is below, not saved: \
                open the article in a new tab to see theirs, bring your changes over, and save again."
                .to_owned();
            reshow(StatusCode::CONFLICT, form, FieldErrors::new(), Some(alert)).await
        }
        Err(PublishError::Store(StoreError::NotFound)) => AppError::NotFound.into_response(),
        Err(PublishError::Invalid(message)) => {
            let mut errors = FieldErrors::new();
            let field = if message.contains("address") || message.contains("slug") { "slug" } else { "body" };
            errors.insert(field, format!("{}{}.", message[..1].to_uppercase(), &message[1..]));
            let alert = "The article could not be saved: see the message below.".to_owned();
            reshow(StatusCode::UNPROCESSABLE_ENTITY, form, errors, Some(alert)).await
        }
        Err(PublishError::Store(err)) => AppError::from(err).into_response(),
    }
}

fn draft_is_scheduled(draft: &crate::domain::article::ArticleDraft, state: &AppState, now: DateTime<Utc>) -> bool {
    match &draft.publication {
        crate::domain::article::Publication::At(Some(date)) => {
            date.resolve(state.config.time_zone).is_some_and(|at| at > now)
        }
        _ => false,
    }
}

// ---------- revisions ----------

struct RevisionView {
    saved: String,
    headline: String,
    standfirst: String,
    body_markdown: String,
}

#[derive(Template)]
#[template(path = "admin/revisions.html")]
struct RevisionsPage {
    chrome: AdminChrome,
    id: i64,
    headline: String,
    revisions: Vec<RevisionView>,
}

/// An article's earlier texts, newest first.
pub async fn revisions(State(state): State<AppState>, admin: Admin, Path(id): Path<i64>) -> Response {
    let (article, _, _) = match load(&state, &admin, id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let found = match state.store.revisions(id).await {
        Ok(found) => found,
        Err(err) => return AppError::from(err).into_response(),
    };
    let tz = state.config.time_zone;
    let revisions = found
        .into_iter()
        .map(|r| RevisionView {
            saved: dates::dateline(DateTime::<Utc>::from_timestamp(r.saved_at, 0).unwrap_or_default(), tz),
            headline: r.headline,
            standfirst: r.standfirst,
            body_markdown: r.body_markdown,
        })
        .collect();
    let template = RevisionsPage {
        chrome: AdminChrome::new(&state, &admin, "Earlier versions", "articles").await,
        id,
        headline: article.headline,
        revisions,
    };
    page(StatusCode::OK, &template)
}

/// The live preview: the text rendered as the site renders it. The form's
/// CSRF token is required, like any admin form's.
pub async fn preview(State(state): State<AppState>, admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    if let Err(refused) = admin.check_form(&state, &headers, field("csrf")) {
        return refused.page(&state);
    }
    let text = field("body");
    if text.len() > crate::domain::article::MAX_BODY {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The text is longer than 1 MB.").into_response();
    }
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        markdown::render(text),
    )
        .into_response()
}
