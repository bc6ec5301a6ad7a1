//! Integration tests: the real server on a loopback port over a fresh SQLite
//! file per test, driven over HTTP; the real `broadsheet` binary for the CLI.

mod admin;
mod admin_articles;
mod admin_media;
mod akismet;
mod akismet_account;
mod backup;
mod bad_input;
mod cache;
mod cluster;
mod comments;
mod feeds;
mod helpers;
mod hostile;
mod import;
mod mail;
mod metrics;
mod news_comments;
mod pages;
mod postgres;
mod privacy;
mod publish;
mod purge;
mod s3;
mod search;
mod serve;
mod structured;
mod validator;
mod xss;
