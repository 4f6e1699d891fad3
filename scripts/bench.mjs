#!/usr/bin/env node
// npm run bench [-- --json] [-- --quick] [-- --engine <module>]: simulator throughput figures (a benchmark, not a test).
// Cases: (a) the engine alone vs a reference event loop (binary heap of plain objects), same process;
// (b) the 2016 baseline kernel with every workload type; (c) scaling with CPU count.
// Run with `node --expose-gc` for settled heap figures. `--engine <module>` times case (a) with the
// Engine exported by another build (e.g. the previous one) to measure before and after.
import { performance } from "node:perf_hooks";
import { GCProfiler } from "node:v8";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Engine as CoreEngine, EventPriority, simulate } from "../packages/core/dist/index.js";

const argv = process.argv.slice(2);
const args = new Set(argv);
const json = args.has("--json");
const quick = args.has("--quick");
const engineModule = argv.includes("--engine") ? argv[argv.indexOf("--engine") + 1] : undefined;
const Engine = engineModule ? (await import(pathToFileURL(resolve(engineModule)).href)).Engine : CoreEngine;
const results = [];

function mem() {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Peak resident set size of the process so far, bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

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
  return { case: `(a) engine ${pending} pending`, events: e.reduce((s, x) => s + x.events, 0), rounds, events_per_s: best, ns_per_event: 1e9 / best,
    rounds_events_per_s: e.map((x) => x.rate), gcs_during_timing: e.reduce((s, x) => s + x.gcs, 0),
    reference_events_per_s: refBest, reference_rounds_events_per_s: r.map((x) => x.rate), reference_gcs_during_timing: r.reduce((s, x) => s + x.gcs, 0),
    ratio_vs_reference: median(e.map((x, i) => x.rate / r[i].rate)), rss_peak_bytes: peakRss(), heap_bytes: Math.max(0, heap), digest: eng.digest() };
}

const S = 1_000_000_000;
function baselineScenario(cpus, seconds) {
  const iso = `4-${cpus - 1}`;
  return {
    name: `baseline-${cpus}`, seed: 1, duration: seconds * S, warmup: 0,
    kernel: { preset: "linux-4.9", cpus, hz: 1000, nohzFull: iso },
    workload: [
      { type: "user-loop", cpus: iso },
      { type: "syscall", cpus: iso, every: 500_000_000, call: "getpid" },
      { type: "wakeup", cpus: "4", every: 300_000_000, run: 20_000 },
    ],
  };
}

function simCase(label, spec) {
  const before = mem();
  const t0 = performance.now();
  const { report } = simulate(spec);
  const wall = (performance.now() - t0) / 1000;
  const after = mem();
  return { case: label, cpus: spec.kernel.cpus, simulated_s: spec.duration / S, events: report.events, wall_s: wall,
    events_per_s: report.events / wall, ns_per_event: (wall * 1e9) / report.events,
    rss_bytes: after.rss, heap_bytes: after.heap, heap_per_cpu_bytes: Math.max(0, after.heap - before.heap) / spec.kernel.cpus, digest: report.digest };
}

for (const p of [64, 1024, 8192]) results.push(engineCase(p, quick ? 1_000_000 : 5_000_000, quick ? 3 : 5));
for (const c of quick ? [64] : [64, 1024, 4096]) results.push(simCase(`(b) baseline ${c} CPUs`, baselineScenario(c, quick ? 5 : 60)));
for (const c of quick ? [8, 64] : [8, 64, 512, 4096]) results.push(simCase(`(c) scaling ${c} CPUs`, baselineScenario(c, 10)));

if (json) process.stdout.write(JSON.stringify({ node: process.version, quick, engine: engineModule ?? "@isolsim/core", results }, null, 2) + "\n");
else {
  const f = (x, d = 0) => (typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: d }) : "");
  const mb = (x) => f(x / 2 ** 20, 1);
  console.log(`node ${process.version}${engineModule ? `, engine from ${engineModule}` : ""}; case (a): best of ${quick ? 3 : 5} timed runs after a warm-up, vs ref = median paired ratio`);
  console.log(["case".padEnd(26), "events".padStart(12), "events/s".padStart(12), "ns/event".padStart(9), "ref events/s".padStart(12), "vs ref".padStart(7), "GCs".padStart(4), "peak RSS MB".padStart(11), "heap MB".padStart(8)].join(" "));
  for (const r of results.filter((r) => r.ratio_vs_reference !== undefined)) {
    console.log([r.case.padEnd(26), f(r.events).padStart(12), f(r.events_per_s).padStart(12), f(r.ns_per_event, 1).padStart(9), f(r.reference_events_per_s).padStart(12),
      (f(r.ratio_vs_reference, 2) + "x").padStart(7), f(r.gcs_during_timing).padStart(4), mb(r.rss_peak_bytes).padStart(11), mb(r.heap_bytes).padStart(8)].join(" "));
  }
  console.log(["case".padEnd(26), "events".padStart(12), "wall s".padStart(8), "events/s".padStart(12), "ns/event".padStart(9), "heap/CPU".padStart(9)].join(" "));
  for (const r of results.filter((r) => r.ratio_vs_reference === undefined)) {
    console.log([r.case.padEnd(26), f(r.events).padStart(12), f(r.wall_s, 2).padStart(8), f(r.events_per_s).padStart(12), f(r.ns_per_event, 1).padStart(9),
      f(r.heap_per_cpu_bytes).padStart(9)].join(" "));
  }
}
