//! Posting a comment (the form POSTs to its article's address) and what a
//! reader's cookies change about the page they see.
//!
//! Here: the article is public and open; the form is ours (same-origin,
//! signed token); fields valid. Then [`discussion::submit`] runs the pipeline
//! (parent, duplicate → 409, flood → 429, moderation policy and spam verdict,
//! store). Then cookies and 303 to the comment's anchor. Any refusal re-shows
//! the page with the reader's text and a message.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, PrivateCookieJar, SameSite};
use chrono::Utc;

use super::error::AppError;
use super::pages::{self, Outcome};
use super::routes::{Parsed, PublicRoute};
use super::{AppState, client_ip};
use crate::discussion::{self, CommentWriter, Submission};
use crate::domain::article::Kind;
use crate::domain::comment::{self, CommentForm, FieldErrors, Status};
use crate::store::{Inserted, NewComment, Store, StoreError, StoreResult};

/// Names of the held comments this browser may see.
pub const HELD_COOKIE: &str = "bs_held";
/// Name, email and website, kept when the reader ticks "save my name…".
pub const COMMENTER_COOKIE: &str = "bs_commenter";
/// Held comments a browser remembers: those still held, at most this many.
const MAX_HELD: usize = 200;

/// What one reader's request adds to an article page.
#[derive(Default)]
pub struct Viewer {
    /// The reader's own comments awaiting moderation.
    pub held: Vec<i64>,
    /// The form as the reader left it, with messages.
    pub form: Option<CommentForm>,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    /// `?replytocom=` of a reply link.
    pub reply_to: Option<i64>,
}

impl Viewer {
    /// Reads the reader's cookies and query; `None` when nothing is personal,
    /// so the shared cached page fits.
    pub fn from_request(jar: &PrivateCookieJar, query: Option<&str>) -> Option<Viewer> {
        let held = held_ids(jar);
        let form =
            jar.get(COMMENTER_COOKIE).and_then(|c| serde_json::from_str::<Remembered>(c.value()).ok()).map(|r| {
                CommentForm {
                    author: r.name,
                    email: r.email,
                    url: r.url,
                    remember: Some("1".into()),
                    ..CommentForm::default()
                }
            });
        let reply_to = query
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "replytocom"))
            .and_then(|(_, v)| v.parse().ok());
        (!held.is_empty() || form.is_some() || reply_to.is_some()).then(|| Viewer {
            held,
            form,
            reply_to,
            ..Viewer::default()
        })
    }
}

/// What the remember-me cookie holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Remembered {
    name: String,
    email: String,
    url: String,
}

/// New comments go through the server's group commit, with the connections
/// of the write thread (see `web::writes`).
struct QueueWriter<'a> {
    state: &'a AppState,
    store: &'a Store,
}

impl CommentWriter for QueueWriter<'_> {
    fn write(&self, comment: NewComment) -> impl Future<Output = StoreResult<Inserted>> + Send {
        self.state.comment_queue.store(self.state, self.store, comment)
    }
}

