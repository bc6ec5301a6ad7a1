//! The reader's address behind proxies: any X-Forwarded-For header.
#![no_main]

use std::net::{IpAddr, Ipv6Addr};

use axum::http::{HeaderMap, HeaderValue};
use broadsheet::web::client_ip::client_ip;
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((peer, header)) = data.split_first_chunk::<16>() else { return };
    let peer = IpAddr::V6(Ipv6Addr::from(*peer));
    let Ok(value) = HeaderValue::from_bytes(header) else { return };
    let mut headers = HeaderMap::new();
    headers.append("x-forwarded-for", value);
    // Everyone trusted: every hop is parsed.
    let all: Vec<IpNet> = vec!["0.0.0.0/0".parse().expect("net"), "::/0".parse().expect("net")];
    let _ = client_ip(peer, &headers, &all);
    // No one trusted: the peer is the answer.
    let none = client_ip(peer, &headers, &[]);
    assert!(none == peer || peer.to_canonical() == none);
});
