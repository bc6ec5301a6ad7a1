//! Broadsheet: a self-hosted news publishing platform.
//!
//! - `cli`: the command line (`serve`, `publish`)
//! - `config`: one `Config` from defaults, file, environment and flags
//! - `app`: `AppState`, building and running the server, graceful shutdown
//! - `setup`: the first start (administrator account)
//! - `demo`: the built-in demo site
//! - `discussion`: moderation and privacy requests
//! - `domain`: plain types and rules (slugs, articles, source files, dates, Markdown, cache tags)
//! - `import`: reading other platforms' exports (WordPress WXR)
//! - `publishing`: from a draft to a stored, public article
//! - `spam`: the spam engine: shipped model, per-site learning, lessons
//! - `media`: image files checked by content and stored by hash
//! - `auth`: Argon2id password hashing
//! - `store`: the database (SQLite or PostgreSQL)
//! - `web`: routes, pages, the page cache, errors, request logs
//! - `jobs`: background work of a running server
//! - `logs`: buffered log output

pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod discussion;
pub mod domain;
pub mod export;
pub mod import;
pub mod jobs;
pub mod logs;
pub mod mail;
pub mod media;
pub mod publishing;
pub mod purge;
pub mod setup;
pub mod spam;
pub mod store;
pub mod web;
