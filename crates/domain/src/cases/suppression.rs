//! Small-count suppression for the public transparency page. Counting "2 complaints against
//! the gendarmerie of Koro" can point at the two people who complained; so counts below `k`
//! are shown as "<k", and further counts are hidden so the small ones cannot be worked out
//! from the totals.
//!
//! The table published: rows are (locality, administration), columns are (case type,
//! outcome), plus every row total, every column total and the grand total. Nothing else may
//! be derived from the raw counts for the page (a total by locality across administrations,
//! say, would be a new marginal this rule has not protected: compute it from the published
//! values, or add it as a row of its own and run [`suppress`] again).
//!
//! The rule:
//! 1. **Primary**: every entry, total or cell, with `1 <= n < k` is shown as "<k". Zeros are
//!    shown: the absence of cases names nobody.
//! 2. **Complementary**: a reader is assumed to know this rule, so to know that "<k" means
//!    1..k-1 and "hidden" means at least k (only counts ≥ k are ever hidden). Given those
//!    bounds and every published row, column and grand total, no suppressed entry may have
//!    only one possible value, whatever combination of rows and columns the reader uses
//!    (exact audit, see `exposed`). While one has, a shown count ≥ k is hidden too, chosen
//!    in the rows and columns of the exposed entries: cells before totals, then the one
//!    sharing a line with the most exposed entries, then the smallest; and the audit runs again.
//! 3. If nothing is left to hide and a value is still exposed, the whole table is withheld.
//!
//! The tests check the audit against an exhaustive search of every table consistent with
//! the published one.

use super::msg::CaseMsg;
use crate::Lang;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const DEFAULT_K: u64 = 5;

/// The threshold. At least 3: with k = 2, "<2" would mean exactly 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinCount(u64);

impl MinCount {
    pub fn new(k: u64) -> Option<MinCount> {
        (k >= 3).then_some(MinCount(k))
    }
    pub fn get(self) -> u64 {
        self.0
    }
}

impl Default for MinCount {
    fn default() -> Self {
        MinCount(DEFAULT_K)
    }
}

/// One aggregated count, as storage computes it from public-state cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub locality: String,
    pub administration: String,
    pub case_type: String,
    pub outcome: String,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Published {
    Count(u64),
    /// Between 1 and k-1.
    Small,
    /// Withheld to protect a small count elsewhere.
    Hidden,
}

