//! What a user types when creating a task: its title, description and recurrence, and
//! [`NewTask`], the row to insert. The parameters of each task type are in
//! [`crate::params`].

use std::fmt;

use chrono::{DateTime, Utc};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::{DomainError, Rule, TaskParameters, TaskPriority, TaskType};

/// A task's title: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskTitle(String);

impl TaskTitle {
    /// The longest title, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims `text` and checks its length.
    ///
    /// Errors: `title is required`, `title must be at most 200 characters`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DomainError::invalid("title", Rule::Required));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "title",
                Rule::AtMostChars(Self::MAX_CHARS),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task's description: trimmed, at most 5000 characters, possibly empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskDescription(String);

impl TaskDescription {
    /// The longest description, in characters.
    pub const MAX_CHARS: usize = 5000;

    /// Trims `text` and checks its length.
    ///
    /// Error: `description must be at most 5000 characters`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "description",
                Rule::AtMostChars(Self::MAX_CHARS),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The description (maybe empty).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` when there is no description.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` for an empty description, as stored in the nullable column.
    pub fn into_option(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

/// When a task repeats: a cron expression, checked only for its shape here (5 or 6
/// whitespace-separated fields, at most 100 characters). The worker parses it for real.
///
/// Stored trimmed, with fields separated by single spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Recurrence(String);

impl Recurrence {
    /// The longest expression, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Checks the shape of a cron expression.
    ///
    /// Error: `recurrence must be a cron expression with 5 or 6 fields, like "0 6 * * 1"`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        let fields: Vec<&str> = text.split_whitespace().collect();
        if text.chars().count() > Self::MAX_CHARS || !(5..=6).contains(&fields.len()) {
            return Err(DomainError::invalid("recurrence", Rule::Cron));
        }
        Ok(Self(fields.join(" ")))
    }

    /// The expression.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `Display`, `AsRef<str>`, `String` conversions for the text newtypes.
macro_rules! text_newtype {
    ($($name:ident),+) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
    )+};
}

text_newtype!(TaskTitle, TaskDescription, Recurrence);

/// The columns a user may set when creating a task: the body of `POST /rest/v1/tasks`.
///
/// The `type` column is taken from the parameters, so the two always agree. Serializes
/// as `{"title", "description"?, "type", "parameters", "priority", "scheduled_at"?,
/// "recurrence"?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The title.
    pub title: TaskTitle,
    /// The description; left out (NULL) when empty.
    pub description: TaskDescription,
    /// The parameters, which also give the task type.
    pub parameters: TaskParameters,
    /// The priority.
    pub priority: TaskPriority,
    /// Do not run before this time; as soon as possible when absent.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Run again on this schedule.
    pub recurrence: Option<Recurrence>,
}

impl NewTask {
    /// A task with medium priority, no description, run as soon as possible, once.
    pub fn new(title: TaskTitle, parameters: TaskParameters) -> Self {
        Self {
            title,
            description: TaskDescription::default(),
            parameters,
            priority: TaskPriority::default(),
            scheduled_at: None,
            recurrence: None,
        }
    }

    /// The task type, from the parameters.
    pub const fn task_type(&self) -> TaskType {
        self.parameters.task_type()
    }
}

