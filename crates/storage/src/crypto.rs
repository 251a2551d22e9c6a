//! Encryption of sensitive fields at rest. The keys live in a key file outside the database
//! (`vigie.key`, or `VIGIE_KEY_FILE`), so a dump or a backup of the database alone reveals
//! nothing. The file holds one key per line, newest first (`<id>:<base64 32 bytes>`): new
//! data is sealed with the first key, and older keys still open what they sealed, which is
//! what makes rotation possible.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

#[derive(Clone)]
pub struct Keyring {
    /// (id, key), newest first.
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "Keyring({} key(s), current {})", self.keys.len(), self.keys[0].0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("key file {0}: {1}")]
    KeyFile(String, String),
    #[error("sealed value is malformed")]
    Malformed,
    #[error("no key {0} in the key file (was it rotated out?)")]
    UnknownKey(String),
    #[error("sealed value failed authentication (altered, or wrong key)")]
    Tampered,
}

fn new_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    k
}

fn key_id() -> String {
    let mut b = [0u8; 4];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

impl Keyring {
    /// A keyring with one fresh key (tests, or the first start).
    pub fn generate() -> Keyring {
        Keyring { keys: vec![(key_id(), new_key())] }
    }

    pub fn parse(text: &str) -> Result<Keyring, String> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let (id, b64) = line.trim().split_once(':').ok_or(format!("line {}: expected id:key", n + 1))?;
            let raw = B64.decode(b64.trim_end_matches('=')).map_err(|e| format!("line {}: {e}", n + 1))?;
            let key: [u8; 32] = raw.try_into().map_err(|_| format!("line {}: a key is 32 bytes", n + 1))?;
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(format!("line {}: bad key id", n + 1));
            }
            keys.push((id.to_string(), key));
        }
        if keys.is_empty() {
            return Err("no key".into());
        }
        Ok(Keyring { keys })
    }

    pub fn to_file_text(&self) -> String {
        let mut s = String::from("# Vigie encryption keys, newest first. Keep this file secret and backed up apart from the database.\n");
        for (id, k) in &self.keys {
            s.push_str(&format!("{id}:{}\n", B64.encode(k)));
        }
        s
    }

    /// Loads the key file, creating it (mode 0600) with a fresh key if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Keyring, CryptoError> {
        let err = |e: String| CryptoError::KeyFile(path.display().to_string(), e);
        match std::fs::read_to_string(path) {
            Ok(text) => Keyring::parse(&text).map_err(err),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = Keyring::generate();
                k.write(path).map_err(|e| err(e.to_string()))?;
                Ok(k)
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(path)?;
        f.write_all(self.to_file_text().as_bytes())?;
        f.sync_all()
    }

    /// A new key in front; older keys stay to open older values.
    pub fn rotated(&self) -> Keyring {
        let mut keys = vec![(key_id(), new_key())];
        keys.extend(self.keys.iter().cloned());
        Keyring { keys }
    }

    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plain`, bound to `context` (e.g. "users.totp_secret:42"), so a sealed value
    /// copied into another row or column does not open there.
    pub fn seal(&self, plain: &[u8], context: &str) -> String {
        let (id, key) = &self.keys[0];
        let cipher = XChaCha20Poly1305::new(key.into());
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: context.as_bytes() }).expect("encryption cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("v1.{id}.{}", B64.encode(blob))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let (_, key) = self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| CryptoError::UnknownKey(id.into()))?;
        let blob = B64.decode(b64).map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 24 + 16 {
            return Err(CryptoError::Malformed);
        }
        let cipher = XChaCha20Poly1305::new(key.into());
        cipher.decrypt(XNonce::from_slice(&blob[..24]), Payload { msg: &blob[24..], aad: context.as_bytes() }).map_err(|_| CryptoError::Tampered)
    }

    pub fn open_string(&self, sealed: &str, context: &str) -> Result<String, CryptoError> {
        String::from_utf8(self.open(sealed, context)?).map_err(|_| CryptoError::Malformed)
    }

    /// The ids of the keys of this keyring, newest first (alphanumeric, checked by [`Keyring::parse`]).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Is `stored` a value sealed by this keyring (`v1.<one of its key ids>.<base64 of a nonce
    /// and a tag at least>`)? For columns sealed after rows were written in clear (SMS texts,
    /// reporter threads, protected reports' text): such a column may hold both until the
    /// start-up pass ([`crate::rotation::seal_clear`]) has sealed the older rows, and
    /// `reports.text` keeps non-protected reports' text in clear for good.
    pub fn is_sealed(&self, stored: &str) -> bool {
        let mut parts = stored.splitn(3, '.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("v1"), Some(id), Some(b64)) => self.keys.iter().any(|(k, _)| k == id) && B64.decode(b64).is_ok_and(|b| b.len() >= 24 + 16),
            _ => false,
        }
    }

    /// Opens a value of a column that may also hold clear text (see [`Keyring::is_sealed`]):
    /// a sealed value is opened (and refused if altered), anything else is returned as it is.
    pub fn open_text(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        if self.is_sealed(stored) {
            self.open_string(stored, context)
        } else {
            Ok(stored.to_string())
        }
    }

    /// A keyed hash for looking up an encrypted value by equality (a phone number) without
    /// storing it in clear. Uses the oldest key, so rotation does not change the index.
    pub fn blind_index(&self, purpose: &str, value: &str) -> String {
        let (_, key) = self.keys.last().unwrap();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A fresh random 256-bit data key (one per protected case): what it encrypts is unreadable
/// without it, and it is only ever stored wrapped by the keyring ([`Keyring::wrap_key`]).
pub fn new_data_key() -> [u8; 32] {
    new_key()
}

/// Encrypts `plain` under a data key, bound to `context`: `nonce (24) || ciphertext+tag`.
pub fn seal_with(key: &[u8; 32], plain: &[u8], context: &str) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: context.as_bytes() }).expect("encryption cannot fail");
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ct);
    blob
}

