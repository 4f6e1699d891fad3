import { Queue, QueueEvents, Worker } from "bullmq";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import type { CellOutcome } from "@isolsim/sweep";
import { VERSION } from "../version.js";
import type { CellTask } from "./cell.js";
import { CellPool } from "./pool.js";
import type { CellJob, CellRunner } from "./runner.js";
import { RedisUnavailable } from "./redis-url.js";
import type { RedisTarget } from "./redis-url.js";

/** The BullMQ queue every coordinator and worker use. */
export const QUEUE_NAME = "isolsim-cells";

/** What a queued job carries: the cell's task, the version of the coordinator and the sweep it is from. */
export interface QueuedCell {
  /** What to run. */
  task: CellTask;
  /** The coordinator's isolsim version: a worker of another version refuses the cell (its digest could differ). */
  version: string;
  /** Sweep name and cell number, for the worker's log. */
  label: string;
}

/** How long, ms, Redis may be unreachable before a coordinator gives up (`ISOLSIM_QUEUE_TIMEOUT_MS`, default 10 s). */
function giveUpMs(): number {
  const v = Number(process.env.ISOLSIM_QUEUE_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : 10_000;
}

/** A job's lock, ms (`ISOLSIM_QUEUE_LOCK_MS`, default 30 s): a worker killed mid-cell has its cell run again after about this long. */
function lockMs(): number {
  const v = Number(process.env.ISOLSIM_QUEUE_LOCK_MS);
  return Number.isInteger(v) && v >= 500 ? v : 30_000;
}

/** Connects once and answers PING within `ms`, or throws RedisUnavailable. */
async function reach(target: RedisTarget, ms: number): Promise<void> {
  const probe = new Redis({ ...target.options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: ms, enableOfflineQueue: false });
  let cause = "";
  probe.on("error", (e: NodeJS.ErrnoException) => (cause ||= e.code ?? e.message));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new RedisUnavailable(`cannot reach ${target.shown}: ${cause || ((e as NodeJS.ErrnoException).code ?? (e as Error).message)}`);
  } finally {
    probe.disconnect();
  }
}

const jobIdOf = (hash: string): string => `cell-${hash}`;

/**
 * The coordinator's runner: puts the cells on the BullMQ queue (job id = the cell's input hash,
 * so a cell queued twice runs once) and collects each job's outcome as `isolsim worker`
 * processes finish them. A worker killed mid-cell loses its job's lock, and BullMQ's
 * stalled-job check hands the job to another worker. When Redis stays unreachable for
 * {@link giveUpMs}, runAll rejects with RedisUnavailable.
 */
export class QueueRunner implements CellRunner {
  private queue: Queue | null = null;
  private events: QueueEvents | null = null;
  private watchdog: Redis | null = null;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  private gone = false;

  /** Targets the Redis at `target`; nothing connects before runAll. */
  constructor(private readonly target: RedisTarget) {}

