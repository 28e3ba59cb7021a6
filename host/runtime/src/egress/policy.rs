//! Which URLs and addresses a plugin may reach.
//!
//! Checked twice, like Spin does: the URL against the plugin's declared
//! egress rules before anything leaves, and every resolved address against
//! the blocked networks after DNS (a declared name can still point at
//! 127.0.0.1 or at the cloud metadata service).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

use crate::types::EgressRule;

/// What one connection's plugin may reach.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EgressPolicy {
    /// The plugin's declared rules.
    pub rules: Vec<EgressRule>,
    /// The connection's `base_url`, when it has one.
    pub base_url: Option<Url>,
    /// Blocked addresses the operator allowed for this connection (e.g.
    /// `127.0.0.1/32` for a simulator on loopback).
    pub allowed_addresses: Vec<IpNet>,
}

impl EgressPolicy {
    /// Checks a URL against the declared rules.
    ///
    /// # Errors
    /// A message naming the URL's host and the rules it failed.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme '{}' is not allowed; only http and https",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("credentials in the URL are not allowed; send them in headers".into());
        }
        let host = match url.host() {
            Some(Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("the URL has no host".into()),
        };
        for rule in &self.rules {
            match rule {
                EgressRule::Host(pattern) if host_matches(pattern, &host) => return Ok(()),
                EgressRule::BaseUrl => {
                    if let Some(base) = &self.base_url
                        && under_base(base, url)
                    {
                        return Ok(());
                    }
                }
                EgressRule::Host(_) => {}
            }
        }
        let declared: Vec<String> = self
            .rules
            .iter()
            .map(|r| match (r, &self.base_url) {
                (EgressRule::BaseUrl, Some(b)) => format!("base_url {b}"),
                (EgressRule::BaseUrl, None) => "base_url (not set on this connection)".into(),
                (EgressRule::Host(p), _) => p.clone(),
            })
            .collect();
        Err(format!(
            "{} is not covered by the plugin's egress rules [{}]",
            origin(url),
            declared.join(", ")
        ))
    }

    /// Checks one address the request would connect to.
    ///
    /// # Errors
    /// A message naming the address and why it is blocked.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), String> {
        let Some(reason) = blocked_reason(ip) else {
            return Ok(());
        };
        if self.allowed_addresses.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        Err(format!(
            "address {ip} is {reason}; the operator has not allowed it for this connection"
        ))
    }
}

fn origin(url: &Url) -> String {
    match url.port() {
        Some(p) => format!("{}://{}:{p}", url.scheme(), url.host_str().unwrap_or("")),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")),
    }
}

/// `*.example.com` matches any subdomain of example.com (not example.com
/// itself); anything else matches exactly. Case-insensitive.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.') && head.len() > 1),
        None => pattern == host,
    }
}

fn under_base(base: &Url, url: &Url) -> bool {
    if base.scheme() != url.scheme()
        || base.host() != url.host()
        || base.port_or_known_default() != url.port_or_known_default()
    {
        return false;
    }
    let base_path = base.path().trim_end_matches('/');
    let path = url.path();
    path == base_path || base_path.is_empty() || path.starts_with(&format!("{base_path}/"))
}

/// Why an address is blocked by default, or `None` for a public one.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => blocked_v4(v4),
            None => blocked_v6(v6),
        },
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("a cloud metadata address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a carrier-grade NAT address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("an IETF protocol address")
    } else if a == 198 && (18..20).contains(&b) {
        Some("a benchmarking address")
    } else {
        None
    }
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique-local (private) address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        assert!(host_matches("*.wangdian.cn", "api.wangdian.cn"));
        assert!(host_matches("*.wangdian.cn", "a.b.wangdian.cn"));
        assert!(!host_matches("*.wangdian.cn", "wangdian.cn"));
        assert!(!host_matches("*.wangdian.cn", "evilwangdian.cn"));
        assert!(host_matches("API.example.com", "api.example.com"));
        assert!(!host_matches("api.example.com", "api.example.com.evil.org"));
    }

    #[test]
    fn base_url_rule_keeps_to_origin_and_path() {
        let policy = EgressPolicy {
            rules: vec![EgressRule::BaseUrl],
            base_url: Some(url("http://127.0.0.1:8080/k3cloud/")),
            allowed_addresses: vec![],
        };
        assert!(
            policy
                .check_url(&url("http://127.0.0.1:8080/k3cloud/X.common.kdsvc"))
                .is_ok()
        );
        assert!(
            policy
                .check_url(&url("http://127.0.0.1:8081/k3cloud/x"))
                .is_err()
        );
        assert!(
            policy
                .check_url(&url("https://127.0.0.1:8080/k3cloud/x"))
                .is_err()
        );
        assert!(
            policy
                .check_url(&url("http://127.0.0.1:8080/k3cloudx"))
                .is_err()
        );
        assert!(
            policy
                .check_url(&url("http://127.0.0.1:8080/other"))
                .is_err()
        );
    }

    #[test]
    fn refuses_other_schemes_and_userinfo() {
        let policy = EgressPolicy {
            rules: vec![EgressRule::Host("api.example.com".into())],
            ..EgressPolicy::default()
        };
        assert!(policy.check_url(&url("https://api.example.com/x")).is_ok());
        assert!(policy.check_url(&url("file:///etc/passwd")).is_err());
        assert!(
            policy
                .check_url(&url("https://u:p@api.example.com/"))
                .is_err()
        );
        let err = policy
            .check_url(&url("https://evil.example.org/"))
            .expect_err("undeclared host");
        assert!(err.contains("https://evil.example.org"), "{err}");
        assert!(err.contains("api.example.com"), "{err}");
    }

    #[test]
    fn blocks_internal_addresses_unless_allowed() {
        let mut policy = EgressPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
        ] {
            let ip: IpAddr = ip.parse().expect("test IP parses");
            assert!(policy.check_address(ip).is_err(), "{ip} should be blocked");
        }
        assert!(
            policy
                .check_address("93.184.216.34".parse().expect("ip"))
                .is_ok()
        );
        policy.allowed_addresses = vec!["127.0.0.1/32".parse().expect("net")];
        assert!(
            policy
                .check_address("127.0.0.1".parse().expect("ip"))
                .is_ok()
        );
        assert!(
            policy
                .check_address("127.0.0.2".parse().expect("ip"))
                .is_err()
        );
        let err = policy
            .check_address("169.254.169.254".parse().expect("ip"))
            .expect_err("metadata");
        assert!(err.contains("metadata"), "{err}");
    }
}
