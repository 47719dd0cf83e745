//! Where `tributary search` gets its hits: from a running `tributary serve`
//! or from the store itself. Decided here without I/O; the caller probes
//! the default address only when [`plan`] asks for it.
//!
//! The embedded store admits one process, so while `tributary serve` holds
//! it the only way in is through the server. A Qdrant server admits every
//! process, so there each search goes to it directly, as always.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tributary_core::config::{ServeConfig, StoreBackend};

/// Where the hits come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `tributary serve` at this base URL.
    Server(String),
    /// Open the configured store in this process.
    Direct,
}

/// What to do before searching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Go(Route),
    /// Use the server at `addr` if it accepts a connection, else go direct.
    Probe(SocketAddr),
}

/// - `serve.url` set: that server, always (a server that does not answer
///   is then an error, never a silent switch to another store).
/// - a Qdrant server store: direct.
/// - the embedded store: whatever answers at `serve.listen` (the default
///   address of `tributary serve`), else direct; an empty `listen` means
///   direct.
pub fn plan(backend: StoreBackend, serve: &ServeConfig) -> anyhow::Result<Plan> {
    if let Some(url) = &serve.url {
        return Ok(Plan::Go(Route::Server(url.clone())));
    }
    if backend == StoreBackend::Qdrant || serve.listen.is_empty() {
        return Ok(Plan::Go(Route::Direct));
    }
    let Ok(addr) = serve.listen.parse::<SocketAddr>() else {
        anyhow::bail!(
            "serve.listen {:?} is not an address (host:port); fix it, set serve.url, \
             or set serve.listen to \"\" to always open the store directly",
            serve.listen
        );
    };
    Ok(Plan::Probe(reachable(addr)))
}

/// The route once the probe of `addr` answered (`true`) or not.
pub fn after_probe(addr: SocketAddr, answered: bool) -> Route {
    if answered {
        Route::Server(format!("http://{addr}"))
    } else {
        Route::Direct
    }
}

/// A server listening on every interface (`0.0.0.0`, `[::]`) is reached on
/// loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(listen: &str, url: Option<&str>) -> ServeConfig {
        ServeConfig {
            listen: listen.into(),
            url: url.map(Into::into),
            ..ServeConfig::default()
        }
    }

    #[test]
    fn a_configured_server_is_used_whatever_the_store() {
        for backend in [StoreBackend::Edge, StoreBackend::Qdrant] {
            assert_eq!(
                plan(
                    backend,
                    &serve("127.0.0.1:7700", Some("http://indexer:7700"))
                )
                .ok(),
                Some(Plan::Go(Route::Server("http://indexer:7700".into())))
            );
        }
    }

    #[test]
    fn a_qdrant_server_store_is_searched_directly_without_a_probe() {
        assert_eq!(
            plan(StoreBackend::Qdrant, &serve("127.0.0.1:7700", None)).ok(),
            Some(Plan::Go(Route::Direct))
        );
    }

    #[test]
    fn the_embedded_store_probes_the_default_address() {
        let addr: SocketAddr = "127.0.0.1:7700".parse().expect("addr");
        assert_eq!(
            plan(StoreBackend::Edge, &ServeConfig::default()).ok(),
            Some(Plan::Probe(addr))
        );
        assert_eq!(
            after_probe(addr, true),
            Route::Server("http://127.0.0.1:7700".into())
        );
        assert_eq!(after_probe(addr, false), Route::Direct);
    }

    #[test]
    fn every_interface_is_probed_on_loopback() {
        assert_eq!(
            plan(StoreBackend::Edge, &serve("0.0.0.0:7700", None)).ok(),
            Some(Plan::Probe("127.0.0.1:7700".parse().expect("addr")))
        );
        assert_eq!(
            plan(StoreBackend::Edge, &serve("[::]:7700", None)).ok(),
            Some(Plan::Probe("[::1]:7700".parse().expect("addr")))
        );
    }

    #[test]
    fn an_empty_listen_means_direct_and_a_bad_one_is_an_error() {
        assert_eq!(
            plan(StoreBackend::Edge, &serve("", None)).ok(),
            Some(Plan::Go(Route::Direct))
        );
        let err = plan(StoreBackend::Edge, &serve("localhost:77OO", None)).expect_err("bad");
        assert!(err.to_string().contains("localhost:77OO"), "{err}");
    }
}
