//! Disqus exports, read to the end or the first error.
#![no_main]

use broadsheet::import::disqus;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = disqus::read(data);
});
