//! Receipt codes: how an anonymous reporter follows a case without an account (GlobaLeaks'
//! model). The code is the only secret: Vigie stores a keyed hash of it, never the code.
//!
//! Format: 28 digits, printed in 7 groups of 4 (`1234 5678 …`). Digits only, because the
//! code must be read aloud over a bad phone line (in French, Bambara or Fulfulde, digits are
//! what everyone can dictate) and typed on a basic keypad phone without switching modes.
//! The first 27 digits are random: 27 × log2(10) ≈ 89.7 bits, above the 80-bit floor.
//! (GlobaLeaks' 16 digits give only 53 bits.) The last digit is a Damm check digit: it catches
//! every single wrong digit and every swap of two neighbours, so a typo is reported as a typo
//! and costs the reporter no lookup attempt, while it gives a guesser nothing (it is public
//! arithmetic on the other digits).

use super::msg::CaseMsg;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

pub const RANDOM_DIGITS: usize = 27;
pub const DIGITS: usize = RANDOM_DIGITS + 1;
pub const GROUP: usize = 4;
/// Random bytes the caller must supply. Digits are drawn by rejection sampling (a byte ≥ 250
/// is skipped, so every digit is uniform); 48 bytes leave a vanishing chance of running short.
pub const MIN_RANDOM_BYTES: usize = 48;
/// Shortest accepted HMAC key: 256 bits.
pub const MIN_KEY_BYTES: usize = 32;
/// Domain separation: a hash made for receipts is useless anywhere else, and a v2 format can
/// coexist.
const HASH_CONTEXT: &[u8] = b"vigie/receipt/v1\0";

/// Damm's quasigroup of order 10 (totally anti-symmetric).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0, |interim, &d| DAMM[interim as usize][d as usize])
}

/// A receipt code. Deliberately no `Display`: printing one is an explicit call to
/// [`ReceiptCode::grouped`], and `Debug` hides it so it never lands in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptCode([u8; DIGITS]);

impl fmt::Debug for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReceiptCode(****)")
    }
}

impl ReceiptCode {
    /// Makes a code from the caller's CSPRNG output (at least [`MIN_RANDOM_BYTES`] bytes).
    pub fn generate(random: &[u8]) -> Result<ReceiptCode, CaseMsg> {
        let weak = CaseMsg::WeakRandomness { min_bytes: MIN_RANDOM_BYTES };
        // A zeroed or constant buffer is a broken generator, not bad luck.
        if random.len() < MIN_RANDOM_BYTES || random.iter().all(|b| *b == random[0]) {
            return Err(weak);
        }
        let mut d = [0u8; DIGITS];
        let mut n = 0;
        for &b in random {
            if n == RANDOM_DIGITS {
                break;
            }
            if b < 250 {
                d[n] = b % 10;
                n += 1;
            }
        }
        if n < RANDOM_DIGITS {
            return Err(weak);
        }
        d[RANDOM_DIGITS] = damm(&d[..RANDOM_DIGITS]);
        Ok(ReceiptCode(d))
    }

    /// Reads a code as typed or dictated: spaces (any kind), dashes and dots are ignored.
    pub fn parse(input: &str) -> Result<ReceiptCode, CaseMsg> {
        let malformed = CaseMsg::ReceiptMalformed { digits: DIGITS };
        let mut d = [0u8; DIGITS];
        let mut n = 0;
        for c in input.chars() {
            if c.is_whitespace() || matches!(c, '-' | '.' | '‐' | '–') {
                continue;
            }
            let v = c.to_digit(10).ok_or_else(|| malformed.clone())?;
            if n == DIGITS {
                return Err(malformed);
            }
            d[n] = v as u8;
            n += 1;
        }
        if n != DIGITS {
            return Err(malformed);
        }
        if damm(&d) != 0 {
            return Err(CaseMsg::ReceiptTypo);
        }
        Ok(ReceiptCode(d))
    }

    /// For the reporter's screen or SMS: `1234 5678 9012 3456 7890 1234 5678`.
    pub fn grouped(&self) -> String {
        let s = self.compact();
        s.as_bytes().chunks(GROUP).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
    }

