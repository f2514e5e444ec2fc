//! Ending an attempt in the database: completed (alone, or with others in one flush),
//! retried, failed, cancelled, lost, or released on shutdown. Every write is conditional on
//! this worker still holding the task at the same attempt.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use domain::{ExecutionStatus, LogLevel};
use serde_json::{json, Value};
use uuid::Uuid;

use super::recurring::schedule_next_run;
use super::{elapsed_ms, Deps, Execution, StopReason};
use crate::db::Tx;
use crate::error::TaskError;
use crate::handlers::insert_log;
use crate::queue::{self, ClaimedTask};
use crate::text::{Run, Text};

/// Ends the attempt in the database according to its result and why it was stopped.
pub(super) async fn finish(
    deps: &Deps,
    task: &ClaimedTask,
    execution: Execution,
    result: Result<Value, TaskError>,
    stop: Option<StopReason>,
    started: Instant,
) -> anyhow::Result<()> {
    let duration_ms = elapsed_ms(started);
    let seconds = started.elapsed().as_secs_f64();
    match (result, stop) {
        (Ok(value), _) => complete(deps, task, execution, value, duration_ms, seconds).await,
        (Err(_), Some(StopReason::Shutdown)) => release(deps, task, execution, duration_ms).await,
        (Err(_), Some(StopReason::Cancelled)) => {
            interrupted(deps, task, execution, duration_ms).await
        }
        (Err(_), Some(StopReason::LeaseLost)) => {
            interrupted(deps, task, execution, duration_ms).await
        }
        (Err(TaskError::Cancelled), None) => {
            let error = TaskError::permanent(Run::StoppedEarly);
            fail_or_retry(deps, task, execution, error, duration_ms, seconds).await
        }
        (Err(error), None) => {
            fail_or_retry(deps, task, execution, error, duration_ms, seconds).await
        }
    }
}

async fn complete(
    deps: &Deps,
    task: &ClaimedTask,
    execution: Execution,
    value: Value,
    duration_ms: i64,
    seconds: f64,
) -> anyhow::Result<()> {
    let text = Text::new(Run::Completed).ms("duration", duration_ms);
    let context = json!({ "durationMs": duration_ms });
    if task
        .recurrence
        .as_deref()
        .is_none_or(|expression| expression.trim().is_empty())
    {
        // The common case: the task's final status, its execution and the log line in one
        // statement, shared with the other completions that are ready at the same time.
        let updated = deps
            .completions
            .complete(
                deps,
                queue::Completion {
                    task_id: task.id,
                    attempt: task.attempts,
                    execution_id: execution.id,
                    result: value,
                    duration_ms,
                    text: text.clone(),
                    context,
                },
            )
            .await?;
        if !updated {
            return interrupted(deps, task, execution, duration_ms).await;
        }
    } else {
        let mut tx = deps.db.begin().await?;
        let updated = sqlx::query_file!(
            "queries/complete_task.sql",
            task.id,
            &*deps.worker_id,
            &value,
            task.attempts
        )
        .execute(&mut tx)
        .await?
        .rows_affected();
        if updated == 0 {
            tx.rollback().await?;
            return interrupted(deps, task, execution, duration_ms).await;
        }
        sqlx::query_file!(
            "queries/complete_execution.sql",
            execution.id,
            duration_ms,
            &value
        )
        .execute(&mut tx)
        .await?;
        insert_log(
            &mut tx,
            execution.id,
            task.id,
            LogLevel::Info,
            &text,
            Some(context),
        )
        .await?;
        schedule_next_run(&mut tx, task, execution).await?;
        tx.commit().await?;
    }
    deps.metrics.completed.inc();
    deps.metrics.run_time.observe(seconds);
    tracing::info!(duration_ms, "task completed");
    Ok(())
}

type CompletionReply = tokio::sync::oneshot::Sender<Result<bool, String>>;

/// Most completions one flush writes (one statement, one transaction).
const MAX_FLUSH: usize = 1000;

/// Flushes in flight at once (each on a connection of its own).
const FLUSHES_IN_FLIGHT: usize = 2;

/// Successful attempts waiting to be recorded (group commit). A completion joins the
/// queue, then waits for a flush permit; whoever gets one takes everything queued so far
/// (up to [`MAX_FLUSH`]) and writes it with [`queue::complete_many`], one statement and one
/// transaction; the others find theirs answered. Nothing waits on a timer: alone, a
/// completion is written at once; under load, the completions that end while a flush is
/// in flight share the next one, and up to [`FLUSHES_IN_FLIGHT`] flushes run at once. A task
/// counts as done (metrics, logs, the slot's bookkeeping) only once its flush committed.
#[derive(Clone, Debug)]
pub struct Completions {
    queue: Arc<Mutex<Vec<(queue::Completion, CompletionReply)>>>,
    writers: Arc<tokio::sync::Semaphore>,
}

