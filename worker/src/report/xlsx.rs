//! XLSX: a "Summary" sheet (title, range, a totals table) and one sheet per metric with
//! its daily values and a line chart of them.

use chrono::Datelike;
use rust_xlsxwriter::{Chart, ExcelDateTime, Format, Workbook, XlsxError};

use super::Report;

/// The workbook's bytes.
pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    build(report).map_err(|error| format!("The Excel file could not be written: {error}"))
}

fn build(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(16);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let money = Format::new().set_num_format("#,##0.00");
    let count = Format::new().set_num_format("#,##0");
    let rate = Format::new().set_num_format("0.00\" %\"");
    let change = Format::new().set_num_format("+0.0\" %\";-0.0\" %\";0.0\" %\"");

    let summary = workbook.add_worksheet();
    summary.set_name("Summary")?;
    summary.write_string_with_format(0, 0, &report.title, &title)?;
    summary.write_string(
        1,
        0,
        format!(
            "{} to {}",
            report.range.start.format("%Y-%m-%d"),
            report.range.end.format("%Y-%m-%d")
        ),
    )?;
    summary.write_string(2, 0, super::zone_line(report))?;
    for (col, header) in ["Metric", "Total", "Change", "Trend"].iter().enumerate() {
        summary.write_string_with_format(4, col as u16, *header, &bold)?;
    }
    for (i, (metric, series)) in report.series.iter().enumerate() {
        let row = 5 + i as u32;
        summary.write_string(row, 0, metric.label())?;
        let format = number_format(*metric, &money, &count, &rate);
        summary.write_number_with_format(row, 1, series.total, format)?;
        summary.write_number_with_format(row, 2, series.change, &change)?;
        summary.write_string(row, 3, series.trend.label())?;
    }
    summary.set_column_width(0, 24)?;
    summary.set_column_width(1, 16)?;
    summary.set_column_width(2, 12)?;

    for (metric, series) in &report.series {
        let sheet = workbook.add_worksheet();
        // Sheet names: at most 31 characters, no []:*?/\ — the labels qualify.
        let name = metric.label();
        sheet.set_name(name)?;
        sheet.write_string_with_format(0, 0, "Date", &bold)?;
        sheet.write_string_with_format(0, 1, name, &bold)?;
        let format = number_format(*metric, &money, &count, &rate);
        for (i, point) in series.data_points.iter().enumerate() {
            let row = 1 + i as u32;
            let day = ExcelDateTime::from_ymd(
                u16::try_from(point.date.year()).unwrap_or(1900),
                point.date.month() as u8,
                point.date.day() as u8,
            )?;
            sheet.write_datetime_with_format(row, 0, &day, &date)?;
            sheet.write_number_with_format(row, 1, point.value, format)?;
        }
        sheet.set_column_width(0, 12)?;
        sheet.set_column_width(1, 16)?;
        let last = series.data_points.len() as u32;
        if last > 0 {
            let mut chart = Chart::new_line();
            chart
                .add_series()
                .set_name(name)
                .set_categories((name, 1, 0, last, 0))
                .set_values((name, 1, 1, last, 1));
            chart.title().set_name(name);
            chart.legend().set_hidden();
            chart.set_width(720).set_height(360);
            sheet.insert_chart(1, 3, &chart)?;
        }
    }
    workbook.save_to_buffer()
}

fn number_format<'a>(
    metric: domain::Metric,
    money: &'a Format,
    count: &'a Format,
    rate: &'a Format,
) -> &'a Format {
    match metric {
        domain::Metric::Revenue => money,
        domain::Metric::Conversion => rate,
        _ => count,
    }
}
