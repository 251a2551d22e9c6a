//! `vigie import framework RESULTS.csv INDICATORS.csv --period 2021-2025`.
//!
//! results.csv: `level,code,title_fr|title,parent_code` (level = result | output; an output's
//! parent is its result). indicators.csv: `result_code,output_code,indicator_code,label_fr|label,
//! unit,baseline,baseline_year,target_YYYY…,cumulative,means_of_verification` and optionally
//! `aggregation`, `responsible`, `disaggregations` (`sex;age;area;other:NAME`). Without a
//! `disaggregations` column they are read from the label ("désagrégé par sexe").
//! Every error of the file is returned with its line; one error rejects the whole file.

use super::msg::{FrameworkMsg, Issue, Table};
use super::*;
use std::collections::HashMap;

/// Which of the two files an issue is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameworkFile {
    Results,
    Indicators,
}

fn name_cell(raw: &str, line: usize, field: &str, errors: &mut Vec<Issue>) -> Option<String> {
    parse_text(raw).map_err(|m| errors.push(Issue::error(line, field, m))).ok()
}

fn code_cell(raw: &str, line: usize, field: &str, errors: &mut Vec<Issue>) -> Option<Code> {
    if raw.trim().is_empty() {
        errors.push(Issue::error(line, field, FrameworkMsg::Common(crate::Msg::Required)));
        return None;
    }
    Code::parse(raw).map_err(|m| errors.push(Issue::error(line, field, m))).ok()
}