impl Published {
    pub fn text(&self, k: MinCount, lang: Lang) -> String {
        match self {
            Published::Count(n) => n.to_string(),
            Published::Small => CaseMsg::SmallCount { k: k.get() }.text(lang),
            Published::Hidden => CaseMsg::HiddenCount.text(lang),
        }
    }
    pub fn is_suppressed(&self) -> bool {
        !matches!(self, Published::Count(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedTable {
    pub k: MinCount,
    /// (locality, administration), sorted.
    pub rows: Vec<(String, String)>,
    /// (case type, outcome), sorted.
    pub cols: Vec<(String, String)>,
    pub cells: Vec<Vec<Published>>,
    pub row_totals: Vec<Published>,
    pub col_totals: Vec<Published>,
    pub grand_total: Published,
    /// True when no safe table could be made: every entry is hidden.
    pub withheld: bool,
}

impl PublishedTable {
    /// The table with its totals as one (R+1)×(C+1) grid: row R holds the column totals,
    /// column C the row totals, (R, C) the grand total.
    pub fn grid(&self) -> Vec<Vec<Published>> {
        let mut g: Vec<Vec<Published>> =
            self.cells.iter().zip(&self.row_totals).map(|(r, t)| r.iter().copied().chain([*t]).collect()).collect();
        g.push(self.col_totals.iter().copied().chain([self.grand_total]).collect());
        g
    }

    /// The legend to print under the table.
    pub fn note(&self, lang: Lang) -> String {
        CaseMsg::SuppressionNote { k: self.k.get() }.text(lang)
    }
}

/// Suppressed entries of `table` whose exact value follows from what it shows, given the true
/// counts (`truth`, on the same grid, see [`PublishedTable::grid`]). Empty for every table
/// [`suppress`] returns; exposed so storage can re-check a table before publishing it.
pub fn derivable(table: &PublishedTable, truth: &[Vec<u64>]) -> Vec<(usize, usize)> {
    if table.withheld {
        return Vec::new();
    }
    exposed(&table.grid(), truth, table.k.get())
}

/// The exact audit. Write each total with a minus sign (y = x inside, −x on the row and column
/// totals, +x for the grand total): then every row and every column of y sums to zero, and
/// two tables agreeing with what is published differ by a circulation on the suppressed
/// entries. Such a difference splits into simple alternating cycles whose signs agree with it
/// (row/column sum tables are network matrices), so an entry can take another value exactly
/// when some alternating cycle through it can be shifted by one unit without any entry
/// leaving its published range ("<k": 1..k-1, hidden: k and up). Searched as a path in a
/// directed graph of rows and columns.
fn exposed(grid: &[Vec<Published>], truth: &[Vec<u64>], k: u64) -> Vec<(usize, usize)> {
    let nrows = grid.len();
    let ncols = grid.first().map_or(0, Vec::len);
    if nrows == 0 || ncols == 0 {
        return Vec::new();
    }
    let (last_r, last_c) = (nrows - 1, ncols - 1);
    // x changes by `sign` when y goes up by one.
    let sign = |i: usize, j: usize| if (i == last_r) != (j == last_c) { -1i64 } else { 1 };
    let can_move = |i: usize, j: usize, dx: i64| -> bool {
        let v = truth[i][j] as i64 + dx;
        match grid[i][j] {
            Published::Count(_) => false,
            Published::Small => v >= 1 && v < k as i64,
            Published::Hidden => v >= k as i64,
        }
    };
    // Nodes: rows 0..nrows, then columns nrows..nrows+ncols.
    // Arc row i -> col j: y_ij may go up. Arc col j -> row i: y_ij may go down.
    let n = nrows + ncols;
    let mut arcs: Vec<Vec<(usize, (usize, usize))>> = vec![Vec::new(); n];
    for i in 0..nrows {
        for j in 0..ncols {
            if !grid[i][j].is_suppressed() {
                continue;
            }
            if can_move(i, j, sign(i, j)) {
                arcs[i].push((nrows + j, (i, j)));
            }
            if can_move(i, j, -sign(i, j)) {
                arcs[nrows + j].push((i, (i, j)));
            }
        }
    }
    let path_avoiding = |from: usize, to: usize, skip: (usize, usize)| -> bool {
        let mut seen = vec![false; n];
        let mut stack = vec![from];
        seen[from] = true;
        while let Some(u) = stack.pop() {
            if u == to {
                return true;
            }
            for &(w, e) in &arcs[u] {
                if e != skip && !seen[w] {
                    seen[w] = true;
                    stack.push(w);
                }
            }
        }
        false
    };
    let mut out = Vec::new();
    for i in 0..nrows {
        for j in 0..ncols {
            if !grid[i][j].is_suppressed() {
                continue;
            }
            let (row, col) = (i, nrows + j);
            let up = can_move(i, j, sign(i, j)) && path_avoiding(col, row, (i, j));
            let down = can_move(i, j, -sign(i, j)) && path_avoiding(row, col, (i, j));
            if !up && !down {
                out.push((i, j));
            }
        }
    }
    out
}

type Key = (String, String);

/// Builds the publishable table from aggregated counts (duplicate keys are added up).
pub fn suppress(counts: &[CountRow], k: MinCount) -> PublishedTable {
    let mut agg: BTreeMap<(Key, Key), u64> = BTreeMap::new();
    for c in counts {
        *agg.entry(((c.locality.clone(), c.administration.clone()), (c.case_type.clone(), c.outcome.clone()))).or_default() +=
            c.count;
    }
    let rows: Vec<(String, String)> = agg.keys().map(|(r, _)| r.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let cols: Vec<(String, String)> = agg.keys().map(|(_, c)| c.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let (nr, nc) = (rows.len(), cols.len());
    // True values on the (R+1)×(C+1) grid.
    let mut v = vec![vec![0u64; nc + 1]; nr + 1];
    for (i, r) in rows.iter().enumerate() {
        for (j, c) in cols.iter().enumerate() {
            let n = agg.get(&(r.clone(), c.clone())).copied().unwrap_or(0);
            v[i][j] = n;
            v[i][nc] += n;
            v[nr][j] += n;
            v[nr][nc] += n;
        }
    }
    let kk = k.get();
    let mut g: Vec<Vec<Published>> = v
        .iter()
        .map(|row| row.iter().map(|&n| if n >= 1 && n < kk { Published::Small } else { Published::Count(n) }).collect())
        .collect();

    let mut withheld = false;
    loop {
        let exposed = exposed(&g, &v, kk);
        if exposed.is_empty() {
            break;
        }
        let shown_big = |i: usize, j: usize, g: &[Vec<Published>]| matches!(g[i][j], Published::Count(n) if n >= kk);
        // How many exposed entries share a row or column with (i, j): hiding it helps them all.
        let touches = |i: usize, j: usize| exposed.iter().filter(|&&(pi, pj)| pi == i || pj == j).count();
        // Candidates in the exposed entries' rows and columns: cells before totals, then the one
        // that helps most, then the smallest.
        let rank = |&(i, j): &(usize, usize)| ((i == nr || j == nc), std::cmp::Reverse(touches(i, j)), v[i][j], i, j);
        let all = (0..=nr).flat_map(|i| (0..=nc).map(move |j| (i, j)));
        let pick = all
            .clone()
            .filter(|&(i, j)| shown_big(i, j, &g) && touches(i, j) > 0)
            .min_by_key(rank)
            .or_else(|| all.filter(|&(i, j)| shown_big(i, j, &g)).min_by_key(rank));
        match pick {
            Some((i, j)) => g[i][j] = Published::Hidden,
            None => {
                withheld = true;
                g = vec![vec![Published::Hidden; nc + 1]; nr + 1];
                break;
            }
        }
    }

    let row_totals = g[..nr].iter().map(|r| r[nc]).collect();
    let col_totals = g[nr][..nc].to_vec();
    let grand_total = g[nr][nc];
    let cells = g[..nr].iter().map(|r| r[..nc].to_vec()).collect();
    PublishedTable { k, rows, cols, cells, row_totals, col_totals, grand_total, withheld }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(loc: &str, adm: &str, ty: &str, out: &str, n: u64) -> CountRow {
        CountRow { locality: loc.into(), administration: adm.into(), case_type: ty.into(), outcome: out.into(), count: n }
    }

    /// Builds counts from a matrix: row i is ("L{i}", "A"), column j is ("denunciation", "O{j}").
    fn from_matrix(m: &[&[u64]]) -> Vec<CountRow> {
        let mut out = Vec::new();
        for (i, r) in m.iter().enumerate() {
            for (j, &n) in r.iter().enumerate() {
                out.push(row(&format!("L{i}"), "A", "denunciation", &format!("O{j}"), n));
            }
        }
        out
    }

    /// The attacker, exhaustively: is there a table that agrees with everything published
    /// (markers, shown counts, every total) in which grid entry `target` differs from the
    /// truth? If not, the entry is derivable. Hidden values are searched up to `cap` (a
    /// smaller search space can only make this find fewer alternatives, never more).
    fn alternative_exists(t: &PublishedTable, truth: &[Vec<u64>], target: (usize, usize), cap: u64) -> bool {
        let k = t.k.get();
        let g = t.grid();
        let (nr, nc) = (t.rows.len(), t.cols.len());
        let max_of = |p: Published| match p {
            Published::Count(n) => n,
            Published::Small => k - 1,
            Published::Hidden => cap,
        };
        let fits = |p: Published, n: u64| match p {
            Published::Count(m) => m == n,
            Published::Small => n >= 1 && n < k,
            Published::Hidden => n >= k,
        };
        struct S<'a> {
            g: &'a [Vec<Published>],
            truth: &'a [Vec<u64>],
            target: (usize, usize),
            nr: usize,
            nc: usize,
            k: u64,
            cap: u64,
            max_of: &'a dyn Fn(Published) -> u64,
            fits: &'a dyn Fn(Published, u64) -> bool,
        }
        impl S<'_> {
            fn ok(&self, pos: (usize, usize), v: u64) -> bool {
                (self.fits)(self.g[pos.0][pos.1], v) && (pos != self.target || v != self.truth[pos.0][pos.1])
            }
            fn go(&self, pos: usize, x: &mut Vec<Vec<u64>>, colsum: &mut Vec<u64>) -> bool {
                let (nr, nc) = (self.nr, self.nc);
                if pos == nr * nc {
                    let grand: u64 = colsum.iter().sum();
                    return (0..nc).all(|j| self.ok((nr, j), colsum[j])) && self.ok((nr, nc), grand);
                }
                let (i, j) = (pos / nc, pos % nc);
                let row_so_far: u64 = x[i][..j].iter().sum();
                // The last cell of a row (or column) with a shown total is forced.
                let forced = match (self.g[i][nc], self.g[nr][j]) {
                    (Published::Count(n), _) if j == nc - 1 => Some(n.checked_sub(row_so_far)),
                    (_, Published::Count(n)) if i == nr - 1 => Some(n.checked_sub(colsum[j])),
                    _ => None,
                };
                let mut values: Vec<u64> = match (forced, self.g[i][j]) {
                    (Some(None), _) => vec![],
                    (Some(Some(v)), p) => if (self.fits)(p, v) { vec![v] } else { vec![] },
                    (None, Published::Count(n)) => vec![n],
                    (None, Published::Small) => (1..self.k).collect(),
                    (None, Published::Hidden) => (self.k..=self.cap).collect(),
                };
                // Search near the true table first: an alternative, if any, is usually close.
                let truth = self.truth[i][j];
                values.sort_by_key(|v| v.abs_diff(truth));
                for v in values {
                    if (i, j) == self.target && v == self.truth[i][j] {
                        continue;
                    }
                    if row_so_far + v > (self.max_of)(self.g[i][nc]) || colsum[j] + v > (self.max_of)(self.g[nr][j]) {
                        continue;
                    }
                    if j == nc - 1 && !self.ok((i, nc), row_so_far + v) {
                        continue;
                    }
                    x[i][j] = v;
                    colsum[j] += v;
                    let found = self.go(pos + 1, x, colsum);
                    colsum[j] -= v;
                    if found {
                        return true;
                    }
                }
                false
            }
        }
        let s = S { g: &g, truth, target, nr, nc, k, cap, max_of: &max_of, fits: &fits };
        s.go(0, &mut vec![vec![0; nc]; nr], &mut vec![0; nc])
    }

    /// The true (R+1)×(C+1) grid of a matrix.
    fn truth_grid(m: &[&[u64]]) -> Vec<Vec<u64>> {
        let nc = m[0].len();
        let mut g: Vec<Vec<u64>> = m.iter().map(|r| r.iter().copied().chain([r.iter().sum()]).collect()).collect();
        let last: Vec<u64> = (0..=nc).map(|j| g.iter().map(|r| r[j]).sum()).collect();
        g.push(last);
        g
    }

    fn assert_safe(t: &PublishedTable, truth: &[&[u64]]) {
        assert!(!t.withheld);
        assert_eq!(derivable(t, &truth_grid(truth)), vec![]);
        let cap = truth.iter().flat_map(|r| r.iter()).sum::<u64>() + 10;
        let tg = truth_grid(truth);
        for (i, r) in t.grid().iter().enumerate() {
            for (j, p) in r.iter().enumerate() {
                if p.is_suppressed() {
                    assert!(alternative_exists(t, &tg, (i, j), cap), "entry {:?} = {} is derivable", (i, j), tg[i][j]);
                }
            }
        }
        // What is shown is true, and what is "<k" really is small.
        for (i, r) in truth.iter().enumerate() {
            for (j, &n) in r.iter().enumerate() {
                match t.cells[i][j] {
                    Published::Count(m) => assert_eq!(m, n),
                    Published::Small => assert!(n >= 1 && n < t.k.get()),
                    Published::Hidden => assert!(n >= t.k.get()),
                }
            }
        }
    }

    #[test]
    fn naive_primary_suppression_is_caught_by_both_audits() {
        // The attack the rule is about: total 27, shown 12 and 14, so the "<5" is 1.
        let t = PublishedTable {
            k: MinCount::default(),
            rows: vec![("Koro".into(), "Gendarmerie".into()), ("Mopti".into(), "Police".into())],
            cols: vec![("d".into(), "a".into()), ("d".into(), "b".into()), ("d".into(), "c".into())],
            cells: vec![
                vec![Published::Small, Published::Count(12), Published::Count(14)],
                vec![Published::Count(8), Published::Count(9), Published::Count(10)],
            ],
            row_totals: vec![Published::Count(27), Published::Count(27)],
            col_totals: vec![Published::Count(9), Published::Count(21), Published::Count(24)],
            grand_total: Published::Count(54),
            withheld: false,
        };
        let truth = truth_grid(&[&[1, 12, 14], &[8, 9, 10]]);
        assert_eq!(derivable(&t, &truth), vec![(0, 0)]);
        assert!(!alternative_exists(&t, &truth, (0, 0), 80));
        // Same table with the complements a correct rule would add: no longer derivable.
        let mut safe = t.clone();
        safe.cells[0][1] = Published::Hidden;
        safe.cells[1][0] = Published::Hidden;
        safe.cells[1][1] = Published::Hidden;
        assert!(alternative_exists(&safe, &truth, (0, 0), 80));
        assert_eq!(derivable(&safe, &truth), vec![]);
    }

    /// A table laid out from its grid (last row and column are the totals).
    fn from_grid(g: Vec<Vec<Published>>) -> PublishedTable {
        let (nr, nc) = (g.len() - 1, g[0].len() - 1);
        PublishedTable {
            k: MinCount::default(),
            rows: (0..nr).map(|i| (format!("L{i}"), "A".to_string())).collect(),
            cols: (0..nc).map(|j| ("d".to_string(), format!("O{j}"))).collect(),
            cells: g[..nr].iter().map(|r| r[..nc].to_vec()).collect(),
            row_totals: g[..nr].iter().map(|r| r[nc]).collect(),
            col_totals: g[nr][..nc].to_vec(),
            grand_total: g[nr][nc],
            withheld: false,
        }
    }

    #[test]
    fn inference_across_several_lines_is_caught() {
        // Each line alone leaves (1, 3) anywhere in 1..3, but rows 0 and 3, column 0 and
        // column 3 together force it to 1: x03 = 8 - x00, x33 = 22 - x30, x00 + x30 <= 4, so
        // x13 = 27 - x03 - x33 = x00 + x30 - 3 >= 1 forces x00 + x30 = 4 and x13 = 1.
        // (Interval propagation, an earlier version of this rule, let this one through.)
        use Published::{Count as C, Hidden as H, Small as S};
        let m: &[&[u64]] = &[&[1, 13, 15, 7], &[0, 8, 13, 1], &[0, 8, 8, 24], &[3, 9, 21, 19]];
        let t = from_grid(vec![
            vec![S, C(13), C(15), H, C(36)],
            vec![C(0), H, H, S, C(22)],
            vec![C(0), H, H, C(24), C(40)],
            vec![S, C(9), C(21), H, C(52)],
            vec![S, H, C(57), C(51), C(150)],
        ]);
        let truth = truth_grid(m);
        assert!(!alternative_exists(&t, &truth, (1, 3), 160));
        assert!(derivable(&t, &truth).contains(&(1, 3)));
        // And what `suppress` publishes for the same counts holds up.
        assert_safe(&suppress(&from_matrix(m), MinCount::default()), m);
    }

    #[test]
    fn one_small_cell_gets_complements() {
        let m: &[&[u64]] = &[&[1, 12, 14], &[8, 9, 10], &[20, 6, 7]];
        let t = suppress(&from_matrix(m), MinCount::default());
        assert_eq!(t.cells[0][0], Published::Small);
        let hidden = t.cells.iter().flatten().filter(|p| **p == Published::Hidden).count();
        assert!(hidden >= 3, "a lone small cell needs a rectangle of complements: {t:?}");
        assert_safe(&t, m);
        // Totals are large, so they stay shown.
        assert!(t.row_totals.iter().chain(&t.col_totals).all(|p| !p.is_suppressed()));
        assert_eq!(t.grand_total, Published::Count(87));
    }

    #[test]
    fn complement_of_exactly_k_would_pin_a_one() {
        // "<5" + hidden = 6 with hidden ≥ 5 forces the small one to be 1: the rule must go further.
        let m: &[&[u64]] = &[&[1, 5, 30], &[6, 7, 40]];
        let t = suppress(&from_matrix(m), MinCount::default());
        assert_safe(&t, m);
    }

    #[test]
    fn small_totals_are_suppressed_too() {
        // The Kidal row totals 3: the row total itself is a small count.
        let m: &[&[u64]] = &[&[1, 2, 0], &[10, 11, 12], &[9, 0, 15]];
        let t = suppress(&from_matrix(m), MinCount::default());
        assert_eq!(t.row_totals[0], Published::Small);
        assert_eq!(t.cells[0][2], Published::Count(0));
        assert_safe(&t, m);
    }

    #[test]
    fn realistic_transparency_table() {
        let counts = vec![
            row("Mopti", "Gendarmerie", "denunciation", "transmitted_pef", 7),
            row("Mopti", "Gendarmerie", "denunciation", "not_credible", 3),
            row("Mopti", "Gendarmerie", "denunciation", "outcome_published", 2),
            row("Mopti", "Police", "denunciation", "transmitted_pef", 11),
            row("Mopti", "Police", "denunciation", "not_credible", 6),
            row("Mopti", "Police", "denunciation", "outcome_published", 5),
            row("Ségou", "Tribunal", "denunciation", "transmitted_pef", 9),
            row("Ségou", "Tribunal", "denunciation", "not_credible", 1),
            row("Ségou", "Tribunal", "denunciation", "outcome_published", 8),
            row("Ségou", "Douanes", "denunciation", "transmitted_pef", 14),
            row("Ségou", "Douanes", "denunciation", "not_credible", 12),
            row("Ségou", "Douanes", "denunciation", "outcome_published", 6),
            // Reported twice by storage (two partitions): added up.
            row("Ségou", "Douanes", "denunciation", "outcome_published", 4),
        ];
        let t = suppress(&counts, MinCount::default());
        assert_eq!(t.rows[0], ("Mopti".to_string(), "Gendarmerie".to_string()));
        assert_eq!(t.cols[0], ("denunciation".to_string(), "not_credible".to_string()));
        // Rows: Mopti/Gendarmerie, Mopti/Police, Ségou/Douanes, Ségou/Tribunal.
        // Cols: not_credible, outcome_published, transmitted_pef.
        let truth: &[&[u64]] = &[&[3, 2, 7], &[6, 5, 11], &[12, 10, 14], &[1, 8, 9]];
        assert_safe(&t, truth);
        assert_eq!(t.cells[0][0].text(t.k, Lang::Fr), "<5");
        // Every total here is at least 5: the page keeps them all.
        assert!(t.row_totals.iter().chain(&t.col_totals).all(|p| !p.is_suppressed()), "{:?}", t.grid());
        assert!(t.note(Lang::Fr).contains("<5"));
        let hidden = t.grid().into_iter().flatten().find(|p| *p == Published::Hidden);
        assert_eq!(hidden.map(|h| h.text(t.k, Lang::En)).as_deref(), Some("hidden"));
    }

    #[test]
    fn random_tables_are_never_derivable() {
        random_tables(150);
    }

    /// The long run: `cargo test -p vigie-domain -- --ignored`.
    #[test]
    #[ignore]
    fn many_random_tables_are_never_derivable() {
        random_tables(3000);
    }

    fn random_tables(n: usize) {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut leaks_seen = 0;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for _ in 0..n {
            let (nr, nc) = (2 + next(3) as usize, 2 + next(3) as usize);
            // Mostly moderate counts, with small ones and zeros mixed in.
            let m: Vec<Vec<u64>> = (0..nr)
                .map(|_| (0..nc).map(|_| if next(3) == 0 { next(5) } else { 5 + next(20) }).collect())
                .collect();
            let rows: Vec<&[u64]> = m.iter().map(Vec::as_slice).collect();
            // The audit is exact: on the primary-only table it flags precisely the entries the
            // exhaustive search cannot vary.
            let tg = truth_grid(&rows);
            let k = DEFAULT_K;
            let naive = from_grid(
                tg.iter().map(|r| r.iter().map(|&n| if n >= 1 && n < k { Published::Small } else { Published::Count(n) }).collect()).collect(),
            );
            let flagged = derivable(&naive, &tg);
            leaks_seen += flagged.len();
            let cap = tg[nr][nc] + 10;
            for (i, r) in naive.grid().iter().enumerate() {
                for (j, p) in r.iter().enumerate() {
                    if p.is_suppressed() {
                        assert_eq!(flagged.contains(&(i, j)), !alternative_exists(&naive, &tg, (i, j), cap), "{m:?} {:?}", (i, j));
                    }
                }
            }
            let t = suppress(&from_matrix(&rows), MinCount::default());
            if t.withheld {
                assert!(t.grid().iter().flatten().all(|p| *p == Published::Hidden));
            } else {
                assert_safe(&t, &rows);
            }
        }
        // The sample did contain tables that primary suppression alone would have leaked.
        assert!(leaks_seen > n / 10, "{leaks_seen}");
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let m: &[&[u64]] = &[&[5, 12], &[0, 9]];
        let t = suppress(&from_matrix(m), MinCount::default());
        assert!(t.grid().iter().flatten().all(|p| !p.is_suppressed()));
    }

    #[test]
    fn all_small_table_is_safe_or_withheld() {
        let m: &[&[u64]] = &[&[1, 1], &[1, 2]];
        let t = suppress(&from_matrix(m), MinCount::default());
        if !t.withheld {
            assert_safe(&t, m);
        }
        // k = 3: "<3" is 1 or 2; a lone 1 against a total of 1 cannot be hidden: withheld.
        let m: &[&[u64]] = &[&[1, 0], &[0, 0]];
        let t = suppress(&from_matrix(m), MinCount::new(3).unwrap());
        assert!(t.withheld || derivable(&t, &truth_grid(m)).is_empty());
        assert!(MinCount::new(2).is_none());
    }

    #[test]
    fn empty_input_gives_an_empty_table() {
        let t = suppress(&[], MinCount::default());
        assert!(t.rows.is_empty() && t.cols.is_empty());
        assert_eq!(t.grand_total, Published::Count(0));
    }
}
