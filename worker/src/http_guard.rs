//! Keeps `http_request` tasks away from the worker's own network: by default a task may
//! call only public addresses, never loopback, private (RFC 1918, unique local), link-local
//! (cloud metadata at 169.254.169.254) or other special ranges. Enforced where it cannot
//! be dodged: on the URL's IP literal, in the DNS resolver (so a name that resolves to a
//! private address is refused at connect time, DNS rebinding included) and on every
//! redirect. `WORKER_HTTP_ALLOW_PRIVATE=true` lifts it (local development, tests).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use reqwest::Url;

use crate::text::{Run, Text};

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// `true` for an address a task may call when private addresses are not allowed.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..=127).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..=19).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    let first = seg[0];
    // Forms that embed an IPv4 address and may reach it: IPv4-compatible `::a.b.c.d`
    // (deprecated, some stacks still route it), IPv4-translated `::ffff:0:a.b.c.d`, and
    // 6to4 `2002:aabb:ccdd::/16` — judged by the IPv4 address they carry.
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if seg[..6] == [0; 6] && !(ip.is_unspecified() || ip.is_loopback()) {
        return is_public_v4(embedded(seg[6], seg[7]));
    }
    if seg[..4] == [0; 4] && seg[4] == 0xffff && seg[5] == 0 {
        return is_public_v4(embedded(seg[6], seg[7]));
    }
    if first == 0x2002 {
        return is_public_v4(embedded(seg[1], seg[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)) // NAT64, may reach private v4
}

/// Why a URL may not be called, or `None`.
pub fn refused_url(url: &Url) -> Option<Text> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(name) => {
            // `localhost.` (a fully qualified name) is the same name.
            let bare = name.trim_end_matches('.').to_ascii_lowercase();
            if bare == "localhost" || bare.ends_with(".localhost") {
                return Some(refusal(name));
            }
            return None;
        }
    };
    (!is_public(ip)).then(|| refusal(&ip.to_string()))
}

fn refusal(host: &str) -> Text {
    Text::new(Run::HttpPrivateAddress).raw("host", host)
}

/// A resolver that drops private and local addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() && !found.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> = Box::new(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "{host} resolves to a private or local address, which tasks may not call"
                    ),
                ));
                return Err(error);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client for handlers: rustls, a Taskdeck user agent, at most
/// [`MAX_REDIRECTS`] redirects, and unless `allow_private`, public addresses only.
pub fn http_client(allow_private: bool) -> reqwest::Client {
    let policy = Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        if !allow_private {
            if let Some(reason) = refused_url(attempt.url()) {
                return attempt.error(reason.english());
            }
        }
        attempt.follow()
    });
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("taskdeck-worker/", env!("CARGO_PKG_VERSION")))
        .redirect(policy)
        .connect_timeout(Duration::from_secs(10));
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
    }
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::7f00:1",
            "::ffff:0:7f00:1",
            "::ffff:0:a9fe:a9fe",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "2002:5db8:d822::1",
        ] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn urls_with_private_hosts_are_refused() {
        let refused = |u: &str| refused_url(&Url::parse(u).expect("url"));
        assert_eq!(
            refused("http://127.0.0.1:9464/metrics").map(|text| text.english()),
            Some("127.0.0.1 is a private or local address, which tasks may not call".to_owned())
        );
        assert!(refused("http://[::1]/").is_some());
        assert!(refused("http://localhost:8080/").is_some());
        assert!(refused("http://api.localhost/").is_some());
        assert!(refused("http://localhost./").is_some());
        assert!(refused("http://API.LocalHost./").is_some());
        assert!(refused("http://169.254.169.254/latest/meta-data").is_some());
        assert_eq!(refused("https://example.com/"), None);
        assert_eq!(refused("https://93.184.216.34/"), None);
    }
}
