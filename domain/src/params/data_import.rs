//! Parameters of a `data_import` task.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Parameters of a `data_import` task: `{"path":"<user id>/events.csv"}`, the object path
/// of a CSV file in the Storage bucket [`DataImportParams::BUCKET`].
///
/// The file starts with a header row naming [`DataImportParams::CSV_COLUMNS`]; each row
/// becomes one `business_events` row of the task's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataImportParams {
    /// The object path inside the bucket, e.g. `3f6c…/events.csv`.
    pub path: String,
}

impl DataImportParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] = &["path"];
    /// The Storage bucket files are imported from.
    pub const BUCKET: &'static str = "imports";
    /// The expected CSV header: the event type (`order`, `signup`, `visit`,
    /// `conversion`), the amount (a decimal number) and when it happened (an RFC 3339
    /// timestamp or a `YYYY-MM-DD` date).
    pub const CSV_COLUMNS: &'static [&'static str] = &["event_type", "amount", "occurred_at"];
    /// The longest path, in characters.
    pub const MAX_PATH_CHARS: usize = 512;

    /// Parses and checks the parameters.
    ///
    /// Errors: `path is required`, `path must be a .csv file in the imports bucket, like
    /// <your user id>/events.csv`.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let path = match member(map, "path") {
            None => return Err(DomainError::invalid("path", Rule::Required)),
            Some(Value::String(path)) => path.clone(),
            Some(_) => return Err(import_path_error()),
        };
        let params = Self { path };
        params.validate()?;
        Ok(params)
    }

    /// The parameters to import `file_name` from the user's own folder.
    pub fn for_user(user_id: Uuid, file_name: &str) -> Result<Self, DomainError> {
        let params = Self {
            path: format!("{user_id}/{file_name}"),
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the path: at most 512 characters, relative, no empty, `.` or `..`
    /// segments, no backslashes or control characters, and a file name ending in
    /// `.csv` (any case) with something before it.
    pub fn validate(&self) -> Result<(), DomainError> {
        let path = self.path.as_str();
        if path.is_empty() {
            return Err(DomainError::invalid("path", Rule::Required));
        }
        let segments_ok = path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
        let file_name = path.rsplit('/').next().unwrap_or_default();
        let is_csv = file_name.len() > 4
            && file_name
                .get(file_name.len() - 4..)
                .is_some_and(|extension| extension.eq_ignore_ascii_case(".csv"));
        if path.chars().count() > Self::MAX_PATH_CHARS
            || !segments_ok
            || !is_csv
            || path.chars().any(|c| c == '\\' || c.is_control())
        {
            return Err(import_path_error());
        }
        Ok(())
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("path".into(), Value::String(self.path.clone()));
        Value::Object(map)
    }
}

fn import_path_error() -> DomainError {
    DomainError::invalid("path", Rule::ImportPath)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::params::tests::message;

    #[test]
    fn data_import_accepts_csv_paths() {
        for good in [
            "3f6c1a2e-0000-4000-8000-000000000000/events.csv",
            "user/2024/March.CSV",
            "events.csv",
        ] {
            let params = DataImportParams::parse(&json!({"path": good})).expect(good);
            assert_eq!(params.to_json(), json!({"path": good}));
        }
        let user = Uuid::nil();
        let params = DataImportParams::for_user(user, "events.csv").expect("valid");
        assert_eq!(params.path, format!("{user}/events.csv"));
        assert_eq!(
            DataImportParams::CSV_COLUMNS,
            ["event_type", "amount", "occurred_at"]
        );
    }

    #[test]
    fn data_import_messages() {
        assert_eq!(
            message(DataImportParams::parse(&json!({}))),
            "path is required"
        );
        assert_eq!(
            message(DataImportParams::parse(&json!({"path": ""}))),
            "path is required"
        );
        let expected =
            "path must be a .csv file in the imports bucket, like <your user id>/events.csv";
        let too_long = format!("{}/events.csv", "a".repeat(512));
        for bad in [
            json!(7),
            json!("user/events.txt"),
            json!("user/.csv"),
            json!("/user/events.csv"),
            json!("user//events.csv"),
            json!("user/../other/events.csv"),
            json!("./events.csv"),
            json!("user\\events.csv"),
            json!("user/events.csv/"),
            json!("user/ev\nents.csv"),
            json!(too_long),
        ] {
            assert_eq!(
                message(DataImportParams::parse(&json!({"path": bad}))),
                expected,
                "{bad}"
            );
        }
        assert_eq!(
            message(DataImportParams::parse(
                &json!({"path": "a.csv", "bucket": "x"})
            )),
            "unknown field \"bucket\""
        );
    }
}
