//! The string enums stored in `text` columns with a CHECK constraint.
//!
//! Each enum has one canonical spelling per variant — the value in SQL, in JSON and in
//! `Display`/`FromStr` — an `ALL` slice in declaration order, `VALUES` (the same as
//! strings) and a `label()` for people. Parsing is exact: `"Pending"` is not `pending`,
//! just as the database's CHECK constraint would reject it.

/// Declares a string enum with its SQL spelling and human label per variant.
///
/// `rename_all` must produce the same spelling as the explicit strings; a test in each
/// module checks serde's output against `as_str()`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            kind = $kind:literal,
            rename_all = $rename:tt,
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $value:literal => $label:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = $rename)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
        #[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = $rename))]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every value as it is spelled in SQL and JSON, in declaration order.
            pub const VALUES: &'static [&'static str] = &[$($value),+];

            /// What is being parsed, in words, for error messages.
            pub const KIND: &'static str = $kind;

            /// The value as stored in SQL and sent in JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }

            /// A name for people, e.g. in a select box.
            pub const fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|variant| variant.as_str() == s)
                    .ok_or_else(|| $crate::DomainError::UnknownValue {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: Self::VALUES,
                    })
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::DomainError;

            fn try_from(s: &str) -> Result<Self, $crate::DomainError> {
                s.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                value.as_str()
            }
        }
    };
}

pub(crate) use string_enum;

string_enum! {
    /// What a task does; each type has its own parameters ([`crate::TaskParameters`]).
    pub enum TaskType {
        kind = "task type",
        rename_all = "snake_case",
        /// Metrics over a date range, saved as a report file.
        AnalyticsReport = "analytics_report" => "Analytics report",
        /// Tasks or business events written to a CSV or JSON file.
        DataExport = "data_export" => "Data export",
        /// Business events read from a CSV file in Storage.
        DataImport = "data_import" => "Data import",
        /// One bounded outgoing HTTP call.
        HttpRequest = "http_request" => "HTTP request",
        /// Deletes old execution logs (admins only).
        Cleanup = "cleanup" => "Cleanup",
    }
}

string_enum! {
    /// Where a task is in its life. New tasks start `Pending` (the default).
    #[derive(Default)]
    pub enum TaskStatus {
        kind = "task status",
        rename_all = "snake_case",
        /// Waiting for a worker (or for its scheduled time, or for a retry).
        #[default]
        Pending = "pending" => "Pending",
        /// Claimed by a worker.
        Running = "running" => "Running",
        /// Finished successfully.
        Completed = "completed" => "Completed",
        /// Gave up after its last attempt.
        Failed = "failed" => "Failed",
        /// Stopped by its owner or an admin.
        Cancelled = "cancelled" => "Cancelled",
    }
}

impl TaskStatus {
    /// `true` once the task will not run again: completed, failed or cancelled.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

string_enum! {
    /// How soon a task should run. Ordered: `Low < Medium < High < Urgent`; the default
    /// is `Medium`.
    #[derive(PartialOrd, Ord, Default)]
    pub enum TaskPriority {
        kind = "priority",
        rename_all = "snake_case",
        /// Runs when nothing more important waits.
        Low = "low" => "Low",
        /// The default.
        #[default]
        Medium = "medium" => "Medium",
        /// Runs before low and medium tasks.
        High = "high" => "High",
        /// Runs first.
        Urgent = "urgent" => "Urgent",
    }
}

impl TaskPriority {
    /// 0 for low up to 3 for urgent, the order in which workers claim tasks
    /// (the SQL claim query sorts by the same rank, highest first).
    pub const fn rank(self) -> u8 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::Urgent => 3,
        }
    }
}

string_enum! {
    /// The outcome of one attempt at a task (one `task_executions` row).
    pub enum ExecutionStatus {
        kind = "execution status",
        rename_all = "snake_case",
        /// The attempt is in progress.
        Running = "running" => "Running",
        /// The attempt succeeded.
        Completed = "completed" => "Completed",
        /// The attempt failed (the task may be retried).
        Failed = "failed" => "Failed",
        /// The attempt was stopped because the task was cancelled.
        Cancelled = "cancelled" => "Cancelled",
    }
}

impl ExecutionStatus {
    /// `true` once the attempt has ended.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Running)
    }
}

string_enum! {
    /// Severity of an execution log line. Ordered: `Debug < Info < Warn < Error`.
    #[derive(PartialOrd, Ord)]
    pub enum LogLevel {
        kind = "log level",
        rename_all = "snake_case",
        /// Detail for developers.
        Debug = "debug" => "Debug",
        /// A step happened.
        Info = "info" => "Info",
        /// Something looked wrong but the attempt went on.
        Warn = "warn" => "Warning",
        /// The attempt failed.
        Error = "error" => "Error",
    }
}