impl Default for Completions {
    fn default() -> Self {
        Self {
            queue: Arc::default(),
            writers: Arc::new(tokio::sync::Semaphore::new(FLUSHES_IN_FLIGHT)),
        }
    }
}

impl Completions {
    /// Records `row` (conditional on this worker still holding the running task, at the
    /// same attempt); `false` when the task was no longer ours.
    async fn complete(&self, deps: &Deps, row: queue::Completion) -> anyhow::Result<bool> {
        let fallback = row.clone();
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((row, reply));
        let dropped = || Err("the completion batch was dropped".to_owned());
        let outcome = loop {
            let Ok(permit) = self.writers.acquire().await else {
                break Some(dropped());
            };
            match answer.try_recv() {
                Ok(outcome) => break Some(outcome),
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => break Some(dropped()),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<_> = {
                let mut queued = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                let take = queued.len().min(MAX_FLUSH);
                queued.drain(..take).collect()
            };
            if batch.is_empty() {
                // This completion is in a flush in flight: its answer comes from there.
                break None;
            }
            write_completions(deps, batch).await;
            drop(permit);
        };
        let outcome = match outcome {
            Some(outcome) => outcome,
            None => answer.await.unwrap_or_else(|_| dropped()),
        };
        match outcome {
            Ok(updated) => Ok(updated),
            Err(error) => {
                // The shared statement failed (a lost connection, a deadlock with another
                // writer…): record this one on its own.
                tracing::debug!(error = %error, "batched completion failed; writing it alone");
                let finished = queue::complete_many(
                    &deps.db,
                    &deps.worker_id,
                    std::slice::from_ref(&fallback),
                )
                .await?;
                Ok(finished.contains(&fallback.task_id))
            }
        }
    }
}

/// Writes one flush and answers each completion in it.
async fn write_completions(deps: &Deps, batch: Vec<(queue::Completion, CompletionReply)>) {
    let (rows, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    match queue::complete_many(&deps.db, &deps.worker_id, &rows).await {
        Ok(finished) => {
            let finished: std::collections::HashSet<Uuid> = finished.into_iter().collect();
            for (row, reply) in rows.iter().zip(replies) {
                let _ = reply.send(Ok(finished.contains(&row.task_id)));
            }
        }
        Err(error) => {
            let error = error.to_string();
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

async fn fail_or_retry(
    deps: &Deps,
    task: &ClaimedTask,
    execution: Execution,
    error: TaskError,
    duration_ms: i64,
    seconds: f64,
) -> anyhow::Result<()> {
    let text = error.text();
    let message = text.english();
    let stored = text.to_json();
    let attempts = u32::try_from(task.attempts).unwrap_or(1);
    let retry = error.is_retryable() && task.attempts < task.max_attempts;
    let mut tx = deps.db.begin().await?;
    let updated = if retry {
        let delay = deps.backoff.delay(attempts);
        let updated = sqlx::query_file!(
            "queries/requeue_task.sql",
            task.id,
            &*deps.worker_id,
            delay.as_secs_f64(),
            &message,
            task.attempts,
            &stored
        )
        .execute(&mut tx)
        .await?
        .rows_affected();
        if updated == 1 {
            insert_log(
                &mut tx,
                execution.id,
                task.id,
                LogLevel::Warn,
                &Text::new(Run::AttemptFailed)
                    .num("n", task.attempts)
                    .num("of", task.max_attempts)
                    .text("error", text.clone())
                    .ms("delay", i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
                Some(json!({ "retryInMs": u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), "error": &message })),
            )
            .await?;
        }
        updated
    } else {
        let shown = if error.is_retryable() && task.attempts > 1 {
            Text::new(Run::GaveUp)
                .num("n", task.attempts)
                .text("error", text.clone())
        } else {
            text.clone()
        };
        let updated = sqlx::query_file!(
            "queries/fail_task.sql",
            task.id,
            &*deps.worker_id,
            shown.english(),
            &message,
            task.attempts,
            shown.to_json(),
            &stored
        )
        .execute(&mut tx)
        .await?
        .rows_affected();
        if updated == 1 {
            insert_log(
                &mut tx,
                execution.id,
                task.id,
                LogLevel::Error,
                &Text::new(Run::Failed).text("error", shown),
                Some(json!({ "retryable": error.is_retryable(), "attempt": task.attempts })),
            )
            .await?;
            schedule_next_run(&mut tx, task, execution).await?;
        }
        updated
    };
    if updated == 0 {
        tx.rollback().await?;
        return interrupted(deps, task, execution, duration_ms).await;
    }
    close_execution(
        &mut tx,
        execution,
        ExecutionStatus::Failed,
        duration_ms,
        &text,
    )
    .await?;
    tx.commit().await?;
    if retry {
        deps.metrics.retried.inc();
        tracing::warn!(error = %message, "attempt failed; task requeued");
    } else {
        deps.metrics.failed.inc();
        deps.metrics.run_time.observe(seconds);
        tracing::warn!(error = %message, "task failed");
    }
    Ok(())
}

/// The task is no longer ours to finish: it was cancelled, taken over by another worker
/// after our lease expired, or deleted. Records what happened to this execution.
async fn interrupted(
    deps: &Deps,
    task: &ClaimedTask,
    execution: Execution,
    duration_ms: i64,
) -> anyhow::Result<()> {
    let state = sqlx::query_file!("queries/task_state.sql", task.id)
        .fetch_optional(&deps.db)
        .await?
        .map(|row| (row.status, row.locked_by));
    let mut tx = deps.db.begin().await?;
    match state {
        Some((status, locked_by)) if status == "cancelled" => {
            let closed = close_execution(
                &mut tx,
                execution,
                ExecutionStatus::Cancelled,
                duration_ms,
                &Run::ExecutionCancelled.into(),
            )
            .await?;
            if locked_by.as_deref() == Some(&*deps.worker_id) {
                // Clearing the lock lets the owner retry the task at once.
                sqlx::query_file!(
                    "queries/unlock_cancelled_task.sql",
                    task.id,
                    &*deps.worker_id
                )
                .execute(&mut tx)
                .await?;
            }
            if closed == 1 {
                insert_log(
                    &mut tx,
                    execution.id,
                    task.id,
                    LogLevel::Warn,
                    &Run::CancelledWhileRunning.into(),
                    Some(json!({ "durationMs": duration_ms })),
                )
                .await?;
            }
            tx.commit().await?;
            deps.metrics.cancelled.inc();
            tracing::info!("task cancelled while running");
        }
        None => {
            // Deleted: its executions went with it.
            tx.rollback().await?;
            tracing::info!("task deleted while running");
        }
        Some(_) => {
            let closed = close_execution(
                &mut tx,
                execution,
                ExecutionStatus::Failed,
                duration_ms,
                &Run::ExecutionLeaseLost.into(),
            )
            .await?;
            if closed == 1 {
                insert_log(
                    &mut tx,
                    execution.id,
                    task.id,
                    LogLevel::Warn,
                    &Run::LeaseLost.into(),
                    None,
                )
                .await?;
            }
            tx.commit().await?;
            tracing::warn!("lease lost while running; result discarded");
        }
    }
    Ok(())
}

/// Ends an attempt that is still running otherwise than by success (`status`: failed or
/// cancelled), saying why; 0 when it had already ended.
async fn close_execution(
    tx: &mut Tx<'_>,
    execution: Execution,
    status: ExecutionStatus,
    duration_ms: i64,
    why: &Text,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query_file!(
        "queries/close_execution.sql",
        execution.id,
        status.as_str(),
        duration_ms,
        why.english(),
        why.to_json()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

/// Gives the task back to the queue (shutdown).
async fn release(
    deps: &Deps,
    task: &ClaimedTask,
    execution: Execution,
    duration_ms: i64,
) -> anyhow::Result<()> {
    let mut tx = deps.db.begin().await?;
    if !queue::release(&mut tx, task.id, &deps.worker_id).await? {
        tx.rollback().await?;
        return interrupted(deps, task, execution, duration_ms).await;
    }
    close_execution(
        &mut tx,
        execution,
        ExecutionStatus::Cancelled,
        duration_ms,
        &Run::ExecutionShutdown.into(),
    )
    .await?;
    insert_log(
        &mut tx,
        execution.id,
        task.id,
        LogLevel::Warn,
        &Run::Released.into(),
        None,
    )
    .await?;
    tx.commit().await?;
    deps.metrics.released.inc();
    tracing::info!("task released on shutdown");
    Ok(())
}
