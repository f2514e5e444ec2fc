//! End-to-end browser journeys of Taskdeck. The tests live in `tests/journeys/`; they
//! need `target/debug/localbase`, `target/debug/worker` and `dist/` built beforehand:
//!
//! ```sh
//! cargo build -p localbase -p worker
//! trunk build --release
//! cargo test -p e2e -- --test-threads=1
//! ```
