//! The asset inventory as lookups: who owns an address (host record, else the most specific
//! network), what is known about the host, who owns an account, what is protected and what is
//! allow-listed. Built once from config; pure and read-only afterwards.
//!
//! Must not decide categories, severity or enforcement: it only answers "who and what".

use super::Campus;
use crate::config::{AccountRecord, CampusConfig, HostRecord, InventoryConfig};
use crate::model::{AccountName, HostInfo, Owner};
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// One network owner entry, ready for lookup.
#[derive(Debug, Clone)]
struct NetEntry {
    net: IpNet,
    name: String,
    owner: Option<Owner>,
}

/// Inventory lookups (see the module comment).
#[derive(Debug, Clone)]
pub struct Inventory {
    campus: Campus,
    allow: Campus,
    protected: Campus,
    /// Most specific first, so the first hit is the answer.
    networks: Vec<NetEntry>,
    hosts: HashMap<IpAddr, HostRecord>,
    accounts: HashMap<String, AccountRecord>,
    email_domain: Option<String>,
    pattern: regex_lite::Regex,
}

impl Inventory {
    pub fn new(inv: &InventoryConfig, campus: &CampusConfig) -> Self {
        let mut networks: Vec<NetEntry> = inv
            .networks
            .iter()
            .map(|n| NetEntry {
                net: n.cidr.trunc(),
                name: n.name.clone(),
                owner: owner_of(n.owner.as_deref(), n.email.as_deref(), &n.name),
            })
            .collect();
        networks.sort_by_key(|e| std::cmp::Reverse(e.net.prefix_len()));
        Inventory {
            campus: Campus::new(&campus.networks),
            allow: Campus::new(&inv.allow),
            protected: Campus::new(&inv.protected),
            networks,
            hosts: inv
                .hosts
                .iter()
                .map(|h| (canonical(h.ip), h.clone()))
                .collect(),
            accounts: inv
                .accounts
                .iter()
                .map(|a| (a.name.clone(), a.clone()))
                .collect(),
            email_domain: inv
                .account_email_domain
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            pattern: inv.account_pattern.0.clone(),
        }
    }

    /// What the inventory knows about `ip` and who to tell. A host record's owner overrides
    /// the network owner; a host record without an address to write to falls back to it.
    pub fn host(&self, ip: IpAddr) -> (HostInfo, Option<Owner>) {
        let ip = canonical(ip);
        let net = self.networks.iter().find(|n| n.net.contains(&ip));
        let mut info = HostInfo {
            ip: Some(ip),
            network: net.map(|n| n.name.clone()),
            protected: self.protected.contains(ip),
            ..HostInfo::default()
        };
        let mut owner = net.and_then(|n| n.owner.clone());
        if let Some(h) = self.hosts.get(&ip) {
            info.mac = h.mac;
            info.hostname = h.hostname.clone();
            info.os = h.os.clone();
            info.asset_tag = h.asset_tag.clone();
            info.location = h.location.clone();
            info.protected |= h.protected;
            info.critical = h.critical;
            info.confidential_data = h.confidential_data;
            let label = h.hostname.as_deref().unwrap_or("host owner");
            if let Some(o) = owner_of(h.owner.as_deref(), h.email.as_deref(), label) {
                owner = Some(o);
            }
        }
        (info, owner)
    }

    /// Owner of an account and whether it is protected: the explicit record, else
    /// `<name>@<account_email_domain>` when a domain is configured (a `user@realm` name uses
    /// its local part). The name is already validated, so it is safe in an address.
    pub fn account(&self, name: &AccountName) -> (Option<Owner>, bool) {
        if let Some(a) = self.accounts.get(name.as_str()) {
            return (
                Some(Owner {
                    name: a.owner.clone(),
                    email: a.email.clone(),
                }),
                a.protected,
            );
        }
        let owner = self.email_domain.as_ref().and_then(|domain| {
            let local = name.as_str().split('@').next().unwrap_or_default();
            (!local.is_empty()).then(|| Owner {
                name: name.as_str().to_owned(),
                email: format!("{local}@{domain}"),
            })
        });
        (owner, false)
    }

    /// Addresses whose traffic never becomes evidence.
    pub fn allow(&self) -> &Campus {
        &self.allow
    }

    /// The campus networks.
    pub fn campus(&self) -> &Campus {
        &self.campus
    }

    /// The pattern account names from logs must match.
    pub fn account_pattern(&self) -> &regex_lite::Regex {
        &self.pattern
    }
}

/// An owner needs somewhere to send notices; without an email there is nobody to reach.
fn owner_of(name: Option<&str>, email: Option<&str>, fallback: &str) -> Option<Owner> {
    let email = email.map(str::trim).filter(|e| !e.is_empty())?;
    Some(Owner {
        name: name.unwrap_or(fallback).to_owned(),
        email: email.to_owned(),
    })
}

/// IPv4-mapped IPv6 addresses are looked up as IPv4 (as [`Campus::contains`] does).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
