//! Rate limits held in memory: password guessing from one address, on top of the per-account
//! lockout in storage (SMS floods from one number are limited in `sms.rs`, counted in the
//! database). A fixed window per key; keys are kept hashed so this map never holds an address
//! in clear. Each Vigie node
//! counts alone: behind N nodes an address gets N times the budget, which still stops a flood.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One budget: `max` events per `window` and per key.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max: u32,
    pub window: Duration,
}

#[derive(Debug)]
pub struct Limiter {
    budget: Budget,
    seen: Mutex<HashMap<[u8; 16], (Instant, u32)>>,
}

impl Limiter {
    pub fn new(budget: Budget) -> Limiter {
        Limiter { budget, seen: Mutex::new(HashMap::new()) }
    }

    /// Counts one event of `key`; false once the key has spent its budget in this window.
    pub fn allow(&self, key: &str) -> bool {
        let k: [u8; 16] = Sha256::digest(key.as_bytes())[..16].try_into().expect("16 bytes");
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // Forget old windows now and then so the map stays small under a spray of keys.
        if seen.len() > 50_000 {
            let w = self.budget.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < w);
        }
        let e = seen.entry(k).or_insert((now, 0));
        if now.duration_since(e.0) >= self.budget.window {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
        e.1 <= self.budget.max
    }
}

/// The limits of one server.
#[derive(Debug)]
pub struct Limits {
    /// Sign-in attempts per client address (API and web forms together).
    pub login_per_ip: Limiter,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_per_ip: Limiter::new(Budget { max: 30, window: Duration::from_secs(300) }),
        }
    }
}

/// The client's address, when the server was started with connection info (it always is by
/// [`crate::serve`]); None otherwise.
pub fn client_ip(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The client address as a request extractor (never fails).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(&parts.extensions)))
    }
}

impl ClientIp {
    pub fn key(&self) -> String {
        self.0.map(|i| i.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_per_key_and_window() {
        let l = Limiter::new(Budget { max: 3, window: Duration::from_millis(200) });
        assert!((0..3).all(|_| l.allow("+22376000001")));
        assert!(!l.allow("+22376000001"));
        assert!(l.allow("+22376000002"), "another key has its own budget");
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.allow("+22376000001"), "a new window starts afresh");
    }
}
