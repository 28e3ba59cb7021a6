//! Each system's own signing algorithm, written from PROTOCOLS.md and kept
//! next to the vectors published for it. The simulators recompute every
//! request's signature with these functions; the connectors in `plugins/`
//! carry a separate implementation on purpose, so that one shared mistake
//! cannot hide itself.

pub mod jackyun;
pub mod jst;
pub mod kingdee;
pub mod top;
pub mod wdt;

use md5::{Digest, Md5};

pub(crate) fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Constant-time comparison, case-insensitive for hex digests where a
/// system's clients are known to differ in case.
pub(crate) fn same_digest(expected: &str, given: &str, ignore_case: bool) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        let (x, y) = if ignore_case {
            (x.to_ascii_lowercase(), y.to_ascii_lowercase())
        } else {
            (*x, *y)
        };
        diff |= x ^ y;
    }
    diff == 0
}
