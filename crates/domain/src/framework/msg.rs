//! Messages of the results-framework, budget and risk modules (French first, English second),
//! and the line-numbered issue type their importers return.

use crate::budget::money::MoneyError;
use crate::{Lang, Msg};
use serde::Serialize;

/// Every user-facing message of programme management. Kept here, not in `i18n.rs`, so this
/// module can grow without touching the shared catalogue; `Common` carries shared messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum FrameworkMsg {
    Common(Msg),
    Money(MoneyError),
    MissingColumn { name: String },
    InvalidCode { text: String },
    DuplicateCode { code: String, first_line: usize },
    UnknownResult { code: String },
    UnknownOutput { code: String },
    OutputOfOtherResult { output: String, result: String },
    InvalidLevel { text: String },
    InvalidUnit { text: String },
    InvalidCumulative { text: String },
    InvalidAggregation { text: String },
    InvalidDisaggregation { text: String },
    NotANumber { text: String },
    PercentAbove100 { text: String },
    InvalidYesNo { text: String },
    TargetOutsidePeriod { year: i32, first: i32, last: i32 },
    InvalidYear { text: String },
    InvalidProgrammePeriod,
    TextTargetForMeasuredIndicator { text: String },
    // Actuals
    UnknownIndicator { code: String },
    AreaCycle { area: String },
    ValueAtTwoLevels { area: String, descendant: String },
    OverlappingPeriods { first: String, second: String },
    NotAggregable,
    // Budget
    InvalidRowType { text: String },
    YearsDoNotAddUp { computed: String, printed: String },
    PrintedDiffers { what: String, year: String, printed: String, computed: String },
    RateNotApplied { what: String, year: String, effective_pct: String, configured_pct: String },
    MissingExchangeRate { from: String, to: String },
    InvalidRate { text: String },
    RowTypeReadAs { code: String, kind: String },
    // Risks
    InvalidLikelihood { text: String },
    InvalidImpact { text: String },
    InvalidRiskStatus { text: String },
    InvalidDate { text: String },
    UnknownRisk { text: String },
}

fn money_text(e: &MoneyError, fr: bool) -> String {
    use MoneyError::*;
    match e {
        NotANumber { text } => {
            if fr {
                format!("« {text} » n'est pas un nombre.")
            } else {
                format!("\"{text}\" is not a number.")
            }
        }
        AmbiguousSeparator { text } => {
            if fr {
                format!("« {text} » est ambigu (milliers ou décimales ?) : précisez le format français ou anglais.")
            } else {
                format!("\"{text}\" is ambiguous (thousands or decimals?): state French or English format.")
            }
        }
        TooPrecise { text, max_decimals } => {
            if fr {
                format!("« {text} » a trop de décimales ({max_decimals} au plus) ; aucun arrondi implicite.")
            } else {
                format!("\"{text}\" has too many decimals (at most {max_decimals}); no implicit rounding.")
            }
        }
        CurrencyMismatch { left, right } => {
            if fr {
                format!("Devises différentes ({left} et {right}) sans taux de change.")
            } else {
                format!("Different currencies ({left} and {right}) with no exchange rate.")
            }
        }
        UnknownCurrency { code } => {
            if fr {
                format!("Devise inconnue : « {code} ».")
            } else {
                format!("Unknown currency: \"{code}\".")
            }
        }
        Overflow => (if fr { "Montant hors limites." } else { "Amount out of range." }).to_string(),
        DivisionByZero => {
            (if fr { "Pourcentage d'un montant nul : non défini." } else { "Percentage of a zero amount: undefined." })
                .to_string()
        }
        WrongRate { expected, got } => {
            if fr {
                format!("Taux de change {got} donné, {expected} attendu.")
            } else {
                format!("Exchange rate {got} given, {expected} expected.")
            }
        }
    }
}

