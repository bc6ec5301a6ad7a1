//! The media library: upload images (checked by their content, not their
//! name), with alt text, caption and credit; smaller copies are made for
//! `srcset`, the original is kept.

use askama::Template;
use axum::extract::{Multipart, Path as AxumPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::{Admin, AdminChrome, FormFields, page};
use crate::domain::role::Capability;
use crate::media::{self, MAX_IMAGE_BYTES};
use crate::store::{MediaItem, NewMedia};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::hygiene;

/// The upload form's body limit: the image plus its words.
pub const MAX_UPLOAD: usize = MAX_IMAGE_BYTES + 64 * 1024;
const PER_PAGE: u32 = 60;

#[derive(Default, Clone)]
struct UploadForm {
    alt: String,
    caption: String,
    credit: String,
}

struct Tile {
    item: MediaItem,
    thumb: String,
    size: String,
}

#[derive(Template)]
#[template(path = "admin/media.html")]
struct LibraryPage {
    chrome: AdminChrome,
    tiles: Vec<Tile>,
    form: UploadForm,
    message: Option<String>,
    notice: Option<String>,
    can_upload: bool,
    can_delete: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LibraryQuery {
    added: String,
}

async fn library(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: UploadForm,
    message: Option<String>,
    notice: Option<String>,
) -> Response {
    let items = match state.store.media(PER_PAGE, 0).await {
        Ok(items) => items,
        Err(err) => return AppError::from(err).into_response(),
    };
    let tiles = items
        .into_iter()
        .map(|item| {
            // The smallest copy makes the thumbnail.
            let thumb = media::srcset(&item.url, item.width)
                .and_then(|set| set.split(' ').next().map(str::to_owned))
                .unwrap_or_else(|| item.url.clone());
            let kb = (item.bytes + 1023) / 1024;
            let dims = match (item.width, item.height) {
                (Some(w), Some(h)) => format!("{w} × {h}, "),
                _ => String::new(),
            };
            Tile { size: format!("{dims}{kb} KB"), thumb, item }
        })
        .collect();
    let template = LibraryPage {
        chrome: AdminChrome::new(state, admin, "Media", "media").await,
        tiles,
        form,
        message,
        notice,
        can_upload: admin.user.role.can(Capability::UploadMedia),
        can_delete: admin.user.role.can(Capability::EditOthers),
    };
    page(status, &template)
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<LibraryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let notice = (!query.added.is_empty()).then(|| format!("Added {} to the library.", query.added));
    library(&state, &admin, StatusCode::OK, UploadForm::default(), None, notice).await
}

pub async fn upload(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Err(refused) = admin.require(Capability::UploadMedia) {
        return refused.page(&state);
    }
    let refuse = |status: StatusCode, form: UploadForm, message: &str| {
        library(&state, &admin, status, form, Some(message.to_owned()), None)
    };
    let Ok(mut multipart) = multipart else {
        return refuse(StatusCode::BAD_REQUEST, UploadForm::default(), "Send the upload form from this page.").await;
    };
    let mut form = UploadForm::default();
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                let (status, message) = if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("The file is too large: at most {} MB.", MAX_IMAGE_BYTES / 1024 / 1024),
                    )
                } else {
                    (StatusCode::BAD_REQUEST, "The upload was interrupted or garbled; please send it again.".to_owned())
                };
                return refuse(status, form, &message).await;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(data) => data,
            Err(err) => {
                let (status, message) = if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("The file is too large: at most {} MB.", MAX_IMAGE_BYTES / 1024 / 1024),
                    )
                } else {
                    (StatusCode::BAD_REQUEST, "The upload was interrupted or garbled; please send it again.".to_owned())
                };
                return refuse(status, form, &message).await;
            }
        };
        let text = || String::from_utf8_lossy(&data).trim().to_owned();
        if file_name.is_none() && hygiene::first_control(&String::from_utf8_lossy(&data)).is_some() {
            return hygiene::refuse(&name);
        }
        match name.as_str() {
            "csrf" => csrf = text(),
            "alt" => form.alt = text(),
            "caption" => form.caption = text(),
            "credit" => form.credit = text(),
            "file" if !data.is_empty() => file = Some((file_name.unwrap_or_else(|| "image".into()), data.to_vec())),
            _ => {}
        }
    }
    if let Err(refused) = admin.check_form(&state, &headers, &csrf) {
        return refused.page(&state);
    }
    let Some((original_name, bytes)) = file else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, form, "Choose an image file to upload.").await;
    };
    if form.alt.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            "Describe the image (alt text) for readers who cannot see it.",
        )
        .await;
    }
    if [&form.alt, &form.caption, &form.credit].iter().any(|t| t.chars().count() > 500) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            "Alt text, caption and credit are at most 500 characters each.",
        )
        .await;
    }
    if media::ImageFormat::sniff(&bytes).is_some_and(|f| matches!(f, media::ImageFormat::Svg | media::ImageFormat::Gif))
    {
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, form, "Upload a JPEG, PNG or WebP image.").await;
    }
    let size = bytes.len();
    let stored = match media::store_image(&state.media, &original_name, bytes.into()).await {
        Ok(stored) => stored,
        Err(media::ImageError::Storage(message)) => {
            tracing::error!(error = %message, "cannot store an upload");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, form, "The image could not be stored; try again shortly.")
                .await;
        }
        Err(media::ImageError::Refused(message)) => {
            let status = if message.contains("larger than") {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            };
            let shown = message.replace("not a JPEG, PNG, WebP, GIF or SVG image", "not a JPEG, PNG or WebP image");
            return refuse(status, form, &format!("{shown}.")).await;
        }
    };
    let record = NewMedia {
        url: &stored.url,
        original_name: &original_name,
        content_type: stored.format.content_type(),
        bytes: i64::try_from(size).unwrap_or(i64::MAX),
        width: stored.width,
        height: stored.height,
        alt: &form.alt,
        caption: &form.caption,
        credit: &form.credit,
        uploaded_by: Some(admin.user.id),
        now: Utc::now().timestamp(),
    };
    if let Err(err) = state.store.add_media(&record).await {
        return AppError::from(err).into_response();
    }
    tracing::info!(user.id = admin.user.id, url = %stored.url, copies = stored.variants.len(), "image uploaded");
    let added = serde_urlencoded::to_string([("added", original_name.as_str())]).unwrap_or_default();
    Redirect::to(&format!("/admin/media?{added}")).into_response()
}

