//! The `analytics_report` handler end to end: each format's file, the owner's zone,
//! language and currency, and Storage failures.

use std::io::Cursor;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::files::{number_format, Pdf};
use crate::handlers::{insert_events, storage_app};
use crate::helpers::*;

/// Merges `preferences` into the test user's profile preferences.
async fn set_preferences(app: &TestApp, preferences: Value) {
    sqlx::query("update public.profiles set preferences = preferences || $2 where id = $1")
        .bind(app.user_id)
        .bind(preferences)
        .execute(&app.pool)
        .await
        .expect("preferences");
}

fn report_params(format: &str, metrics: &[&str]) -> Value {
    json!({
        "dateRange": { "start": "2024-03-01", "end": "2024-03-03" },
        "metrics": metrics,
        "format": format,
    })
}

/// Runs one analytics report task; returns (task id, the uploaded object, the report row).
async fn run_report(
    format: &str,
    metrics: &[&str],
) -> (
    TestApp,
    Uuid,
    StoredObject,
    (String, String, i64, Vec<String>, Value),
) {
    let (app, storage, deps) = storage_app().await;
    insert_events(&app).await;
    let id = app
        .task()
        .title("March report")
        .kind("analytics_report", report_params(format, metrics))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let path = format!("{}/{id}/report.{format}", app.user_id);
    let object = storage
        .get(&format!("reports/{path}"))
        .unwrap_or_else(|| panic!("uploaded; have {:?}", storage.keys()));
    assert!(object.upsert);
    let result = row.result.expect("result");
    assert_eq!(result["path"], path.as_str());
    assert_eq!(result["bucket"], "reports");
    assert_eq!(result["sizeBytes"], object.bytes.len());
    let report: (String, String, i64, Vec<String>, Value) = sqlx::query_as(
        "select title, storage_path, size_bytes, metrics, data from public.analytics_reports
          where task_id = $1 and user_id = $2 and format = $3
            and date_range_start = '2024-03-01' and date_range_end = '2024-03-03'",
    )
    .bind(id)
    .bind(app.user_id)
    .bind(format)
    .fetch_one(&app.pool)
    .await
    .expect("analytics_reports row");
    assert_eq!(report.0, "March report");
    assert_eq!(report.1, path);
    assert_eq!(report.2, object.bytes.len() as i64);
    assert_eq!(
        report.3,
        metrics.iter().map(|m| m.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(
        report.4["metrics"]["revenue"]["total"].as_f64(),
        Some(170.5)
    );
    assert!(result["reportId"].as_str().is_some());
    (app, id, object, report)
}

#[tokio::test]
async fn analytics_report_as_json_is_the_metrics_result() {
    let (_app, _id, object, report) = run_report("json", &["revenue", "orders"]).await;
    assert_eq!(object.content_type, "application/json");
    let file: Value = serde_json::from_slice(&object.bytes).expect("json file");
    // The function's result as it is, plus how to present it.
    assert_eq!(file["metrics"], report.4["metrics"]);
    assert_eq!(file["generatedAt"], report.4["generatedAt"]);
    assert_eq!(file["timeZone"], "UTC");
    assert_eq!(file["report"]["language"], "en");
    assert_eq!(file["report"]["currency"]["code"], "IDR");
    assert_eq!(file["report"]["timeZone"]["utcOffset"], "+00:00");
    assert_eq!(file["report"]["labels"]["metrics"]["revenue"], "Revenue");
    assert_eq!(file["metrics"]["orders"]["total"].as_f64(), Some(3.0));
    let points = file["metrics"]["revenue"]["dataPoints"]
        .as_array()
        .expect("points");
    assert_eq!(points.len(), 3);
}

#[tokio::test]
async fn analytics_report_as_csv_has_daily_rows_and_totals() {
    let (_app, _id, object, _) = run_report("csv", &["revenue", "orders", "conversion"]).await;
    assert_eq!(object.content_type, "text/csv");
    let text = String::from_utf8(object.bytes).expect("utf8");
    let sections: Vec<&str> = text.split("\n\n").collect();
    let [rows, totals, zone] = sections[..] else {
        panic!("three sections: {text}");
    };
    // The test user has no zone or language preference: UTC days, English labels.
    let mut reader = csv::Reader::from_reader(zone.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec![
            "time_zone",
            "generated_at",
            "utc_offset",
            "generated_at_local",
            "language",
            "currency",
            "title"
        ]
    );
    let about = reader.records().next().expect("row").expect("row");
    assert_eq!(&about[0], "UTC");
    assert_eq!(&about[2], "+00:00");
    assert_eq!(&about[4], "en");
    assert_eq!(&about[5], "IDR");
    assert_eq!(&about[6], "March report");
    let mut reader = csv::Reader::from_reader(rows.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec!["date", "metric", "value"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0], vec!["2024-03-01", "revenue", "150.5"]);
    assert_eq!(rows[1], vec!["2024-03-01", "orders", "2"]);
    assert_eq!(rows[2], vec!["2024-03-01", "conversion", "25"]);
    assert_eq!(rows[3], vec!["2024-03-02", "revenue", "20"]);
    assert_eq!(rows[8], vec!["2024-03-03", "conversion", "0"]);
    let mut reader = csv::Reader::from_reader(totals.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec!["metric", "total", "change_percent", "trend", "label"]
    );
    let totals: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(totals[0], vec!["revenue", "170.5", "100", "up", "Revenue"]);
    assert_eq!(totals[1], vec!["orders", "3", "100", "up", "Orders"]);
    assert_eq!(
        totals[2][0..2],
        ["conversion".to_owned(), "16.67".to_owned()]
    );
}

#[tokio::test]
async fn analytics_report_as_xlsx_has_a_summary_and_a_sheet_per_metric() {
    use calamine::{Data, Reader, Xlsx};
    let (_app, _id, object, _) = run_report("xlsx", &["revenue", "users"]).await;
    assert_eq!(
        object.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(object.bytes)).expect("xlsx");
    assert_eq!(
        workbook.sheet_names(),
        vec!["Summary", "Revenue", "New users"]
    );
    let summary = workbook.worksheet_range("Summary").expect("summary");
    assert_eq!(
        summary.get_value((0, 0)),
        Some(&Data::String("March report".into()))
    );
    assert_eq!(
        summary.get_value((2, 0)),
        Some(&Data::String("Time zone: UTC".into()))
    );
    assert_eq!(
        summary.get_value((6, 1)),
        Some(&Data::String("Total".into()))
    );
    assert_eq!(
        summary.get_value((7, 0)),
        Some(&Data::String("Revenue".into()))
    );
    assert_eq!(summary.get_value((7, 1)), Some(&Data::Float(170.5)));
    assert_eq!(
        summary.get_value((8, 0)),
        Some(&Data::String("New users".into()))
    );
    assert_eq!(summary.get_value((8, 1)), Some(&Data::Float(1.0)));
    let revenue = workbook.worksheet_range("Revenue").expect("revenue");
    assert_eq!(
        revenue.get_value((0, 1)),
        Some(&Data::String("Revenue".into()))
    );
    assert_eq!(revenue.get_value((1, 1)), Some(&Data::Float(150.5)));
    assert_eq!(revenue.get_value((3, 1)), Some(&Data::Float(0.0)));
    match revenue.get_value((1, 0)) {
        Some(Data::DateTime(date)) => {
            // Excel's serial day number of 2024-03-01.
            assert_eq!(date.as_f64(), 45352.0);
        }
        other => panic!("a date, got {other:?}"),
    }
}

#[tokio::test]
async fn analytics_report_as_pdf_is_a_readable_document() {
    let (_app, _id, object, _) = run_report("pdf", &["revenue", "orders", "visits"]).await;
    assert_eq!(object.content_type, "application/pdf");
    let pdf = Pdf::open(&object.bytes);
    // A title page, two pages of charts (two to a page), one of daily values.
    assert_eq!(pdf.pages(), 4);
    let text = pdf.text();
    for expected in [
        "Analytics report",
        "March report",
        "Date range: 2024-03-01 to 2024-03-03 (3 days)",
        "Time zone: UTC",
        "Generated at: ",
        "Currency: IDR (Rp)",
        "Totals",
        "Revenue",
        "Rp 170.50",
        "+100.0 %",
        "Visits per day",
        "Daily values",
        "2024-03-02",
        "page 1 of 4",
        "page 4 of 4",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text:?}");
    }
}

#[tokio::test]
async fn a_zone_the_database_does_not_know_gives_a_utc_report_not_a_failure() {
    let (app, storage, deps) = storage_app().await;
    set_preferences(&app, json!({"timezone": "Mars/Olympus"})).await;
    let id = app
        .task()
        .kind("analytics_report", report_params("json", &["revenue"]))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let object = storage
        .get(&format!("reports/{}/{id}/report.json", app.user_id))
        .expect("uploaded");
    let file: Value = serde_json::from_slice(&object.bytes).expect("json");
    assert_eq!(file["timeZone"], "UTC");
    assert_eq!(file["report"]["timeZone"]["label"], "UTC");
}

#[tokio::test]
async fn a_report_counts_the_owners_local_days_and_names_the_zone() {
    let (app, storage, deps) = storage_app().await;
    set_preferences(&app, json!({"timezone": "Asia/Jakarta"})).await;
    // 18:30 UTC on 1 March is 01:30 on 2 March in Jakarta (UTC+7); 16:59 UTC is still 1 March.
    sqlx::query(
        "insert into public.business_events (user_id, event_type, amount, occurred_at) values
           ($1, 'order', 10, '2024-03-01 18:30Z'), ($1, 'order', 5, '2024-03-01 16:59Z'),
           ($1, 'order', 7, '2024-03-03 17:00Z')",
    )
    .bind(app.user_id)
    .execute(&app.pool)
    .await
    .expect("events");
    let id = app
        .task()
        .title("Jakarta report")
        .kind("analytics_report", report_params("csv", &["revenue"]))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let object = storage
        .get(&format!("reports/{}/{id}/report.csv", app.user_id))
        .expect("uploaded");
    let text = String::from_utf8(object.bytes).expect("utf8");
    let sections: Vec<&str> = text.split("\n\n").collect();
    let [rows, totals, zone] = sections[..] else {
        panic!("three sections: {text}");
    };
    // 17:00 UTC on 3 March is 4 March in Jakarta: outside the range.
    assert_eq!(
        rows.lines().collect::<Vec<_>>(),
        [
            "date,metric,value",
            "2024-03-01,revenue,5",
            "2024-03-02,revenue,10",
            "2024-03-03,revenue,0"
        ]
    );
    assert!(totals.contains("revenue,15,"), "{totals}");
    assert!(
        zone.starts_with(
            "time_zone,generated_at,utc_offset,generated_at_local,language,currency,title\n\
             Asia/Jakarta,"
        ),
        "{zone}"
    );
    assert!(zone.contains(",+07:00,"), "{zone}");
}

#[tokio::test]
async fn a_report_without_storage_configured_fails_with_a_clear_message() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let id = app
        .task()
        .kind("analytics_report", report_params("csv", &["revenue"]))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some("This worker cannot reach Storage: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY in its configuration, then retry the task")
    );
}

