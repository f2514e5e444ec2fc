//! The `worker` binary's configuration errors: exit code 2 and a message naming the
//! variable, before anything connects.

use std::process::{Command, Stdio};

fn run_worker(vars: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_worker"));
    command
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("run the worker binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_missing_database_url_is_named() {
    let (code, stderr) = run_worker(&[]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("worker: DATABASE_URL is required"),
        "{stderr}"
    );
}

#[test]
fn a_bad_value_is_named_with_what_was_given() {
    let (code, stderr) = run_worker(&[
        ("DATABASE_URL", "postgres://127.0.0.1:1/none"),
        ("WORKER_LEASE_SECS", "forever"),
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "worker: WORKER_LEASE_SECS must be a whole number from 3 to 3600 (got \"forever\")"
    );
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let (code, stderr) = run_worker(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot connect to the database at DATABASE_URL"),
        "{stderr}"
    );
}
