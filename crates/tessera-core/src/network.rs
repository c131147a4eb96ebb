//! Client addresses: which address a request came from, behind trusted proxies, and
//! whether it is in a CIDR range (a tenant's block list, `TenantPolicy::blocked_ip_ranges`).

use ipnet::IpNet;
use std::net::IpAddr;

/// A CIDR range as written (`203.0.113.0/24`, `2001:db8::/32`): `None` for anything
/// else, a bare address included.
pub fn parse_range(text: &str) -> Option<IpNet> {
    text.contains('/')
        .then(|| text.parse::<IpNet>().ok())
        .flatten()
}

/// Whether `address` is in any of `ranges` (written as [`parse_range`] reads them; an
/// unreadable one, which validation refuses, matches nothing). An IPv4 address mapped
/// into IPv6 (`::ffff:203.0.113.9`, as a dual-stack listener reports it) counts as the
/// IPv4 address.
pub fn in_ranges<'a>(address: IpAddr, ranges: impl IntoIterator<Item = &'a String>) -> bool {
    let address = canonical(address);
    ranges
        .into_iter()
        .filter_map(|r| parse_range(r))
        .any(|r| r.contains(&address))
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not a trusted proxy (each proxy
/// appends the address it received from, so the entries left of the first untrusted one
/// are the client's own claims and prove nothing). An entry that is not an address ends
/// the walk at the last one that was (RFC 7239 §5.2 allows obfuscated identifiers).
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |a: &IpAddr| trusted.iter().any(|t| t.contains(a));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.unwrap_or_default().rsplit(',') {
        let Ok(address) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = canonical(address);
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// The network an address belongs to, as smart lockout tells familiar places apart
/// (`directory::lockout`): its /24 for IPv4, its /64 for IPv6 (one household or office
/// line usually keeps its prefix while the host part changes).
pub fn network_of(address: IpAddr) -> String {
    let prefix = match canonical(address) {
        IpAddr::V4(_) => 24,
        IpAddr::V6(_) => 64,
    };
    IpNet::new(canonical(address), prefix)
        .map(|n| n.trunc().to_string())
        .unwrap_or_else(|_| address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_belongs_to_its_slash_24_or_slash_64() {
        let net = |a: &str| network_of(a.parse().unwrap());
        assert_eq!(net("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(net("::ffff:203.0.113.9"), "203.0.113.0/24");
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    }

    #[test]
    fn ranges_match_v4_v6_and_mapped_addresses() {
        let ranges = vec![
            "203.0.113.0/24".to_owned(),
            "2001:db8::/32".to_owned(),
            "nope".to_owned(),
        ];
        assert!(in_ranges(ip("203.0.113.9"), &ranges));
        assert!(in_ranges(ip("::ffff:203.0.113.9"), &ranges));
        assert!(in_ranges(ip("2001:db8:1::5"), &ranges));
        assert!(!in_ranges(ip("198.51.100.1"), &ranges));
        assert!(parse_range("10.0.0.1").is_none());
        assert!(parse_range("10.0.0.0/33").is_none());
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // No trusted peer: the header is the client's own claim.
        assert_eq!(
            client_address(ip("198.51.100.7"), Some("203.0.113.9"), &trusted),
            ip("198.51.100.7")
        );
        // Behind the proxy: the address it received from.
        assert_eq!(
            client_address(ip("10.1.1.1"), Some("203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        // A spoofed entry left of the real one is ignored; two proxies are walked past.
        assert_eq!(
            client_address(
                ip("10.1.1.1"),
                Some("1.2.3.4, 203.0.113.9, 10.2.2.2"),
                &trusted
            ),
            ip("203.0.113.9")
        );
        // Garbage stops the walk at the last real address.
        assert_eq!(
            client_address(ip("10.1.1.1"), Some("_hidden, 10.2.2.2"), &trusted),
            ip("10.2.2.2")
        );
        assert_eq!(
            client_address(ip("10.1.1.1"), None, &trusted),
            ip("10.1.1.1")
        );
    }
}
