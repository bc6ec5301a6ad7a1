//! The HTTP side: the route table, public pages, the page cache and its
//! invalidation, static assets and media, errors and request logs.

pub mod admin;
pub mod akismet;
pub mod assets;
pub mod cache;
pub mod changes;
pub mod client_ip;
pub mod comment_queue;
pub mod comments;
pub mod edge;
pub mod error;
pub mod hygiene;
mod logging;
mod media;
pub mod metrics;
pub mod pages;
pub mod routes;
pub mod signing;
mod subscriptions;
pub mod writes;

pub use crate::app::AppState;