pub fn open_with(key: &[u8; 32], blob: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
    if blob.len() < 24 + 16 {
        return Err(CryptoError::Malformed);
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher.decrypt(XNonce::from_slice(&blob[..24]), Payload { msg: &blob[24..], aad: context.as_bytes() }).map_err(|_| CryptoError::Tampered)
}

impl Keyring {
    /// Wraps a data key with the current key (envelope encryption): rotating the keyring means
    /// re-wrapping these small values, not re-encrypting every case.
    pub fn wrap_key(&self, data_key: &[u8; 32], context: &str) -> String {
        self.seal(data_key, context)
    }

    pub fn unwrap_key(&self, wrapped: &str, context: &str) -> Result<[u8; 32], CryptoError> {
        self.open(wrapped, context)?.try_into().map_err(|_| CryptoError::Malformed)
    }

    /// A 256-bit key derived for one purpose (HMAC of the oldest key, like [`Keyring::blind_index`]),
    /// so it never needs storing and survives rotation: e.g. the receipt-code key.
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        let (_, key) = self.keys.last().unwrap();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(b"vigie/subkey\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_keys_wrap_and_seal() {
        let k = Keyring::generate();
        let dk = new_data_key();
        let w = k.wrap_key(&dk, "cases.data_key:1");
        assert_eq!(k.unwrap_key(&w, "cases.data_key:1").unwrap(), dk);
        assert!(k.unwrap_key(&w, "cases.data_key:2").is_err());
        let blob = seal_with(&dk, b"Awa Traore", "cases.identity:1");
        assert!(!blob.windows(4).any(|w| w == b"Awa "));
        assert_eq!(open_with(&dk, &blob, "cases.identity:1").unwrap(), b"Awa Traore");
        assert!(open_with(&dk, &blob, "cases.identity:2").is_err());
        assert!(open_with(&new_data_key(), &blob, "cases.identity:1").is_err());
        assert_eq!(k.subkey("receipt"), k.rotated().subkey("receipt"));
        assert_ne!(k.subkey("receipt"), k.subkey("other"));
    }

    use super::*;

    #[test]
    fn seal_open_and_refuse_tampering_or_moved_values() {
        let k = Keyring::generate();
        let s = k.seal(b"Aminata Diallo", "case.victim:7");
        assert!(!s.contains("Aminata"));
        assert_eq!(k.open_string(&s, "case.victim:7").unwrap(), "Aminata Diallo");
        assert!(matches!(k.open(&s, "case.victim:8"), Err(CryptoError::Tampered)), "bound to its row");
        let mut t = s.clone();
        t.replace_range(t.len() - 3.., "AAA");
        assert!(k.open(&t, "case.victim:7").is_err());
        assert!(matches!(Keyring::generate().open(&s, "case.victim:7"), Err(CryptoError::UnknownKey(_))));
        assert!(matches!(k.open("garbage", "x"), Err(CryptoError::Malformed)));
    }

    #[test]
    fn open_text_opens_sealed_values_and_passes_clear_ones() {
        let k = Keyring::generate();
        let s = k.seal("Réponse de Bintou".as_bytes(), "sms_inbox.text");
        assert!(k.is_sealed(&s));
        assert_eq!(k.open_text(&s, "sms_inbox.text").unwrap(), "Réponse de Bintou");
        assert!(k.open_text(&s, "sms_outbox.text").is_err(), "bound to its column");
        for clear in ["Réponse de Bintou", "", "v1.", "v1.abc.def", &format!("v1.{}.court", k.current_id()), &s.replacen("v1.", "v2.", 1)] {
            assert!(!k.is_sealed(clear), "{clear}");
            assert_eq!(k.open_text(clear, "sms_inbox.text").unwrap(), clear);
        }
        // Sealed under a key of another keyring: not ours, so taken as text (it opens nowhere anyway).
        assert!(!k.is_sealed(&Keyring::generate().seal(b"x", "c")));
        assert!(k.rotated().is_sealed(&s), "older keys still recognise their values");
        assert_eq!(k.rotated().ids().nth(1), Some(k.current_id()));
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_blind_index_stable() {
        let k = Keyring::generate();
        let old = k.seal(b"secret", "c");
        let r = k.rotated();
        assert_ne!(r.current_id(), k.current_id());
        assert_eq!(r.open(&old, "c").unwrap(), b"secret");
        assert!(r.seal(b"x", "c").contains(r.current_id()));
        assert_eq!(k.blind_index("phone", "+22376123456"), r.blind_index("phone", "+22376123456"));
        assert_ne!(k.blind_index("phone", "+22376123456"), k.blind_index("phone", "+22376123457"));
        let reparsed = Keyring::parse(&r.to_file_text()).unwrap();
        assert_eq!(reparsed.open(&old, "c").unwrap(), b"secret");
        assert!(format!("{r:?}").len() < 60, "debug output shows no key");
    }

    #[test]
    fn key_file_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vigie.key");
        let k = Keyring::load_or_create(&p).unwrap();
        let again = Keyring::load_or_create(&p).unwrap();
        assert_eq!(k.current_id(), again.current_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&p, "nope").unwrap();
        assert!(Keyring::load_or_create(&p).is_err());
    }
}
