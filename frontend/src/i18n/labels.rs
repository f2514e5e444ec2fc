//! The names people read for the domain's values (task types, statuses, metrics…), in the
//! current language: `label(TaskStatus::Failed)` is "Failed" or "Gagal".

use domain::{
    EventType, ExecutionStatus, ExportDataset, ExportFormat, LogLevel, Metric, ReportFormat,
    TaskPriority, TaskStatus, TaskType, Trend, UserRole,
};

use super::{t, Msg};

/// A domain value with a name in the catalogs.
pub trait Label: Copy {
    /// Its message.
    fn msg(self) -> Msg;
}

impl<T: Label> Label for &T {
    fn msg(self) -> Msg {
        (*self).msg()
    }
}

impl Label for ExportFormat {
    fn msg(self) -> Msg {
        match self {
            Self::Csv => Msg::ValueReportFormatCsv,
            Self::Json => Msg::ValueReportFormatJson,
        }
    }
}

/// The name of `value` in the current language.
pub fn label(value: impl Label) -> &'static str {
    t(value.msg())
}

impl Label for TaskType {
    fn msg(self) -> Msg {
        match self {
            Self::AnalyticsReport => Msg::ValueTaskTypeAnalyticsReport,
            Self::DataExport => Msg::ValueTaskTypeDataExport,
            Self::DataImport => Msg::ValueTaskTypeDataImport,
            Self::HttpRequest => Msg::ValueTaskTypeHttpRequest,
            Self::Cleanup => Msg::ValueTaskTypeCleanup,
        }
    }
}

impl Label for TaskStatus {
    fn msg(self) -> Msg {
        match self {
            Self::Pending => Msg::ValueTaskStatusPending,
            Self::Running => Msg::ValueTaskStatusRunning,
            Self::Completed => Msg::ValueTaskStatusCompleted,
            Self::Failed => Msg::ValueTaskStatusFailed,
            Self::Cancelled => Msg::ValueTaskStatusCancelled,
        }
    }
}

impl Label for ExecutionStatus {
    fn msg(self) -> Msg {
        match self {
            Self::Running => Msg::ValueTaskStatusRunning,
            Self::Completed => Msg::ValueTaskStatusCompleted,
            Self::Failed => Msg::ValueTaskStatusFailed,
            Self::Cancelled => Msg::ValueTaskStatusCancelled,
        }
    }
}

impl Label for TaskPriority {
    fn msg(self) -> Msg {
        match self {
            Self::Low => Msg::ValueTaskPriorityLow,
            Self::Medium => Msg::ValueTaskPriorityMedium,
            Self::High => Msg::ValueTaskPriorityHigh,
            Self::Urgent => Msg::ValueTaskPriorityUrgent,
        }
    }
}

impl Label for LogLevel {
    fn msg(self) -> Msg {
        match self {
            Self::Debug => Msg::ValueLogLevelDebug,
            Self::Info => Msg::ValueLogLevelInfo,
            Self::Warn => Msg::ValueLogLevelWarn,
            Self::Error => Msg::ValueLogLevelError,
        }
    }
}

impl Label for Metric {
    fn msg(self) -> Msg {
        match self {
            Self::Revenue => Msg::ValueMetricRevenue,
            Self::Users => Msg::ValueMetricUsers,
            Self::Conversion => Msg::ValueMetricConversion,
            Self::Orders => Msg::ValueMetricOrders,
            Self::Visits => Msg::ValueMetricVisits,
        }
    }
}

impl Label for UserRole {
    fn msg(self) -> Msg {
        match self {
            Self::Admin => Msg::ValueUserRoleAdmin,
            Self::BusinessUser => Msg::ValueUserRoleBusinessUser,
            Self::Guest => Msg::ValueUserRoleGuest,
        }
    }
}

impl Label for EventType {
    fn msg(self) -> Msg {
        match self {
            Self::Order => Msg::ValueEventTypeOrder,
            Self::Signup => Msg::ValueEventTypeSignup,
            Self::Visit => Msg::ValueEventTypeVisit,
            Self::Conversion => Msg::ValueEventTypeConversion,
        }
    }
}

impl Label for ExportDataset {
    fn msg(self) -> Msg {
        match self {
            Self::Tasks => Msg::ValueExportDatasetTasks,
            Self::Events => Msg::ValueExportDatasetEvents,
        }
    }
}

impl Label for ReportFormat {
    fn msg(self) -> Msg {
        match self {
            Self::Json => Msg::ValueReportFormatJson,
            Self::Csv => Msg::ValueReportFormatCsv,
            Self::Xlsx => Msg::ValueReportFormatXlsx,
            Self::Pdf => Msg::ValueReportFormatPdf,
        }
    }
}

impl Label for Trend {
    fn msg(self) -> Msg {
        match self {
            Self::Up => Msg::ValueTrendUp,
            Self::Down => Msg::ValueTrendDown,
            Self::Flat => Msg::ValueTrendFlat,
        }
    }
}