/// POST to an article's address: a new comment. The handler translates HTTP
/// to [`discussion::submit`] and its outcome back: the page, its form and
/// token, the reader's cookies, the redirect.
pub async fn post_comment(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    jar: PrivateCookieJar,
    form: Result<Form<CommentForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let now = Utc::now();
    let (route, comment_page) = match PublicRoute::parse(uri.path()) {
        Parsed::Route(route @ PublicRoute::Article { comment_page, .. }) => (route, comment_page),
        Parsed::BadRequest(why) => return AppError::BadRequest(why).into_response(),
        _ => return AppError::MethodNotAllowed.into_response(),
    };
    let PublicRoute::Article { slug, .. } = &route else { return AppError::NotFound.into_response() };
    // The post's database work runs on the write thread, on PostgreSQL (see `web::writes`).
    let found = state.writes.run(|store| {
        let slug = slug.clone();
        async move { store.article_row(Kind::Article, &slug).await }
    });
    let article = match found.await {
        Ok(article) if article.is_public(now.timestamp()) => article,
        Ok(_) | Err(StoreError::NotFound) => return pages::not_found_page(&state, now).await,
        Err(err) => return AppError::from(err).into_response(),
    };
    if let Some(refusal) = cross_site(&headers, &state.config.base_url) {
        return (StatusCode::FORBIDDEN, refusal).into_response();
    }
    let Ok(Form(form)) = form else {
        return AppError::BadRequest("the comment form could not be read; please send it again from the article page")
            .into_response();
    };
    let settings = match pages::SiteData::load(&state, now).await {
        Ok(site) => site.settings.clone(),
        Err(err) => return err.into_response(),
    };
    let reshow = |status: StatusCode, errors: FieldErrors, notice: Option<String>, form: CommentForm| {
        let state = state.clone();
        let route = route.clone();
        async move {
            let viewer = Viewer { form: Some(form), errors, notice, ..Viewer::default() };
            match pages::render_article_for(&state, &route, now, &viewer).await {
                Ok(Outcome::Page(mut page)) => {
                    page.status = status;
                    pages::private_response(page)
                }
                Ok(Outcome::Redirect(to)) => (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response(),
                Err(err) => err.into_response(),
            }
        }
    };
    if !pages::comments_open(&article, &settings, now.timestamp()) {
        return reshow(
            StatusCode::FORBIDDEN,
            FieldErrors::new(),
            Some("Comments are closed on this article.".into()),
            form,
        )
        .await;
    }
    let Some(issued_at) = state.signer.check_form_token(&form.token, article.id, now.timestamp()) else {
        let notice =
            "This form has expired or did not come from this site. Your comment is below: please send it again.";
        return reshow(StatusCode::BAD_REQUEST, FieldErrors::new(), Some(notice.into()), form).await;
    };
    let valid = match form.validate() {
        Ok(valid) => valid,
        Err(errors) => return reshow(StatusCode::UNPROCESSABLE_ENTITY, errors, None, form).await,
    };
    let submission = Submission {
        article_id: article.id,
        comment: valid.clone(),
        ip: client_ip::client_ip(peer.ip(), &headers, &state.config.trusted_proxies).to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(500).collect::<String>()),
        seconds_since_render: now.timestamp() - issued_at,
        honeypot_filled: !form.website2.trim().is_empty(),
        subscribe_to_replies: form.subscribe.is_some(),
        now: now.timestamp(),
    };
    let outcome = state.writes.run(|store| {
        let (state, settings) = (state.clone(), settings.clone());
        async move {
            let writer = QueueWriter { state: &state, store: &store };
            discussion::submit(&store, &state.spam, &writer, &state.notifier, &settings, submission).await
        }
    });
    let (id, status, top_level_before) = match outcome.await {
        Ok(discussion::Outcome::Stored { id, status, filter, top_level_before }) => {
            state.metrics.verdict(false, filter);
            state.metrics.comment(match status {
                Status::Approved => "approved",
                Status::Pending => "pending",
                Status::Spam => "spam",
                Status::Trash => "trash",
            });
            (id, status, top_level_before)
        }
        Ok(discussion::Outcome::AlreadyStored { id, status }) => {
            state.metrics.comment("resent");
            (id, status, None)
        }
        Ok(discussion::Outcome::ParentUnavailable) => {
            state.metrics.comment("refused");
            let mut errors = FieldErrors::new();
            errors.insert("comment", "The comment you are replying to is not available.".into());
            return reshow(StatusCode::UNPROCESSABLE_ENTITY, errors, None, form).await;
        }
        Ok(discussion::Outcome::Duplicate) => {
            state.metrics.comment("refused");
            let notice = "Duplicate comment detected; it looks as though you’ve already said that!";
            return reshow(StatusCode::CONFLICT, FieldErrors::new(), Some(notice.into()), form).await;
        }
        Ok(discussion::Outcome::TooFast { wait_seconds: wait }) => {
            state.metrics.comment("refused");
            let notice = format!("You are posting comments too quickly. Please wait {wait} seconds and send again.");
            let mut response = reshow(StatusCode::TOO_MANY_REQUESTS, FieldErrors::new(), Some(notice), form).await;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return response;
        }
        Ok(discussion::Outcome::Discarded) => {
            state.metrics.verdict(false, spamfilter::Decision::BlatantSpam);
            state.metrics.comment("discarded");
            return (StatusCode::SEE_OTHER, [(header::LOCATION, uri.path().to_owned())]).into_response();
        }
        Err(err) => return AppError::from(err).into_response(),
    };

    let secure = state.config.base_url.starts_with("https://");
    let jar = remember(jar, &form, &valid, secure);
    let jar = if status == Status::Pending { hold(&state, jar, id, secure).await } else { jar };
    let article_path = PublicRoute::article_path(&route);
    // `?posted=` makes the address new to the browser, so that a copy of the
    // page it cached before the comment is not what the reader sees.
    let location = if status == Status::Spam {
        article_path
    } else {
        let per_page = settings.per_page.max(1);
        let page = if let Some(before) = top_level_before {
            u32::try_from(before).unwrap_or(0) / per_page + 1
        } else {
            match state.store.comment_position(article.id, id, valid.parent_id).await {
                Ok(before) => u32::try_from(before).unwrap_or(0) / per_page + 1,
                Err(_) => comment_page,
            }
        };
        let page_path = if page <= 1 { article_path } else { format!("{article_path}comment-page-{page}/") };
        format!("{page_path}?posted={id}#comment-{id}")
    };
    (jar, (StatusCode::SEE_OTHER, [(header::LOCATION, location)])).into_response()
}

