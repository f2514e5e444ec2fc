//! The database validates task parameters too (`private.task_parameters_error`, called by
//! the tasks trigger), so that a client that skips the SPA meets the same rules. This test
//! proves both say the same thing: for each case, `domain` and PostgreSQL agree on valid vs
//! invalid, and on the exact message a user reads.

use domain::{TaskParameters, TaskType};
use serde_json::{json, Value};

fn cases() -> Vec<(TaskType, Value)> {
    use TaskType::*;
    let range = json!({"start": "2024-01-01", "end": "2024-01-31"});
    vec![
        // analytics_report
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue", "users"], "format": "pdf"}),
        ),
        (
            AnalyticsReport,
            json!({"metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": "last week", "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2024-01-01"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2024-1-1", "end": "2024-01-31"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2024-02-30", "end": "2024-03-31"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2024-03-01", "end": "2024-01-31"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2024-01-01", "end": "2024-12-31"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2023-01-01", "end": "2024-01-01"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": {"start": "2024-01-01", "end": "2024-01-02", "tz": "UTC"}, "metrics": ["revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": [], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": "revenue", "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue", "profit"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue", 3], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue", "revenue"], "format": "csv"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue"], "format": "docx"}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue"]}),
        ),
        (
            AnalyticsReport,
            json!({"dateRange": range, "metrics": ["revenue"], "format": "csv", "extra": 1}),
        ),
        (AnalyticsReport, json!(["not", "an", "object"])),
        // http_request
        (
            HttpRequest,
            json!({"method": "GET", "url": "https://example.com/health"}),
        ),
        (
            HttpRequest,
            json!({"method": "POST", "url": "http://127.0.0.1:8080/hook?x=1", "headers": {"X-Token": "abc"}, "body": {"a": 1}, "timeoutSecs": 10}),
        ),
        (
            HttpRequest,
            json!({"method": "get", "url": "https://example.com"}),
        ),
        (HttpRequest, json!({"method": "GET"})),
        (HttpRequest, json!({"method": "GET", "url": "  "})),
        (
            HttpRequest,
            json!({"method": "GET", "url": "ftp://example.com/file"}),
        ),
        (HttpRequest, json!({"method": "GET", "url": "example.com"})),
        (
            HttpRequest,
            json!({"method": "GET", "url": format!("https://example.com/{}", "a".repeat(2100))}),
        ),
        (
            HttpRequest,
            json!({"method": "GET", "url": "https://example.com", "headers": ["X-A"]}),
        ),
        (
            HttpRequest,
            json!({"method": "GET", "url": "https://example.com", "headers": {"X Bad": "1"}}),
        ),
        (
            HttpRequest,
            json!({"method": "GET", "url": "https://example.com", "headers": {"X-Evil": "a\r\nb"}}),
        ),
        (
            HttpRequest,
            json!({"method": "GET", "url": "https://example.com", "headers": {"X-Num": 1}}),
        ),
        (
            HttpRequest,
            json!({"method": "GET", "url": "https://example.com", "body": "x"}),
        ),
        (
            HttpRequest,
            json!({"method": "POST", "url": "https://example.com", "timeoutSecs": 0}),
        ),
        (
            HttpRequest,
            json!({"method": "POST", "url": "https://example.com", "timeoutSecs": 61}),
        ),
        (
            HttpRequest,
            json!({"method": "POST", "url": "https://example.com", "timeoutSecs": 2.5}),
        ),
        // data_export
        (DataExport, json!({"dataset": "events", "format": "csv"})),
        (
            DataExport,
            json!({"dataset": "tasks", "format": "json", "dateRange": range}),
        ),
        (DataExport, json!({"dataset": "users", "format": "csv"})),
        (DataExport, json!({"dataset": "events", "format": "xlsx"})),
        // data_import
        (
            DataImport,
            json!({"path": "22222222-2222-4222-8222-222222222222/events.csv"}),
        ),
        (DataImport, json!({})),
        (DataImport, json!({"path": "/etc/passwd.csv"})),
        (DataImport, json!({"path": "a/../b.csv"})),
        (DataImport, json!({"path": "a//b.csv"})),
        (DataImport, json!({"path": "a/b.txt"})),
        // cleanup
        (Cleanup, json!({})),
        (Cleanup, json!({"retentionDays": 30})),
        (Cleanup, json!({"retentionDays": 0})),
        (Cleanup, json!({"retentionDays": 4000})),
        (Cleanup, json!({"keep": 1})),
    ]
}

#[tokio::test]
async fn the_database_and_domain_give_the_same_verdict_and_message() {
    let db = testkit::fresh_database(testkit::Template::Empty)
        .await
        .expect("a test database");
    let mut disagreements = Vec::new();
    for (task_type, params) in cases() {
        let from_domain = TaskParameters::parse(task_type, &params)
            .err()
            .map(|e| e.to_string());
        let from_sql: Option<String> =
            sqlx::query_scalar("select private.task_parameters_error($1, $2)")
                .bind(task_type.as_str())
                .bind(&params)
                .fetch_one(&db.pool)
                .await
                .expect("the validation function runs");
        if from_domain != from_sql {
            disagreements.push(format!(
                "{task_type} {params}\n  domain: {from_domain:?}\n  sql:    {from_sql:?}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "domain and SQL disagree:\n{}",
        disagreements.join("\n")
    );
}

#[tokio::test]
async fn every_default_example_is_accepted_by_the_database() {
    let db = testkit::fresh_database(testkit::Template::Empty)
        .await
        .expect("a test database");
    for task_type in TaskType::ALL {
        let params = task_type.default_parameters().to_json();
        let error: Option<String> =
            sqlx::query_scalar("select private.task_parameters_error($1, $2)")
                .bind(task_type.as_str())
                .bind(&params)
                .fetch_one(&db.pool)
                .await
                .expect("the validation function runs");
        assert_eq!(
            error, None,
            "{task_type}'s example {params} is refused by the database"
        );
    }
}
