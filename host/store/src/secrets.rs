//! Secrets at rest: connection secrets are sealed with XChaCha20-Poly1305
//! under a key that never enters the database.
//!
//! The key comes from `WEFT_SECRET_KEY` (base64 of 32 bytes) or from the
//! key file `$WEFT_HOME/secret.key`, created with mode 0600 on first use.
//! Each sealed value is bound to its row (the associated data names the
//! tenant and connection), so a sealed blob copied onto another connection
//! does not open.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::StoreError;

const KEY_ENV: &str = "WEFT_SECRET_KEY";
const VERSION: u8 = 1;

/// The key that seals secrets.
#[derive(Clone)]
pub struct SecretKey(chacha20poly1305::Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Secret(format!("no randomness from the OS: {e}")))?;
    Ok(bytes)
}

impl SecretKey {
    /// From 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes.into())
    }

    /// `WEFT_SECRET_KEY` if set, else the key file in `home` (created when
    /// missing).
    ///
    /// # Errors
    /// A malformed key, or a key file that cannot be read or created.
    pub fn load(home: &Path) -> Result<Self, StoreError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Self::decode(&text).map_err(|e| StoreError::Secret(format!("{KEY_ENV}: {e}")));
        }
        let path = home.join("secret.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::decode(&text)
                .map_err(|e| StoreError::Secret(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random::<32>()?;
                write_private(&path, STANDARD.encode(key).as_bytes()).map_err(|e| {
                    StoreError::Secret(format!("cannot create {}: {e}", path.display()))
                })?;
                tracing::info!(path = %path.display(), "created a new secret key");
                Ok(Self::from_bytes(key))
            }
            Err(e) => Err(StoreError::Secret(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    fn decode(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| format!("not base64: {e}"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("the key must be 32 bytes, got {}", b.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Seals `plain`, bound to `context` (e.g. `tenant/connection`).
    ///
    /// # Errors
    /// Only when the OS has no randomness.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let nonce = random::<24>()?;
        let cipher = XChaCha20Poly1305::new(&self.0);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Secret("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + nonce.len() + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`SecretKey::seal`] sealed with the same `context`.
    ///
    /// # Errors
    /// A wrong key, a wrong context or a damaged blob.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        let fail = || {
            StoreError::Secret(format!(
                "the secrets of {context} cannot be decrypted: wrong key ({KEY_ENV} or secret.key changed?) or damaged data"
            ))
        };
        let (version, rest) = sealed.split_first().ok_or_else(fail)?;
        if *version != VERSION || rest.len() < 24 {
            return Err(fail());
        }
        let (nonce, body) = rest.split_at(24);
        XChaCha20Poly1305::new(&self.0)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| fail())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_context() {
        let key = SecretKey::from_bytes([7; 32]);
        let sealed = key.seal("t1/wdt", b"{\"appsecret\":\"s\"}").expect("seal");
        assert!(!String::from_utf8_lossy(&sealed).contains("appsecret"));
        assert_eq!(
            key.open("t1/wdt", &sealed).expect("open"),
            b"{\"appsecret\":\"s\"}"
        );
        assert!(key.open("t2/wdt", &sealed).is_err(), "bound to its row");
        assert!(
            SecretKey::from_bytes([8; 32])
                .open("t1/wdt", &sealed)
                .is_err()
        );
    }

    #[test]
    fn creates_a_private_key_file_once() {
        let home = tempfile::tempdir().expect("tempdir");
        let a = SecretKey::load(home.path()).expect("created");
        let b = SecretKey::load(home.path()).expect("read back");
        let sealed = a.seal("x", b"y").expect("seal");
        assert_eq!(b.open("x", &sealed).expect("same key"), b"y");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.path().join("secret.key"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
