//! The Akismet API's form body, through to the spam filter's decision, read
//! as any client's and as WordPress's (with PHP's slashes taken off).
#![no_main]

use std::sync::OnceLock;

use broadsheet::spam::SpamEngine;
use broadsheet::web::akismet;
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static SpamEngine {
    static ENGINE: OnceLock<SpamEngine> = OnceLock::new();
    ENGINE.get_or_init(|| SpamEngine::load(None).expect("the built-in model"))
}

fuzz_target!(|body: &[u8]| {
    if let Ok(params) = akismet::read_params(body) {
        for slashed in [false, true] {
            let input = akismet::spam_input(&params, slashed);
            let _ = engine().decide(0, &input);
        }
    }
});
