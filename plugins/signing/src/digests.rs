//! Hex digests in the spellings the vendors use, over the RustCrypto
//! implementations.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// `md5`, lowercase hex.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// `sha256`, lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `HMAC-MD5(key, data)`, lowercase hex.
pub(crate) fn hmac_md5_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC hashes or pads a key of any length, so this cannot fail.
    let mut mac = Hmac::<Md5>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// `HMAC-SHA256(key, data)`, lowercase hex.
pub(crate) fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC hashes or pads a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}
