//! `deserialize_with` helpers for foreign types (addresses, networks, dates) so that a bad
//! value is reported with the value itself and an example of the right form, instead of the
//! foreign crate's terse message. Only reading; no validation across keys (see `validate`).
use ipnet::IpNet;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::net::{IpAddr, SocketAddr};

fn net_from(s: &str) -> Result<IpNet, String> {
    s.trim().parse::<IpNet>().or_else(|_| {
        // A bare address is a one-host network.
        s.trim().parse::<IpAddr>().map(IpNet::from).map_err(|_| {
            format!("invalid network {s:?} (write e.g. \"10.0.0.0/8\" or \"fd00::/8\")")
        })
    })
}

pub fn net<'de, D: Deserializer<'de>>(d: D) -> Result<IpNet, D::Error> {
    let s = String::deserialize(d)?;
    net_from(&s).map_err(D::Error::custom)
}

/// One element of a list of networks (used through `Vec<NetElem>` so the index is in the path).
struct NetElem(IpNet);

impl<'de> Deserialize<'de> for NetElem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        net(d).map(NetElem)
    }
}

pub fn nets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let v = Vec::<NetElem>::deserialize(d)?;
    Ok(v.into_iter().map(|n| n.0).collect())
}

pub fn opt_nets<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<IpNet>>, D::Error> {
    nets(d).map(Some)
}

pub fn ip<'de, D: Deserializer<'de>>(d: D) -> Result<IpAddr, D::Error> {
    let s = String::deserialize(d)?;
    s.trim().parse().map_err(|_| {
        D::Error::custom(format!(
            "invalid IP address {s:?} (write e.g. \"10.1.2.3\" or \"fd00::1\")"
        ))
    })
}

fn socket_from(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse().map_err(|_| {
        format!("invalid listen address {s:?} (write e.g. \"127.0.0.1:8088\" or \"[::1]:514\")")
    })
}

pub fn socket<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    socket_from(&s).map_err(D::Error::custom)
}

pub fn opt_socket<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    socket(d).map(Some)
}

fn date_from(v: toml::Value) -> Result<jiff::civil::Date, String> {
    match v {
        toml::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("invalid date {s:?} (write e.g. 2026-12-25)")),
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8)
                    .map_err(|e| format!("invalid date {dt}: {e}"))
            }
            _ => Err(format!("{dt} is not a plain date (write e.g. 2026-12-25)")),
        },
        other => Err(format!(
            "invalid type: {}, expected a date (e.g. 2026-12-25)",
            other.type_str()
        )),
    }
}

struct DateElem(jiff::civil::Date);

impl<'de> Deserialize<'de> for DateElem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        date_from(v).map(DateElem).map_err(D::Error::custom)
    }
}

/// Dates written either as TOML dates (`2026-12-25`) or as strings (`"2026-12-25"`).
pub fn dates<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<jiff::civil::Date>, D::Error> {
    let v = Vec::<DateElem>::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_address_is_a_host_network() {
        assert_eq!(
            net_from("10.1.2.3").unwrap(),
            "10.1.2.3/32".parse::<IpNet>().unwrap()
        );
        assert!(net_from("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
    }

    #[test]
    fn dates_both_ways() {
        let v: toml::Table =
            toml::from_str("a = 2026-12-25\nb = \"2026-01-01\"\nc = 2026-01-01T00:00:00Z").unwrap();
        assert_eq!(date_from(v["a"].clone()).unwrap().to_string(), "2026-12-25");
        assert_eq!(date_from(v["b"].clone()).unwrap().to_string(), "2026-01-01");
        assert!(date_from(v["c"].clone()).is_err());
    }
}
