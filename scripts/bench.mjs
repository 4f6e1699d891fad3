#!/usr/bin/env node
// npm run bench [-- --json] [-- --quick] [-- --engine <module>] [-- --core <module>] [-- --update-digests] [-- --only <text>]:
// simulator throughput figures (a benchmark, not a test).
// Cases: (a) the engine alone vs a reference event loop (binary heap of plain objects), same process;
// (b) the 2016 baseline kernel (preset linux-4.9, no mechanisms) with every workload type, 60 s simulated,
// and the same scenario under linux-6.12 (its built-in mechanisms, from the packages' dist);
// (c) scaling with CPU count: the same scenario, and a quiet machine (isolated CPUs only run user-loop);
// (e) torture (@isolsim/torture, the six mechanism packages): generated scenarios per second of wall
// time and events per second over them, fixed seed (`--only "(e)"` runs it alone).
// Each simulation case runs in its own child process (`--expose-gc`), so its peak RSS is its own.
// Every case's digest is checked against scripts/bench-digests.json, recorded from the unoptimised
// model: "digest ok" or "DIGEST CHANGED" (exit 1) — `--update-digests` records new ones instead.
// (d) sweeps: `isolsim sweep` of a fixed sweep (the (c) full scenario, 64 CPUs, one cell per seed) with
// 1 and 2 pool workers: cells/s and parallel efficiency (with the load average: the machine may be
// shared); the overhead per cell (pool dispatch, result write) from a sweep of 1 ms cells, against a 1 s cell.
// Needs the built CLI (apps/demo/dist); `--only "(d)"` runs only this case.
// `--engine <module>` times case (a) with the Engine of another build; `--core <module>` runs
// cases (b)/(c) with another build of @isolsim/core (e.g. a copy of the previous dist) for before/after.
import { performance } from "node:perf_hooks";
import { GCProfiler } from "node:v8";
import { pathToFileURL, fileURLToPath } from "node:url";
import { resolve, dirname } from "node:path";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const digestsFile = resolve(here, "bench-digests.json");
const argv = process.argv.slice(2);
const args = new Set(argv);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const json = args.has("--json");
const quick = args.has("--quick");
const updateDigests = args.has("--update-digests");
const only = opt("--only");
const engineModule = opt("--engine");
const coreModule = opt("--core");
const core = await import(coreModule ? pathToFileURL(resolve(coreModule)).href : "../packages/core/dist/index.js");
const Engine = engineModule ? (await import(pathToFileURL(resolve(engineModule)).href)).Engine : core.Engine;
const { EventPriority } = core;

const S = 1_000_000_000;
const MS = 1_000_000;
const US = 1_000;

/**
 * The full baseline scenario: preset linux-4.9, no mechanisms, CPUs 0-3 housekeeping, 4-(N-1)
 * nohz_full, every workload type at the rates of a busy-ish machine (periods jittered by 10 %):
 * - user-loop: one busy SCHED_OTHER task on every isolated CPU (the DPDK/HPC case);
 * - syscall getpid: every isolated task, every 100 ms (cheap calls: status polling);
 * - syscall call-rcu: every isolated task, once a second (freeing an RCU-protected object);
 * - syscall file-write: every isolated task, once a second, 8 pages (a log line batch);
 * - syscall page-fault: every isolated task, every 5 s, 8 pages (touching new buffers);
 * - syscall mlock: the first 4 isolated tasks, every 10 s (mlock() calls lru_add_drain_all());
 * - kernel-loop: the first 4 isolated tasks, 1 ms in the kernel every 5 s;
 * - vmalloc-churn: housekeeping CPUs 1-3, 16 pages every 1 ms (module/BPF/stack churn: the lazy
 *   purge then flushes the kernel TLB of every CPU every second or two);
 * - lru-drain-all: housekeeping CPU 1, every 2 s (a daemon draining LRU batches);
 * - wakeup: a kthread on each housekeeping CPU 1-3 woken every 4 ms for 20 µs, and one on the first
 *   4 isolated CPUs woken every second for 20 µs (a per-CPU kthread still bound there).
 */
