//! Readings of the wall clock (WASI clocks inside a plugin) and nonces.

use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds (WDT, JST, the K3Cloud Python SDK).
pub fn now_unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Unix time in milliseconds (JDY, the K3Cloud Java SDK).
pub fn now_unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A random positive integer for `X-Api-Nonce`.
///
/// The standard library's `RandomState` is seeded from the system's random
/// source (WASI `random/insecure-seed` in a plugin); hashing nothing with it yields a
/// random 64-bit value without another dependency. Nonces need to be
/// unpredictable and unique, not cryptographically strong.
pub fn nonce() -> u64 {
    let hasher = std::collections::hash_map::RandomState::new().build_hasher();
    // Ten digits, like the vendor's samples (`4427456950`), never zero.
    hasher.finish() % 9_000_000_000 + 1_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_ten_digits_and_vary() {
        let a = nonce();
        assert_eq!(a.to_string().len(), 10);
        assert!((0..8).any(|_| nonce() != a));
    }

    #[test]
    fn clocks_agree() {
        let secs = now_unix_secs();
        let millis = now_unix_millis();
        assert!((millis / 1000 - secs).abs() <= 1);
        assert!(secs > 1_700_000_000);
    }
}