/// Deletes an image from the library and the media store, unless an article
/// or page shows it (a reader's page would lose its picture).
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    AxumPath(id): AxumPath<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    if let Err(refused) = admin.check_form(&state, &headers, &form.get("csrf")) {
        return refused.page(&state);
    }
    if let Err(refused) = admin.require(Capability::EditOthers) {
        return refused.page(&state);
    }
    let refuse = |status: StatusCode, message: String| {
        library(&state, &admin, status, UploadForm::default(), Some(message), None)
    };
    let item = match state.store.media_by_id(id).await {
        Ok(Some(item)) => item,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "That image is no longer in the library.".into()).await,
        Err(err) => return AppError::from(err).into_response(),
    };
    match state.store.media_used_by(&item.url).await {
        Ok(users) if !users.is_empty() => {
            let named = users.iter().map(|h| format!("“{h}”")).collect::<Vec<_>>().join(", ");
            let message = format!("{} is shown by {named}: take it out of them first.", item.original_name);
            return refuse(StatusCode::CONFLICT, message).await;
        }
        Ok(_) => {}
        Err(err) => return AppError::from(err).into_response(),
    }
    if let Err(err) = state.store.delete_media(id).await {
        return AppError::from(err).into_response();
    }
    // The record is gone; a file that cannot be removed now is only space.
    for name in media::file_names(&item.url, item.width) {
        if let Err(err) = state.media.delete(&name).await {
            tracing::warn!(error = %err, file = %name, "cannot remove a deleted image's file");
        }
    }
    tracing::info!(user.id = admin.user.id, url = %item.url, "image deleted");
    let notice = format!("Deleted {} from the library.", item.original_name);
    library(&state, &admin, StatusCode::OK, UploadForm::default(), None, Some(notice)).await
}
