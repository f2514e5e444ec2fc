// graphile-worker 0.17 baseline for Taskdeck's worker benchmark (worker/src/bin/bench.rs runs
// it on the same database, with the same N and concurrency, and compares).
//
//   DATABASE_URL=postgres://… node bench.mjs --tasks 5000 --concurrency 8 \
//     [--latency-tasks 200] [--gap-ms 20] [--local-queue-size 500] [--handshake]
//
// Graphile Worker installs (or upgrades) its own schema, `graphile_worker`, in that database.
// 1. Throughput: adds N no-op jobs in one `addJobs` call (one statement), then starts a
//    worker (`run`, `concurrency`, `noHandleSignals`, default `pollInterval`) and times from
//    the call to `run` until the last job's row is gone (graphile records a success by
//    deleting the job). Default mode: no local queue, no completion batching (the library's
//    defaults). Batched mode (`--local-queue-size S`, S > 1): graphile-worker 0.17's batching
//    (https://worker.graphile.org/docs/performance#batching), `preset: { worker: {
//    localQueue: { size: S }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }`: the pool
//    fetches and locks up to S jobs per query and serves its workers from them, and the
//    completions (failures) that arrive in the same tick are written in one statement.
// 2. Pickup latency: M times, adds one job (`addJob`) into the idle worker and measures, in
//    this process, the time from the add call to the start of the task function; waits for
//    the job to complete and `--gap-ms` more, then the next.
// With `--handshake` (bench.rs): prints {"event":"ready"} just before the call to `run` and
// {"event":"drained"} after the drain, and each time waits for one line on stdin, so that
// the caller can read the PostgreSQL server's CPU at those two points.
// Prints one JSON line on stdout: {"tasks_per_sec", "pickup_p50_ms", "pickup_p99_ms", …};
// anything else goes to stderr.

import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, makeWorkerUtils, run } from "graphile-worker";

const TASK = "taskdeck_bench_noop";

