//! Who may do what, where. A role is a named set of permissions; a user holds grants
//! (role × area subtree). Every read and write in Vigie is decided by [`authorize`] or,
//! for lists, restricted to [`Principal::scope`]; nothing else decides access.

use crate::area::AreaPath;
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

macro_rules! permissions {
    ($($variant:ident = $name:literal : $fr:literal / $en:literal,)*) => {
        /// A permission. Its string name is what roles store and the API shows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];
            pub fn name(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }
            pub fn parse(name: &str) -> Result<Permission, Msg> {
                match name { $($name => Ok(Permission::$variant),)* _ => Err(Msg::UnknownPermission { name: name.to_string() }) }
            }
            pub fn describe(self, lang: crate::Lang) -> &'static str {
                match (self, lang) {
                    $((Permission::$variant, crate::Lang::Fr) => $fr, (Permission::$variant, crate::Lang::En) => $en,)*
                }
            }
        }
    };
}

permissions! {
    AreasRead = "areas.read" : "Consulter les zones" / "Read areas",
    AreasWrite = "areas.write" : "Créer et modifier des zones" / "Create and edit areas",
    OrgsRead = "organisations.read" : "Consulter les institutions" / "Read institutions",
    OrgsWrite = "organisations.write" : "Gérer les institutions" / "Manage institutions",
    UsersRead = "users.read" : "Consulter les comptes" / "Read user accounts",
    UsersWrite = "users.write" : "Gérer les comptes et leurs droits" / "Manage accounts and their grants",
    RolesWrite = "roles.write" : "Définir des rôles" / "Define roles",
    AuditRead = "audit.read" : "Lire le journal d'audit" / "Read the audit log",
    ReportsCreate = "reports.create" : "Soumettre des signalements" / "Submit reports",
    ReportsRead = "reports.read" : "Consulter les signalements" / "Read reports",
    ReportsVerify = "reports.verify" : "Vérifier les signalements" / "Verify reports",
    AlertsRaise = "alerts.raise" : "Lancer et escalader des alertes" / "Raise and escalate alerts",
    AlertsRespond = "alerts.respond" : "Accuser réception et répondre aux alertes" / "Acknowledge and respond to alerts",
    CasesRead = "cases.read" : "Consulter les dossiers protégés" / "Read protected cases",
    CasesHandle = "cases.handle" : "Traiter les dossiers protégés" / "Handle protected cases",
    FrameworkRead = "framework.read" : "Consulter cadre de résultats, budget, risques" / "Read results framework, budget, risks",
    FrameworkWrite = "framework.write" : "Saisir cadre de résultats, budget, risques" / "Edit results framework, budget, risks",
    CommitteesRead = "committees.read" : "Consulter comités, réunions et plans locaux de sécurité" / "Read committees, meetings and local security plans",
    CommitteesWrite = "committees.write" : "Gérer comités, réunions et plans locaux de sécurité" / "Manage committees, meetings and local security plans",
    FormsManage = "forms.manage" : "Gérer les formulaires ODK" / "Manage ODK forms",
    TaxonomyWrite = "taxonomy.write" : "Modifier la liste des catégories" / "Edit the category list",
    IntegrationsManage = "integrations.manage" : "Gérer webhooks et passerelles" / "Manage webhooks and gateways",
    DirectoryRead = "directory.read" : "Consulter l'annuaire des personnes ressources (champs réservés aux partenaires)" / "Read the resource-person directory (partner fields)",
    DirectoryWrite = "directory.write" : "Gérer l'annuaire des personnes ressources (consentements, coordonnées)" / "Manage the resource-person directory (consent, contact details)",
}

/// The roles shipped with Vigie. Admins can define more; these cannot be edited.
pub fn builtin_roles() -> Vec<(&'static str, &'static str, Vec<Permission>)> {
    use Permission::*;
    vec![
        ("admin", "Administrateur / Administrator", Permission::ALL.to_vec()),
        (
            "analyst",
            "Analyste d'alerte précoce / Early-warning analyst",
            vec![AreasRead, OrgsRead, ReportsCreate, ReportsRead, ReportsVerify, AlertsRaise, AlertsRespond, CommitteesRead, FrameworkRead, DirectoryRead],
        ),
        (
            "responder",
            "Intervenant (police, gendarmerie, préfet, mission) / Responder",
            vec![AreasRead, OrgsRead, ReportsRead, AlertsRespond, DirectoryRead],
        ),
        (
            "case_handler",
            "Chargé de dossiers / Case handler",
            vec![AreasRead, OrgsRead, CasesRead, CasesHandle],
        ),
        (
            "case_supervisor",
            "Superviseur de dossiers (publication, saisine, sanctions) / Case supervisor",
            vec![AreasRead, OrgsRead, CasesRead, CasesHandle],
        ),
        (
            "me_officer",
            "Chargé de suivi-évaluation / M&E officer",
            vec![AreasRead, OrgsRead, ReportsRead, FrameworkRead, FrameworkWrite, CommitteesRead, CommitteesWrite, FormsManage, DirectoryRead, DirectoryWrite],
        ),
        (
            "viewer",
            "Lecteur / Viewer",
            vec![AreasRead, OrgsRead, ReportsRead, FrameworkRead, CommitteesRead, DirectoryRead],
        ),
        ("reporter", "Point focal communautaire / Community focal point", vec![AreasRead, ReportsCreate]),
    ]
}

/// Role names: lowercase ASCII, digits, underscore; 2..=40.
pub fn parse_role_name(raw: &str) -> Result<String, Msg> {
    let n = raw.trim();
    let ok = (2..=40).contains(&n.len())
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && n.as_bytes()[0].is_ascii_lowercase();
    if ok {
        Ok(n.to_string())
    } else {
        Err(Msg::InvalidName)
    }
}