#[tokio::test]
async fn a_storage_outage_is_retried() {
    let (app, storage, deps) = storage_app().await;
    storage
        .unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let id = app
        .task()
        .kind("analytics_report", report_params("json", &["revenue"]))
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(id)
    );
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "pending");
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("Storage is unavailable")),
        "{:?}",
        row.last_error
    );
    storage
        .unavailable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    drain(&deps).await;
    assert_eq!(task_row(&app.pool, id).await.status, "completed");
}

/// Runs a report for an owner who reads Indonesian in Jakarta; returns the file.
async fn indonesian_report(format: &str, metrics: &[&str]) -> Vec<u8> {
    let (app, storage, deps) = storage_app().await;
    set_preferences(&app, json!({"language": "id", "timezone": "Asia/Jakarta"})).await;
    insert_events(&app).await;
    let id = app
        .task()
        .title("Laporan Maret")
        .kind("analytics_report", report_params(format, metrics))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    storage
        .get(&format!("reports/{}/{id}/report.{format}", app.user_id))
        .expect("uploaded")
        .bytes
}

#[tokio::test]
async fn an_indonesian_owners_pdf_has_her_words_zone_rupiah_and_charts() {
    let bytes = indonesian_report("pdf", &["revenue", "orders", "conversion"]).await;
    let pdf = Pdf::open(&bytes);
    assert_eq!(pdf.pages(), 4);
    let text = pdf.text();
    for expected in [
        "Laporan Analitik",
        "Laporan Maret",
        "Rentang tanggal: 2024-03-01 sampai 2024-03-03 (3 hari)",
        "Zona waktu: Asia/Jakarta (WIB, UTC+7)",
        "Dibuat pada: ",
        " WIB",
        "Mata uang: IDR (Rp)",
        "Metrik",
        "Perubahan",
        "Pendapatan",
        "Rp 170,50",
        "+100,0 %",
        "Naik",
        "Pesanan per hari",
        "Konversi per hari",
        "Nilai harian",
        "Rp 150,50",
        "halaman 4 dari 4",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text:?}");
    }
    assert!(!text.contains("Revenue"), "{text}");
    // The text is in an embedded DejaVu Sans, not a reader's stand-in.
    let fonts = pdf.embedded_fonts();
    assert!(
        !fonts.is_empty() && fonts.iter().all(|f| f.contains("DejaVuSans")),
        "{fonts:?}"
    );
    // Page 2 charts revenue and orders as vector bars: one filled path per day and
    // metric at least, besides the grid's stroked lines.
    let operators = pdf.operators(2);
    let fills = operators.get("f").copied().unwrap_or(0);
    let strokes = operators.get("S").copied().unwrap_or(0);
    assert!(fills >= 2 * 3, "{operators:?}");
    assert!(strokes >= 2 * 3, "{operators:?}");
}

