// A real redis-server (Debian package; .ci/run installs it) started on 127.0.0.1 at a free port,
// and the built CLI (bin/isolsim.js) as coordinator and workers. Skipped, with the reason printed,
// when redis-server is missing outside CI.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { capture } from "../capture.js";
import { main } from "../main.js";
import { parseRedisUrl } from "./redis-url.js";

const BIN = fileURLToPath(new URL("../../bin/isolsim.js", import.meta.url));
const REDIS = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((p) => existsSync(p)) ?? (spawnSync("which", ["redis-server"]).stdout?.toString().trim() || null);
if (!REDIS) {
  console.log(`queue.test.ts: ${process.env.CI ? "FAILING" : "skipping"} the BullMQ/Redis tests: redis-server is not installed (apt-get install -y --no-install-recommends redis-server)`);
}
const haveRedis = REDIS !== null || process.env.CI !== undefined;

const dir = mkdtempSync(join(tmpdir(), "isolsim-queue-"));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Six cells of 300 ms simulated on 8 CPUs, busy enough (a syscall every 200 µs per CPU) that a worker is killed mid-cell. */
const sweepFile = join(dir, "busy.json");
writeFileSync(
  sweepFile,
  JSON.stringify({
    name: "busy",
    base: {
      duration: "300ms",
      kernel: { preset: "linux-4.9", cpus: 8, nohz_full: "1-7" },
      workload: [
        { type: "user-loop", cpus: "1-7" },
        { type: "syscall", cpus: "1-7", every: "200us", jitter: "100us", call: "file-write" },
        { type: "vmalloc-churn", cpus: "0", every: "200us", pages: 16 },
        { type: "lru-drain-all", cpus: "0", every: "5ms" },
      ],
    },
    matrix: { seed: { from: 1, to: 6 } },
    metrics: ["max:max_single_noise_ns", "sum:interruptions.ipi_tlb_flush"],
  }),
);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

async function startRedis(port: number): Promise<ChildProcess> {
  const r = spawn(REDIS!, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  children.push(r);
  await until("redis-server", () => answers(port), 10_000);
  return r;
}

interface Proc {
  child: ChildProcess;
  err: () => string;
  exit: Promise<number | null>;
}

function isolsim(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, err: () => err, exit };
}

const worker = (url: string): Proc => isolsim(["worker", url, "--concurrency", "1"], { ISOLSIM_QUEUE_LOCK_MS: "1500" });

let localBytes: string | null = null;

/** The results file of the local pool, made once. */
async function localRun(): Promise<string> {
  if (localBytes !== null) return localBytes;
  const out = join(dir, "local.jsonl");
  const c = capture();
  expect(await main(["sweep", sweepFile, "--workers", "2", "--out", out], c.io)).toBe(0);
  return (localBytes = readFileSync(out, "utf8"));
}

describe("redis URLs", () => {
  it("parses host, port, password and database; refuses other schemes", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6380")).toEqual({ options: { host: "127.0.0.1", port: 6380 }, shown: "redis://127.0.0.1:6380" });
    expect(parseRedisUrl("redis://:s3cret@h/2")).toEqual({ options: { host: "h", port: 6379, password: "s3cret", db: 2 }, shown: "redis://h:6379/2" });
    expect(parseRedisUrl("redis://h/99")).toMatch(/names database "99" \(valid: \/0 to \/15\)/);
    expect(parseRedisUrl("h:6379")).toMatch(/is not a redis:\/\/ URL/);
  });

  it("a Redis nobody listens on is a clear error, exit 2, for sweep and worker", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const c = capture();
    expect(await main(["sweep", sweepFile, "--queue", `redis://127.0.0.1:${port}`], c.io)).toBe(2);
    expect(c.err()).toContain(`isolsim sweep: --queue: cannot reach redis://127.0.0.1:${port}: ECONNREFUSED`);
    expect(c.out()).toBe("");
    const w = isolsim(["worker", `redis://127.0.0.1:${port}`]);
    expect(await w.exit).toBe(2);
    expect(w.err()).toContain(`isolsim worker: URL: cannot reach redis://127.0.0.1:${port}: ECONNREFUSED`);
  });
});

describe.skipIf(!haveRedis)("isolsim sweep --queue with isolsim worker processes", () => {
  it("a worker killed with SIGKILL mid-cell has its cell retried: every cell once, the same bytes as the local run", { timeout: 120_000 }, async () => {
    if (!REDIS) throw new Error("redis-server is not installed (CI installs it in .ci/run)");
    const local = await localRun();
    const port = await freePort();
    await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const a = worker(url);
    const b = worker(url);
    await until("both workers", () => a.err().includes("waiting for cells") && b.err().includes("waiting for cells"));
    const out = join(dir, "queued.jsonl");
    const coordinator = isolsim(["sweep", sweepFile, "--queue", url, "--out", out]);
    await until("worker A to start a cell", () => /started/.test(a.err()));
    a.child.kill("SIGKILL");
    const killed = /busy cell (\d+): started/.exec(a.err())![1]!;
    expect(await coordinator.exit).toBe(0);
    expect(a.err()).not.toContain(`busy cell ${killed}: done`);
    // B ran the killed cell after BullMQ found its job stalled.
    expect(b.err()).toContain(`busy cell ${killed}: done, exit 0`);
    const doneA = a.err().match(/: done/g)?.length ?? 0;
    const doneB = b.err().match(/: done/g)?.length ?? 0;
    expect(doneA + doneB).toBe(6);
    expect(readFileSync(out, "utf8")).toBe(local);
    b.child.kill("SIGTERM");
    expect(await b.exit).toBe(0);
  });

  it("Redis stopped before the end is a clear error and leaves a file the rerun completes", { timeout: 120_000 }, async () => {
    if (!REDIS) throw new Error("redis-server is not installed (CI installs it in .ci/run)");
    const local = await localRun();
    const port = await freePort();
    const redis = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const w = worker(url);
    await until("the worker", () => w.err().includes("waiting for cells"));
    const out = join(dir, "interrupted.jsonl");
    const env = { ISOLSIM_QUEUE_TIMEOUT_MS: "1500" };
    const first = isolsim(["sweep", sweepFile, "--queue", url, "--out", out], env);
    await until("a first result", () => existsSync(out) && readFileSync(out, "utf8").length > 0);
    redis.kill("SIGKILL");
    expect(await first.exit).toBe(2);
    expect(first.err()).toMatch(new RegExp(`isolsim sweep: --queue: redis://127\\.0\\.0\\.1:${port} went away mid-sweep \\(ECONNREFUSED; no answer for 1\\.5 s\\); the \\d results so far are in ${out.replace(/[.]/g, "\\.")}: rerun the same command to resume`));
    const kept = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(6);
    for (const line of kept) expect(local).toContain(`${line}\n`);
    // Redis back, a worker, the same command: the rest runs and the file is the local run's.
    await startRedis(port);
    const w2 = worker(url);
    const rerun = isolsim(["sweep", sweepFile, "--queue", url, "--out", out], env);
    expect(await rerun.exit).toBe(0);
    expect(rerun.err()).toContain(`${kept.length} of 6 cells already in`);
    expect(readFileSync(out, "utf8")).toBe(local);
    for (const p of [w, w2]) p.child.kill("SIGTERM");
  });
});
