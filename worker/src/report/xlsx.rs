//! XLSX: a summary sheet (title, range, zone, generation time, currency, a totals table)
//! and one sheet per metric with its daily values and a line chart of them, in the
//! report's language. Numbers are stored as numbers; their formats show money with the
//! currency's symbol and a locale tag (`[$Rp-421] #,##0`), and Excel shows the grouping
//! and decimal point of the reader's system.

use chrono::Datelike;
use rust_xlsxwriter::{Chart, DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use super::number::{excel_date, excel_format, EXCEL_CHANGE};
use super::Report;

/// The summary sheet's row of column headings (0-based); the totals follow it.
pub const HEADER_ROW: u32 = 6;

/// The workbook's bytes.
pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    build(report).map_err(|error| format!("The Excel file could not be written: {error}"))
}

fn build(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let words = report.words();
    let (lang, currency) = (report.locale.lang, &report.locale.currency);
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(&report.title)
            .set_subject(words.analytics_report),
    );
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(16);
    let date = Format::new().set_num_format(excel_date(lang));
    let format_of = |metric| Format::new().set_num_format(excel_format(metric, currency, lang));
    let change = Format::new().set_num_format(EXCEL_CHANGE);

    let summary = workbook.add_worksheet();
    summary.set_name(words.summary)?;
    summary.write_string_with_format(0, 0, &report.title, &title)?;
    summary.write_string(1, 0, report.range_line())?;
    summary.write_string(2, 0, report.zone_line())?;
    summary.write_string(3, 0, report.generated_line())?;
    summary.write_string(4, 0, report.currency_line())?;
    let headers = [words.metric, words.total, words.change, words.trend];
    for (col, header) in headers.iter().enumerate() {
        summary.write_string_with_format(HEADER_ROW, col as u16, *header, &bold)?;
    }
    for (i, (metric, series)) in report.series.iter().enumerate() {
        let row = HEADER_ROW + 1 + i as u32;
        summary.write_string(row, 0, words.metric_name(*metric))?;
        summary.write_number_with_format(row, 1, series.total, &format_of(*metric))?;
        summary.write_number_with_format(row, 2, series.change, &change)?;
        summary.write_string(row, 3, words.trend_name(series.trend))?;
    }
    summary.set_column_width(0, 24)?;
    summary.set_column_width(1, 16)?;
    summary.set_column_width(2, 12)?;

    for (metric, series) in &report.series {
        let sheet = workbook.add_worksheet();
        // Sheet names: at most 31 characters, no []:*?/\ — the labels qualify.
        let name = words.metric_name(*metric);
        sheet.set_name(name)?;
        sheet.write_string_with_format(0, 0, words.date, &bold)?;
        sheet.write_string_with_format(0, 1, name, &bold)?;
        let format = format_of(*metric);
        for (i, point) in series.data_points.iter().enumerate() {
            let row = 1 + i as u32;
            let day = ExcelDateTime::from_ymd(
                u16::try_from(point.date.year()).unwrap_or(1900),
                point.date.month() as u8,
                point.date.day() as u8,
            )?;
            sheet.write_datetime_with_format(row, 0, &day, &date)?;
            sheet.write_number_with_format(row, 1, point.value, &format)?;
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
            chart.title().set_name(&format!("{name} {}", words.per_day));
            chart.legend().set_hidden();
            chart.set_width(720).set_height(360);
            sheet.insert_chart(1, 3, &chart)?;
        }
    }
    workbook.save_to_buffer()
}