#[tokio::test]
async fn an_indonesian_owners_workbook_has_her_headings_and_rupiah_formats() {
    use calamine::{Data, Reader, Xlsx};
    let bytes = indonesian_report("xlsx", &["revenue", "users"]).await;
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).expect("xlsx");
    assert_eq!(
        workbook.sheet_names(),
        vec!["Ringkasan", "Pendapatan", "Pengguna baru"]
    );
    let summary = workbook.worksheet_range("Ringkasan").expect("summary");
    let text = |row, col| match summary.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("text at ({row}, {col}), got {other:?}"),
    };
    assert_eq!(text(0, 0), "Laporan Maret");
    assert_eq!(
        text(1, 0),
        "Rentang tanggal: 2024-03-01 sampai 2024-03-03 (3 hari)"
    );
    assert_eq!(text(2, 0), "Zona waktu: Asia/Jakarta (WIB, UTC+7)");
    assert!(text(3, 0).starts_with("Dibuat pada: 20"), "{}", text(3, 0));
    assert!(text(3, 0).ends_with(" WIB"), "{}", text(3, 0));
    assert_eq!(text(4, 0), "Mata uang: IDR (Rp)");
    assert_eq!(
        [text(6, 0), text(6, 1), text(6, 2), text(6, 3)],
        ["Metrik", "Total", "Perubahan", "Tren"]
    );
    assert_eq!(text(7, 0), "Pendapatan");
    assert_eq!(summary.get_value((7, 1)), Some(&Data::Float(170.5)));
    assert_eq!(text(7, 3), "Naik");
    let revenue = workbook.worksheet_range("Pendapatan").expect("revenue");
    assert_eq!(
        revenue.get_value((0, 0)),
        Some(&Data::String("Tanggal".into()))
    );
    assert_eq!(revenue.get_value((1, 1)), Some(&Data::Float(150.5)));

    // Number formats: rupiah with the Indonesian locale tag, counts grouped, Indonesian
    // day/month/year dates, changes in percent.
    let summary_sheet = "xl/worksheets/sheet1.xml";
    assert_eq!(
        number_format(&bytes, summary_sheet, "B8"),
        "[$Rp-421] #,##0"
    );
    assert_eq!(number_format(&bytes, summary_sheet, "B9"), "#,##0");
    assert_eq!(
        number_format(&bytes, summary_sheet, "C8"),
        "+0.0\" %\";-0.0\" %\";0.0\" %\""
    );
    let revenue_sheet = "xl/worksheets/sheet2.xml";
    assert_eq!(number_format(&bytes, revenue_sheet, "A2"), "dd/mm/yyyy");
    assert_eq!(
        number_format(&bytes, revenue_sheet, "B2"),
        "[$Rp-421] #,##0"
    );
}
