//! CSV: one `date,metric,value` row per day and metric (dates are local days of the
//! report's zone), then, after a blank line, a totals section
//! `metric,total,change_percent,trend`, then, after another, `time_zone,generated_at`.
//! Numbers are plain, with `.` as the decimal point.

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
            .write_record(["metric", "total", "change_percent", "trend"])
            .map_err(|e| e.to_string())?;
        for (metric, series) in &report.series {
            writer
                .write_record([
                    metric.as_str().to_owned(),
                    series.total.to_string(),
                    series.change.to_string(),
                    series.trend.as_str().to_owned(),
                ])
                .map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    out.extend_from_slice(b"\n");
    {
        let mut writer = ::csv::Writer::from_writer(&mut out);
        writer
            .write_record(["time_zone", "generated_at"])
            .map_err(|e| e.to_string())?;
        writer
            .write_record([
                report.time_zone.clone(),
                report
                    .generated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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
        let text =
            String::from_utf8(render(&super::super::tests::sample()).expect("csv")).expect("utf8");
        let sections: Vec<&str> = text.split("\n\n").collect();
        let [rows, totals, zone] = sections[..] else {
            panic!("three sections: {text}");
        };
        assert_eq!(
            zone.lines().collect::<Vec<_>>(),
            [
                "time_zone,generated_at",
                "Asia/Jakarta,2024-04-01T08:00:00Z"
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
                "metric,total,change_percent,trend",
                "revenue,1234.5,12.5,up",
                "orders,6,-25,down"
            ]
        );
    }
}
