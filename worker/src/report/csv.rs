//! CSV, for machines first: one `date,metric,value` row per day and metric (dates are
//! local days of the report's zone), then, after a blank line, a totals section
//! `metric,total,change_percent,trend,label`, then, after another, one row of
//! `time_zone,generated_at,utc_offset,generated_at_local,language,currency,title`.
//!
//! Column names and the values of `metric` and `trend` are fixed identifiers in every
//! language, so a program reads any report the same way; what is for people is in the
//! report's language as values: `label` (the metric's name, `Pendapatan`) and `title`.
//! Numbers are plain, without grouping, with `.` as the decimal point in every language;
//! amounts are in `currency`.

use super::Report;

/// The CSV file.
pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut writer = ::csv::Writer::from_writer(&mut out);
        writer
            .write_record(["date", "metric", "value"])
            .map_err(|e| e.to_string())?;
        for date in report.dates() {
            for (index, (metric, _)) in report.series.iter().enumerate() {
                if let Some(value) = report.value(index, date) {
                    writer
                        .write_record([
                            date.format("%Y-%m-%d").to_string(),
                            metric.as_str().to_owned(),
                            value.to_string(),
                        ])
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    out.extend_from_slice(b"\n");
    {
        let mut writer = ::csv::Writer::from_writer(&mut out);
        writer
            .write_record(["metric", "total", "change_percent", "trend", "label"])
            .map_err(|e| e.to_string())?;
        for (metric, series) in &report.series {
            writer
                .write_record([
                    metric.as_str().to_owned(),
                    series.total.to_string(),
                    series.change.to_string(),
                    series.trend.as_str().to_owned(),
                    report.words().metric_name(*metric).to_owned(),
                ])
                .map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    out.extend_from_slice(b"\n");
    {
        let mut writer = ::csv::Writer::from_writer(&mut out);
        writer
            .write_record([
                "time_zone",
                "generated_at",
                "utc_offset",
                "generated_at_local",
                "language",
                "currency",
                "title",
            ])
            .map_err(|e| e.to_string())?;
        let zone = &report.locale.zone;
        writer
            .write_record([
                zone.name.clone(),
                report
                    .generated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                zone.iso_offset(),
                zone.generated_iso(),
                report.locale.lang.code().to_owned(),
                report.locale.currency.code.clone(),
                report.title.clone(),
            ])
            .map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_then_totals_then_zone() {
        let report = super::super::tests::sample_in(crate::report::Lang::Id);
        let text = String::from_utf8(render(&report).expect("csv")).expect("utf8");
        let sections: Vec<&str> = text.split("\n\n").collect();
        let [rows, totals, zone] = sections[..] else {
            panic!("three sections: {text}");
        };
        assert_eq!(
            zone.lines().collect::<Vec<_>>(),
            [
                "time_zone,generated_at,utc_offset,generated_at_local,language,currency,title",
                "Asia/Jakarta,2024-04-01T08:00:00Z,+07:00,2024-04-01T15:00:00+07:00,id,IDR,Q1 (test) report"
            ]
        );
        let rows: Vec<&str> = rows.lines().collect();
        assert_eq!(rows[0], "date,metric,value");
        assert_eq!(rows[1], "2024-03-01,revenue,1000");
        assert_eq!(rows[2], "2024-03-01,orders,3");
        assert_eq!(rows.len(), 1 + 3 * 2);
        let totals: Vec<&str> = totals.lines().collect();
        assert_eq!(
            totals,
            vec![
                "metric,total,change_percent,trend,label",
                "revenue,1234.5,12.5,up,Pendapatan",
                "orders,6,-25,down,Pesanan"
            ]
        );
    }
}