/// One grant: the permissions of a role, over an area subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: String,
    pub permissions: BTreeSet<Permission>,
    pub area: AreaPath,
}

/// The person (or token) making a request, with everything needed to decide access.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No grant of the user carries this permission anywhere.
    Permission,
    /// The user holds the permission, but not over this area.
    Area,
}

impl Denied {
    pub fn msg(self) -> Msg {
        match self {
            Denied::Permission => Msg::Forbidden,
            Denied::Area => Msg::OutsideArea,
        }
    }
}

/// What a request touches.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A record that lives in an area (a report, a case, an area itself).
    InArea(&'a AreaPath),
    /// Something not tied to an area (the role catalogue, the audit chain): needs the permission
    /// over the whole tree, i.e. a grant at the root.
    Global,
    /// Listing: allowed if the permission is held anywhere; the list is then cut to [`Principal::scope`].
    AnyArea,
}

impl Principal {
    /// Area subtrees where the user holds `perm`, with nested ones folded into their ancestors.
    pub fn scope(&self, perm: Permission) -> Vec<AreaPath> {
        let mut paths: Vec<AreaPath> = self
            .grants
            .iter()
            .filter(|g| g.permissions.contains(&perm))
            .map(|g| g.area.clone())
            .collect();
        paths.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(&b.0)));
        let mut out: Vec<AreaPath> = Vec::new();
        for p in paths {
            if !out.iter().any(|o| o.contains(&p)) {
                out.push(p);
            }
        }
        out
    }

    pub fn has_anywhere(&self, perm: Permission) -> bool {
        self.grants.iter().any(|g| g.permissions.contains(&perm))
    }
}

/// The one access decision of Vigie.
pub fn authorize(who: &Principal, perm: Permission, target: Target<'_>) -> Result<(), Denied> {
    let holding: Vec<&Grant> = who.grants.iter().filter(|g| g.permissions.contains(&perm)).collect();
    if holding.is_empty() {
        return Err(Denied::Permission);
    }
    let allowed = match target {
        Target::AnyArea => true,
        Target::InArea(path) => holding.iter().any(|g| g.area.contains(path)),
        Target::Global => holding.iter().any(|g| !g.area.0.contains('/')),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Area)
    }
}

/// May `who` give someone `role_perms` over `area`? They need `users.write` there and must
/// themselves hold every permission of the role there: nobody hands out more than they have.
pub fn authorize_grant(who: &Principal, role_perms: &BTreeSet<Permission>, area: &AreaPath) -> Result<(), Denied> {
    authorize(who, Permission::UsersWrite, Target::InArea(area))?;
    for p in role_perms {
        authorize(who, *p, Target::InArea(area)).map_err(|_| Denied::Permission)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: &str, area: &str) -> Principal {
        let (name, _, perms) = builtin_roles().into_iter().find(|r| r.0 == role).unwrap();
        Principal {
            user_id: 1,
            username: "u".into(),
            grants: vec![Grant { role: name.into(), permissions: perms.into_iter().collect(), area: AreaPath(area.into()) }],
        }
    }

    #[test]
    fn analyst_of_mopti_cannot_see_tombouctou() {
        let p = principal("analyst", "ML/ML-5");
        let mopti_cercle = AreaPath("ML/ML-5/ML0501".into());
        let tombouctou = AreaPath("ML/ML-6".into());
        assert_eq!(authorize(&p, Permission::ReportsRead, Target::InArea(&mopti_cercle)), Ok(()));
        assert_eq!(authorize(&p, Permission::ReportsRead, Target::InArea(&tombouctou)), Err(Denied::Area));
        assert_eq!(authorize(&p, Permission::UsersWrite, Target::InArea(&mopti_cercle)), Err(Denied::Permission));
        assert_eq!(authorize(&p, Permission::ReportsRead, Target::Global), Err(Denied::Area));
    }

    #[test]
    fn admin_at_root_is_global() {
        let p = principal("admin", "ML");
        assert!(authorize(&p, Permission::RolesWrite, Target::Global).is_ok());
        let regional_admin = principal("admin", "ML/ML-5");
        assert_eq!(authorize(&regional_admin, Permission::RolesWrite, Target::Global), Err(Denied::Area));
    }

    #[test]
    fn scope_folds_nested_grants() {
        let mut p = principal("viewer", "ML/ML-5");
        p.grants.push(Grant { role: "viewer".into(), permissions: p.grants[0].permissions.clone(), area: AreaPath("ML/ML-5/ML0501".into()) });
        p.grants.push(Grant { role: "viewer".into(), permissions: p.grants[0].permissions.clone(), area: AreaPath("ML/ML-7".into()) });
        let s = p.scope(Permission::ReportsRead);
        assert_eq!(s, vec![AreaPath("ML/ML-5".into()), AreaPath("ML/ML-7".into())]);
        assert!(p.scope(Permission::UsersRead).is_empty());
    }

    #[test]
    fn nobody_grants_more_than_they_hold() {
        let admin5 = principal("admin", "ML/ML-5");
        let analyst: BTreeSet<Permission> = builtin_roles()[1].2.iter().copied().collect();
        assert!(authorize_grant(&admin5, &analyst, &AreaPath("ML/ML-5/X".into())).is_ok());
        assert_eq!(authorize_grant(&admin5, &analyst, &AreaPath("ML/ML-6".into())), Err(Denied::Area));
        let mut weak = principal("viewer", "ML");
        weak.grants[0].permissions.insert(Permission::UsersWrite);
        assert_eq!(authorize_grant(&weak, &analyst, &AreaPath("ML/ML-5".into())), Err(Denied::Permission));
    }

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()).unwrap(), *p);
        }
        assert!(Permission::parse("everything").is_err());
    }
}
