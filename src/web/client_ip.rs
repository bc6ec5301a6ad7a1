//! The reader's address, when the server sits behind reverse proxies.
//!
//! Each proxy appends the address it received the request from to
//! `X-Forwarded-For`. Only the proxies named in `trusted_proxies` are
//! believed: reading the header from the right, the first address that is not
//! a trusted proxy is the reader's. Anything to its left was written by the
//! reader's own software and proves nothing. With no trusted proxies (the
//! default) the header is ignored and the connection's address is used.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return canonical(peer);
    }
    let mut client = peer;
    // Several headers count as one list, in order.
    let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    let hops: Vec<&str> = hops.collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // Garbage from a hop we cannot trust: stop at the last good one.
            None => break,
        }
    }
    canonical(client)
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443` or `192.0.2.1:5000`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    hop.rsplit_once(':').and_then(|(ip, _port)| ip.parse().ok())
}

/// The address that limits count a client by: an IPv4 address as it is, or
/// the /64 an IPv6 address is in (one subscriber usually holds a whole /64,
/// and could otherwise pick a fresh address for each try).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:192.0.2.1`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_an_ipv4_address_or_an_ipv6_64() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        assert_eq!(limit_key(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), limit_key(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().expect("header"));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("net")).collect()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let forged = headers(&["203.0.113.9"]);
        assert_eq!(client_ip(ip("198.51.100.7"), &forged, &[]), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_names_the_reader() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let h = headers(&["203.0.113.9, 10.1.2.3"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn what_the_reader_wrote_on_the_left_is_not_believed() {
        let trusted = nets(&["127.0.0.1/32"]);
        let h = headers(&["1.1.1.1", "203.0.113.9"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_an_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&["203.0.113.9"]);
        assert_eq!(client_ip(ip("198.51.100.7"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn garbage_and_ports_and_mapped_addresses() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&["nonsense"]), &trusted), ip("127.0.0.1"));
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&["192.0.2.1:5000"]), &trusted), ip("192.0.2.1"));
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&["[2001:db8::1]:443"]), &trusted), ip("2001:db8::1"));
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &headers(&["192.0.2.1"]), &trusted), ip("192.0.2.1"));
        assert_eq!(client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted), ip("127.0.0.1"));
    }
}
