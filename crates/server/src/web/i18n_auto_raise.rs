//! Words of automatic raising on the alert page, in French and English (read through `i18n::t`).

/// (key, français, English)
pub const WORDS: &[(&str, &str, &str)] = &[(
    "alerts.raised_automatically",
    "Lancée automatiquement à la réception du signalement (règle d'escalade à lancement automatique) ; la vérification reste à faire.",
    "Raised automatically when the report arrived (auto-raise escalation rule); verification is still to be done.",
),
(
    "escalation.auto_raise",
    "lancement automatique (point focal ou comité enregistré)",
    "raised automatically (registered focal point or committee)",
)];