impl FrameworkMsg {
    pub fn text(&self, lang: Lang) -> String {
        use FrameworkMsg::*;
        let fr = lang == Lang::Fr;
        let pick = |f: String, e: String| if fr { f } else { e };
        match self {
            Common(m) => m.text(lang),
            Money(e) => money_text(e, fr),
            MissingColumn { name } => pick(format!("Colonne « {name} » absente."), format!("Column \"{name}\" is missing.")),
            InvalidCode { text } => pick(
                format!("Code invalide : « {text} » (lettres, chiffres, points, tirets ; 32 au plus)."),
                format!("Invalid code: \"{text}\" (letters, digits, dots, hyphens; at most 32)."),
            ),
            DuplicateCode { code, first_line } => Msg::DuplicateInFile { code: code.clone(), first_line: *first_line }.text(lang),
            UnknownResult { code } => pick(format!("Résultat inconnu : « {code} »."), format!("Unknown result: \"{code}\".")),
            UnknownOutput { code } => pick(format!("Produit inconnu : « {code} »."), format!("Unknown output: \"{code}\".")),
            OutputOfOtherResult { output, result } => pick(
                format!("Le produit « {output} » relève du résultat « {result} »."),
                format!("Output \"{output}\" belongs to result \"{result}\"."),
            ),
            InvalidLevel { text } => pick(
                format!("Niveau « {text} » inconnu : result (résultat) ou output (produit)."),
                format!("Unknown level \"{text}\": result or output."),
            ),
            InvalidUnit { text } => pick(
                format!("Unité « {text} » inconnue : number, percent, yes_no ou text."),
                format!("Unknown unit \"{text}\": number, percent, yes_no or text."),
            ),
            InvalidCumulative { text } => pick(
                format!("Cumulatif : « {text} » ; oui, non ou inconnu attendu."),
                format!("Cumulative: \"{text}\"; yes, no or unknown expected."),
            ),
            InvalidAggregation { text } => pick(
                format!("Règle d'agrégation « {text} » inconnue : sum, average, last ou cumulative."),
                format!("Unknown aggregation rule \"{text}\": sum, average, last or cumulative."),
            ),
            InvalidDisaggregation { text } => pick(
                format!("Désagrégation « {text} » inconnue : sex, age, area ou autre:NOM."),
                format!("Unknown disaggregation \"{text}\": sex, age, area or other:NAME."),
            ),
            NotANumber { text } => pick(
                format!("Texte dans une cellule numérique : « {text} »."),
                format!("Text in a number cell: \"{text}\"."),
            ),
            PercentAbove100 { text } => pick(
                format!("Pourcentage au-delà de 100 : « {text} »."),
                format!("Percentage above 100: \"{text}\"."),
            ),
            InvalidYesNo { text } => pick(format!("« {text} » : oui ou non attendu."), format!("\"{text}\": yes or no expected.")),
            TargetOutsidePeriod { year, first, last } => pick(
                format!("Cible pour {year}, hors de la période du programme ({first}-{last})."),
                format!("Target for {year}, outside the programme period ({first}-{last})."),
            ),
            InvalidYear { text } => pick(format!("Année invalide : « {text} »."), format!("Invalid year: \"{text}\".")),
            InvalidProgrammePeriod => pick(
                "Période du programme invalide (première année après la dernière ?).".into(),
                "Invalid programme period (first year after the last?).".into(),
            ),
            TextTargetForMeasuredIndicator { text } => pick(
                format!("Cible textuelle « {text} » pour un indicateur chiffré."),
                format!("Text target \"{text}\" for a measured indicator."),
            ),
            UnknownIndicator { code } => pick(format!("Indicateur inconnu : « {code} »."), format!("Unknown indicator: \"{code}\".")),
            AreaCycle { area } => pick(
                format!("Boucle dans l'arbre des zones à « {area} »."),
                format!("Loop in the area tree at \"{area}\"."),
            ),
            ValueAtTwoLevels { area, descendant } => pick(
                format!("Valeur saisie à la fois pour « {area} » et pour sa sous-zone « {descendant} » : elle serait comptée deux fois."),
                format!("Value entered both for \"{area}\" and for its sub-area \"{descendant}\": it would be counted twice."),
            ),
            OverlappingPeriods { first, second } => pick(
                format!("Périodes qui se chevauchent : {first} et {second}."),
                format!("Overlapping periods: {first} and {second}."),
            ),
            NotAggregable => pick(
                "Un indicateur textuel ne s'agrège pas.".into(),
                "A text indicator cannot be aggregated.".into(),
            ),
            InvalidRowType { text } => pick(format!("Type de ligne inconnu : « {text} »."), format!("Unknown row type: \"{text}\".")),
            YearsDoNotAddUp { computed, printed } => pick(
                format!("Les années totalisent {computed}, le total imprimé est {printed}."),
                format!("The years add up to {computed}; the printed total is {printed}."),
            ),
            PrintedDiffers { what, year, printed, computed } => pick(
                format!("{what} {year} : imprimé {printed}, calculé {computed}."),
                format!("{what} {year}: printed {printed}, computed {computed}."),
            ),
            RateNotApplied { what, year, effective_pct, configured_pct } => pick(
                format!("{what} {year} : taux effectif {effective_pct} %, taux configuré {configured_pct} %."),
                format!("{what} {year}: effective rate {effective_pct}%, configured rate {configured_pct}%."),
            ),
            MissingExchangeRate { from, to } => pick(
                format!("Dépense en {from} sans taux de change vers {to}."),
                format!("Expenditure in {from} with no exchange rate to {to}."),
            ),
            InvalidRate { text } => pick(format!("Taux invalide : « {text} »."), format!("Invalid rate: \"{text}\".")),
            RowTypeReadAs { code, kind } => pick(
                format!("Ligne « {code} » de type « total » lue comme « {kind} »."),
                format!("Row \"{code}\" of type \"total\" read as \"{kind}\"."),
            ),
            InvalidLikelihood { text } => pick(
                format!("Probabilité « {text} » : 1 à 5 ou très faible, faible, moyenne, élevée, très élevée."),
                format!("Likelihood \"{text}\": 1 to 5 or very low, low, medium, high, very high."),
            ),
            InvalidImpact { text } => pick(
                format!("Impact « {text} » : 1 à 5 ou négligeable, limité, moyen, fort, très fort."),
                format!("Impact \"{text}\": 1 to 5 or negligible, minor, moderate, major, extreme."),
            ),
            InvalidRiskStatus { text } => pick(
                format!("Statut de risque « {text} » : ouvert, suivi, survenu ou clos."),
                format!("Risk status \"{text}\": open, monitored, occurred or closed."),
            ),
            UnknownRisk { text } => pick(format!("Risque inconnu : « {text} »."), format!("Unknown risk: \"{text}\".")),
            InvalidDate { text } => pick(
                format!("Date invalide : « {text} » (AAAA-MM-JJ ou JJ/MM/AAAA)."),
                format!("Invalid date: \"{text}\" (YYYY-MM-DD or DD/MM/YYYY)."),
            ),
        }
    }
}

