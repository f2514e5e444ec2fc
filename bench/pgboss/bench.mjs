// pg-boss 10 baseline for Taskdeck's worker benchmark (worker/src/bin/bench.rs runs it on the
// same database, with the same N and concurrency, and compares).
//
//   DATABASE_URL=postgres://… node bench.mjs --tasks 5000 --concurrency 8 \
//     [--batch-size 100] [--handshake]
//
// pg-boss installs (or upgrades) its own schema, `pgboss`, in that database; this script
// (re)creates its own queue, `taskdeck_bench_noop`, and deletes it at the end.
// Throughput: inserts N no-op jobs in one `insert` call (one statement), then registers
// `--concurrency` workers (`work()` once per slot: pg-boss 10 has no per-worker concurrency),
// each fetching `--batch-size` jobs per fetch (`batchSize`) and handing them to the no-op
// handler as one array; pg-boss then completes the batch in one statement. Timed from the
// first `work()` call until no job of the queue is left in `created`, `retry` or `active`.
// pg-boss has no LISTEN: a worker fetches, runs the batch, then sleeps until
// `pollingIntervalSeconds` (0.5 s, the minimum) has passed since the fetch began. A handler
// whose batch was full calls `notifyWorker` (public API), so that a backlog is fetched back
// to back instead of one batch per worker per 0.5 s: the database's work per job is what is
// measured, not the poll rhythm.
// Pickup latency is not measured (no LISTEN: it is the polling interval); the JSON has null
// there.
// With `--handshake` (bench.rs): prints {"event":"ready"} before the drain and
// {"event":"drained"} after it, and each time waits for one line on stdin, so that the
// caller can read the PostgreSQL server's CPU at those two points.
// Prints one JSON line on stdout: {"tasks_per_sec", "pickup_p50_ms": null, …}; anything
// else goes to stderr.

import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import PgBoss from "pg-boss";

const QUEUE = "taskdeck_bench_noop";

function parseArgs(argv) {
  const args = {
    databaseUrl: process.env.DATABASE_URL,
    tasks: 5000,
    concurrency: 8,
    batchSize: 100,
    handshake: false,
  };
  const names = {
    "--database-url": ["databaseUrl", String],
    "--tasks": ["tasks", Number],
    "--concurrency": ["concurrency", Number],
    "--batch-size": ["batchSize", Number],
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--handshake") {
      args.handshake = true;
      continue;
    }
    let [flag, value] = argv[i].split("=", 2);
    const spec = names[flag];
    if (!spec) throw new Error(`unknown argument ${argv[i]}`);
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    args[spec[0]] = spec[1](value);
  }
  if (!args.databaseUrl) throw new Error("DATABASE_URL (or --database-url) is required");
  for (const key of ["tasks", "concurrency", "batchSize"]) {
    if (!Number.isInteger(args[key]) || args[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  return args;
}

// The handshake with bench.rs: an event line on stdout, then one line on stdin.
function handshake(enabled) {
  if (!enabled) return async () => {};
  const reader = createInterface({ input: process.stdin });
  const lines = reader[Symbol.asyncIterator]();
  return async (event) => {
    console.log(JSON.stringify({ event }));
    const { done } = await lines.next();
    if (done) throw new Error(`stdin closed while waiting after ${event}`);
    // The last step: an open stdin would keep node running.
    if (event === "drained") {
      reader.close();
      process.stdin.destroy();
    }
  };
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const step = handshake(args.handshake);
  // No cron and no maintenance timers during a run of a few seconds.
  const boss = new PgBoss({
    connectionString: args.databaseUrl,
    max: Math.max(10, args.concurrency + 2),
    schedule: false,
    supervise: false,
  });
  boss.on("error", (error) => console.error(`pg-boss error: ${error?.message ?? error}`));
  const sql = async (text, values) => (await boss.getDb().executeSql(text, values)).rows;
  const remaining = async () =>
    (
      await sql(
        "select count(*)::int as n from pgboss.job where name = $1 and state in ('created', 'retry', 'active')",
        [QUEUE],
      )
    )[0].n;

  // pg-boss 10.4's deleteQueue fails on a queue that still has jobs (its deferred foreign
  // key): delete them first.
  const dropQueue = async () => {
    await sql("delete from pgboss.job where name = $1", [QUEUE]);
    await boss.deleteQueue(QUEUE);
  };

  await boss.start();
  try {
    await dropQueue();
    await boss.createQueue(QUEUE);
    // The same start every run: no dead rows left by a previous one.
    await sql("vacuum analyze pgboss.job");

    const specs = Array.from({ length: args.tasks }, (_, n) => ({ name: QUEUE, data: { n } }));
    const addStarted = nowMs();
    await boss.insert(specs);
    const addMs = nowMs() - addStarted;
    if ((await remaining()) !== args.tasks) throw new Error("insert did not queue every job");

    await step("ready");
    let handled = 0;
    let allHandled;
    const allHandledPromise = new Promise((resolve) => (allHandled = resolve));
    const started = nowMs();
    for (let slot = 0; slot < args.concurrency; slot++) {
      let id = null;
      id = await boss.work(QUEUE, { batchSize: args.batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        handled += jobs.length;
        if (handled >= args.tasks) allHandled();
        if (jobs.length === args.batchSize && id) boss.notifyWorker(id);
      });
    }
    await allHandledPromise;
    // pg-boss completes a batch after its handler returns, without waiting: the last
    // completion counts when its rows have left the active state.
    while ((await remaining()) > 0) await sleep(1);
    const seconds = (nowMs() - started) / 1000;
    const tasksPerSec = args.tasks / seconds;
    await step("drained");
    console.error(
      `pg-boss: ${args.tasks} jobs inserted in ${addMs.toFixed(0)} ms (one insert call); ` +
        `drained in ${seconds.toFixed(2)} s = ${tasksPerSec.toFixed(0)} jobs/s ` +
        `(${args.concurrency} workers, batchSize ${args.batchSize})`,
    );
    await boss.offWork(QUEUE);
    console.log(
      JSON.stringify({
        tasks_per_sec: tasksPerSec,
        pickup_p50_ms: null,
        pickup_p99_ms: null,
        tasks: args.tasks,
        concurrency: args.concurrency,
        batch_size: args.batchSize,
        seconds,
        add_ms: addMs,
        pg_boss: (await import("pg-boss/package.json", { with: { type: "json" } })).default.version,
        note: "pg-boss keeps a completed job's row (state completed); no pickup latency (it polls, no LISTEN)",
      }),
    );
  } finally {
    await dropQueue().catch((error) => console.error(`pg-boss: cannot delete the bench queue: ${error?.message ?? error}`));
    await boss.stop({ graceful: false, wait: true });
  }
}

main().catch((error) => {
  console.error(`pg-boss bench failed: ${error?.stack ?? error}`);
  process.exit(1);
});
