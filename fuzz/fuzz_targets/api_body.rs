#![no_main]
//! Every JSON request body of the API but reports' own target (the first byte picks the type):
//! decoded as the server's `ApiJson` extractor decodes it, a refusal rendered as the problem
//! the client would get, then the handler's checks that need no database.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vigie_server::fuzz::api_body(data);
});