/// Refuses a form sent from another site: the browser says so in
/// `Sec-Fetch-Site`, or its `Origin` is not ours.
pub(crate) fn cross_site(headers: &HeaderMap, base_url: &str) -> Option<&'static str> {
    if headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site") {
        return Some("Refused: this form was sent from another site.\n");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same =
        origin == base_url || origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
    (!same).then_some("Refused: this form was sent from another site.\n")
}

/// Sets or clears the remember-me cookie, as the reader chose.
fn remember(
    jar: PrivateCookieJar,
    form: &CommentForm,
    valid: &comment::ValidComment,
    secure: bool,
) -> PrivateCookieJar {
    if form.remember.is_some() {
        let value = Remembered {
            name: valid.author_name.clone(),
            email: valid.author_email.clone(),
            url: valid.author_url.clone().unwrap_or_default(),
        };
        let Ok(value) = serde_json::to_string(&value) else { return jar };
        jar.add(cookie(COMMENTER_COOKIE, value, 365, secure))
    } else {
        jar.remove(Cookie::build(COMMENTER_COOKIE).path("/"))
    }
}

/// The held comments this browser may see, as its cookie lists them.
fn held_ids(jar: &PrivateCookieJar) -> Vec<i64> {
    jar.get(HELD_COOKIE).map(|c| c.value().split(',').filter_map(|id| id.parse().ok()).collect()).unwrap_or_default()
}

/// Lets this browser see its held comment, and the others it holds that are
/// still held (approved ones are public; spam and trash are gone).
async fn hold(state: &AppState, jar: PrivateCookieJar, id: i64, secure: bool) -> PrivateCookieJar {
    let mut ids = held_ids(&jar);
    ids.truncate(MAX_HELD);
    match state.store.still_pending(&ids).await {
        Ok(pending) => ids = pending,
        Err(err) => tracing::warn!(error = %err, "cannot check which held comments are still held"),
    }
    ids.push(id);
    let start = ids.len().saturating_sub(MAX_HELD);
    let value = ids[start..].iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    jar.add(cookie(HELD_COOKIE, value, 30, secure))
}

/// HttpOnly, SameSite=Lax, and Secure when the site is served over HTTPS.
fn cookie(name: &'static str, value: String, days: i64, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .secure(secure)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(days))
        .build()
}
