//! A recurring task's next run, queued when the task finishes.

use domain::LogLevel;
use serde_json::json;
use uuid::Uuid;

use super::Execution;
use crate::db::Tx;
use crate::handlers::insert_log;
use crate::queue::ClaimedTask;
use crate::recurrence;
use crate::text::{Run, Text};

/// For a recurring task that just finished, queues its next run (once per task: a task
/// retried by hand and finishing again does not queue a second one). A bad expression
/// is logged on the execution and otherwise ignored.
pub(super) async fn schedule_next_run(
    tx: &mut Tx<'_>,
    task: &ClaimedTask,
    execution: Execution,
) -> anyhow::Result<()> {
    let Some(expression) = task.recurrence.as_deref().filter(|e| !e.trim().is_empty()) else {
        return Ok(());
    };
    // The expression is read on the owner's clock: their zone (one PostgreSQL knows, else
    // UTC) and the time there now.
    let clock = sqlx::query_file!("queries/owner_clock.sql", task.id)
        .fetch_one(&mut *tx)
        .await?;
    let (zone, local_now) = (clock.zone, clock.local_now);
    let local_next = match recurrence::next_after(expression, local_now) {
        Ok(next) => next,
        Err(error) => {
            insert_log(
                &mut *tx,
                execution.id,
                task.id,
                LogLevel::Warn,
                &Text::new(Run::NoNextRun).text("error", error),
                None,
            )
            .await?;
            return Ok(());
        }
    };
    // That wall-clock time in the owner's zone, as a moment (a time skipped by a clock
    // change moves forward, as PostgreSQL reads it).
    let next: chrono::DateTime<chrono::Utc> =
        sqlx::query_file_scalar!("queries/local_to_moment.sql", local_next, &zone)
            .fetch_one(&mut *tx)
            .await?;
    // A savepoint: a refused insert must not undo the attempt's own result.
    let mut savepoint = tx.savepoint().await?;
    let inserted: Result<Option<Uuid>, sqlx::Error> =
        sqlx::query_file_scalar!("queries/insert_next_run.sql", task.id, next)
            .fetch_optional(&mut savepoint)
            .await;
    match inserted {
        Ok(next_id) => {
            savepoint.commit().await?;
            if let Some(next_id) = next_id {
                insert_log(
                    &mut *tx,
                    execution.id,
                    task.id,
                    LogLevel::Info,
                    &Text::new(Run::NextRun).at("at", next),
                    Some(json!({ "nextTaskId": next_id, "scheduledAt": next, "timeZone": zone })),
                )
                .await?;
            }
        }
        Err(error) => {
            savepoint.rollback().await?;
            insert_log(
                &mut *tx,
                execution.id,
                task.id,
                LogLevel::Warn,
                &Text::new(Run::NextRunFailed).raw("detail", error),
                None,
            )
            .await?;
        }
    }
    Ok(())
}