function fullScenario(cpus, seconds, preset = "linux-4.9") {
  const iso = `4-${cpus - 1}`;
  const few = cpus > 8 ? "4-7" : "4";
  const j = (every) => ({ every, jitter: every / 10 });
  return {
    name: `${preset === "linux-4.9" ? "baseline" : preset}-full-${cpus}`, seed: 1, duration: seconds * S, warmup: 0,
    kernel: { preset, cpus, hz: 1000, nohzFull: iso },
    workload: [
      { type: "user-loop", cpus: iso },
      { type: "syscall", cpus: iso, call: "getpid", ...j(100 * MS) },
      { type: "syscall", cpus: iso, call: "call-rcu", ...j(1 * S) },
      { type: "syscall", cpus: iso, call: "file-write", pages: 8, ...j(1 * S) },
      { type: "syscall", cpus: iso, call: "page-fault", pages: 8, ...j(5 * S) },
      { type: "syscall", cpus: few, call: "mlock", pages: 8, ...j(10 * S) },
      { type: "kernel-loop", cpus: few, run: 1 * MS, ...j(5 * S) },
      { type: "vmalloc-churn", cpus: "1-3", pages: 16, ...j(1 * MS) },
      { type: "lru-drain-all", cpus: "1", ...j(2 * S) },
      { type: "wakeup", cpus: "1-3", run: 20 * US, ...j(4 * MS) },
      { type: "wakeup", cpus: few, run: 20 * US, ...j(1 * S) },
    ],
  };
}

/** The quiet machine: isolated CPUs run one user-loop task each and nothing else happens to them. */
function quietScenario(cpus, seconds) {
  const iso = `4-${cpus - 1}`;
  return {
    name: `baseline-quiet-${cpus}`, seed: 1, duration: seconds * S, warmup: 0,
    kernel: { preset: "linux-4.9", cpus, hz: 1000, nohzFull: iso },
    workload: [{ type: "user-loop", cpus: iso }],
  };
}

/** The full scenario under linux-6.12 (issue 19: its built-in mechanisms and the fair server; HZ kept at 1000 for comparison). */
const modernScenario = (cpus, seconds) => fullScenario(cpus, seconds, "linux-6.12");

const scenarios = { full: fullScenario, quiet: quietScenario, "full-6.12": modernScenario };

/**
 * The mechanism packages a preset's built-in entries name (linux-6.12 has remote-stats,
 * rcu-nocb-merge, oneshot-stopped and vmstat-quiesce built in), from their built dist: each entry's
 * variant and snake_case options passed to the package's factory in camelCase.
 */
async function mechanismRegistry() {
  const pkgs = { "remote-stats": "remoteStats", "lru-spinlock-drain": "lruSpinlockDrain", "vmstat-quiesce": "vmstatQuiesce", "tlb-defer": "tlbDefer", "rcu-nocb-merge": "rcuNocbMerge", "oneshot-stopped": "oneshotStopped" };
  const registry = {};
  for (const [name, factory] of Object.entries(pkgs)) {
    const make = (await import(`../packages/${name}/dist/index.js`))[factory];
    registry[name] = ({ variant, options }) => {
      const opts = Object.fromEntries(Object.entries(options ?? {}).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]));
      return make({ ...opts, ...(variant !== undefined ? { variant } : {}) });
    };
  }
  return registry;
}

