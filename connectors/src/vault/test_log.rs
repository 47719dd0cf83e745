//! Test helper: the tracing events a closure emits, so tests can assert
//! that a warning names the file it is about.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

#[derive(Debug, Clone)]
pub struct Captured {
    pub level: Level,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.fields.insert(field.name().to_string(), value);
        }
    }
}

struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.lock().expect("capture lock").push(Captured {
            level: *event.metadata().level(),
            message: fields.message,
            fields: fields.fields,
        });
    }
}

/// Runs `f` with a subscriber that records every event on this thread.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<Captured>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Capture(Arc::clone(&events)));
    let out = tracing::subscriber::with_default(subscriber, f);
    let captured = events.lock().expect("capture lock").clone();
    (out, captured)
}

/// The `path` field of every warning, in order.
pub fn warned_paths(events: &[Captured]) -> Vec<&str> {
    events
        .iter()
        .filter(|e| e.level == Level::WARN)
        .filter_map(|e| e.fields.get("path").map(String::as_str))
        .collect()
}
