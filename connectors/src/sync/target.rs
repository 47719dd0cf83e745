//! Where a connector's run goes: the Kafka topic it publishes to, the state
//! store it records in, and who watches its progress. One value, so every
//! HTTP connector's `sync(options, target)` has the same two arguments.

use tributary_core::config::KafkaConfig;

use super::{run, RunSpec, SinkChoice, Source, WalkEnd};
use crate::state::SyncStateStore;
use crate::summary::{ProgressFn, SyncSummary};

#[derive(Clone, Copy)]
pub struct RunTarget<'a> {
    pub kafka: &'a KafkaConfig,
    pub store: &'a SyncStateStore,
    pub progress: &'a ProgressFn,
}

impl RunTarget<'_> {
    /// Runs `source` through the driver into Kafka (see [`run`]).
    pub async fn run<S: Source>(
        &self,
        source: &mut S,
        spec: &RunSpec,
    ) -> Result<(SyncSummary, WalkEnd), S::Error> {
        run(source, spec, self.store, SinkChoice::Kafka(self.kafka)).await
    }
}