    /// The 28 digits with nothing between them.
    pub fn compact(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The stored form: HMAC-SHA256 under a server key kept outside the database. Keyed rather
    /// than salted-and-slow so that lookup is one indexed equality; someone holding a database
    /// dump but not the key cannot test guesses offline at all.
    pub fn hash(&self, key: &ReceiptKey) -> ReceiptHash {
        let mut msg = Vec::with_capacity(HASH_CONTEXT.len() + DIGITS);
        msg.extend_from_slice(HASH_CONTEXT);
        msg.extend_from_slice(self.compact().as_bytes());
        ReceiptHash(hmac_sha256(&key.0, &msg))
    }
}

/// HMAC-SHA256 (RFC 2104), from the RustCrypto `hmac` crate.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The server's receipt key. Loaded from configuration; rotating it invalidates every
/// outstanding receipt, so keep old keys to try in turn if you rotate.
#[derive(Clone)]
pub struct ReceiptKey(Vec<u8>);

impl ReceiptKey {
    pub fn new(bytes: &[u8]) -> Result<ReceiptKey, CaseMsg> {
        if bytes.len() < MIN_KEY_BYTES || bytes.iter().all(|b| *b == bytes[0]) {
            return Err(CaseMsg::ReceiptKeyTooShort { min_bytes: MIN_KEY_BYTES });
        }
        Ok(ReceiptKey(bytes.to_vec()))
    }
}

impl fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReceiptKey(****)")
    }
}

/// What storage keeps (hex in a unique indexed column). Equality is constant-time.
#[derive(Clone, Debug, Eq)]
pub struct ReceiptHash(pub [u8; 32]);

impl PartialEq for ReceiptHash {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl ReceiptHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Option<ReceiptHash> {
        let v = hex::decode(s).ok()?;
        Some(ReceiptHash(v.try_into().ok()?))
    }
    /// Does `code` open the case stored with this hash?
    pub fn verify(&self, code: &ReceiptCode, key: &ReceiptKey) -> bool {
        *self == code.hash(key)
    }
}

/// Equality that takes the same time whatever the bytes: no early exit on the first
/// difference, so response times do not reveal how much of a guess was right. (Lengths are
/// not secret and are compared directly.)
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Refuses receipt lookups from a source (an IP, a phone number, a USSD session: the caller
/// chooses and keys the state by it) after `max_failures` failures within `window_minutes`,
/// for `lock_minutes`. A success does not wipe earlier failures: otherwise someone holding one
/// valid code could interleave it with guesses forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub window_minutes: i64,
    pub lock_minutes: i64,
}

impl Default for LockoutPolicy {
    /// 5 failures in an hour lock the source for an hour: a reporter who mistypes twice is
    /// fine; a guesser gets ~120 tries a day against a 2^89.7 space.
    fn default() -> Self {
        LockoutPolicy { max_failures: 5, window_minutes: 60, lock_minutes: 60 }
    }
}

/// The remembered failures of one source. Small: at most `max_failures` timestamps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutState {
    pub failures: Vec<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockoutDecision {
    Allow,
    /// Refuse without looking the code up. `minutes` is rounded up, for the message.
    Refuse { until: DateTime<Utc>, minutes: i64 },
}

impl LockoutDecision {
    pub fn msg(&self) -> Option<CaseMsg> {
        match self {
            LockoutDecision::Allow => None,
            LockoutDecision::Refuse { minutes, .. } => Some(CaseMsg::ReceiptLocked { minutes: *minutes }),
        }
    }
}

impl LockoutPolicy {
    pub fn new(max_failures: u32, window_minutes: i64, lock_minutes: i64) -> Option<LockoutPolicy> {
        (max_failures > 0 && window_minutes > 0 && lock_minutes > 0)
            .then_some(LockoutPolicy { max_failures, window_minutes, lock_minutes })
    }

    /// Ask before every lookup.
    pub fn check(&self, state: &LockoutState, now: DateTime<Utc>) -> LockoutDecision {
        match state.locked_until {
            Some(until) if until > now => {
                let secs = (until - now).num_seconds();
                LockoutDecision::Refuse { until, minutes: (secs + 59) / 60 }
            }
            _ => LockoutDecision::Allow,
        }
    }

