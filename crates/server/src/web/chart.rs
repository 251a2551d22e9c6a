//! Small charts drawn on the server as SVG (no chart library, no script): the dashboard's
//! reports and alerts per week, and an indicator's actual values against its targets year by year. The template `chart.html` draws what [`weekly`] computes;
//! every number is also in a table under the chart for screen readers and copying.

use chrono::{Duration, NaiveDate};
use minijinja::{context, Value};
use std::collections::BTreeMap;
use vigie_domain::Lang;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;

/// A round upper bound for the axis: 1, 2, 5 × 10ⁿ.
fn nice_max(v: i64) -> i64 {
    if v <= 4 {
        return 4;
    }
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step * 4 >= v {
                return m * step * 4;
            }
        }
        step *= 10;
    }
}

fn sum_between(days: &BTreeMap<NaiveDate, i64>, from: NaiveDate, to: NaiveDate) -> i64 {
    days.range(from..to).map(|(_, n)| n).sum()
}

/// `weeks` weeks ending with `today`: bars for `bars` (reports), a line for `line` (alerts).
pub fn weekly(bars: &BTreeMap<NaiveDate, i64>, line: &BTreeMap<NaiveDate, i64>, today: NaiveDate, weeks: i64, lang: Lang) -> Value {
    let start = today - Duration::days(7 * weeks - 1);
    let mut rows = Vec::new();
    for i in 0..weeks {
        let from = start + Duration::days(7 * i);
        let to = from + Duration::days(7);
        rows.push((from, sum_between(bars, from, to), sum_between(line, from, to)));
    }
    let top = nice_max(rows.iter().map(|r| r.1.max(r.2)).max().unwrap_or(0));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / weeks as f64;
    let y = |v: i64| TOP + plot_h - plot_h * v as f64 / top as f64;
    let day = |d: NaiveDate| super::i18n::date(&d.to_string(), lang).chars().take(if lang == Lang::Fr { 5 } else { 6 }).collect::<String>();
    let items: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (from, b, l))| {
            let x = LEFT + slot * i as f64;
            context! {
                x => fmt(x + slot * 0.15), w => fmt(slot * 0.7), y => fmt(y(*b)), h => fmt(TOP + plot_h - y(*b)),
                cx => fmt(x + slot / 2.0), cy => fmt(y(*l)), bars => b, line => l,
                label => day(*from), date => from.to_string(), show_label => i % 2 == 0,
            }
        })
        .collect();
    let points: Vec<String> = rows.iter().enumerate().map(|(i, (_, _, l))| format!("{},{}", fmt(LEFT + slot * (i as f64 + 0.5)), fmt(y(*l)))).collect();
    let ticks: Vec<Value> = [0, top / 2, top]
        .iter()
        .map(|v| context! { y => fmt(y(*v)), label => super::i18n::number(*v as f64, 0, lang) })
        .collect();
    context! {
        width => WIDTH, height => HEIGHT, left => LEFT, right => fmt(WIDTH - RIGHT), bottom => fmt(TOP + plot_h), label_y => fmt(HEIGHT - 8.0),
        items, points => points.join(" "), ticks, total_bars => rows.iter().map(|r| r.1).sum::<i64>(), total_line => rows.iter().map(|r| r.2).sum::<i64>(),
    }
}

/// An indicator's years: bars for the actual values, a dashed line through the targets. Drawn
/// small (a sparkline per indicator); the figures are in the page's table beside it.
pub fn yearly(points: &[(i32, Option<f64>, Option<f64>)], lang: Lang) -> Value {
    const W: f64 = 240.0;
    const H: f64 = 90.0;
    const L: f64 = 4.0;
    const B: f64 = 16.0;
    let top = points.iter().flat_map(|(_, t, a)| [*t, *a]).flatten().fold(0.0_f64, f64::max);
    let top = if top <= 0.0 { 1.0 } else { top * 1.1 };
    let slot = (W - 2.0 * L) / points.len().max(1) as f64;
    let plot_h = H - B - 4.0;
    let y = |v: f64| 4.0 + plot_h - plot_h * v.max(0.0) / top;
    let items: Vec<Value> = points
        .iter()
        .enumerate()
        .map(|(i, (year, target, actual))| {
            let x = L + slot * i as f64;
            let show = |v: &Option<f64>| v.map(|v| super::i18n::number(v, if v.fract() == 0.0 { 0 } else { 2 }, lang));
            context! {
                year, x => fmt(x + slot * 0.2), w => fmt(slot * 0.6), cx => fmt(x + slot / 2.0),
                y => actual.map(|a| fmt(y(a))), h => actual.map(|a| fmt(4.0 + plot_h - y(a))), ty => target.map(|t| fmt(y(t))),
                actual => show(actual), target => show(target),
            }
        })
        .collect();
    // The target line joins consecutive years that have a target.
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, (_, t, _))| t.map(|t| format!("{},{}", fmt(L + slot * (i as f64 + 0.5)), fmt(y(t)))))
        .collect();
    context! { width => W, height => H, bottom => fmt(4.0 + plot_h), label_y => fmt(H - 3.0), items, line => line.join(" "), has_data => points.iter().any(|p| p.1.is_some() || p.2.is_some()) }
}

/// One decimal is plenty for a 600-unit drawing.
fn fmt(v: f64) -> String {
    format!("{:.1}", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(7), 8);
        assert_eq!(nice_max(9), 20);
        assert_eq!(nice_max(41), 80);
        assert_eq!(nice_max(1234), 2000);
    }

    #[test]
    fn weeks_add_up_and_bars_scale() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let mut bars = BTreeMap::new();
        bars.insert(today, 6);
        bars.insert(today - Duration::days(6), 2); // same (last) week
        bars.insert(today - Duration::days(7), 3); // the week before
        bars.insert(today - Duration::days(400), 99); // out of range
        let line = BTreeMap::from([(today, 1)]);
        let v = weekly(&bars, &line, today, 12, Lang::Fr);
        assert_eq!(v.get_attr("total_bars").unwrap().as_i64(), Some(11));
        let items = v.get_attr("items").unwrap();
        let last = items.get_item(&Value::from(11)).unwrap();
        assert_eq!(last.get_attr("bars").unwrap().as_i64(), Some(8));
        // 8 of a top of 8: the bar fills the plot height.
        assert_eq!(last.get_attr("h").unwrap().as_str(), Some("162.0"));
        assert_eq!(last.get_attr("label").unwrap().as_str(), Some("16/11"));
        assert_eq!(items.get_item(&Value::from(10)).unwrap().get_attr("bars").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn yearly_bars_reach_their_value_and_targets_join() {
        let v = yearly(&[(2021, Some(10.0), Some(5.0)), (2022, None, None), (2023, Some(20.0), Some(22.0))], Lang::Fr);
        let items = v.get_attr("items").unwrap();
        let first = items.get_item(&Value::from(0)).unwrap();
        // Top = 22 × 1,1 = 24,2 over a plot of 70: 5 is 14,5 high.
        assert_eq!(first.get_attr("h").unwrap().as_str(), Some("14.5"));
        assert!(items.get_item(&Value::from(1)).unwrap().get_attr("h").unwrap().is_none());
        assert_eq!(v.get_attr("line").unwrap().as_str().unwrap().split(' ').count(), 2);
        assert_eq!(items.get_item(&Value::from(2)).unwrap().get_attr("actual").unwrap().as_str(), Some("22"));
    }
}