function parseArgs(argv) {
  const args = {
    databaseUrl: process.env.DATABASE_URL,
    tasks: 5000,
    concurrency: 8,
    latencyTasks: 200,
    gapMs: 20,
    localQueueSize: 0,
    handshake: false,
  };
  const names = {
    "--database-url": ["databaseUrl", String],
    "--tasks": ["tasks", Number],
    "--concurrency": ["concurrency", Number],
    "--latency-tasks": ["latencyTasks", Number],
    "--gap-ms": ["gapMs", Number],
    "--local-queue-size": ["localQueueSize", Number],
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
  for (const key of ["tasks", "concurrency", "latencyTasks"]) {
    if (!Number.isInteger(args[key]) || args[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  if (!Number.isInteger(args.localQueueSize) || args.localQueueSize < 0) {
    throw new Error("--local-queue-size must be 0 (off) or a positive integer");
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

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.round((p / 100) * (sorted.length - 1));
  return sorted[Math.min(rank, sorted.length - 1)];
}

// Errors and warnings only, on stderr.
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`graphile-worker ${level}: ${message}`);
});

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const step = handshake(args.handshake);
  const batched = args.localQueueSize > 1;
  const mode = batched
    ? `batched: localQueue size ${args.localQueueSize}, completeJobBatchDelay 0, failJobBatchDelay 0`
    : "default: no local queue, no completion batching";
  const common = {
    connectionString: args.databaseUrl,
    logger,
    maxPoolSize: Math.max(10, args.concurrency + 2),
  };
  const utils = await makeWorkerUtils(common);
  const remaining = () =>
    utils.withPgClient(async (client) => {
      const { rows } = await client.query(
        `select count(*)::int as n
           from graphile_worker._private_jobs j
           join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = $1`,
        [TASK],
      );
      return rows[0].n;
    });
  const clear = () =>
    utils.withPgClient((client) =>
      client.query(
        `delete from graphile_worker._private_jobs j
          using graphile_worker._private_tasks t
          where t.id = j.task_id and t.identifier = $1`,
        [TASK],
      ),
    );

  let runner;
  try {
    await utils.migrate();
    await clear();
    // The same start every run: no dead rows left by a previous one.
    await utils.withPgClient((client) => client.query("vacuum analyze graphile_worker._private_jobs"));

    // 1. Throughput.
    const specs = Array.from({ length: args.tasks }, (_, n) => ({ identifier: TASK, payload: { n } }));
    const addStarted = nowMs();
    await utils.addJobs(specs);
    const addMs = nowMs() - addStarted;
    if ((await remaining()) !== args.tasks) throw new Error("addJobs did not queue every job");

    let completed = 0;
    let allCompleted;
    const allCompletedPromise = new Promise((resolve) => (allCompleted = resolve));
    let pickup = null; // set during the latency phase
    const events = new EventEmitter();
    events.on("job:complete", ({ job }) => {
      if (job.task_identifier !== TASK) return;
      completed += 1;
      if (completed === args.tasks) allCompleted();
      pickup?.onComplete(job);
    });
    const taskList = {
      [TASK]: async (payload) => {
        if (pickup && payload && payload.t !== undefined) pickup.onStart(payload);
      },
    };

    await step("ready");
    const started = nowMs();
    runner = await run({
      ...common,
      ...(batched && {
        preset: {
          worker: {
            localQueue: { size: args.localQueueSize },
            completeJobBatchDelay: 0,
            failJobBatchDelay: 0,
          },
        },
      }),
      concurrency: args.concurrency,
      noHandleSignals: true,
      events,
      taskList,
    });
    await allCompletedPromise;
    // job:complete fires when the task returns; the row is deleted just after (not awaited
    // by the worker). The last completion counts when its row is gone.
    while ((await remaining()) > 0) await sleep(1);
    const seconds = (nowMs() - started) / 1000;
    const tasksPerSec = args.tasks / seconds;
    await step("drained");
    console.error(
      `graphile-worker: ${args.tasks} jobs added in ${addMs.toFixed(0)} ms (one addJobs call); ` +
        `drained in ${seconds.toFixed(2)} s = ${tasksPerSec.toFixed(0)} jobs/s (concurrency ${args.concurrency}; ${mode})`,
    );

    // 2. Pickup latency into the idle worker.
    await sleep(200);
    const latencies = [];
    for (let i = 0; i < args.latencyTasks; i++) {
      let done;
      const donePromise = new Promise((resolve) => (done = resolve));
      const tag = `latency-${i}`;
      pickup = {
        onStart(payload) {
          if (payload.tag === tag) latencies.push(nowMs() - payload.t);
        },
        onComplete(job) {
          if (job.payload?.tag === tag) done();
        },
      };
      await utils.addJob(TASK, { tag, t: nowMs() });
      const timeout = sleep(30_000).then(() => {
        throw new Error(`job ${tag} did not run within 30 s`);
      });
      await Promise.race([donePromise, timeout]);
      await sleep(args.gapMs);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.error(
      `graphile-worker: pickup over ${latencies.length} serial adds: p50 ${p50.toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
    );
    console.log(
      JSON.stringify({
        tasks_per_sec: tasksPerSec,
        pickup_p50_ms: p50,
        pickup_p99_ms: p99,
        pickup_max_ms: latencies[latencies.length - 1],
        tasks: args.tasks,
        concurrency: args.concurrency,
        mode,
        latency_tasks: latencies.length,
        seconds,
        add_ms: addMs,
        graphile_worker: (await import("graphile-worker/package.json", { with: { type: "json" } })).default
          .version,
        note:
          "graphile-worker records a success by deleting the job row; Taskdeck also writes an execution row, a log row and the final status per task",
      }),
    );
  } finally {
    if (runner) await runner.stop();
    await clear().catch(() => {});
    await utils.release();
  }
}

main().catch((error) => {
  console.error(`graphile bench failed: ${error?.stack ?? error}`);
  process.exit(1);
});