    /// Call after a lookup that matched no case; store the returned state for the source.
    pub fn record_failure(&self, state: &LockoutState, now: DateTime<Utc>) -> LockoutState {
        if let LockoutDecision::Refuse { .. } = self.check(state, now) {
            return state.clone();
        }
        let since = now - Duration::minutes(self.window_minutes);
        let mut failures: Vec<DateTime<Utc>> = state.failures.iter().copied().filter(|t| *t > since).collect();
        failures.push(now);
        if failures.len() >= self.max_failures as usize {
            LockoutState { failures: Vec::new(), locked_until: Some(now + Duration::minutes(self.lock_minutes)) }
        } else {
            LockoutState { failures, locked_until: None }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A deterministic stand-in for a CSPRNG (xorshift), so tests are repeatable.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }
    fn key() -> ReceiptKey {
        ReceiptKey::new(&bytes(99, 32)).unwrap()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        let h = |k: &[u8], m: &[u8]| hex::encode(hmac_sha256(k, m));
        assert_eq!(h(&[0x0b; 20], b"Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        assert_eq!(h(b"Jefe", b"what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(
            h(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn damm_known_value() {
        // Damm's worked example: 572 -> check digit 4.
        assert_eq!(damm(&[5, 7, 2]), 4);
        assert_eq!(damm(&[5, 7, 2, 4]), 0);
    }

    #[test]
    fn generated_codes_print_and_parse_back() {
        let c = ReceiptCode::generate(&bytes(7, 64)).unwrap();
        let g = c.grouped();
        assert_eq!(g.len(), DIGITS + DIGITS / GROUP - 1);
        assert!(g.split(' ').all(|grp| grp.len() == GROUP && grp.bytes().all(|b| b.is_ascii_digit())));
        assert_eq!(ReceiptCode::parse(&g).unwrap(), c);
        let dashed = c.compact().as_bytes().chunks(4).map(|x| std::str::from_utf8(x).unwrap()).collect::<Vec<_>>().join("-");
        assert_eq!(ReceiptCode::parse(&format!("  {dashed}\n")).unwrap(), c);
        assert_eq!(ReceiptCode::parse(&c.compact().replace("", "\u{a0}")).unwrap(), c);
        assert_eq!(format!("{c:?}"), "ReceiptCode(****)");
        assert!(!format!("{:?}", key()).contains(&hex::encode(bytes(99, 32))));
    }

    #[test]
    fn generation_uses_the_randomness_and_refuses_too_little() {
        let a = ReceiptCode::generate(&bytes(1, 64)).unwrap();
        let b = ReceiptCode::generate(&bytes(2, 64)).unwrap();
        assert_ne!(a, b);
        assert_eq!(ReceiptCode::generate(&bytes(1, 64)).unwrap(), a);
        assert!(ReceiptCode::generate(&bytes(1, 20)).is_err());
        assert!(ReceiptCode::generate(&[0u8; 64]).is_err());
        // Bytes ≥ 250 are skipped, never folded onto 0..5: 40 of them plus too few usable bytes fails.
        let mut skewed = vec![255u8; 40];
        skewed.extend(bytes(3, 10));
        assert!(ReceiptCode::generate(&skewed).is_err());
        let mut ok = vec![251u8; 10];
        ok.extend(bytes(3, 40));
        let c = ReceiptCode::generate(&ok).unwrap();
        let expected: String = bytes(3, 40).iter().filter(|b| **b < 250).take(RANDOM_DIGITS).map(|b| char::from(b'0' + b % 10)).collect();
        assert_eq!(&c.compact()[..RANDOM_DIGITS], expected);
    }

    #[test]
    fn digits_are_roughly_uniform() {
        let mut counts = [0u32; 10];
        for seed in 1..=400u64 {
            let c = ReceiptCode::generate(&bytes(seed * 7919, 64)).unwrap();
            for ch in c.compact()[..RANDOM_DIGITS].bytes() {
                counts[(ch - b'0') as usize] += 1;
            }
        }
        let expected = 400.0 * RANDOM_DIGITS as f64 / 10.0;
        for n in counts {
            assert!((n as f64 - expected).abs() < expected * 0.1, "{counts:?}");
        }
    }

    #[test]
    fn every_typo_and_swap_is_caught() {
        let c = ReceiptCode::generate(&bytes(11, 64)).unwrap().compact();
        let b = c.as_bytes();
        for i in 0..DIGITS {
            for d in b'0'..=b'9' {
                if d != b[i] {
                    let mut t = b.to_vec();
                    t[i] = d;
                    assert_eq!(ReceiptCode::parse(std::str::from_utf8(&t).unwrap()), Err(CaseMsg::ReceiptTypo));
                }
            }
            if i + 1 < DIGITS && b[i] != b[i + 1] {
                let mut t = b.to_vec();
                t.swap(i, i + 1);
                assert_eq!(ReceiptCode::parse(std::str::from_utf8(&t).unwrap()), Err(CaseMsg::ReceiptTypo));
            }
        }
        let short = &c[..DIGITS - 1];
        assert_eq!(ReceiptCode::parse(short), Err(CaseMsg::ReceiptMalformed { digits: DIGITS }));
        assert_eq!(ReceiptCode::parse(&format!("{c}1")), Err(CaseMsg::ReceiptMalformed { digits: DIGITS }));
        assert_eq!(ReceiptCode::parse(&format!("O{}", &c[1..])), Err(CaseMsg::ReceiptMalformed { digits: DIGITS }));
        assert_eq!(ReceiptCode::parse("ABCD"), Err(CaseMsg::ReceiptMalformed { digits: DIGITS }));
    }

    #[test]
    fn forged_code_does_not_open_the_case() {
        let k = key();
        let real = ReceiptCode::generate(&bytes(21, 64)).unwrap();
        let stored = ReceiptHash::from_hex(&real.hash(&k).to_hex()).unwrap();
        assert!(stored.verify(&ReceiptCode::parse(&real.grouped()).unwrap(), &k));
        // A forger who knows the format makes a well-formed code with a valid check digit.
        let forged = ReceiptCode::generate(&bytes(22, 64)).unwrap();
        assert!(ReceiptCode::parse(&forged.compact()).is_ok());
        assert!(!stored.verify(&forged, &k));
        // The right code under another key (a stolen database replayed elsewhere) fails too.
        let other = ReceiptKey::new(&bytes(100, 32)).unwrap();
        assert!(!stored.verify(&real, &other));
        assert!(ReceiptKey::new(&[7u8; 64]).is_err());
        assert!(ReceiptKey::new(&bytes(5, 16)).is_err());
        assert_eq!(ReceiptHash::from_hex("abcd"), None);
    }

    #[test]
    fn constant_time_equality_is_equality() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"xbc", b"abc"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }

    #[test]
    fn lockout_after_repeated_failures() {
        let p = LockoutPolicy::new(3, 10, 30).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap();
        let m = |n: i64| t + Duration::minutes(n);
        let mut s = LockoutState::default();
        assert_eq!(p.check(&s, t), LockoutDecision::Allow);
        s = p.record_failure(&s, m(0));
        s = p.record_failure(&s, m(4));
        assert_eq!(p.check(&s, m(5)), LockoutDecision::Allow);
        s = p.record_failure(&s, m(8));
        assert_eq!(p.check(&s, m(9)), LockoutDecision::Refuse { until: m(38), minutes: 29 });
        assert_eq!(p.check(&s, m(9)).msg(), Some(CaseMsg::ReceiptLocked { minutes: 29 }));
        // Hammering while locked changes nothing; the lock ends on time.
        assert_eq!(p.record_failure(&s, m(20)), s);
        assert_eq!(p.check(&s, m(38)), LockoutDecision::Allow);
        // After the lock, the count starts again.
        s = p.record_failure(&s, m(40));
        assert_eq!(p.check(&s, m(41)), LockoutDecision::Allow);
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let p = LockoutPolicy::new(3, 10, 30).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap();
        let mut s = LockoutState::default();
        for n in [0, 9, 19, 29, 39] {
            s = p.record_failure(&s, t + Duration::minutes(n));
            assert_eq!(p.check(&s, t + Duration::minutes(n)), LockoutDecision::Allow, "at {n}");
        }
        assert!(s.failures.len() < 3);
        assert!(LockoutPolicy::new(0, 10, 30).is_none());
    }
}
