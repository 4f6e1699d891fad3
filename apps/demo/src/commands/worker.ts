import { availableParallelism } from "node:os";
import { Exit } from "../exit.js";
import { safeMessage } from "../show.js";
import { RedisUnavailable, parseRedisUrl } from "../sweep/redis-url.js";
import { UsageError } from "./command.js";
import type { Command } from "./command.js";
import { MAX_WORKERS, parseThreads } from "./sweep.js";

/** `isolsim worker redis://HOST:PORT`: runs sweep cells from the BullMQ queue until SIGINT or SIGTERM. */
export const workerCommand: Command = {
  options: { concurrency: { type: "string" } },
  positionals: { min: 1, max: 1, usage: "URL, the Redis of the sweep (redis://HOST:PORT)" },
  async run({ positionals, values: v, io }) {
    const target = parseRedisUrl(positionals[0]!);
    if (typeof target === "string") throw new UsageError(`URL: ${target}`);
    const concurrency = typeof v.concurrency === "string" ? parseThreads("--concurrency", v.concurrency) : Math.min(availableParallelism(), MAX_WORKERS);
    const log = (line: string): void => void io.stderr.write(`isolsim worker: ${safeMessage(line)}\n`);
    let onSignal: () => void = () => {};
    const stop = new Promise<void>((resolve) => (onSignal = resolve));
    const handler = (): void => {
      log("stopping: finishing the cells under way");
      onSignal();
    };
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
    try {
      const { runQueueWorker } = await import("../sweep/queue.js");
      await runQueueWorker(target, { concurrency, log, stop });
    } catch (e) {
      if (e instanceof RedisUnavailable) {
        io.stderr.write(`isolsim worker: URL: ${safeMessage(e.message)} (valid: a reachable Redis, e.g. docker run -p 6379:6379 redis)\n`);
        return Exit.badInput;
      }
      throw e;
    } finally {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    }
    return Exit.ok;
  },
};
