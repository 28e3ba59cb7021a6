//! Log lines into the current run's log.
//!
//! `log::info("page read", &[("page_no", "3")])`. Never log secrets.

use crate::wit::log::Level;
#[cfg(target_arch = "wasm32")]
use crate::wit::log::emit;

/// Emits a line at `level` with key/value fields.
///
/// Outside WebAssembly (a connector's native unit tests) there is no host
/// to take the line, and it goes to stderr instead.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    #[cfg(target_arch = "wasm32")]
    {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        emit(level, message, &fields);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message} {fields:?}");
}

/// A debug line.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    log(Level::Debug, message, fields);
}

/// An info line.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    log(Level::Info, message, fields);
}

/// A warning.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    log(Level::Warn, message, fields);
}

/// An error line (the call's error is reported separately; use this for
/// context the user will want next to it).
pub fn error(message: &str, fields: &[(&str, &str)]) {
    log(Level::Error, message, fields);
}