string_enum! {
    /// The file format of an analytics report.
    pub enum ReportFormat {
        kind = "report format",
        rename_all = "snake_case",
        /// The analytics result as JSON.
        Json = "json" => "JSON",
        /// One row per metric and day.
        Csv = "csv" => "CSV",
        /// An Excel workbook.
        Xlsx = "xlsx" => "Excel (XLSX)",
        /// A printable document.
        Pdf = "pdf" => "PDF",
    }
}

impl ReportFormat {
    /// The file name extension, without the dot (the same as the value).
    pub const fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The media type to upload and download the file with.
    pub const fn mime_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pdf => "application/pdf",
        }
    }
}

string_enum! {
    /// A measure computed from business events (see [`crate::metrics`] for definitions).
    ///
    /// Ordered by declaration so it can key a `BTreeMap`.
    #[derive(PartialOrd, Ord)]
    pub enum Metric {
        kind = "metric",
        rename_all = "snake_case",
        /// Sum of the amounts of `order` events.
        Revenue = "revenue" => "Revenue",
        /// Number of `signup` events.
        Users = "users" => "New users",
        /// `conversion` events per `visit` event, in percent.
        Conversion = "conversion" => "Conversion rate",
        /// Number of `order` events.
        Orders = "orders" => "Orders",
        /// Number of `visit` events.
        Visits = "visits" => "Visits",
    }
}

impl Metric {
    /// `true` for a ratio (conversion, in percent), whose total is not the sum of its
    /// daily values; `false` for sums and counts.
    pub const fn is_rate(self) -> bool {
        matches!(self, Self::Conversion)
    }
}

string_enum! {
    /// What a user may do. Only an admin can change a role.
    pub enum UserRole {
        kind = "role",
        rename_all = "snake_case",
        /// Manages users and sees the whole system.
        Admin = "admin" => "Admin",
        /// Creates and runs tasks, reads analytics.
        BusinessUser = "business_user" => "Business user",
        /// Read-only access.
        Guest = "guest" => "Guest",
    }
}

impl UserRole {
    /// `true` for admins.
    pub const fn is_admin(self) -> bool {
        matches!(self, Self::Admin)
    }
}

string_enum! {
    /// The kind of a business event, the raw material of analytics.
    pub enum EventType {
        kind = "event type",
        rename_all = "snake_case",
        /// A purchase; its amount is revenue.
        Order = "order" => "Order",
        /// A new user signed up.
        Signup = "signup" => "Sign-up",
        /// A visit to the shop or site.
        Visit = "visit" => "Visit",
        /// A visit that led to the goal.
        Conversion = "conversion" => "Conversion",
    }
}

string_enum! {
    /// The method of an `http_request` task. Upper-case, as on the wire.
    pub enum HttpMethod {
        kind = "HTTP method",
        rename_all = "UPPERCASE",
        /// Read a resource.
        Get = "GET" => "GET",
        /// Create or submit.
        Post = "POST" => "POST",
        /// Replace.
        Put = "PUT" => "PUT",
        /// Modify.
        Patch = "PATCH" => "PATCH",
        /// Remove.
        Delete = "DELETE" => "DELETE",
        /// Headers only.
        Head = "HEAD" => "HEAD",
    }
}

impl HttpMethod {
    /// `false` for GET and HEAD, which must not carry a body.
    pub const fn allows_body(self) -> bool {
        !matches!(self, Self::Get | Self::Head)
    }
}

string_enum! {
    /// What a `data_export` task exports.
    pub enum ExportDataset {
        kind = "export dataset",
        rename_all = "snake_case",
        /// The owner's tasks.
        Tasks = "tasks" => "Tasks",
        /// The owner's business events.
        Events = "events" => "Business events",
    }
}

string_enum! {
    /// The file format of a `data_export` task.
    pub enum ExportFormat {
        kind = "export format",
        rename_all = "snake_case",
        /// Comma-separated values with a header row.
        Csv = "csv" => "CSV",
        /// A JSON array of objects.
        Json = "json" => "JSON",
    }
}

impl ExportFormat {
    /// The file name extension, without the dot (the same as the value).
    pub const fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The media type to upload and download the file with.
    pub const fn mime_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv",
            Self::Json => "application/json",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::str::FromStr;

    use super::*;
    use crate::DomainError;