impl Serialize for NewTask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut task = serializer.serialize_struct("NewTask", 7)?;
        task.serialize_field("title", &self.title)?;
        if self.description.is_empty() {
            task.skip_field("description")?;
        } else {
            task.serialize_field("description", &self.description)?;
        }
        task.serialize_field("type", &self.task_type())?;
        task.serialize_field("parameters", &self.parameters)?;
        task.serialize_field("priority", &self.priority)?;
        match &self.scheduled_at {
            Some(at) => task.serialize_field("scheduled_at", at)?,
            None => task.skip_field("scheduled_at")?,
        }
        match &self.recurrence {
            Some(recurrence) => task.serialize_field("recurrence", recurrence)?,
            None => task.skip_field("recurrence")?,
        }
        task.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(result: Result<impl fmt::Debug, DomainError>) -> String {
        result.expect_err("should be rejected").to_string()
    }

    // --- title, description, recurrence -------------------------------------------------

    #[test]
    fn title_is_trimmed() {
        let title = TaskTitle::parse("  Monthly report \n").expect("valid");
        assert_eq!(title.as_str(), "Monthly report");
    }

    #[test]
    fn title_is_required() {
        assert_eq!(message(TaskTitle::parse("")), "title is required");
        assert_eq!(message(TaskTitle::parse(" \t ")), "title is required");
    }

    #[test]
    fn title_has_at_most_200_characters() {
        assert!(TaskTitle::parse(&"é".repeat(200)).is_ok());
        assert_eq!(
            message(TaskTitle::parse(&"a".repeat(201))),
            "title must be at most 200 characters"
        );
    }

    #[test]
    fn title_deserializes_through_parse() {
        let title: TaskTitle = serde_json::from_value(json!(" Report ")).expect("valid");
        assert_eq!(title.as_str(), "Report");
        assert!(serde_json::from_value::<TaskTitle>(json!("")).is_err());
        assert_eq!(
            serde_json::to_value(&title).expect("serializes"),
            json!("Report")
        );
    }

    #[test]
    fn description_may_be_empty() {
        let description = TaskDescription::parse("   ").expect("valid");
        assert!(description.is_empty());
        assert_eq!(description.into_option(), None);
        let description = TaskDescription::parse(" Every Monday ").expect("valid");
        assert_eq!(description.into_option().as_deref(), Some("Every Monday"));
    }

    #[test]
    fn description_has_at_most_5000_characters() {
        assert!(TaskDescription::parse(&"x".repeat(5000)).is_ok());
        assert_eq!(
            message(TaskDescription::parse(&"x".repeat(5001))),
            "description must be at most 5000 characters"
        );
    }

    #[test]
    fn recurrence_accepts_5_or_6_fields() {
        let recurrence = Recurrence::parse("  0 6  * * 1 ").expect("valid");
        assert_eq!(recurrence.as_str(), "0 6 * * 1");
        assert!(Recurrence::parse("0 0 6 * * MON").is_ok());
    }

    #[test]
    fn recurrence_rejects_other_shapes() {
        let expected =
            "recurrence must be a cron expression with 5 or 6 fields, like \"0 6 * * 1\"";
        assert_eq!(message(Recurrence::parse("")), expected);
        assert_eq!(message(Recurrence::parse("0 6 * *")), expected);
        assert_eq!(message(Recurrence::parse("0 0 6 * * 1 2024")), expected);
        let long = format!("0 6 * * {}", "1,".repeat(50));
        assert_eq!(message(Recurrence::parse(&long)), expected);
    }

    // --- new task -------------------------------------------------------------------------

    #[test]
    fn new_task_serializes_the_insertable_columns() {
        let mut task = NewTask::new(
            TaskTitle::parse("Q1 report").expect("valid"),
            TaskType::AnalyticsReport.default_parameters(),
        );
        assert_eq!(
            serde_json::to_value(&task).expect("serializes"),
            json!({
                "title": "Q1 report",
                "type": "analytics_report",
                "parameters": TaskType::AnalyticsReport.default_parameters().to_json(),
                "priority": "medium"
            })
        );
        task.description = TaskDescription::parse("For the board").expect("valid");
        task.priority = TaskPriority::Urgent;
        task.recurrence = Some(Recurrence::parse("0 6 * * 1").expect("valid"));
        task.scheduled_at = Some(
            DateTime::parse_from_rfc3339("2024-04-01T06:00:00Z")
                .expect("valid")
                .with_timezone(&Utc),
        );
        assert_eq!(
            serde_json::to_value(&task).expect("serializes"),
            json!({
                "title": "Q1 report",
                "description": "For the board",
                "type": "analytics_report",
                "parameters": TaskType::AnalyticsReport.default_parameters().to_json(),
                "priority": "urgent",
                "scheduled_at": "2024-04-01T06:00:00Z",
                "recurrence": "0 6 * * 1"
            })
        );
    }
}
