//! Who may see a report. The one rule, used by every list, detail page, download and export:
//! a report is seen by holders of the permission asked (e.g. `reports.read`) over its area;
//! a report of a *protected* category (abuse by security forces, gender-based violence: the
//! categories routed to the protected-cases workflow) also needs `cases.read` over its area.
//! A report not yet placed in an area needs both over the whole tree.

use crate::access::{authorize, Denied, Permission, Principal, Target};
use crate::area::AreaPath;

/// May `who` exercise `perm` on a report that lives in `area` (none: unplaced)?
pub fn check_report(who: &Principal, perm: Permission, protected: bool, area: Option<&AreaPath>) -> Result<(), Denied> {
    let target = match area {
        Some(p) if !p.0.is_empty() => Target::InArea(p),
        _ => Target::Global,
    };
    authorize(who, perm, target)?;
    if protected {
        authorize(who, Permission::CasesRead, target)?;
    }
    Ok(())
}

/// The same rule for a list query: the areas where reports are seen, and the areas where
/// protected reports are seen too. A report is listed when it lies in `areas` (or is unplaced
/// and `unplaced`), and, if protected, also in `protected_areas` (or unplaced and
/// `protected_unplaced`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportScope {
    pub areas: Vec<AreaPath>,
    pub unplaced: bool,
    pub protected_areas: Vec<AreaPath>,
    pub protected_unplaced: bool,
}

impl ReportScope {
    /// What `who` may list with `perm`; refused if `perm` is held nowhere.
    pub fn of(who: &Principal, perm: Permission) -> Result<ReportScope, Denied> {
        authorize(who, perm, Target::AnyArea)?;
        Ok(ReportScope {
            areas: who.scope(perm),
            unplaced: authorize(who, perm, Target::Global).is_ok(),
            protected_areas: who.scope(Permission::CasesRead),
            protected_unplaced: authorize(who, Permission::CasesRead, Target::Global).is_ok(),
        })
    }

    /// The whole tree, protected reports included (the operator's command line on the server).
    pub fn everything(roots: Vec<AreaPath>) -> ReportScope {
        ReportScope { areas: roots.clone(), unplaced: true, protected_areas: roots, protected_unplaced: true }
    }

    /// Does this scope show a report? (Must agree with [`check_report`]; tested below.)
    pub fn shows(&self, protected: bool, area: Option<&AreaPath>) -> bool {
        let within = |areas: &[AreaPath], unplaced: bool| match area {
            Some(p) if !p.0.is_empty() => areas.iter().any(|a| a.contains(p)),
            _ => unplaced,
        };
        within(&self.areas, self.unplaced) && (!protected || within(&self.protected_areas, self.protected_unplaced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Grant;
    use std::collections::BTreeSet;

    fn who(grants: &[(&[Permission], &str)]) -> Principal {
        Principal {
            user_id: 1,
            username: "x".into(),
            grants: grants
                .iter()
                .map(|(perms, area)| Grant { role: "r".into(), permissions: perms.iter().copied().collect::<BTreeSet<_>>(), area: AreaPath((*area).into()) })
                .collect(),
        }
    }

    #[test]
    fn protected_reports_need_cases_read_where_they_are() {
        use Permission::*;
        let koro = AreaPath("ML/ML-5/ML-5-KORO".into());
        let goundam = AreaPath("ML/ML-6/ML-6-GOUNDAM".into());
        let analyst = who(&[(&[ReportsRead], "ML")]);
        let handler_mopti = who(&[(&[ReportsRead], "ML"), (&[CasesRead], "ML/ML-5")]);
        let handler_all = who(&[(&[ReportsRead, CasesRead], "ML")]);
        let cases_only = who(&[(&[CasesRead], "ML")]);
        let cases: [(&Principal, bool, Option<&AreaPath>, bool); 12] = [
            (&analyst, false, Some(&koro), true),
            (&analyst, true, Some(&koro), false),
            (&analyst, true, None, false),
            (&handler_mopti, true, Some(&koro), true),
            (&handler_mopti, true, Some(&goundam), false),
            (&handler_mopti, true, None, false),
            (&handler_mopti, false, None, true),
            (&handler_all, true, None, true),
            (&handler_all, true, Some(&goundam), true),
            // cases.read alone does not open the report feed.
            (&cases_only, true, Some(&koro), false),
            (&cases_only, false, Some(&koro), false),
            (&analyst, false, None, true),
        ];
        for (i, (p, protected, area, expected)) in cases.into_iter().enumerate() {
            assert_eq!(check_report(p, ReportsRead, protected, area).is_ok(), expected, "case {i}");
            let listed = ReportScope::of(p, ReportsRead).map(|s| s.shows(protected, area)).unwrap_or(false);
            assert_eq!(listed, expected, "list and detail disagree, case {i}");
        }
        assert_eq!(check_report(&analyst, ReportsRead, true, Some(&koro)), Err(Denied::Permission));
    }
}