    /// For every variant: `Display` and `FromStr` round-trip, serde writes the same
    /// string, `VALUES` agrees with `ALL`, and the label is not empty.
    fn check_round_trips<T>(all: &[T], values: &[&str], expected: &[&str])
    where
        T: Copy
            + fmt::Debug
            + fmt::Display
            + PartialEq
            + FromStr<Err = DomainError>
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        assert_eq!(values, expected, "VALUES must list the SQL values in order");
        assert_eq!(all.len(), values.len());
        for (variant, value) in all.iter().zip(values) {
            assert_eq!(variant.to_string(), *value);
            assert_eq!(value.parse::<T>().expect("a listed value parses"), *variant);
            let json = serde_json::to_value(variant).expect("serializes");
            assert_eq!(json, serde_json::Value::String((*value).to_owned()));
            let back: T = serde_json::from_value(json).expect("deserializes");
            assert_eq!(back, *variant);
        }
    }

    #[test]
    fn task_type_round_trips() {
        check_round_trips(
            TaskType::ALL,
            TaskType::VALUES,
            &[
                "analytics_report",
                "data_export",
                "data_import",
                "http_request",
                "cleanup",
            ],
        );
        assert_eq!(TaskType::AnalyticsReport.label(), "Analytics report");
        assert_eq!(TaskType::HttpRequest.label(), "HTTP request");
    }

    #[test]
    fn task_status_round_trips() {
        check_round_trips(
            TaskStatus::ALL,
            TaskStatus::VALUES,
            &["pending", "running", "completed", "failed", "cancelled"],
        );
    }

    #[test]
    fn terminal_statuses() {
        let terminal: Vec<_> = TaskStatus::ALL
            .iter()
            .filter(|status| status.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                &TaskStatus::Completed,
                &TaskStatus::Failed,
                &TaskStatus::Cancelled
            ]
        );
        assert!(!ExecutionStatus::Running.is_terminal());
        assert!(ExecutionStatus::Failed.is_terminal());
        assert_eq!(TaskStatus::default(), TaskStatus::Pending);
    }

    #[test]
    fn task_priority_round_trips_and_orders() {
        check_round_trips(
            TaskPriority::ALL,
            TaskPriority::VALUES,
            &["low", "medium", "high", "urgent"],
        );
        assert!(TaskPriority::Urgent > TaskPriority::High);
        assert!(TaskPriority::High > TaskPriority::Medium);
        assert!(TaskPriority::Medium > TaskPriority::Low);
        let ranks: Vec<u8> = TaskPriority::ALL.iter().map(|p| p.rank()).collect();
        assert_eq!(ranks, [0, 1, 2, 3]);
        assert_eq!(TaskPriority::default(), TaskPriority::Medium);
    }

    #[test]
    fn execution_status_round_trips() {
        check_round_trips(
            ExecutionStatus::ALL,
            ExecutionStatus::VALUES,
            &["running", "completed", "failed", "cancelled"],
        );
    }

    #[test]
    fn log_level_round_trips() {
        check_round_trips(
            LogLevel::ALL,
            LogLevel::VALUES,
            &["debug", "info", "warn", "error"],
        );
        assert!(LogLevel::Error > LogLevel::Warn);
    }

    #[test]
    fn report_format_round_trips() {
        check_round_trips(
            ReportFormat::ALL,
            ReportFormat::VALUES,
            &["json", "csv", "xlsx", "pdf"],
        );
        let mimes: Vec<_> = ReportFormat::ALL.iter().map(|f| f.mime_type()).collect();
        assert_eq!(
            mimes,
            [
                "application/json",
                "text/csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/pdf",
            ]
        );
        assert_eq!(ReportFormat::Xlsx.extension(), "xlsx");
    }

    #[test]
    fn metric_round_trips() {
        check_round_trips(
            Metric::ALL,
            Metric::VALUES,
            &["revenue", "users", "conversion", "orders", "visits"],
        );
        assert!(Metric::Conversion.is_rate());
        assert!(!Metric::Revenue.is_rate());
    }

    #[test]
    fn user_role_round_trips() {
        check_round_trips(
            UserRole::ALL,
            UserRole::VALUES,
            &["admin", "business_user", "guest"],
        );
        assert_eq!(UserRole::BusinessUser.label(), "Business user");
        assert!(UserRole::Admin.is_admin());
    }

    #[test]
    fn event_type_round_trips() {
        check_round_trips(
            EventType::ALL,
            EventType::VALUES,
            &["order", "signup", "visit", "conversion"],
        );
    }

    #[test]
    fn http_method_round_trips_upper_case() {
        check_round_trips(
            HttpMethod::ALL,
            HttpMethod::VALUES,
            &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
        );
        assert!("get".parse::<HttpMethod>().is_err());
        assert!(!HttpMethod::Head.allows_body());
        assert!(HttpMethod::Patch.allows_body());
    }

    #[test]
    fn export_enums_round_trip() {
        check_round_trips(
            ExportDataset::ALL,
            ExportDataset::VALUES,
            &["tasks", "events"],
        );
        check_round_trips(ExportFormat::ALL, ExportFormat::VALUES, &["csv", "json"]);
        assert_eq!(ExportFormat::Csv.mime_type(), "text/csv");
    }

    #[test]
    fn labels_are_never_empty() {
        let labels = TaskType::ALL
            .iter()
            .map(|v| v.label())
            .chain(TaskStatus::ALL.iter().map(|v| v.label()))
            .chain(TaskPriority::ALL.iter().map(|v| v.label()))
            .chain(ExecutionStatus::ALL.iter().map(|v| v.label()))
            .chain(LogLevel::ALL.iter().map(|v| v.label()))
            .chain(ReportFormat::ALL.iter().map(|v| v.label()))
            .chain(Metric::ALL.iter().map(|v| v.label()))
            .chain(UserRole::ALL.iter().map(|v| v.label()))
            .chain(EventType::ALL.iter().map(|v| v.label()))
            .chain(HttpMethod::ALL.iter().map(|v| v.label()))
            .chain(ExportDataset::ALL.iter().map(|v| v.label()))
            .chain(ExportFormat::ALL.iter().map(|v| v.label()));
        for label in labels {
            assert!(!label.trim().is_empty());
        }
    }

    #[test]
    fn unknown_values_list_the_allowed_ones() {
        let error = "asap".parse::<TaskPriority>().expect_err("not a priority");
        assert_eq!(
            error.to_string(),
            "unknown priority \"asap\": expected one of low, medium, high, urgent"
        );
        let error = "Pending".parse::<TaskStatus>().expect_err("case matters");
        assert_eq!(
            error.to_string(),
            "unknown task status \"Pending\": expected one of pending, running, completed, failed, cancelled"
        );
        let error = "report".parse::<TaskType>().expect_err("not a type");
        assert_eq!(
            error.to_string(),
            "unknown task type \"report\": expected one of analytics_report, data_export, data_import, http_request, cleanup"
        );
    }

    #[test]
    fn serde_rejects_unknown_values() {
        assert!(serde_json::from_str::<TaskStatus>("\"done\"").is_err());
        assert!(serde_json::from_str::<HttpMethod>("\"get\"").is_err());
    }
}

