//! The spam filter's normaliser and URL scanner on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spamfilter::normalize::Normalizer;
use spamfilter::urls::LinkScanner;

fuzz_target!(|text: &str| {
    let mut normalizer = Normalizer::new();
    normalizer.normalize(text);
    let mut scanner = LinkScanner::new();
    let found = scanner.scan(normalizer.text());
    assert_eq!(found, scanner.links().len());
    for link in scanner.links() {
        let _ = scanner.domain(link);
    }
});
