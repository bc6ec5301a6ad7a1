//! The public route parser: any request path, raw and percent-encoded.
#![no_main]

use broadsheet::web::routes::{Parsed, PublicRoute};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|path: &str| {
    // A request's path always starts with a slash (the HTTP parser sees to it).
    if !path.starts_with('/') {
        return;
    }
    if let Parsed::Redirect(to) = PublicRoute::parse(path) {
        // A redirect leads to one of our own addresses, never off the site.
        assert!(to.starts_with('/') && !to.starts_with("//") && !to.starts_with("/\\"), "{path:?} -> {to:?}");
    }
});
