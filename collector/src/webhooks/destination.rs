//! Where a webhook may point. A hook created through the API is a read token's doing, and a
//! read token must not make the collector call into its own network (a cloud's metadata
//! service, an admin port on loopback): its URL must name a host whose every address is
//! public, checked when it is created and again before each delivery, and deliveries follow no
//! redirects. Hooks the operator configured are trusted as written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// Why a URL can't be a webhook's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("a webhook URL is http:// or https:// with a host")]
    NotHttp,
    #[error("a webhook URL is at most 2,000 characters")]
    TooLong,
    #[error("the host {0:?} does not resolve")]
    Unresolved(String),
    #[error("the host {0:?} has a loopback, private, link-local or other non-public address")]
    NotPublic(String),
}

/// A URL's host and port, if it is an http(s) URL.
pub fn host_of(url: &str) -> Result<(String, u16), DestinationError> {
    if url.len() > 2_000 {
        return Err(DestinationError::TooLong);
    }
    let uri: http::Uri = url.parse().map_err(|_| DestinationError::NotHttp)?;
    let port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Err(DestinationError::NotHttp),
    };
    let authority = uri.authority().ok_or(DestinationError::NotHttp)?;
    // Credentials in a URL would be sent to whoever the host is, and logged with it.
    if authority.as_str().contains('@') {
        return Err(DestinationError::NotHttp);
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(DestinationError::NotHttp);
    }
    Ok((host.to_owned(), authority.port_u16().unwrap_or(port)))
}

/// Checks that every address `url`'s host resolves to is public.
pub fn check_public(url: &str) -> Result<(), DestinationError> {
    let (host, port) = host_of(url)?;
    let addresses: Vec<IpAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|_| DestinationError::Unresolved(host.clone()))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(DestinationError::Unresolved(host));
    }
    if addresses.iter().any(|ip| !is_public(*ip)) {
        return Err(DestinationError::NotPublic(host));
    }
    Ok(())
}

/// A resolver for deliveries to hooks made through the API: the addresses a name resolves to
/// when a delivery connects are the ones checked, all public or none used, so a name that
/// answers a public address to the check and a private one to the connection (DNS rebinding)
/// gets nowhere.
#[derive(Debug, Default)]
pub struct PublicOnly(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.0.resolve(uri, config, timeout)?;
        if addresses.iter().any(|a| !is_public(a.ip())) {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the host has a loopback, private, link-local or other non-public address",
            )));
        }
        Ok(addresses)
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Protocol assignments and benchmarking, 192.0.0.0/24 and 198.18.0.0/15.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// Global unicast (2000::/3) only, less the ranges in it that aren't the internet or carry an
/// IPv4 address that may be private: Teredo and other IETF assignments (2001::/23),
/// documentation (2001:db8::/32) and 6to4 (2002::/16). Everything outside 2000::/3 (loopback,
/// IPv4-compatible and -mapped forms, NAT64, unique and link-local, site-local, multicast) is
/// not public.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    (first & 0xe000) == 0x2000
        && !(first == 0x2001 && second < 0x0200)
        && !(first == 0x2001 && second == 0x0db8)
        && first != 0x2002
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_http_destinations_pass() {
        for private in [
            "http://127.0.0.1:8686/metrics",
            "http://localhost/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.8/",
            "http://[::1]/",
            "http://[::ffff:192.168.1.1]/",
            "http://[::127.0.0.1]/",
            "http://[fec0::1]/",
            "http://[2001:0:4136:e378::1]/",
            "http://[64:ff9b::a00:1]/",
            "https://100.64.0.1/",
            "http://0.0.0.0/",
        ] {
            assert!(
                matches!(check_public(private), Err(DestinationError::NotPublic(_))),
                "{private} must be refused: {:?}",
                check_public(private)
            );
        }
        assert!(check_public("https://93.184.215.14/hook").is_ok());
        assert!(check_public("https://[2606:4700::1111]/hook").is_ok());
        for malformed in ["ftp://example.com/", "example.com/hook", "https://user:pw@93.184.215.14/", "http:///x"] {
            assert!(check_public(malformed).is_err(), "{malformed}");
        }
        assert_eq!(host_of("https://hooks.example.com:8443/x"), Ok(("hooks.example.com".into(), 8443)));
    }
}
