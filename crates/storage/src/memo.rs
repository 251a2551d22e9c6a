//! A short memory of what nearly every request reads and almost never changes: who holds an
//! API token and what they may do, the taxonomy, the path of an area code, the
//! gazetteer of place names, the auto-raise rules, the form an OpenRosa submission names (parsed). Without it each
//! report over the API cost five reads before its own work (measured: the thread hand-offs of
//! those reads were a quarter of the server's time under load).
//!
//! An entry is trusted for [`FRESH_FOR`] at most, and none is trusted after this process changed
//! accounts, grants, roles, tokens, categories, areas, forms or escalation rules ([`Memo::forget_all`], called by those writes).
//! Another app node's change is seen within [`FRESH_FOR`]: a token revoked on node A still
//! works on node B for up to one second. Only hits are kept (an unknown token, area or user is
//! looked up every time), so a new area or account works at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vigie_domain::access::Principal;
use vigie_domain::early_warning::taxonomy::Taxonomy;

/// How long an entry is trusted without asking the database again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// Most entries per kind; past it the kind starts again empty.
const MOST: usize = 10_000;

#[derive(Debug, Default)]
pub struct Memo {
    generation: AtomicU64,
    /// Token hash → (user, expiry); revoked tokens are not kept.
    pub(crate) tokens: Shelf<String, (i64, Option<chrono::DateTime<chrono::Utc>>)>,
    pub(crate) principals: Shelf<i64, Principal>,
    pub(crate) taxonomy: Shelf<(), Taxonomy>,
    pub(crate) area_paths: Shelf<String, String>,
    /// Enabled auto-raise rules as `(category or any, minimum severity)`.
    pub(crate) auto_raise: Shelf<(), Vec<(Option<String>, i32)>>,
    /// Area path → the paths of every area below it.
    pub(crate) descendants: Shelf<(), std::sync::Arc<std::collections::HashMap<String, Vec<String>>>>,
    /// Every area's name and aliases, for places named in SMS and reports.
    pub(crate) gazetteer: Shelf<(), std::sync::Arc<vigie_domain::early_warning::places::Gazetteer>>,
    /// (form_id, version) → the form and its parsed XForm, for OpenRosa submissions.
    pub(crate) submission_forms: Shelf<(String, String), (crate::forms::FormView, std::sync::Arc<vigie_domain::openrosa::xform::XForm>)>,
}

impl Memo {
    /// Forgets everything: called after a write that can change what is remembered.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// One kind of remembered value.
#[derive(Debug)]
pub(crate) struct Shelf<K, V> {
    entries: Mutex<HashMap<K, (Instant, u64, V)>>,
}

impl<K, V> Default for Shelf<K, V> {
    fn default() -> Self {
        Shelf { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    /// The value remembered for `k`, if it is fresh and no change happened since.
    pub(crate) fn get(&self, memo: &Memo, k: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (at, generation, v) = entries.get(k)?;
        (at.elapsed() < FRESH_FOR && *generation == memo.generation()).then(|| v.clone())
    }

    /// Remembers `v`, read when the memo was at `generation` (read it BEFORE the database, so a
    /// change committed during the read is not hidden behind the value read before it).
    pub(crate) fn put(&self, generation: u64, k: K, v: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MOST {
            entries.clear();
        }
        entries.insert(k, (Instant::now(), generation, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_or_time_makes_it_forget() {
        let memo = Memo::default();
        let g = memo.generation();
        memo.area_paths.put(g, "ML-5".into(), "ML/ML-5".into());
        assert_eq!(memo.area_paths.get(&memo, &"ML-5".into()), Some("ML/ML-5".to_string()));
        memo.forget_all();
        assert_eq!(memo.area_paths.get(&memo, &"ML-5".into()), None, "forgotten after a change");
        // A value read before the change is not trusted after it.
        memo.area_paths.put(g, "ML-5".into(), "ML/ML-5".into());
        assert_eq!(memo.area_paths.get(&memo, &"ML-5".into()), None);
        let g = memo.generation();
        memo.area_paths.put(g, "ML-5".into(), "ML/ML-5".into());
        std::thread::sleep(FRESH_FOR + Duration::from_millis(20));
        assert_eq!(memo.area_paths.get(&memo, &"ML-5".into()), None, "stale after FRESH_FOR");
    }
}