function mem() {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Peak resident set size of the process so far, bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

// ---- child: one simulation case, printed as JSON ------------------------------------------------
if (opt("--child")) {
  const { kind, cpus, seconds } = JSON.parse(opt("--child"));
  const { getHeapStatistics } = await import("node:v8");
  const spec = scenarios[kind](cpus, seconds);
  const before = mem();
  let peakHeap = before.heap;
  const t0 = performance.now();
  const registry = kind === "full-6.12" ? await mechanismRegistry() : {};
  let result = core.simulate(spec, { registry, onProgress: () => { const h = getHeapStatistics().used_heap_size; if (h > peakHeap) peakHeap = h; } });
  const wall = (performance.now() - t0) / 1000;
  const { kernel } = result;
  const { events, digest } = result.report;
  const withReport = mem();
  // Only the kernel is still referenced after this, so `after.heap - before.heap` is what the machine holds;
  // the report (built from the kernel at the end, outside it) is measured apart.
  result = null;
  const after = mem();
  const held = Math.max(0, after.heap - before.heap);
  process.stdout.write(JSON.stringify({
    kernel_cpus: kernel.nrCpus, events, wall_s: wall, rss_peak_bytes: peakRss(), heap_peak_bytes: Math.max(peakHeap, withReport.heap),
    heap_held_bytes: held, heap_per_cpu_bytes: held / spec.kernel.cpus, report_heap_per_cpu_bytes: Math.max(0, withReport.heap - after.heap) / spec.kernel.cpus,
    rss_per_cpu_bytes: peakRss() / spec.kernel.cpus, digest,
  }) + "\n");
  process.exit(0);
}

/** Runs `f` and counts the garbage collections V8 ran meanwhile. */
function countingGcs(f) {
  const p = new GCProfiler();
  p.start();
  const value = f();
  return { value, gcs: p.stop().statistics.length };
}

/** Reference: a binary heap of plain event objects, as a straightforward simulator would write it. */
class RefHeap {
  constructor() { this.a = []; this.seq = 0; }
  push(time, fn, cpu) {
    const e = { time, seq: ++this.seq, fn, cpu };
    const a = this.a; let i = a.length; a.push(e);
    while (i > 0) { const p = (i - 1) >> 1; const q = a[p]; if (q.time < time || (q.time === time && q.seq < e.seq)) break; a[i] = q; i = p; }
    a[i] = e;
  }
  pop() {
    const a = this.a; const top = a[0]; const last = a.pop();
    if (a.length > 0) {
      let i = 0; const n = a.length;
      for (;;) { let c = 2 * i + 1; if (c >= n) break; if (c + 1 < n && (a[c + 1].time < a[c].time || (a[c + 1].time === a[c].time && a[c + 1].seq < a[c].seq))) c++;
        if (a[c].time > last.time || (a[c].time === last.time && a[c].seq > last.seq)) break; a[i] = a[c]; i = c; }
      a[i] = last;
    }
    return top;
  }
}

const PERIOD = 1000;

/** The engine with `pending` periodic events (one per CPU): each handler schedules the CPU's next one. */
function engineLoop(pending) {
  const e = new Engine(1);
  const kind = e.register("periodic", (cpu) => { e.schedule(e.now + PERIOD + (cpu & 7), kind, cpu, 0, EventPriority.timer); });
  for (let cpu = 0; cpu < pending; cpu++) e.schedule(cpu, kind, cpu, 0, EventPriority.timer);
  return {
    run(n) { const before = e.events; e.runUntil(e.now + Math.ceil(n / pending) * PERIOD); return e.events - before; },
    digest: () => e.digest(),
  };
}

/** The reference loop doing the same work (no priorities, no digest). */
function referenceLoop(pending) {
  const h = new RefHeap();
  let now = 0;
  const fn = (cpu, t) => { h.push(t + PERIOD + (cpu & 7), fn, cpu); };
  for (let cpu = 0; cpu < pending; cpu++) h.push(cpu, fn, cpu);
  return {
    run(n) {
      const horizon = now + Math.ceil(n / pending) * PERIOD;
      let m = 0;
      while (h.a.length && h.a[0].time <= horizon) { const ev = h.pop(); ev.fn(ev.cpu, ev.time); m++; }
      now = horizon;
      return m;
    },
  };
}

/** Times `n` events of a loop: events per second of wall time, and the garbage collections meanwhile. */
function timeRun(loop, n) {
  const t0 = performance.now();
  const run = countingGcs(() => loop.run(n));
  return { events: run.value, rate: run.value / ((performance.now() - t0) / 1000), gcs: run.gcs };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Case (a): after a warm-up of each loop (up to 1 M events, so both are optimized), `rounds` timed
 * runs of `n` events alternate engine and reference, so both see the same machine load. Reports
 * the best rate of each and the median of the per-round ratios.
 */
function engineCase(pending, n, rounds) {
  const before = mem();
  const eng = engineLoop(pending), ref = referenceLoop(pending);
  eng.run(Math.min(n, 1_000_000));
  ref.run(Math.min(n, 1_000_000));
  const e = [], r = [];
  for (let i = 0; i < rounds; i++) {
    e.push(timeRun(eng, n));
    r.push(timeRun(ref, n));
  }
  const heap = mem().heap - before.heap;
  const best = Math.max(...e.map((x) => x.rate)), refBest = Math.max(...r.map((x) => x.rate));
  const events = e.reduce((s, x) => s + x.events, 0);
  return { case: `(a) engine ${pending} pending`, key: `engine-${pending}-${n}x${rounds}`, cpus: pending, events, wall_s: events / best, rounds, events_per_s: best, ns_per_event: 1e9 / best,
    rounds_events_per_s: e.map((x) => x.rate), gcs_during_timing: e.reduce((s, x) => s + x.gcs, 0),
    reference_events_per_s: refBest, reference_rounds_events_per_s: r.map((x) => x.rate), reference_gcs_during_timing: r.reduce((s, x) => s + x.gcs, 0),
    ratio_vs_reference: median(e.map((x, i) => x.rate / r[i].rate)), rss_peak_bytes: peakRss(), heap_peak_bytes: Math.max(0, heap), heap_per_cpu_bytes: Math.max(0, heap) / pending, digest: eng.digest() };
}

/** A simulation case, run in a child process. */
function simCase(label, kind, cpus, seconds) {
  const childArgs = ["--expose-gc", fileURLToPath(import.meta.url), "--child", JSON.stringify({ kind, cpus, seconds })];
  if (coreModule) childArgs.push("--core", coreModule);
  const r = JSON.parse(execFileSync(process.execPath, childArgs, { encoding: "utf8", maxBuffer: 1 << 20, stdio: ["ignore", "pipe", "inherit"] }));
  return { case: label, key: `${kind}-${cpus}cpus-${seconds}s`, cpus, simulated_s: seconds, ...r, events_per_s: r.events / r.wall_s, ns_per_event: (r.wall_s * 1e9) / r.events,
    events_per_sim_s: r.events / seconds, wall_per_sim_s: r.wall_s / seconds };
}

/** Case (e): `runs` torture runs with seed 1 (generation, simulation with every invariant checked): runs/s and events/s; the digest hashes the result's JSON. */
async function tortureCase(runs) {
  const { torture } = await import("../packages/torture/dist/index.js");
  const registry = await mechanismRegistry();
  const t0 = performance.now();
  const r = torture({ seed: 1, runs, registry });
  const wall = (performance.now() - t0) / 1000;
  const d = new core.StreamDigest();
  const text = JSON.stringify(r);
  for (let i = 0; i < text.length; i++) d.event(i, text.charCodeAt(i), 0, 0);
  return { case: `(e) torture ${runs} runs`, key: `torture-seed1-${runs}runs`, runs: r.runs, events: r.events, simulated_s: r.simulatedNs / S, wall_s: wall,
    runs_per_s: r.runs / wall, events_per_s: r.events / wall, violations: r.invariants.reduce((a, t) => a + t.violations, 0), rss_peak_bytes: peakRss(), digest: d.hex() };
}

/** Wall time, s, of `isolsim sweep FILE ...args` in a child process (exit 0 required). */
function timeSweep(file, args) {
  const t0 = performance.now();
  execFileSync(process.execPath, [resolve(here, "../apps/demo/bin/isolsim.js"), "sweep", file, ...args], { stdio: ["ignore", "ignore", "inherit"] });
  return (performance.now() - t0) / 1000;
}

/**
 * Case (d), throughput: a fixed sweep of `cells` cells (the full scenario on 64 CPUs, `seconds`
 * simulated, one seed per cell) through `isolsim sweep` with 1 and 2 workers; the fixed cost
 * (process start, validation, summary) is the wall of a rerun with every cell already recorded.
 * Overhead per cell: a sweep of `tiny` cells of 1 ms simulated on 8 CPUs with 1 worker, (wall -
 * fixed) / tiny: pool dispatch, the cell's validation and its (negligible) simulation, the result
 * line written, i.e. an upper bound of what the sweep adds to each cell, against a 1 s cell.
 */
async function sweepCase(cells, seconds, tiny) {
  const cli = resolve(here, "../apps/demo/dist/cli.js");
  if (!existsSync(cli)) throw new Error(`case (d) needs the built CLI: ${cli} is missing (npx turbo run build --filter=@isolsim/demo)`);
  const spec = fullScenario(64, seconds);
  const { nohzFull, ...kernel } = spec.kernel;
  const base = { ...spec, name: "bench-sweep", kernel: { ...kernel, nohz_full: nohzFull } };
  const dir = mkdtempSync(resolve(tmpdir(), "isolsim-bench-sweep-"));
  try {
    const file = resolve(dir, "sweep.json");
    const metrics = ["max:max_single_noise_ns", "sum:interruptions.tick"];
    writeFileSync(file, JSON.stringify({ name: "bench", base, matrix: { seed: { from: 1, to: cells } }, metrics }));
    const out = (n) => resolve(dir, `w${n}.jsonl`);
    const w1 = timeSweep(file, ["--workers", "1", "--out", out(1)]);
    const w2 = timeSweep(file, ["--workers", "2", "--out", out(2)]);
    const fixed = timeSweep(file, ["--workers", "1", "--out", out(1)]);
    const same = readFileSync(out(1), "utf8") === readFileSync(out(2), "utf8");
    const small = resolve(dir, "tiny.json");
    const tinyBase = { name: "bench-tiny", duration: 1_000_000, kernel: { preset: "linux-4.9", cpus: 8, nohz_full: "1-7" }, workload: [{ type: "user-loop", cpus: "1-7" }] };
    writeFileSync(small, JSON.stringify({ name: "bench-tiny", base: tinyBase, matrix: { seed: { from: 1, to: tiny } }, metrics }));
    // Each wall the best of 3 (the first run of each triple from scratch), so a busy moment of a shared machine counts less.
    const best = (f) => Math.min(f(), f(), f());
    const tinyWall = best(() => (rmSync(out("t"), { force: true }), timeSweep(small, ["--workers", "1", "--out", out("t")])));
    const tinyFixed = best(() => timeSweep(small, ["--workers", "1", "--out", out("t")]));
    const overhead = (tinyWall - tinyFixed) / tiny;
    return {
      case: `(d) sweep ${cells} cells`, key: `sweep-64cpus-${seconds}s-x${cells}`, cells, simulated_s: seconds, cell_wall_s: (w1 - fixed) / cells,
      wall_1_worker_s: w1, wall_2_workers_s: w2, fixed_s: fixed, cells_per_s_1: cells / w1, cells_per_s_2: cells / w2,
      parallel_efficiency: (w1 - fixed) / (2 * (w2 - fixed)), tiny_cells: tiny, overhead_per_cell_s: overhead, overhead_pct_of_1s_cell: (overhead / 1) * 100,
      results_identical: same, load_average: (await import("node:os")).loadavg()[0],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
const want = (label) => !only || label.includes(only);
const bSeconds = quick ? 5 : 60, cSeconds = quick ? 2 : 10;
for (const p of [64, 1024, 8192]) if (want(`(a) engine ${p}`)) results.push(engineCase(p, quick ? 1_000_000 : 5_000_000, quick ? 3 : 5));
for (const c of quick ? [64, 1024] : [64, 1024, 4096]) { const l = `(b) baseline ${c} CPUs`; if (want(l)) results.push(simCase(l, "full", c, bSeconds)); }
{ const l = "(b) linux-6.12 1024 CPUs"; if (want(l)) results.push(simCase(l, "full-6.12", 1024, bSeconds)); }
for (const kind of ["full", "quiet"]) for (const c of quick ? [8, 64, 512] : [8, 64, 512, 4096]) { const l = `(c) ${kind} ${c} CPUs`; if (want(l)) results.push(simCase(l, kind, c, cSeconds)); }
{ const n = quick ? 40 : 200; if (want(`(e) torture ${n} runs`)) results.push(await tortureCase(n)); }
const sweeps = [];
{ const cells = quick ? 4 : 8; if (want(`(d) sweep ${cells} cells`)) sweeps.push(await sweepCase(cells, quick ? 20 : 60, quick ? 300 : 1000)); }

const recorded = existsSync(digestsFile) ? JSON.parse(readFileSync(digestsFile, "utf8")) : {};
let changed = 0;
for (const r of results) {
  const was = recorded[r.key];
  if (updateDigests) {
    // A note on how a digest was recorded stays while the digest does.
    recorded[r.key] = was && was.digest === r.digest && was.events === r.events ? was : { digest: r.digest, events: r.events };
    r.digest_check = "recorded";
  }
  else if (!was) r.digest_check = "no recorded digest";
  else if (was.digest === r.digest && was.events === r.events) r.digest_check = "digest ok";
  else { r.digest_check = "DIGEST CHANGED"; r.recorded_digest = was.digest; r.recorded_events = was.events; changed++; }
}
if (updateDigests) writeFileSync(digestsFile, JSON.stringify(Object.fromEntries(Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b))), null, 2) + "\n");

if (json) process.stdout.write(JSON.stringify({ node: process.version, quick, engine: engineModule ?? "@isolsim/core", core: coreModule ?? "@isolsim/core", results, sweeps }, null, 2) + "\n");
else {
  const f = (x, d = 0) => (typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "");
  const mb = (x) => f(x / 2 ** 20, 1);
  console.log(`node ${process.version}${engineModule ? `, engine from ${engineModule}` : ""}${coreModule ? `, core from ${coreModule}` : ""}; case (a): best of ${quick ? 3 : 5} timed runs after a warm-up, vs ref = median paired ratio`);
  console.log(["case".padEnd(26), "events".padStart(12), "events/s".padStart(12), "ns/event".padStart(9), "ref events/s".padStart(12), "vs ref".padStart(7), "GCs".padStart(4), "peak RSS MB".padStart(11), "heap MB".padStart(8), " digest"].join(" "));
  for (const r of results.filter((r) => r.ratio_vs_reference !== undefined)) {
    console.log([r.case.padEnd(26), f(r.events).padStart(12), f(r.events_per_s).padStart(12), f(r.ns_per_event, 1).padStart(9), f(r.reference_events_per_s).padStart(12),
      (f(r.ratio_vs_reference, 2) + "x").padStart(7), f(r.gcs_during_timing).padStart(4), mb(r.rss_peak_bytes).padStart(11), mb(r.heap_peak_bytes).padStart(8), "", r.digest_check].join(" "));
  }
  console.log(`simulation cases: (b) ${bSeconds} s simulated, (c) ${cSeconds} s simulated; each in its own process; heap/CPU = heap held by the finished kernel / CPUs (report/CPU: its report, apart)`);
  console.log(["case".padEnd(24), "events".padStart(12), "wall s".padStart(8), "events/s".padStart(11), "ns/ev".padStart(6), "ev/sim s".padStart(11), "wall/sim s".padStart(10),
    "peak RSS MB".padStart(11), "peak heap MB".padStart(12), "heap/CPU B".padStart(10), "report/CPU B".padStart(12), "RSS/CPU KB".padStart(10), " digest"].join(" "));
  for (const r of results.filter((r) => r.ratio_vs_reference === undefined && r.runs === undefined)) {
    console.log([r.case.padEnd(24), f(r.events).padStart(12), f(r.wall_s, 2).padStart(8), f(r.events_per_s).padStart(11), f(r.ns_per_event).padStart(6), f(r.events_per_sim_s).padStart(11),
      f(r.wall_per_sim_s, 3).padStart(10), mb(r.rss_peak_bytes).padStart(11), mb(r.heap_peak_bytes).padStart(12), f(r.heap_per_cpu_bytes).padStart(10), f(r.report_heap_per_cpu_bytes).padStart(12), f(r.rss_per_cpu_bytes / 1024, 1).padStart(10), "", r.digest_check].join(" "));
  }
  for (const r of results.filter((r) => r.runs !== undefined)) {
    console.log(`${r.case}: ${f(r.runs)} runs, ${f(r.simulated_s, 3)} s simulated, ${f(r.events)} events in ${f(r.wall_s, 2)} s wall: ${f(r.runs_per_s, 1)} runs/s, ${f(r.events_per_s)} events/s, ${r.violations} violations, peak RSS ${mb(r.rss_peak_bytes)} MB  ${r.digest_check}`);
  }
  if (sweeps.length) {
    console.log("sweep cases: isolsim sweep in a child process; fixed = a rerun with every cell recorded; overhead/cell = (wall - fixed) / cells of a sweep of 1 ms cells, 1 worker");
    console.log(["case".padEnd(24), "cell s".padStart(7), "cells/s 1w".padStart(10), "cells/s 2w".padStart(10), "efficiency".padStart(10), "fixed s".padStart(8), "overhead/cell ms".padStart(16), "% of 1 s cell".padStart(13), "load".padStart(5), " 1w = 2w bytes"].join(" "));
    for (const r of sweeps) {
      console.log([r.case.padEnd(24), f(r.cell_wall_s, 3).padStart(7), f(r.cells_per_s_1, 2).padStart(10), f(r.cells_per_s_2, 2).padStart(10), (f(r.parallel_efficiency * 100, 0) + " %").padStart(10),
        f(r.fixed_s, 2).padStart(8), f(r.overhead_per_cell_s * 1000, 1).padStart(16), (f(r.overhead_pct_of_1s_cell, 2) + " %").padStart(13), f(r.load_average, 1).padStart(5), "", r.results_identical ? "yes" : "NO"].join(" "));
    }
  }
  if (changed) console.log(`${changed} case(s) changed digest against ${digestsFile} (rerun with --update-digests only for an intended change of behaviour)`);
}
if (changed || sweeps.some((r) => !r.results_identical)) process.exit(1);