  /** Queues the jobs and waits for every outcome. */
  async runAll(jobs: readonly CellJob[], onOutcome: (job: CellJob, outcome: CellOutcome) => void): Promise<void> {
    const limit = giveUpMs();
    await reach(this.target, limit);
    // Once closing, no connection tries again (ioredis would keep the process alive reconnecting).
    const connection = { ...this.target.options, maxRetriesPerRequest: null, retryStrategy: (times: number) => (this.closing ? null : Math.min(times * 100, 1000)) };
    const queue = (this.queue = new Queue(QUEUE_NAME, { connection }));
    const events = (this.events = new QueueEvents(QUEUE_NAME, { connection }));
    let failWith: ((e: Error) => void) | null = null;
    const gone = new Promise<never>((_, reject) => (failWith = reject));
    gone.catch(() => {});
    queue.on("error", () => {});
    events.on("error", () => {});
    // A connection of its own checks that Redis answers; bullmq's own connections retry forever.
    const watchdog = (this.watchdog = new Redis({ ...this.target.options, maxRetriesPerRequest: 1, retryStrategy: (times: number) => (this.closing ? null : Math.min(times * 100, 500)), enableOfflineQueue: false }));
    let lastOk = Date.now();
    let lastError = "";
    watchdog.on("error", (e: NodeJS.ErrnoException) => (lastError = e.code ?? e.message));
    this.timers.push(
      setInterval(() => {
        watchdog.ping().then(
          () => {
            lastOk = Date.now();
            lastError = "";
          },
          (e: Error) => {
            lastError ||= (e as NodeJS.ErrnoException).code ?? e.message;
            if (Date.now() - lastOk > limit) {
              this.gone = true;
              failWith!(new RedisUnavailable(`${this.target.shown} went away mid-sweep (${lastError}; no answer for ${limit / 1000} s)`));
            }
          },
        );
      }, 250),
    );
    const pending = new Map<string, CellJob[]>();
    for (const job of jobs) {
      const id = jobIdOf(job.hash);
      pending.set(id, [...(pending.get(id) ?? []), job]);
    }
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    if (pending.size === 0) finish();
    const settle = (id: string, outcome: CellOutcome): void => {
      const waiting = pending.get(id);
      if (!waiting) return;
      pending.delete(id);
      for (const job of waiting) onOutcome(job, outcome);
      if (pending.size === 0) finish();
    };
    const completed = (id: string, value: unknown): void => {
      const v = typeof value === "string" ? (JSON.parse(value) as CellOutcome) : (value as CellOutcome);
      settle(id, v);
    };
    const failed = (id: string, reason: string): void => settle(id, { digest: null, exit: 3, metrics: {}, error: reason.replace(/\s*\n\s*/g, " ").slice(0, 500) });
    events.on("completed", ({ jobId, returnvalue }) => completed(jobId, returnvalue));
    events.on("failed", ({ jobId, failedReason }) => failed(jobId, failedReason));
    await Promise.race([events.waitUntilReady(), gone]);
    const add = Promise.all(
      [...pending.entries()].map(([id, [first]]) => {
        const data: QueuedCell = { task: first!.task, version: VERSION, label: `${String(first!.task.scenario.name)} cell ${first!.cell}` };
        return queue.add("cell", data, { jobId: id, attempts: 1, removeOnComplete: { age: 24 * 3600, count: 100_000 }, removeOnFail: true });
      }),
    );
    await Promise.race([add, gone]);
    // Outcomes whose event came before we listened (a job finished by an earlier coordinator, kept
    // 24 h), or was missed: read each pending job's state now and then; a job gone (failed and
    // removed, or lost) is queued again, at most twice.
    const requeued = new Map<string, number>();
    const check = async (): Promise<void> => {
      for (const id of [...pending.keys()]) {
        const job: Job | undefined = await queue.getJob(id);
        if (!pending.has(id)) continue;
        if (job === undefined) {
          const n = requeued.get(id) ?? 0;
          if (n >= 2) failed(id, "the job vanished from the queue three times");
          else {
            requeued.set(id, n + 1);
            const first = pending.get(id)![0]!;
            await queue.add("cell", { task: first.task, version: VERSION, label: `${String(first.task.scenario.name)} cell ${first.cell}` }, { jobId: id, attempts: 1, removeOnComplete: { age: 24 * 3600, count: 100_000 }, removeOnFail: true });
          }
        } else if (job.finishedOn !== undefined && job.returnvalue !== undefined && job.returnvalue !== null && job.failedReason === undefined) completed(id, job.returnvalue);
      }
    };
    let checking = false;
    const poll = (): void => {
      if (checking) return;
      checking = true;
      check().then(
        () => (checking = false),
        () => (checking = false),
      );
    };
    poll();
    this.timers.push(setInterval(poll, 2000));
    await Promise.race([done, gone]);
  }

  /** Stops the timers and closes the connections (without waiting on a Redis that is gone). */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.watchdog?.disconnect();
    // Redis gone: close() would wait on it, so the connections are dropped, and even that
    // promise may never settle: wait at most a moment (a timer that keeps the process alive until then).
    const closing = this.gone ? [this.events?.disconnect(), this.queue?.disconnect()] : [this.events?.close(), this.queue?.close()];
    await Promise.race([Promise.allSettled(closing), new Promise((resolve) => setTimeout(resolve, this.gone ? 500 : 5000))]);
  }
}

/** Options of `isolsim worker`. */
export interface QueueWorkerOptions {
  /** Cells run at once (worker threads). */
  concurrency: number;
  /** Where the log lines go (one per cell started and finished). */
  log: (line: string) => void;
  /** Resolves when the worker should stop (a signal). */
  stop: Promise<void>;
}

/**
 * `isolsim worker`: takes cells from the queue and runs each in a worker thread (so the
 * event loop stays free to renew the job's lock while a cell of minutes runs), until `stop`.
 */
export async function runQueueWorker(target: RedisTarget, opts: QueueWorkerOptions): Promise<void> {
  await reach(target, giveUpMs());
  const pool = new CellPool(opts.concurrency);
  const lock = lockMs();
  const connection = { ...target.options, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
  let lastError = 0;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job<QueuedCell>) => {
      const { task, version, label } = job.data;
      if (version !== VERSION) throw new Error(`worker runs isolsim ${VERSION}, the coordinator ${String(version)}: run the same version everywhere`);
      opts.log(`${label}: started (job ${job.id})`);
      const outcome = await pool.run(task);
      opts.log(`${label}: done, exit ${outcome.exit}`);
      if (outcome.exit === 3) throw new Error(outcome.error ?? "failed");
      return outcome;
    },
    { connection, concurrency: opts.concurrency, lockDuration: lock, stalledInterval: Math.max(250, Math.floor(lock / 2)), maxStalledCount: 5 },
  );
  worker.on("error", (e) => {
    if (Date.now() - lastError > 5000) opts.log(`redis ${target.shown}: ${(e as NodeJS.ErrnoException).code ?? e.message} (retrying)`);
    lastError = Date.now();
  });
  await worker.waitUntilReady();
  opts.log(`waiting for cells on ${target.shown} (queue ${QUEUE_NAME}, ${opts.concurrency} at once)`);
  await opts.stop;
  await worker.close();
  await pool.close();
}
