//! Plain types and rules of the newsroom: no web framework, no database.

pub mod article;
pub mod article_form;
pub mod cache_tags;
pub mod comment;
pub mod dates;
pub mod markdown;
pub mod moderation;
pub mod role;
pub mod search_text;
pub mod slug;
pub mod source;