/// How serious an import finding is: an error rejects the whole file, a warning is shown and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A finding in an imported file, with its 1-based line (the header is line 1, after any
/// leading `#` comment lines, which count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub line: usize,
    pub field: String,
    pub severity: Severity,
    pub msg: FrameworkMsg,
}

impl Issue {
    pub fn error(line: usize, field: &str, msg: FrameworkMsg) -> Issue {
        Issue { line, field: field.to_string(), severity: Severity::Error, msg }
    }
    pub fn warning(line: usize, field: &str, msg: FrameworkMsg) -> Issue {
        Issue { line, field: field.to_string(), severity: Severity::Warning, msg }
    }
}

/// CSV rows by column name. Wraps [`crate::import::csv_rows`], also skipping leading `#` comment
/// lines (test fixtures name their source there) while keeping line numbers true to the file.
pub(crate) struct Table {
    header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    pub fn read(bytes: &[u8], required: &[&str]) -> Result<Table, Vec<Issue>> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut skip = 0usize;
        let mut offset = 0usize;
        for l in bytes.split_inclusive(|b| *b == b'\n') {
            if l.starts_with(b"#") {
                skip += 1;
                offset += l.len();
            } else {
                break;
            }
        }
        let (header, rows) = crate::import::csv_rows(&bytes[offset..]).map_err(|e| {
            vec![Issue::error(e.line + skip, &e.field, FrameworkMsg::Common(e.msg))]
        })?;
        let missing: Vec<Issue> = required
            .iter()
            .filter(|c| !header.iter().any(|h| h == *c))
            .map(|c| Issue::error(1 + skip, c, FrameworkMsg::MissingColumn { name: c.to_string() }))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(Table { header, rows: rows.into_iter().map(|(l, r)| (l + skip, r)).collect() })
    }
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
    pub fn header(&self) -> &[String] {
        &self.header
    }
    /// The trimmed cell of `name` in `row`, "" when the column or the cell is absent.
    pub fn get<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        self.col(name).and_then(|i| row.get(i)).map(|s| s.trim()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_keep_line_numbers_true() {
        let t = Table::read(b"# source: test\n# second\ncode,name\nA,x\n\nB,y\n", &["code"]).unwrap();
        let lines: Vec<usize> = t.rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![4, 6]);
        let errs = Table::read(b"# c\nname\nx\n", &["code"]).err().unwrap();
        assert_eq!((errs[0].line, errs[0].field.as_str()), (2, "code"));
    }

    #[test]
    fn every_message_speaks_both_languages() {
        let samples = [
            FrameworkMsg::TargetOutsidePeriod { year: 2026, first: 2021, last: 2025 },
            FrameworkMsg::Money(MoneyError::CurrencyMismatch { left: "USD".into(), right: "XOF".into() }),
            FrameworkMsg::Common(Msg::Required),
            FrameworkMsg::YearsDoNotAddUp { computed: "31 999 999".into(), printed: "32 000 000".into() },
        ];
        for m in samples {
            let (fr, en) = (m.text(Lang::Fr), m.text(Lang::En));
            assert!(!fr.is_empty() && !en.is_empty());
            assert_ne!(fr, en, "{m:?}");
        }
        assert!(FrameworkMsg::TargetOutsidePeriod { year: 2026, first: 2021, last: 2025 }.text(Lang::Fr).contains("2021-2025"));
    }
}
