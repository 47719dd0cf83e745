//! Loading ONNX Runtime itself. The library is not linked into the binary:
//! `libonnxruntime.so` (from the PyPI `onnxruntime` wheel, fetched by
//! `scripts/stack/model.sh`) is opened at start from a configured path, so
//! building needs no download and a missing library is one clear error.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use super::EmbedError;

/// One library per process: ONNX Runtime cannot be unloaded, and `ort`
/// keeps the first library it opened.
static RUNTIME: OnceLock<Result<(PathBuf, Environment), String>> = OnceLock::new();

/// The ONNX Runtime environment, loading `library` on first use.
pub fn environment(library: &Path) -> Result<Environment, EmbedError> {
    let load_error = |reason: String| EmbedError::Load {
        path: library.display().to_string(),
        reason,
    };
    if !library.is_file() {
        return Err(load_error(
            "ONNX Runtime library not found (run `make stack-up` to fetch it, or point \
             embedder.onnxruntime_library / ORT_DYLIB_PATH at libonnxruntime.so)"
                .into(),
        ));
    }
    let loaded = RUNTIME.get_or_init(|| {
        let env = ort::init_from(library)
            .map_err(|e| e.to_string())?
            .with_name("tributary")
            .build()
            .map_err(|e| e.to_string())?;
        tracing::info!(library = %library.display(), "ONNX Runtime loaded");
        Ok((library.to_path_buf(), env))
    });
    match loaded {
        Ok((path, env)) if path == library => Ok(env.clone()),
        Ok((path, _)) => Err(load_error(format!(
            "ONNX Runtime was already loaded from {} in this process; one process uses one library",
            path.display()
        ))),
        Err(reason) => Err(load_error(reason.clone())),
    }
}
