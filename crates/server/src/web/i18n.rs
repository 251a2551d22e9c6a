//! Every word the web pages show, in French and English: one keyed table. Error messages come
//! from the domain catalogue (`vigie_domain::Msg`); everything else a page says is here.
//! Templates call `t("key")`; a key missing here fails the `every_template_key_exists` test.
//! Numbers and dates are written the way each language writes them.

use vigie_domain::Lang;

/// (key, français, English)
const CATALOGUE: &[(&str, &str, &str)] = &[
    ("app.tagline", "Gouvernance partagée de la sécurité et de la paix", "Shared governance of security and peace"),
    ("nav.label", "Navigation principale", "Main navigation"),
    ("nav.home", "Accueil", "Home"),
    ("nav.areas", "Zones", "Areas"),
    ("nav.users", "Utilisateurs", "Users"),
    ("nav.roles", "Rôles", "Roles"),
    ("nav.audit", "Journal d'audit", "Audit log"),
    ("nav.skip", "Aller au contenu", "Skip to content"),
    ("lang.switch", "Langue", "Language"),
    ("session.signed_in_as", "Connecté·e :", "Signed in:"),
    ("session.sign_out", "Se déconnecter", "Sign out"),
    ("login.title", "Connexion", "Sign in"),
    ("login.intro", "Connectez-vous avec l'identifiant et le mot de passe fournis par votre administrateur.", "Sign in with the username and password your administrator gave you."),
    ("login.username", "Identifiant", "Username"),
    ("login.password", "Mot de passe", "Password"),
    ("login.totp", "Code à usage unique (6 chiffres)", "One-time code (6 digits)"),
    ("login.totp_hint", "Seulement si la double authentification est activée sur votre compte.", "Only if two-factor sign-in is on for your account."),
    ("login.submit", "Se connecter", "Sign in"),
    ("login.signed_out", "Vous êtes déconnecté·e.", "You are signed out."),
    ("error.title", "Erreur", "Error"),
    ("error.back_home", "Retour à l'accueil", "Back to the home page"),
    // Punctuation between a label and its value: French puts a space before `:` and `;`.
    ("p.colon", " : ", ": "),
    ("p.semicolon", " ; ", "; "),
    ("p.no", "n°", "no."),
    ("p.no_heading", "N°", "No."),
    ("form.error", "Le formulaire contient une erreur :", "The form has an error:"),
    ("form.field", "champ", "field"),
    ("form.optional", "facultatif", "optional"),
    ("form.filter", "Filtrer", "Filter"),
    ("form.reset", "Effacer les filtres", "Clear filters"),
    ("form.all", "Tous", "All"),
    ("form.create", "Créer", "Create"),
    ("form.none", "— aucun —", "— none —"),
    ("paging.label", "Pages", "Pages"),
    ("paging.prev", "Page précédente", "Previous page"),
    ("paging.next", "Page suivante", "Next page"),
    ("paging.page_of", "Page {page} sur {pages} — {total} résultat(s)", "Page {page} of {pages} — {total} result(s)"),
    ("home.title", "Tableau de bord", "Dashboard"),
    ("home.welcome", "Bienvenue", "Welcome"),
    ("home.your_grants", "Vos droits", "Your grants"),
    ("home.no_grants", "Aucun droit : demandez à votre administrateur.", "No grants: ask your administrator."),
    ("home.role", "Rôle", "Role"),
    ("home.area", "Zone", "Area"),
    ("home.summary", "Votre zone en chiffres", "Your area in figures"),
    ("home.summary_intro", "Zones administratives dans votre périmètre :", "Administrative areas within your scope:"),
    ("home.prosmed", "Cercles et communes ciblés PROSMED", "PROSMED target cercles and communes"),
    ("home.open_areas", "Parcourir les zones", "Browse areas"),
    ("home.alerts", "Alertes ouvertes", "Open alerts"),
    ("home.reports", "Signalements récents", "Recent reports"),
    ("home.cases", "Dossiers protégés", "Protected cases"),
    ("home.framework", "Cadre de résultats et budget", "Results framework and budget"),
    ("nav.alerts", "Alertes", "Alerts"),
    ("nav.reports", "Signalements", "Reports"),
    ("nav.report_new", "Signaler", "Report"),
    ("home.open_total", "Alertes ouvertes", "Open alerts"),
    ("home.overdue", "Accusés de réception en retard", "Overdue acknowledgements"),
    ("home.overdue_hint", "Alertes lancées dont le délai d'accusé de réception est dépassé, ou qu'aucun intervenant ne peut recevoir : une personne doit s'en occuper.", "Raised alerts past their acknowledgement deadline, or that no responder can receive: a person must step in."),
    ("home.see_alerts", "Voir les alertes", "See the alerts"),
    ("home.reports_today", "Signalements reçus aujourd'hui", "Reports received today"),
    ("home.see_reports", "Voir les signalements", "See the reports"),
    ("ind.title", "Indicateurs d'alerte précoce (90 jours)", "Early-warning indicators (90 days)"),
    ("ind.period", "Depuis le", "Since"),
    ("ind.population", "Événements dont le premier signalement a été reçu dans la période ; chaque part est donnée avec ses effectifs.", "Events whose first report was received in the period; every share comes with its counts."),
    ("ind.raised", "Alertes lancées", "Alerts raised"),
    ("ind.median_alert", "Délai médian signalement → alerte", "Median time report → alert"),
    ("ind.median_response", "Délai médian alerte → intervention", "Median time alert → response"),
    ("ind.ack", "Accusé de réception dans le délai", "Acknowledged within deadline"),
    ("ind.minusma", "Interventions où la violence a été évitée ou arrêtée (indicateur MINUSMA)", "Interventions in which violence was prevented or stopped (MINUSMA indicator)"),
    ("ind.details", "Détail des effectifs", "Counts behind the figures"),
    ("ind.records", "Événements", "Events"),
    ("ind.false_alarms", "fausses alertes", "false alarms"),
    ("ind.within", "dans le délai", "within"),
    ("ind.late", "en retard", "late"),
    ("ind.not_ack", "sans accusé", "not acknowledged"),
    ("ind.excluded", "hors calcul", "left out"),
    ("ind.undetermined", "délai pas encore échu", "deadline not yet passed"),
    ("ind.never_notified", "personne n'a été prévenu", "nobody was notified"),
    ("ind.prevented", "évitée", "prevented"),
    ("ind.stopped", "arrêtée", "stopped"),
    ("ind.not_prevented", "non évitée", "not prevented"),
    ("ind.unknown", "issue inconnue", "unknown outcome"),
    ("ind.awaiting", "issue en attente", "outcome awaited"),
    ("ind.lower", "borne basse (inconnues comptées comme échecs) :", "lower bound (unknowns counted as failures):"),
    ("reports.title", "Signalements", "Reports"),
    ("reports.one", "Signalement", "Report"),
    ("reports.new", "Nouveau signalement", "New report"),
    ("reports.new_intro", "Décrivez ce qui s'est passé. Un signalement sans lieu ou sans catégorie est gardé et signalé à un analyste : rien n'est perdu.", "Describe what happened. A report without a place or a category is kept and flagged for an analyst: nothing is lost."),
    ("reports.category", "Catégorie", "Category"),
    ("reports.choose", "— choisir —", "— choose —"),
    ("reports.text", "Description", "Description"),
    ("reports.text_hint", "Avec vos mots : qui, quoi, combien de personnes. Pas de nom de victime ni de témoin.", "In your own words: who, what, how many people. No names of victims or witnesses."),
    ("reports.occurred_at", "Date et heure de l'événement", "Date and time of the event"),
    ("reports.occurred_hint", "Heure du Mali (GMT), par exemple 14/03/2026 06:30.", "Mali time (GMT), for example 14/03/2026 06:30."),
    ("reports.bad_date", "Date et heure invalides : écrivez par exemple 14/03/2026 06:30.", "Invalid date and time: write for example 14/03/2026 06:30."),
    ("reports.where", "Lieu", "Place"),
    ("reports.where_hint", "Choisissez la zone, ou écrivez le nom du lieu (village, quartier) s'il n'est pas dans la liste.", "Choose the area, or type the place name (village, quarter) if it is not in the list."),
    ("reports.area", "Zone", "Area"),
    ("reports.place", "Nom du lieu", "Place name"),
    ("reports.submit", "Envoyer le signalement", "Send the report"),
    ("reports.received", "Signalement reçu", "Report received"),
    ("reports.reference", "Référence", "Reference"),
    ("reports.reference_hint", "Notez cette référence : elle permet de suivre le signalement (par SMS : SUIVI suivi de la référence).", "Keep this reference: it lets you follow the report up (by SMS: SUIVI followed by the reference)."),
    ("reports.flags", "À compléter ou à examiner", "To complete or review"),
    ("reports.unplaced", "Lieu à préciser", "Place to be given"),
    ("reports.event", "Événement", "Event"),
    ("reports.open", "Ouvrir le signalement", "Open the report"),
    ("reports.another", "Faire un autre signalement", "Make another report"),
    ("reports.verification", "Vérification", "Verification"),
    ("reports.from", "Reçus du", "Received from"),
    ("reports.to", "au", "to"),
    ("reports.q", "Mots du texte", "Words in the text"),
    ("reports.received_at", "Reçu le", "Received"),
    ("reports.none", "Aucun signalement ne correspond.", "No report matches."),
    ("reports.channel", "Canal et langue", "Channel and language"),
    ("reports.verify", "Vérifier", "Verify"),
    ("reports.verify_hint", "Cote de l'Amirauté : fiabilité de la source (A à F) et crédibilité de l'information (1 à 6). « Vérifié » demande une crédibilité de 1 à 3 ; vérifier ce signalement vérifie son événement.", "Admiralty grade: source reliability (A to F) and information credibility (1 to 6). \"Verified\" needs a credibility of 1 to 3; verifying this report verifies its event."),
    ("reports.status", "Statut", "Status"),
    ("reports.source", "Fiabilité de la source", "Source reliability"),
    ("reports.info", "Crédibilité de l'information", "Information credibility"),
    ("reports.verify_submit", "Enregistrer la vérification", "Save the verification"),
    ("reports.verified_ok", "Vérification enregistrée.", "Verification saved."),
    ("reports.thread", "Échanges avec l'auteur du signalement", "Follow-up with the reporter"),
    ("reports.no_thread", "Aucun échange pour l'instant.", "No follow-up yet."),
    ("reports.reporter", "auteur du signalement", "reporter"),
    ("reports.ask", "Poser une question à l'auteur", "Ask the reporter a question"),
    ("reports.ask_sms", "Envoyée par SMS ; vous ne voyez jamais le numéro. La réponse s'affichera ici.", "Sent by SMS; you never see the number. The answer will appear here."),
    ("reports.ask_web", "Ce signalement n'est pas venu par SMS : la question est gardée dans ce fil.", "This report did not come by SMS: the question is kept in this thread."),
    ("reports.ask_submit", "Envoyer la question", "Send the question"),
    ("reports.asked_ok", "Question enregistrée.", "Question saved."),
    ("alerts.title", "Alertes", "Alerts"),
    ("alerts.alert", "Alerte", "Alert"),
    ("alerts.state", "État", "State"),
    ("alerts.severity", "Gravité", "Severity"),
    ("alerts.what", "Quoi", "What"),
    ("alerts.reported_at", "Signalée le", "Reported"),
    ("alerts.attention", "À traiter", "Needs attention"),
    ("alerts.attention_only", "Seulement celles à traiter", "Only those needing attention"),
    ("alerts.overdue", "délai d'accusé de réception dépassé", "acknowledgement deadline passed"),
    ("alerts.none", "Aucune alerte ne correspond.", "No alert matches."),
    ("alerts.done", "Enregistré : état", "Saved: state"),
    ("alerts.what_now", "Actions possibles", "Possible actions"),
    ("alerts.cmd.verify", "Marquer vérifiée", "Mark verified"),
    ("alerts.cmd.raise", "Lancer l'alerte", "Raise the alert"),
    ("alerts.cmd.acknowledge", "Accuser réception", "Acknowledge"),
    ("alerts.cmd.respond", "Enregistrer l'intervention", "Record the response"),
    ("alerts.cmd.close", "Clôturer avec cette issue", "Close with this outcome"),
    ("alerts.cmd.false_alarm", "Fausse alerte", "False alarm"),
    ("alerts.cmd.cancel", "Annuler l'alerte", "Cancel the alert"),
    ("alerts.raise_unverified", "Situation critique : l'alerte peut partir avant la vérification, qui se poursuit en parallèle.", "Critical situation: the alert may go before verification, which goes on in parallel."),
    ("alerts.ack_for", "Au nom de", "On behalf of"),
    ("alerts.response", "Actions de réponse", "Response actions"),
    ("alerts.other_action", "Autre action (décrivez)", "Other action (describe)"),
    ("alerts.outcome", "Issue", "Outcome"),
    ("alerts.reason", "Motif", "Reason"),
    ("alerts.actions", "Actions menées", "Actions taken"),
    ("alerts.timeline", "Chronologie", "Timeline"),
    ("alerts.not_yet", "pas encore", "not yet"),
    ("alerts.unverified", "Lancée avant vérification (situation critique).", "Raised before verification (critical situation)."),
    ("alerts.level", "niveau", "level"),
    ("alerts.notified", "Prévenu", "Notified"),
    ("alerts.deadline", "délai jusqu'au", "deadline"),
    ("alerts.missed", "délai dépassé, escaladé", "deadline missed, escalated"),
    ("alerts.skipped", "Sauté (pas de téléphone)", "Skipped (no phone)"),
    ("alerts.history", "Historique complet des changements d'état", "Full history of state changes"),
    ("alerts.reports", "Signalements regroupés", "Reports grouped"),
    ("level.country", "Pays", "Country"),
    ("level.region", "Région", "Region"),
    ("level.cercle", "Cercle", "Cercle"),
    ("level.commune", "Commune", "Commune"),
    ("level.village", "Village / quartier / fraction", "Village / quarter / fraction"),
    ("level.country.pl", "Pays", "Countries"),
    ("level.region.pl", "Régions", "Regions"),
    ("level.cercle.pl", "Cercles", "Cercles"),
    ("level.commune.pl", "Communes", "Communes"),
    ("level.village.pl", "Villages, quartiers, fractions", "Villages, quarters, fractions"),
    ("areas.title", "Zones administratives", "Administrative areas"),
    ("areas.map", "Carte des régions", "Map of the regions"),
    ("areas.map_label", "Carte : cliquez sur une zone pour l'ouvrir. La liste ci-dessous donne les mêmes zones.", "Map: click an area to open it. The list below gives the same areas."),
    ("areas.map_error", "La carte n'a pas pu être chargée ; la liste reste utilisable.", "The map could not be loaded; the list still works."),
    ("areas.map_source", "Contours des régions :", "Region boundaries:"),
    ("areas.tree", "Arborescence (pays, régions, cercles)", "Tree (country, regions, cercles)"),
    ("areas.tree_hint", "Les communes et villages s'affichent sur la page de leur cercle, ou avec le filtre de niveau.", "Communes and villages are on their cercle's page, or with the level filter."),
    ("areas.results", "Résultats", "Results"),
    ("areas.level", "Niveau", "Level"),
    ("areas.tag", "Étiquette", "Tag"),
    ("areas.q", "Nom ou code", "Name or code"),
    ("areas.code", "Code", "Code"),
    ("areas.name", "Nom", "Name"),
    ("areas.tags", "Étiquettes", "Tags"),
    ("areas.parent", "Zone parente", "Parent area"),
    ("areas.point", "Chef-lieu (lat., long.)", "Main town (lat., long.)"),
    ("areas.children", "Zones rattachées", "Areas within"),
    ("areas.no_children", "Aucune zone rattachée.", "No areas within."),
    ("areas.none", "Aucune zone ne correspond.", "No area matches."),
    ("areas.breadcrumb", "Fil d'Ariane", "Breadcrumb"),
    ("areas.has_geometry", "Contour", "Boundary"),
    ("areas.yes", "oui", "yes"),
    ("areas.no", "non", "no"),
    ("users.title", "Utilisateurs", "Users"),
    ("users.new", "Nouvel utilisateur", "New user"),
    ("users.username", "Identifiant", "Username"),
    ("users.username_hint", "3 à 64 caractères : a-z, 0-9, point, tiret, souligné.", "3 to 64 characters: a-z, 0-9, dot, hyphen, underscore."),
    ("users.display_name", "Nom affiché", "Display name"),
    ("users.password", "Mot de passe initial", "Initial password"),
    ("users.password_hint", "10 caractères au moins, pas un mot de passe courant. Laissez vide pour un compte à jeton d'API seulement.", "At least 10 characters, not a common password. Leave empty for an API-token-only account."),
    ("users.locale", "Langue", "Language"),
    ("users.grants", "Droits", "Grants"),
    ("users.grants_hint", "Un rôle sur une zone et tout ce qu'elle contient. Vous ne pouvez donner que des droits que vous avez vous-même sur cette zone.", "A role over an area and everything within it. You can only give rights you hold yourself over that area."),
    ("users.grant_n", "Droit", "Grant"),
    ("users.status", "État", "Status"),
    ("users.active", "actif", "active"),
    ("users.disabled", "désactivé", "disabled"),
    ("users.totp", "Double authentification", "Two-factor"),
    ("users.created", "Compte créé :", "Account created:"),
    ("users.none", "Aucun compte dans votre zone.", "No account in your area."),
    ("roles.title", "Rôles", "Roles"),
    ("roles.name", "Nom technique", "Technical name"),
    ("roles.name_hint", "Minuscules, chiffres et soulignés, ex. « observateur_cls ».", "Lowercase letters, digits and underscores, e.g. \"cls_observer\"."),
    ("roles.label", "Libellé", "Label"),
    ("roles.label_hint", "« Libellé français / English label » pour les deux langues.", "\"Libellé français / English label\" for both languages."),
    ("roles.permissions", "Permissions", "Permissions"),
    ("roles.builtin", "fourni avec Vigie", "built in"),
    ("roles.custom", "personnalisé", "custom"),
    ("roles.kind", "Type", "Kind"),
    ("roles.new", "Nouveau rôle", "New role"),
    ("roles.created", "Rôle créé :", "Role created:"),
    ("audit.title", "Journal d'audit", "Audit log"),
    ("audit.intro", "Chaque modification est enregistrée dans un journal chaîné par empreintes : toute altération se détecte.", "Every change is recorded in a hash-chained log: any tampering can be detected."),
    ("audit.verify", "Vérifier la chaîne", "Verify the chain"),
    ("audit.ok", "Chaîne intacte.", "Chain intact."),
    ("audit.entries", "entrées vérifiées", "entries checked"),
    ("audit.last_hash", "Dernière empreinte", "Last hash"),
    ("audit.broken", "Chaîne rompue ! Entrée :", "Chain broken! Entry:"),
    ("audit.seq", "N°", "No."),
    ("audit.at", "Date (UTC)", "Date (UTC)"),
    ("audit.actor", "Auteur", "Actor"),
    ("audit.action", "Action", "Action"),
    ("audit.entity", "Objet", "Record"),
    ("audit.detail", "Détail", "Detail"),
    ("audit.hash", "Empreinte", "Hash"),
];

