//! Bringing a site over from another platform. So far: reading a WordPress
//! export (WXR) as a stream (`wxr`).

pub mod wxr;
