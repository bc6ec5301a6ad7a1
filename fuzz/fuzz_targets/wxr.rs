//! WordPress exports (WXR), read item by item to the end or the first error.
#![no_main]

use broadsheet::import::wxr::WxrReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = WxrReader::new(data);
    // Every call reads some of the input or ends: never more calls than bytes.
    for _ in 0..=data.len() + 2 {
        match reader.next() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    panic!("the reader went on past the end of its input");
});