/// Word tables of page modules kept in their own files, searched after [`CATALOGUE`].
const MODULE_WORDS: &[&[(&str, &str, &str)]] = &[super::governance::WORDS, super::report_actions::WORDS, super::i18n_cases_map::CATALOGUE, super::i18n_admin::WORDS, super::i18n_results::CATALOGUE, super::i18n_auto_raise::WORDS];

fn all_words() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    CATALOGUE.iter().chain(MODULE_WORDS.iter().flat_map(|w| w.iter()))
}

/// The text of `key` in `lang`; the key itself if it is missing (and a test fails).
pub fn t(key: &str, lang: Lang) -> &str {
    match all_words().find(|(k, _, _)| *k == key) {
        Some((_, fr, en)) => match lang {
            Lang::Fr => fr,
            Lang::En => en,
        },
        None => {
            tracing::warn!(key, "missing web translation");
            key
        }
    }
}

pub fn has(key: &str) -> bool {
    all_words().any(|(k, _, _)| *k == key)
}

/// `1 234 567,89` (narrow no-break spaces) in French, `1,234,567.89` in English.
pub fn number(value: f64, decimals: usize, lang: Lang) -> String {
    let (group, point) = match lang {
        Lang::Fr => ('\u{202f}', ','),
        Lang::En => (',', '.'),
    };
    let s = format!("{:.*}", decimals, value.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    if value < 0.0 && s.chars().any(|c| c != '0' && c != '.') {
        out.insert(0, '-');
    }
    out
}

const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `22/11/2026` in French, `22 Nov 2026` in English (from `2026-11-22…`); other text unchanged.
pub fn date(value: &str, lang: Lang) -> String {
    let d = value.get(..10).and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    match d {
        Some(d) => match lang {
            Lang::Fr => d.format("%d/%m/%Y").to_string(),
            Lang::En => {
                use chrono::Datelike;
                format!("{:02} {} {}", d.day(), MONTHS_EN[d.month0() as usize], d.year())
            }
        },
        None => value.to_string(),
    }
}

/// A date with the time of day (`22/11/2026 14:03`), from an RFC 3339 timestamp.
pub fn datetime(value: &str, lang: Lang) -> String {
    let time = value.get(11..16).filter(|t| t.as_bytes().get(2) == Some(&b':'));
    match time {
        Some(t) => format!("{} {t}", date(value, lang)),
        None => date(value, lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_per_language() {
        assert_eq!(number(1_234_567.89, 2, Lang::Fr), "1\u{202f}234\u{202f}567,89");
        assert_eq!(number(1_234_567.89, 2, Lang::En), "1,234,567.89");
        assert_eq!(number(999.0, 0, Lang::Fr), "999");
        assert_eq!(number(1000.0, 0, Lang::Fr), "1\u{202f}000");
        assert_eq!(number(-1234.5, 1, Lang::Fr), "-1\u{202f}234,5");
        assert_eq!(number(0.0, 0, Lang::En), "0");
    }

    #[test]
    fn dates_are_written_per_language() {
        assert_eq!(date("2026-11-22T14:03:09.123456Z", Lang::Fr), "22/11/2026");
        assert_eq!(date("2026-11-22", Lang::En), "22 Nov 2026");
        assert_eq!(datetime("2026-11-22T14:03:09.123456Z", Lang::Fr), "22/11/2026 14:03");
        assert_eq!(date("bientôt", Lang::Fr), "bientôt");
    }

    #[test]
    fn keys_are_unique_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for (k, fr, en) in all_words() {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!fr.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
