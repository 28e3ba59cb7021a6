//! DNS resolution that enforces the address policy: the addresses reqwest
//! connects to are exactly the ones checked, so a name cannot be re-pointed
//! between the check and the connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::EgressPolicy;

/// Every address a name resolved to was refused.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to refused addresses: {reasons}")]
pub(crate) struct AddressDenied {
    host: String,
    reasons: String,
}

#[derive(Debug)]
pub(crate) struct CheckedResolver {
    policy: EgressPolicy,
    overrides: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl CheckedResolver {
    pub(crate) fn new(policy: EgressPolicy, overrides: Arc<HashMap<String, Vec<IpAddr>>>) -> Self {
        Self { policy, overrides }
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let policy = self.policy.clone();
        let pinned = self.overrides.get(&host).cloned();
        Box::pin(async move {
            let candidates: Vec<IpAddr> = match pinned {
                Some(ips) => ips,
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .map(|a| a.ip())
                    .collect(),
            };
            let mut allowed = Vec::new();
            let mut reasons = Vec::new();
            for ip in candidates {
                match policy.check_address(ip) {
                    Ok(()) => allowed.push(SocketAddr::new(ip, 0)),
                    Err(reason) => reasons.push(reason),
                }
            }
            if allowed.is_empty() {
                let reasons = if reasons.is_empty() {
                    "no addresses".to_owned()
                } else {
                    reasons.join("; ")
                };
                return Err(Box::new(AddressDenied { host, reasons }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