/// The `sqlx` derives: every enum is a Postgres `text`, readable from a `text` column and
/// as `text[]` (for `analytics_reports.metrics`).
#[cfg(all(test, feature = "sqlx"))]
mod sqlx_tests {
    use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo};
    use sqlx::{Encode, Postgres, Type};

    use super::*;

    /// Each variant is written to Postgres as its `as_str()` spelling.
    fn is_text<T>(all: &[T], values: &[&str])
    where
        T: Type<Postgres> + PgHasArrayType + for<'q> Encode<'q, Postgres>,
    {
        for (variant, value) in all.iter().zip(values) {
            let mut buffer = PgArgumentBuffer::default();
            let _ = variant.encode_by_ref(&mut buffer).expect("encodes");
            assert_eq!(&buffer[..], value.as_bytes());
        }
        let text = <String as Type<Postgres>>::type_info();
        assert!(T::compatible(&text), "{}", std::any::type_name::<T>());
        assert!(<Vec<T> as Type<Postgres>>::compatible(
            &<Vec<String> as Type<Postgres>>::type_info()
        ));
        assert_eq!(T::type_info(), PgTypeInfo::with_name("text"));
    }

    #[test]
    fn enums_are_text() {
        is_text(TaskType::ALL, TaskType::VALUES);
        is_text(TaskStatus::ALL, TaskStatus::VALUES);
        is_text(TaskPriority::ALL, TaskPriority::VALUES);
        is_text(ExecutionStatus::ALL, ExecutionStatus::VALUES);
        is_text(LogLevel::ALL, LogLevel::VALUES);
        is_text(ReportFormat::ALL, ReportFormat::VALUES);
        is_text(Metric::ALL, Metric::VALUES);
        is_text(UserRole::ALL, UserRole::VALUES);
        is_text(EventType::ALL, EventType::VALUES);
        is_text(HttpMethod::ALL, HttpMethod::VALUES);
        is_text(ExportDataset::ALL, ExportDataset::VALUES);
        is_text(ExportFormat::ALL, ExportFormat::VALUES);
    }
}
