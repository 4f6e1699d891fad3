#!/usr/bin/env node
// npm run bench [-- --json] [-- --quick]: simulator throughput figures (a benchmark, not a test).
// Cases: (a) the engine alone vs a reference event loop (binary heap of plain objects), same process;
// (b) the 2016 baseline kernel with every workload type; (c) scaling with CPU count.
import { performance } from "node:perf_hooks";
import { Engine, EventPriority, simulate } from "../packages/core/dist/index.js";

const args = new Set(process.argv.slice(2));
const json = args.has("--json");
const quick = args.has("--quick");
const results = [];

function mem() {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
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

function engineCase(pending, events) {
  const e = new Engine(1);
  let n = 0;
  const period = 1000;
  const kind = e.register("periodic", (cpu) => { n++; e.schedule(e.now + period + (cpu & 7), kind, cpu, 0, EventPriority.timer); });
  for (let cpu = 0; cpu < pending; cpu++) e.schedule(cpu, kind, cpu, 0, EventPriority.timer);
  const horizon = Math.ceil(events / pending) * period;
  const t0 = performance.now();
  e.runUntil(horizon);
  const wall = (performance.now() - t0) / 1000;
  // reference loop, same work
  const h = new RefHeap();
  let m = 0;
  const fn = (cpu, now) => { m++; h.push(now + period + (cpu & 7), fn, cpu); };
  for (let cpu = 0; cpu < pending; cpu++) h.push(cpu, fn, cpu);
  const r0 = performance.now();
  while (h.a.length && h.a[0].time <= horizon) { const ev = h.pop(); ev.fn(ev.cpu, ev.time); }
  const refWall = (performance.now() - r0) / 1000;
  return { case: `engine ${pending} pending`, events: e.events, wall_s: wall, events_per_s: e.events / wall, ns_per_event: (wall * 1e9) / e.events,
    reference_events_per_s: m / refWall, ratio_vs_reference: (e.events / wall) / (m / refWall), digest: e.digest() };
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

for (const p of [64, 1024, 8192]) results.push(engineCase(p, quick ? 500_000 : 5_000_000));
for (const c of quick ? [64] : [64, 1024, 4096]) results.push(simCase(`(b) baseline ${c} CPUs`, baselineScenario(c, quick ? 5 : 60)));
for (const c of quick ? [8, 64] : [8, 64, 512, 4096]) results.push(simCase(`(c) scaling ${c} CPUs`, baselineScenario(c, 10)));

if (json) process.stdout.write(JSON.stringify({ node: process.version, results }, null, 2) + "\n");
else {
  const f = (x, d = 0) => (typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: d }) : "");
  console.log(`node ${process.version}`);
  console.log(["case".padEnd(26), "events".padStart(12), "wall s".padStart(8), "events/s".padStart(12), "ns/event".padStart(9), "vs ref".padStart(7), "heap/CPU".padStart(9)].join(" "));
  for (const r of results) {
    console.log([r.case.padEnd(26), f(r.events).padStart(12), f(r.wall_s, 2).padStart(8), f(r.events_per_s).padStart(12), f(r.ns_per_event, 1).padStart(9),
      (r.ratio_vs_reference ? f(r.ratio_vs_reference, 2) + "x" : "").padStart(7), (r.heap_per_cpu_bytes !== undefined ? f(r.heap_per_cpu_bytes) : "").padStart(9)].join(" "));
  }
}
