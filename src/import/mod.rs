//! Bringing a site over from another platform: a WordPress export (WXR) read
//! as a stream (`wxr`), its post content turned into Markdown (`content`),
//! and the `import wxr` command that files it all in one transaction
//! (`wordpress`).

pub mod content;
pub mod disqus;
pub mod wordpress;
pub mod wxr;
