//! Who is signed in: the session cookie, the `Admin` extractor every admin
//! handler takes, and the CSRF token every admin form carries.
//!
//! The cookie holds 32 random bytes; the database keeps only their hash. A
//! session is created at sign-in and nowhere else, so a token planted in a
//! browser before sign-in (session fixation) is never promoted: sign-in
//! always issues a new one. Sessions expire after 14 days without use.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Utc;

use super::super::AppState;
use super::super::error::AppError;
use crate::domain::role::Capability;
use crate::store::{StoreError, User};

pub const SESSION_COOKIE: &str = "bs_session";
/// Idle time after which a session ends.
pub const SESSION_IDLE: i64 = 14 * 86_400;
/// A session's expiry moves forward at most this often (one write an hour).
const TOUCH_EVERY: i64 = 3600;

/// A signed-in newsroom user, for a handler.
#[derive(Debug, Clone)]
pub struct Admin {
    pub user: User,
    pub csrf_token: String,
    token_hash: String,
}

/// A new random session token and its hash.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The session cookie: HttpOnly, SameSite=Lax, only sent to the admin, and
/// Secure when the site is served over HTTPS.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/admin")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(SESSION_IDLE))
        .build()
}

pub fn removal_cookie() -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE).path("/admin").build()
}

/// Why a request did not get an `Admin`.
pub enum Refusal {
    /// Not signed in: to the sign-in page, then back.
    SignIn {
        next: String,
    },
    /// Signed in with a one-time password: choose a new one first.
    ChangePassword,
    Failed(AppError),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn { next } => {
                let next = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Redirect::to(&format!("/admin/sign-in?{next}")).into_response()
            }
            Refusal::ChangePassword => Redirect::to("/admin/password").into_response(),
            Refusal::Failed(err) => err.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |uri| uri.0.path().to_owned());
        let jar = CookieJar::from_headers(&parts.headers);
        let next = if parts.method == axum::http::Method::GET { path.clone() } else { "/admin/".to_owned() };
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(Refusal::SignIn { next });
        };
        let now = Utc::now().timestamp();
        let token_hash = hash_token(&token);
        let session = match state.store.session(&token_hash, now).await {
            Ok(session) => session,
            Err(StoreError::NotFound) => return Err(Refusal::SignIn { next }),
            Err(err) => return Err(Refusal::Failed(err.into())),
        };
        if now - session.last_seen_at >= TOUCH_EVERY
            && let Err(err) = state.store.touch_session(&token_hash, now, now + SESSION_IDLE).await
        {
            tracing::warn!(error = %err, "cannot extend a session");
        }
        let changing = path == "/admin/password" || path == "/admin/sign-out";
        if session.user.must_change_password && !changing {
            return Err(Refusal::ChangePassword);
        }
        Ok(Admin { user: session.user, csrf_token: session.csrf_token, token_hash })
    }
}

/// Why a signed-in user's request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The role does not allow it.
    Role,
    /// The form's CSRF token is missing or wrong, or it came from another site.
    Form,
}

impl Refused {
    /// The 403 page that says why.
    pub fn page(self, state: &AppState) -> Response {
        let (title, text) = match self {
            Refused::Role => ("Not allowed", "Your role does not allow this. Ask an administrator if you need it."),
            Refused::Form => (
                "Form refused",
                "This form has expired or did not come from this site. Go back, reload the page and send it again.",
            ),
        };
        super::message(state, StatusCode::FORBIDDEN, title, text)
    }
}

impl Admin {
    /// Refuses unless the user's role allows `capability`.
    pub fn require(&self, capability: Capability) -> Result<(), Refused> {
        if self.user.role.can(capability) {
            Ok(())
        } else {
            tracing::info!(user.id = self.user.id, role = %self.user.role, ?capability, "admin action refused");
            Err(Refused::Role)
        }
    }

    /// Refuses unless the form carries this session's CSRF token and did not
    /// come from another site.
    pub fn check_form(&self, state: &AppState, headers: &HeaderMap, csrf: &str) -> Result<(), Refused> {
        let matches: bool = subtle::ConstantTimeEq::ct_eq(self.csrf_token.as_bytes(), csrf.trim().as_bytes()).into();
        if !matches || crate::web::comments::cross_site(headers, &state.config.base_url).is_some() {
            tracing::info!(user.id = self.user.id, "admin form refused: bad CSRF token or another site");
            return Err(Refused::Form);
        }
        Ok(())
    }

    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }
}
