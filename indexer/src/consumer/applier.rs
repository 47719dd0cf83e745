//! What the consumer loop needs from the indexing pipeline: apply a set of
//! documents, probe the dependencies, know the model's vector size. A
//! trait so the loop's decisions can be tested with a scripted fake.

use tributary_core::Document;

use crate::pipeline::{BatchStats, Pipeline, ProcessError, Unhealthy};

#[async_trait::async_trait]
pub(crate) trait Applier: Send + Sync {
    /// Makes the store hold exactly these documents' current chunks.
    async fn apply(&self, docs: Vec<Document>) -> Result<BatchStats, ProcessError>;
    /// Probes every dependency `apply` needs.
    async fn health(&self) -> Result<(), Unhealthy>;
    /// Vector size of the model; precomputed vectors must match it.
    fn dimension(&self) -> usize;
}

#[async_trait::async_trait]
impl Applier for Pipeline {
    async fn apply(&self, docs: Vec<Document>) -> Result<BatchStats, ProcessError> {
        Pipeline::apply(self, docs).await
    }

    async fn health(&self) -> Result<(), Unhealthy> {
        Pipeline::health(self).await
    }

    fn dimension(&self) -> usize {
        self.embedder.dimension()
    }
}
