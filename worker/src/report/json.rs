//! JSON: the result of `analytics_metrics` as it is (`metrics`, `timeZone`, `generatedAt`),
//! plus a `report` object with what a reader needs to present it: the title, language,
//! zone (name, abbreviation, offset), the generation time on the zone's clock, the
//! currency, and the headings in the report's language.

use serde_json::{json, Map, Value};

use super::Report;

/// The JSON file, pretty-printed.
pub fn render(report: &Report, raw: &Value) -> Result<Vec<u8>, String> {
    let mut file = raw.clone();
    let Some(object) = file.as_object_mut() else {
        return Err("The analytics result is not a JSON object".to_owned());
    };
    object.insert("report".to_owned(), about(report));
    serde_json::to_vec_pretty(&file).map_err(|e| e.to_string())
}

fn about(report: &Report) -> Value {
    let words = report.words();
    let zone = &report.locale.zone;
    let metrics: Map<String, Value> = report
        .series
        .iter()
        .map(|(metric, _)| {
            (
                metric.as_str().to_owned(),
                json!(words.metric_name(*metric)),
            )
        })
        .collect();
    json!({
        "title": report.title,
        "language": report.locale.lang.code(),
        "timeZone": {
            "name": zone.name,
            "abbreviation": zone.abbreviation,
            "utcOffset": zone.iso_offset(),
            "label": zone.label(),
        },
        "generatedAtLocal": zone.generated_iso(),
        "currency": {
            "code": report.locale.currency.code,
            "symbol": report.locale.currency.symbol,
        },
        "labels": {
            "title": words.analytics_report,
            "dateRange": report.range_line(),
            "timeZone": report.zone_line(),
            "generatedAt": report.generated_line(),
            "metrics": metrics,
            "total": words.total,
            "change": words.change,
            "trend": words.trend,
            "date": words.date,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{tests::sample_in, Lang};

    #[test]
    fn the_result_plus_the_reports_words() {
        let raw = json!({ "metrics": { "revenue": { "total": 1 } }, "timeZone": "Asia/Jakarta" });
        let bytes = render(&sample_in(Lang::Id), &raw).expect("json");
        let file: Value = serde_json::from_slice(&bytes).expect("parse");
        assert_eq!(file["metrics"], raw["metrics"]);
        assert_eq!(file["report"]["language"], "id");
        assert_eq!(file["report"]["timeZone"]["abbreviation"], "WIB");
        assert_eq!(file["report"]["timeZone"]["utcOffset"], "+07:00");
        assert_eq!(
            file["report"]["generatedAtLocal"],
            "2024-04-01T15:00:00+07:00"
        );
        assert_eq!(file["report"]["labels"]["metrics"]["revenue"], "Pendapatan");
        assert_eq!(file["report"]["labels"]["title"], "Laporan Analitik");
        assert!(render(&sample_in(Lang::En), &json!([1])).is_err());
    }
}
