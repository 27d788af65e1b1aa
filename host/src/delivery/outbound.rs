//! Where outbound calls may go: the guard against server-side request forgery on every
//! webhook, a tenant's or one a plugin queued through `notify`. The host name is resolved
//! once, each address is checked, and the connection goes to an address that passed: a
//! name that resolves into the node's own networks (loopback, private, link-local, CGNAT,
//! unique-local, multicast, unspecified) is refused unless the operator allowed that
//! network (`AXLE_WEBHOOK_ALLOW`). Redirects are never followed (see `webhook`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The networks outbound calls may reach besides the public internet.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    allowed: Arc<[IpNet]>,
}

impl OutboundPolicy {
    /// Public addresses, and `allowed` networks besides.
    pub fn allowing(allowed: impl IntoIterator<Item = IpNet>) -> OutboundPolicy {
        OutboundPolicy {
            allowed: allowed.into_iter().collect(),
        }
    }

    /// `AXLE_WEBHOOK_ALLOW`: networks in CIDR form, separated by commas, e.g.
    /// `10.20.0.0/16, 192.168.5.7/32`.
    pub fn parse(list: &str) -> Result<OutboundPolicy, String> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|net| !net.is_empty())
            .map(|net| {
                net.parse::<IpNet>().map_err(|_| {
                    format!("`{net}` is not a network in CIDR form, e.g. 10.20.0.0/16 or fd00::/8")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OutboundPolicy::allowing(nets))
    }

    /// Whether a call may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let cgnat = a == 100 && (64..128).contains(&b);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || cgnat)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

/// A call refused because every address of its host is one it may not reach.
#[derive(Debug, thiserror::Error)]
#[error(
    "refused by policy: {host} is on a network outbound calls may not reach (loopback, private, link-local…); an operator can allow it with AXLE_WEBHOOK_ALLOW"
)]
pub struct Refused {
    pub host: String,
}

/// Resolves names for the webhook client and keeps only the addresses the policy permits,
/// so the client connects to an address that was checked and never looks the name up
/// again.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    pub policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| policy.permits(addr.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(Box::new(Refused { host }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_nodes_own_networks_are_refused_and_the_internet_is_not() {
        let policy = OutboundPolicy::default();
        for inward in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!policy.permits(ip(inward)), "{inward} must be refused");
        }
        for outward in [
            "8.8.8.8",
            "203.0.113.9",
            "100.128.0.1",
            "2001:4860:4860::8888",
        ] {
            assert!(policy.permits(ip(outward)), "{outward} is public");
        }
    }

    #[test]
    fn an_operator_allows_a_network_by_cidr_and_only_that_network() {
        let policy = OutboundPolicy::parse(" 10.20.0.0/16, fd00::/8 ").unwrap();

        assert!(policy.permits(ip("10.20.3.4")));
        assert!(policy.permits(ip("fd12::1")));
        assert!(!policy.permits(ip("10.21.0.1")));
        assert!(!policy.permits(ip("169.254.169.254")));
        let bad = OutboundPolicy::parse("10.20.0.0/16, intranet").unwrap_err();
        assert!(bad.contains("`intranet`"), "{bad}");
    }
}
