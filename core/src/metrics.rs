//! The process's Prometheus registry (prometheus-client). Each component
//! registers its own families once, from the module whose events update
//! them; `/metrics` encodes them all. Counters are registered without the
//! `_total` suffix: the encoder appends it.

use std::sync::{Mutex, MutexGuard, OnceLock};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A gauge holding seconds or timestamps.
pub type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| Mutex::new(Registry::default()))
        .lock()
        // A panic while registering cannot corrupt what was registered.
        .unwrap_or_else(|e| e.into_inner())
}

/// Registers families; call once per family, from a `OnceLock` initialiser.
pub fn register(f: impl FnOnce(&mut Registry)) {
    f(&mut registry());
}

/// The text exposition of every registered family.
pub fn encode_text() -> Result<String, std::fmt::Error> {
    build_info();
    let mut out = String::new();
    encode(&mut out, &registry())?;
    Ok(out)
}

/// `tributary_build_info{version="…"} 1`.
fn build_info() {
    static BUILD: OnceLock<()> = OnceLock::new();
    BUILD.get_or_init(|| {
        let family =
            prometheus_client::metrics::family::Family::<Vec<(String, String)>, Gauge>::default();
        family
            .get_or_create(&vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )])
            .set(1);
        register(|r| {
            r.register(
                "tributary_build_info",
                "Build of the running binary (always 1)",
                family,
            )
        });
    });
}

/// Seconds since the Unix epoch, for `*_timestamp_seconds` gauges.
pub fn now_seconds() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}