/// Reads the results and outputs of a framework.
pub fn parse_results(bytes: &[u8]) -> Result<(Vec<ResultNode>, Vec<OutputNode>), Vec<Issue>> {
    let t = Table::read(bytes, &["level", "code"])?;
    let title_col = if t.col("title_fr").is_some() { "title_fr" } else { "title" };
    let mut errors = Vec::new();
    if t.col(title_col).is_none() {
        return Err(vec![Issue::error(1, "title", FrameworkMsg::MissingColumn { name: "title".into() })]);
    }
    let mut results = Vec::new();
    let mut pending_outputs = Vec::new();
    let mut seen: HashMap<Code, usize> = HashMap::new();
    // Results written in the file, even invalid ones, so their outputs are not also reported.
    let mut result_codes = Vec::new();
    for (line, row) in &t.rows {
        let line = *line;
        let code = code_cell(t.get(row, "code"), line, "code", &mut errors);
        let title = name_cell(t.get(row, title_col), line, title_col, &mut errors);
        let level = t.get(row, "level").to_lowercase();
        if let Some(c) = &code {
            if let Some(first) = seen.get(c) {
                errors.push(Issue::error(line, "code", FrameworkMsg::DuplicateCode { code: c.to_string(), first_line: *first }));
                continue;
            }
            seen.insert(c.clone(), line);
        }
        match level.as_str() {
            "result" | "résultat" | "resultat" | "outcome" | "effet" => {
                result_codes.extend(code.clone());
                if let (Some(code), Some(title)) = (code, title) {
                    results.push(ResultNode { code, title, line });
                }
            }
            "output" | "produit" => {
                let parent_raw = match t.get(row, "parent_code") {
                    "" => t.get(row, "result_code"),
                    p => p,
                };
                let parent = code_cell(parent_raw, line, "parent_code", &mut errors);
                if let (Some(code), Some(title), Some(parent)) = (code, title, parent) {
                    pending_outputs.push(OutputNode { code, result: parent, title, line });
                }
            }
            other => errors.push(Issue::error(line, "level", FrameworkMsg::InvalidLevel { text: other.to_string() })),
        }
    }
    for o in &pending_outputs {
        if !result_codes.contains(&o.result) {
            errors.push(Issue::error(o.line, "parent_code", FrameworkMsg::UnknownResult { code: o.result.to_string() }));
        }
    }
    if errors.is_empty() {
        Ok((results, pending_outputs))
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Reads the indicators, checking them against the results and outputs and the programme period.
pub fn parse_indicators(
    bytes: &[u8],
    period: ProgrammePeriod,
    results: &[ResultNode],
    outputs: &[OutputNode],
) -> Result<Vec<Indicator>, Vec<Issue>> {
    let t = Table::read(bytes, &["indicator_code", "unit"])?;
    let mut errors = Vec::new();
    let label_col = if t.col("label_fr").is_some() { "label_fr" } else { "label" };
    if t.col(label_col).is_none() {
        return Err(vec![Issue::error(1, "label", FrameworkMsg::MissingColumn { name: "label".into() })]);
    }
    // Target columns: target_2021 … ; a malformed year in the header is an error on line 1.
    let header_line = header_line_of(bytes);
    let mut target_cols: Vec<(i32, String)> = Vec::new();
    for h in t.header() {
        if let Some(y) = h.strip_prefix("target_") {
            match y.parse::<i32>() {
                Ok(year) if (1900..=2200).contains(&year) => target_cols.push((year, h.clone())),
                _ => errors.push(Issue::error(header_line, h, FrameworkMsg::InvalidYear { text: y.to_string() })),
            }
        }
    }
    let output_result: HashMap<&Code, &Code> = outputs.iter().map(|o| (&o.code, &o.result)).collect();
    let mut seen: HashMap<Code, usize> = HashMap::new();
    let mut out = Vec::new();
    for (line, row) in &t.rows {
        let line = *line;
        let before = errors.len();
        let code = code_cell(t.get(row, "indicator_code"), line, "indicator_code", &mut errors);
        if let Some(c) = &code {
            if let Some(first) = seen.get(c) {
                errors.push(Issue::error(line, "indicator_code", FrameworkMsg::DuplicateCode { code: c.to_string(), first_line: *first }));
            } else {
                seen.insert(c.clone(), line);
            }
        }
        let label = name_cell(t.get(row, label_col), line, label_col, &mut errors);
        let unit = Unit::parse(t.get(row, "unit")).map_err(|m| errors.push(Issue::error(line, "unit", m))).ok();

        // Where the indicator hangs: an output (whose result must agree) or, without one, a result.
        let output_raw = t.get(row, "output_code");
        let result_raw = t.get(row, "result_code");
        let output = if output_raw.is_empty() {
            None
        } else {
            match Code::parse(output_raw) {
                Ok(o) if output_result.contains_key(&o) => Some(o),
                Ok(o) => {
                    errors.push(Issue::error(line, "output_code", FrameworkMsg::UnknownOutput { code: o.to_string() }));
                    None
                }
                Err(m) => {
                    errors.push(Issue::error(line, "output_code", m));
                    None
                }
            }
        };
        let result = match (result_raw.is_empty(), &output) {
            (true, Some(o)) => Some(output_result[o].clone()),
            (true, None) if output_raw.is_empty() => {
                errors.push(Issue::error(line, "result_code", FrameworkMsg::Common(crate::Msg::Required)));
                None
            }
            (true, None) => None,
            (false, _) => match Code::parse(result_raw) {
                Ok(r) if !results.iter().any(|x| x.code == r) => {
                    errors.push(Issue::error(line, "result_code", FrameworkMsg::UnknownResult { code: r.to_string() }));
                    None
                }
                Ok(r) => {
                    if let Some(o) = &output {
                        if output_result[o] != &r {
                            errors.push(Issue::error(
                                line,
                                "output_code",
                                FrameworkMsg::OutputOfOtherResult { output: o.to_string(), result: output_result[o].to_string() },
                            ));
                        }
                    }
                    Some(r)
                }
                Err(m) => {
                    errors.push(Issue::error(line, "result_code", m));
                    None
                }
            },
        };

        let cumulative = Cumulative::parse(t.get(row, "cumulative")).map_err(|m| errors.push(Issue::error(line, "cumulative", m))).ok();
        let Some(unit) = unit else { continue };

        let baseline_raw = t.get(row, "baseline");
        let baseline = parse_baseline(baseline_raw, unit).map_err(|m| errors.push(Issue::error(line, "baseline", m))).ok();
        let baseline_year = match t.get(row, "baseline_year") {
            "" => None,
            y => match y.parse::<i32>() {
                Ok(v) if (1900..=2200).contains(&v) => Some(v),
                _ => {
                    errors.push(Issue::error(line, "baseline_year", FrameworkMsg::InvalidYear { text: y.to_string() }));
                    None
                }
            },
        };
        let mut targets = BTreeMap::new();
        for (year, col) in &target_cols {
            match parse_target(t.get(row, col), unit) {
                Ok(None) | Ok(Some(Target::NoTarget)) if !period.contains(*year) => {}
                Ok(Some(_)) if !period.contains(*year) => errors.push(Issue::error(
                    line,
                    col,
                    FrameworkMsg::TargetOutsidePeriod { year: *year, first: period.first(), last: period.last() },
                )),
                Ok(Some(target)) => {
                    targets.insert(*year, target);
                }
                Ok(None) => {}
                Err(m) => errors.push(Issue::error(line, col, m)),
            }
        }
        let aggregation = match t.get(row, "aggregation") {
            "" => cumulative.map(|c| Aggregation::default_for(unit, c)),
            a => Aggregation::parse(a).map_err(|m| errors.push(Issue::error(line, "aggregation", m))).ok(),
        };
        if aggregation.is_some() && unit == Unit::Percent && aggregation == Some(Aggregation::Sum) {
            errors.push(Issue::error(line, "aggregation", FrameworkMsg::InvalidAggregation { text: "sum (percent)".into() }));
        }
        let disaggregations = if t.col("disaggregations").is_some() {
            t.get(row, "disaggregations")
                .split([';', '|'])
                .filter(|s| !s.trim().is_empty())
                .filter_map(|s| Disaggregation::parse(s).map_err(|m| errors.push(Issue::error(line, "disaggregations", m))).ok())
                .collect()
        } else {
            label.as_deref().map(Disaggregation::infer_from_label).unwrap_or_default()
        };
        let means_of_verification = t
            .get(row, "means_of_verification")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let responsible = Some(t.get(row, "responsible")).filter(|s| !s.is_empty()).map(str::to_string);
        if errors.len() > before {
            continue;
        }
        if let (Some(code), Some(result), Some(label), Some(baseline), Some(cumulative), Some(aggregation)) =
            (code, result, label, baseline, cumulative, aggregation)
        {
            out.push(Indicator {
                code,
                result,
                output,
                label,
                unit,
                baseline,
                baseline_year,
                baseline_as_written: baseline_raw.to_string(),
                targets,
                cumulative,
                aggregation,
                means_of_verification,
                responsible,
                disaggregations,
                line,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Line of the header: 1 plus any leading `#` comment lines.
fn header_line_of(bytes: &[u8]) -> usize {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    1 + bytes.split(|b| *b == b'\n').take_while(|l| l.starts_with(b"#")).count()
}

/// Both files at once: all or nothing.
pub fn import_framework(
    results_csv: &[u8],
    indicators_csv: &[u8],
    period: ProgrammePeriod,
) -> Result<Framework, (FrameworkFile, Vec<Issue>)> {
    let (results, outputs) = parse_results(results_csv).map_err(|e| (FrameworkFile::Results, e))?;
    let indicators = parse_indicators(indicators_csv, period, &results, &outputs).map_err(|e| (FrameworkFile::Indicators, e))?;
    Ok(Framework { period, results, outputs, indicators })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &str = "result_code,level,code,title_fr,parent_code\nR1,result,R1,Résultat un,\nR1,output,P1.1,Produit un,R1\nR2,result,R2,Résultat deux,\nR2,output,P2.1,Produit deux,R2\n";
    const HEAD: &str = "result_code,output_code,indicator_code,label_fr,unit,baseline,baseline_year,target_2021,target_2022,target_2023,cumulative,means_of_verification\n";

    fn period() -> ProgrammePeriod {
        ProgrammePeriod::new(2021, 2023).unwrap()
    }

    fn fw(ind: &str) -> Result<Framework, (FrameworkFile, Vec<Issue>)> {
        import_framework(RESULTS.as_bytes(), format!("{HEAD}{ind}").as_bytes(), period())
    }

    #[test]
    fn reads_a_small_framework() {
        let f = fw("R1,,1.1,% qui font confiance,percent,\"78,97% (2020)\",2020,/,+5%,/,yes,Etude A; Etude B\nR1,P1.1,1.1.1,Nbre de réunions (désagrégé par sexe),number,0,,3,3,3,unknown,Rapports\n").unwrap();
        assert_eq!(f.indicators.len(), 2);
        let i = &f.indicators[0];
        assert_eq!((i.output.clone(), i.unit, i.aggregation), (None, Unit::Percent, Aggregation::Last));
        assert_eq!(i.means_of_verification, vec!["Etude A".to_string(), "Etude B".to_string()]);
        assert_eq!(i.target(2021), Some(&Target::NoTarget));
        let j = &f.indicators[1];
        assert_eq!(j.result.as_str(), "R1");
        assert_eq!(j.aggregation, Aggregation::Sum);
        assert_eq!(j.disaggregations, vec![Disaggregation::Sex]);
        assert_eq!(f.outputs_of(&Code::parse("R1").unwrap()).count(), 1);
        assert_eq!(f.indicators_of_output(&Code::parse("P1.1").unwrap()).count(), 1);
        assert_eq!(f.outcome_indicators(&Code::parse("R1").unwrap()).count(), 1);
    }

    #[test]
    fn every_error_with_its_line_and_nothing_imported() {
        let bad = concat!(
            "R1,P1.1,1.1.1,Bon,number,0,,1,2,3,yes,R\n",           // line 2 ok
            "R1,P1.1,1.1.2,Texte,number,0,,1,beaucoup,3,yes,R\n",   // 3: text in a number cell
            "R1,P1.1,1.1.3,Pourcent,percent,0,,10%,120%,30%,yes,R\n", // 4: percent above 100
            "R1,P1.1,1.1.1,Doublon,number,0,,1,2,3,yes,R\n",        // 5: duplicate code
            "R1,P9.9,1.1.4,Orphelin,number,0,,1,2,3,yes,R\n",       // 6: unknown output
            "R2,P1.1,1.1.5,Mauvais parent,number,0,,1,2,3,yes,R\n", // 7: output of another result
            "R1,P1.1,1.1.6,Unité,kilos,0,,1,2,3,yes,R\n",           // 8: unknown unit
            "R1,P1.1,1.1.7,Cumul,number,0,,1,2,3,peut-être,R\n",    // 9: bad cumulative flag
        );
        let (file, errs) = fw(bad).unwrap_err();
        assert_eq!(file, FrameworkFile::Indicators);
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            vec![(3, "target_2022"), (4, "target_2022"), (5, "indicator_code"), (6, "output_code"), (7, "output_code"), (8, "unit"), (9, "cumulative")]
        );
        assert!(matches!(errs[0].msg, FrameworkMsg::NotANumber { .. }));
        assert!(matches!(errs[1].msg, FrameworkMsg::PercentAbove100 { .. }));
        assert_eq!(errs[2].msg, FrameworkMsg::DuplicateCode { code: "1.1.1".into(), first_line: 2 });
        assert_eq!(errs[3].msg, FrameworkMsg::UnknownOutput { code: "P9.9".into() });
    }

    #[test]
    fn targets_outside_the_period_are_refused_but_slashes_tolerated() {
        let head = "result_code,output_code,indicator_code,label_fr,unit,baseline,target_2021,target_2026,cumulative\n";
        let ok = format!("{head}R1,P1.1,1.1.1,A,number,0,5,/,yes\n");
        assert!(import_framework(RESULTS.as_bytes(), ok.as_bytes(), period()).is_ok());
        let bad = format!("{head}R1,P1.1,1.1.1,A,number,0,5,9,yes\n");
        let (_, errs) = import_framework(RESULTS.as_bytes(), bad.as_bytes(), period()).unwrap_err();
        assert_eq!(errs[0].msg, FrameworkMsg::TargetOutsidePeriod { year: 2026, first: 2021, last: 2023 });
        assert_eq!((errs[0].line, errs[0].field.as_str()), (2, "target_2026"));
    }

    #[test]
    fn results_file_errors() {
        let bad = "level,code,title_fr,parent_code\nresult,R1,Un,\noutput,P1.1,Deux,R9\nproduit,P1.2,Trois,R1\nlevel9,X,Quatre,\nresult,R1,Encore,\n";
        let errs = parse_results(bad.as_bytes()).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, vec![(3, "parent_code"), (5, "level"), (6, "code")]);
        assert!(parse_results(b"code,title\nR1,x\n").is_err());
    }
}
