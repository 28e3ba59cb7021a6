//! What every route and the scheduler share.

use std::ops::Deref;
use std::sync::Arc;

use weft_engine::Engine;
use weft_store::{SqliteStore, StoreError};

use crate::auth::AdminToken;
use crate::error::ApiError;
use crate::running::Running;

/// The service's state; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
#[derive(Debug)]
pub struct Inner {
    pub(crate) engine: Engine,
    pub(crate) admin: Option<AdminToken>,
    pub(crate) running: Running,
    pub(crate) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub(crate) fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// Runs a store call on the blocking pool (SQLite blocks; the async
    /// workers serve every tenant's requests and runs).
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(self.engine.store());
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)
    }
}
