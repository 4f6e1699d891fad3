import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultParams, paramName } from "@isolsim/core";
import type { Params } from "@isolsim/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capture } from "./capture.js";
import { main } from "./main.js";
import { parseDuration } from "./scenario-file.js";

// Issue 17's fuzz test: mutated showcase scenarios through `validate` and `run --json`, in-process
// (main() with io doubles). Whatever the mutation: exit 0, 1 or 2, never 3; no stack trace;
// exit 2 ⇒ nothing on stdout; exit 0/1 ⇒ a report of the contract's shape; what validate accepts,
// run finishes; each run's time bounded by a constant plus a cost per event.

const dir = fileURLToPath(new URL("../scenarios/", import.meta.url));
const checkReport = fileURLToPath(new URL("../../../../shared/tools/check-report.mjs", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "isolsim-fuzz-"));

/** Mutation kinds. */
const KINDS = [
  "delete",
  "retype",
  "huge",
  "negative",
  "fraction",
  "zero",
  "tiny",
  "deep",
  "control",
  "unknown-key",
  "many-keys",
  "long-string",
  "many-items",
  "mechanism",
  "param",
  "cmdline",
  "text",
] as const;
type Kind = (typeof KINDS)[number];

/** Fixed seed and case count: the same cases on every run. */
const SEED = 17;
const RUNS = 300;

/** Simulated time of the shortened scenarios, and the run length forced on a mutated longer one. */
const SHORT = { duration: "20ms", warmup: "2ms", period: 5_000_000 };

/** Run time allowed: a constant plus a cost per event (generous for a loaded 2-core machine). */
const TIME_BASE_MS = 3000;
const TIME_PER_EVENT_MS = 0.05;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * The showcase scenarios, shortened so a case takes milliseconds: 20 ms simulated, periods of at
 * most 5 ms, and the 1024-CPU one on 64 CPUs (its CPU lists end at 1023).
 */
const scenarios: { file: string; body: { [k: string]: Json } }[] = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => {
    let text = readFileSync(join(dir, f), "utf8");
    if (/"cpus": 1024/.test(text)) text = text.replace(/"cpus": 1024/, '"cpus": 64').replace(/1023/g, "63");
    const body = JSON.parse(text) as { [k: string]: Json };
    body.duration = SHORT.duration;
    if (body.warmup !== undefined) body.warmup = SHORT.warmup;
    for (const w of body.workload as { [k: string]: Json }[]) {
      for (const key of ["every", "at", "jitter"]) {
        const ns = parseDuration(w[key]);
        if (ns !== null && ns > SHORT.period) w[key] = "5ms";
      }
    }
    return { file: f, body };
  });

const PARAMS = Object.keys(defaultParams).map((k) => paramName(k as keyof Params));
/** Mechanisms and the options each takes (snake_case, as in files), plus one it does not. */
const MECHANISM_OPTIONS: Record<string, string[]> = {
  "remote-stats": ["colour"],
  "lru-spinlock-drain": ["spin_lock_extra_cycles", "cpu_mhz", "check_cpu_ns", "remote_lock_ns", "move_page_ns", "add_hold_ns", "spin_poll_ns", "return_drain_ns", "return_loop_limit", "colour"],
  "vmstat-quiesce": ["fold_base_ns", "fold_item_ns", "cancel_ns", "colour"],
  "tlb-defer": ["flush_step", "vfree_rcu", "colour"],
  "rcu-nocb-merge": ["gp_stride", "all_cpus", "colour"],
  "oneshot-stopped": ["colour"],
  nope: ["colour"],
};
const MECHANISMS = Object.keys(MECHANISM_OPTIONS);
const VARIANTS = ["mainline", "spinlock", "drain-on-return", "fold-on-exit", "shepherd-skip", "ct-work", "cr3-switch", "merged", "gp-groups", "", "x"];
const CMDLINE_WORDS = ["nohz_full=1-7", "nohz_full = 1-7", "NOHZ_FULL=1-7", "nohz_full", "isolcpus=managed_irq,1-7", "isolcpus=nohz,domain,1-3", "isolcpus=bad!,1", "rcu_nocbs", "rcu_nocbs=1-7", "irqaffinity=0", "nohz_full=9-3", "nohz_full=0-1023:1/2", "quiet", "--", "\u001b[2J", '"nohz_full=1-3"'];
const CONTROL = "\u0000\u0007\b\t\n\r\u001b[2J\u001b]0;x\u0007\u007f\u009b\u202e\u2028";

const retype = fc.constantFrom<Json>(null, true, false, "", "x", "1-3", "5ms", 0, 1, [], {}, [1, 2], { a: 1 }, ["1-3"]);
const huge = fc.constantFrom<Json>(1e30, 9007199254740991, 2 ** 53 + 2, 1e15, 4294967296, 1e308, "1000000000s", "9007199254740991ns");
const negative = fc.constantFrom<Json>(-1, -1e9, -0.5, "-5ms", -9007199254740991, -1e308);
const fraction = fc.constantFrom<Json>(0.5, 1.5, 2.000001, "1.5ns", "0.5us", "0.0001ns");
const zero = fc.constantFrom<Json>(0, "0ns", "0", "", "0ms");
const tiny = fc.constantFrom<Json>(1, 42, "1ns", "42ns", "1us", 999);
const control = fc.array(fc.constantFrom(...CONTROL.split(""), "a", "-", "1", "é"), { minLength: 1, maxLength: 12 }).map((a) => a.join(""));
const anyValue: fc.Arbitrary<Json> = fc.oneof(retype, huge, negative, fraction, zero, tiny, control);

/** A value nested `depth` arrays (or objects) deep. */
function nested(depth: number, objects: boolean): Json {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = objects ? { k: v } : [v];
  return v;
}

/** One mutation: its kind, which path it applies to (an index taken modulo the paths), and its value. */
type Mutation = { kind: Kind; at: number; value: Json; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.constantFrom(...KINDS).chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    at: fc.nat(),
    n: fc.nat({ max: 100_000 }),
    value:
      kind === "retype" ? retype
      : kind === "huge" ? huge
      : kind === "negative" ? negative
      : kind === "fraction" ? fraction
      : kind === "zero" ? zero
      : kind === "tiny" ? tiny
      : kind === "control" || kind === "cmdline" ? control
      : kind === "mechanism" ? fc.constantFrom(...MECHANISMS).chain((name) => fc.record({ name: fc.constant(name), variant: fc.constantFrom(...VARIANTS), option: fc.constantFrom(...MECHANISM_OPTIONS[name]!), value: fc.oneof(huge, anyValue), form: fc.nat({ max: 3 }) })) as fc.Arbitrary<Json>
      : kind === "param" ? fc.record({ name: fc.constantFrom(...PARAMS, "no_such_param"), value: fc.oneof(huge, anyValue) }) as fc.Arbitrary<Json>
      : anyValue,
  }),
);

/** Every path of a JSON value (object keys and array indices) down to 8 levels, containers first. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length >= 8) return out;
  if (Array.isArray(v)) v.slice(0, 50).forEach((x, i) => (out.push([...prefix, i]), paths(x, [...prefix, i], out)));
  else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) (out.push([...prefix, k]), paths(v[k]!, [...prefix, k], out));
  return out;
}

function parentOf(root: Json, path: (string | number)[]): { [k: string]: Json } | Json[] | null {
  let v: Json = root;
  for (const p of path.slice(0, -1)) {
    if (v === null || typeof v !== "object") return null;
    v = (v as Record<string | number, Json>)[p]!;
  }
  return v !== null && typeof v === "object" ? v : null;
}

const NUMERIC_KINDS: readonly Kind[] = ["huge", "negative", "fraction", "zero", "tiny"];

function valueAt(root: Json, path: (string | number)[]): Json | undefined {
  const parent = parentOf(root, path);
  return parent ? (parent as Record<string | number, Json>)[path[path.length - 1]!] : undefined;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): void {
  const parent = parentOf(root, path);
  const key = path[path.length - 1]!;
  if (!parent) return;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key as string];
  } else (parent as Record<string | number, Json>)[key] = value;
}

const kernelOf = (s: { [k: string]: Json }): { [k: string]: Json } => {
  if (s.kernel === null || typeof s.kernel !== "object" || Array.isArray(s.kernel)) s.kernel = {};
  return s.kernel as { [k: string]: Json };
};

/** Applies mutations to a copy of a scenario; returns the file text. */
function mutate(base: { [k: string]: Json }, ms: readonly Mutation[]): string {
  const s = structuredClone(base);
  let prefix = "";
  let cut = -1;
  for (const m of ms) {
    const all = paths(s);
    // Number mutations go to the numbers and durations of the file (every, pages, cpus, ...).
    const numeric = NUMERIC_KINDS.includes(m.kind) ? all.filter((p) => { const v = valueAt(s, p); return typeof v === "number" || (typeof v === "string" && /^\d/.test(v)); }) : [];
    const pool = numeric.length ? numeric : all;
    const path = pool.length ? pool[m.at % pool.length]! : ["name"];
    switch (m.kind) {
      case "delete":
        setAt(s, path, undefined);
        break;
      case "deep":
        // Within the file depth limit (32), or beyond it (the CLI tests go to 100,000).
        setAt(s, path, nested(m.n % 2 ? 3 + (m.n % 25) : 33 + (m.n % 3000), m.n % 3 === 0));
        break;
      case "unknown-key": {
        const objects = all.filter((p) => { const v = parentOf(s, [...p, "x"]); return v !== null && !Array.isArray(v); });
        const target = objects.length ? parentOf(s, [...objects[m.at % objects.length]!, "x"]) : s;
        (target as { [k: string]: Json })[m.n % 2 ? `k${m.n}` : `k\u001b${m.n}`] = m.value;
        break;
      }
      case "many-keys": {
        const objects = all.filter((p) => { const v = valueAt(s, p); return v !== null && typeof v === "object" && !Array.isArray(v); });
        const target = (objects.length ? valueAt(s, objects[m.at % objects.length]!) : s) as { [k: string]: Json };
        for (let i = 0; i < 900 + (m.n % 300); i++) target[`k${i}`] = i;
        break;
      }
      case "long-string":
        setAt(s, path, "x".repeat(1000 + (m.n % 10_000) * 10));
        break;
      case "many-items": {
        const w = Array.isArray(s.workload) && s.workload.length ? s.workload : [{ type: "lru-drain-all", cpus: "0", every: "5ms" }];
        s.workload = Array.from({ length: 100 + (m.n % 20_000) }, (_, i) => structuredClone(w[i % w.length]!));
        break;
      }
      case "mechanism": {
        const v = m.value as { name: string; variant: string; option: string; value: Json; form: number };
        const entry: Json = v.form === 0 ? v.name : v.form === 1 ? { name: v.name, variant: v.variant } : { name: v.name, options: { [v.option]: v.value } };
        const k = kernelOf(s);
        // Replaces an entry of the same name (a name twice is a plain exit 2, found often enough).
        const named = (e: Json): boolean => e === v.name || (e !== null && typeof e === "object" && !Array.isArray(e) && e.name === v.name);
        k.mechanisms = [...(Array.isArray(k.mechanisms) ? k.mechanisms.filter((e) => !named(e)) : []), entry];
        break;
      }
      case "param": {
        const v = m.value as { name: string; value: Json };
        const k = kernelOf(s);
        k.params = { ...(k.params && typeof k.params === "object" && !Array.isArray(k.params) ? k.params : {}), [v.name]: v.value };
        break;
      }
      case "cmdline": {
        const k = kernelOf(s);
        const words = Array.from({ length: 1 + (m.n % 5) }, (_, i) => CMDLINE_WORDS[(m.n >> (i * 3)) % CMDLINE_WORDS.length]!);
        if (m.n % 4 !== 0) delete k.nohz_full;
        k.cmdline = m.n % 7 === 0 ? String(m.value) : words.join(" ");
        break;
      }
      case "text":
        if (m.n % 4 === 0) prefix = "\uFEFF";
        else if (m.n % 4 === 1) cut = m.n;
        else if (m.n % 4 === 2) prefix = "[".repeat(m.n);
        else prefix = "\uFEFF\uFEFF";
        break;
      default:
        setAt(s, path, m.value);
    }
  }
  const text = prefix + JSON.stringify(s);
  return cut >= 0 ? text.slice(0, cut % text.length) : text;
}


const INTERRUPTIONS = ["tick", "spurious_timer", "ipi_tlb_flush", "ipi_irq_work", "ipi_call_function", "ipi_resched", "kworker_lru_drain", "kworker_vmstat", "kworker_other", "kthread", "rcu"];
const KEPT_BY = ["POSIX_TIMER", "PERF_EVENTS", "SCHED", "CLOCK_UNSTABLE", "RCU", "RCU_EXP", "TIMER", "MAX_DEFERMENT", "TIMEKEEPING"];
const INVARIANTS = ["rcu-gp-progress", "rcu-callbacks-invoked", "rcu-forced-tick", "tick-deps", "clockevent-stopped", "remote-tick-staleness", "lru-conservation", "lru-drain-complete", "lru-exclusive", "vmstat-exact", "vmstat-threshold", "tlb-no-stale", "tlb-defer-only-user", "workqueue-progress"];

/** The contract's report shape (contract.md "Report"), as ../shared/tools/check-report.mjs checks it; returns the problems. */
function reportShapeProblems(r: Record<string, any>): string[] {
  const p: string[] = [];
  const num = (v: unknown, where: string): void => {
    if (typeof v !== "number" || !Number.isFinite(v)) p.push(`${where}: want a number, got ${JSON.stringify(v)}`);
  };
  const int = (v: unknown, where: string): void => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) p.push(`${where}: want an integer >= 0, got ${JSON.stringify(v)}`);
  };
  for (const k of ["scenario", "digest"]) if (typeof r[k] !== "string") p.push(`${k}: want a string`);
  for (const k of ["seed", "simulated_ns", "measured_ns", "events"]) int(r[k], k);
  const k = r.kernel;
  if (!k || typeof k.preset !== "string" || typeof k.nohz_full !== "string" || !Array.isArray(k.mechanisms)) p.push("kernel: want { preset, cpus, hz, nohz_full, mechanisms }");
  else {
    int(k.cpus, "kernel.cpus");
    int(k.hz, "kernel.hz");
    for (const m of k.mechanisms) if (typeof m?.name !== "string") p.push("kernel.mechanisms[]: want { name, variant? }");
  }
  if (!Array.isArray(r.cpus)) return [...p, "cpus: want an array"];
  if (k && r.cpus.length !== k.cpus) p.push(`cpus: lists ${r.cpus.length} CPUs, machine has ${k.cpus}`);
  r.cpus.forEach((c: Record<string, any>, i: number) => {
    const w = `cpus[${i}]`;
    if (c.cpu !== i) p.push(`${w}.cpu: want ${i}`);
    if (typeof c.isolated !== "boolean") p.push(`${w}.isolated: want a boolean`);
    int(c.noise_ns, `${w}.noise_ns`);
    int(c.max_single_noise_ns, `${w}.max_single_noise_ns`);
    num(c.available_pct, `${w}.available_pct`);
    if (c.available_pct < 0 || c.available_pct > 100) p.push(`${w}.available_pct: want 0-100`);
    for (const key of INTERRUPTIONS) int(c.interruptions?.[key], `${w}.interruptions.${key}`);
    for (const key of KEPT_BY) int(c.tick?.kept_by?.[key], `${w}.tick.kept_by.${key}`);
    num(c.tick?.stopped_pct, `${w}.tick.stopped_pct`);
    for (const key of ["stops", "restarts"]) int(c.tick?.[key], `${w}.tick.${key}`);
  });
  for (const key of ["remote_ticks", "lru_drains", "tlb_flushes", "noise_ns"]) int(r.housekeeping?.[key], `housekeeping.${key}`);
  for (const key of ["rcu_callback", "rcu_gp", "kworker", "total"]) int(r.kthreads?.[key], `kthreads.${key}`);
  if (typeof r.mechanism_stats !== "object" || r.mechanism_stats === null || Array.isArray(r.mechanism_stats)) p.push("mechanism_stats: want an object");
  const inv = r.invariants;
  if (!Array.isArray(inv?.checked) || !Array.isArray(inv?.violations)) p.push("invariants: want { checked: [], violations: [] }");
  else {
    for (const id of inv.checked) if (!INVARIANTS.includes(id)) p.push(`invariants.checked: unknown id ${id}`);
    for (const v of inv.violations) {
      if (!INVARIANTS.includes(v.invariant)) p.push(`invariants.violations: unknown id ${v.invariant}`);
      num(v.time_ns, "violation.time_ns");
      num(v.cpu, "violation.cpu");
      if (typeof v.detail !== "string") p.push("violation.detail: want a string");
    }
  }
  return p;
}

/** A stack trace line, or the internal-error line. */
const STACK = /^\s+at \S|internal error/m;

type Outcome = { code: number; out: string; err: string; ms: number };

async function cli(args: string[]): Promise<Outcome> {
  const c = capture();
  const t0 = performance.now();
  const code = await main(args, c.io);
  return { code, out: c.out(), err: c.err(), ms: performance.now() - t0 };
}

/** Asserts the contract for one command's outcome; returns the parsed report of a run. */
function expectContract(what: string, o: Outcome, text: string): Record<string, any> | null {
  const context = `${what}\nexit ${o.code}\nstderr: ${o.err.slice(0, 2000)}\nfile: ${text.slice(0, 1500)}`;
  expect([0, 1, 2], context).toContain(o.code);
  expect(o.err, context).not.toMatch(STACK);
  if (o.code === 2) {
    expect(o.out, context).toBe("");
    expect(o.err.length, context).toBeGreaterThan(0);
    expect(o.err.length, context).toBeLessThan(20_000);
    return null;
  }
  if (!what.startsWith("run")) return null;
  const report = JSON.parse(o.out) as Record<string, any>;
  expect(reportShapeProblems(report), context).toEqual([]);
  expect(o.ms, `${context}\nevents ${report.events}`).toBeLessThan(TIME_BASE_MS + TIME_PER_EVENT_MS * report.events);
  return report;
}

describe("fuzz: mutated showcase scenarios (issue 17)", () => {
  it("never crash, never print a stack, keep stdout empty on exit 2, print a contract report otherwise, and finish in time", async () => {
    const file = join(tmp, "case.json");
    const reports: string[] = [];
    const exits = { validate: [0, 0, 0], run: [0, 0, 0] };
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: scenarios.length - 1 }), fc.array(mutation, { minLength: 0, maxLength: 3 }), async (i, ms) => {
        const text = mutate(scenarios[i]!.body, ms);
        writeFileSync(file, text);
        const label = `${scenarios[i]!.file} + ${JSON.stringify(ms).slice(0, 500)}`;
        const v = await cli(["validate", file]);
        expectContract(`validate ${label}`, v, text);
        expect([0, 2]).toContain(v.code);
        exits.validate[v.code]!++;
        // Whatever the mutations did to `duration`, the run is kept short.
        const r = await cli(["run", file, "--json", "--duration", SHORT.duration]);
        const report = expectContract(`run ${label}`, r, text);
        exits.run[r.code]!++;
        // What validate accepts, run finishes (unless the forced duration leaves the warmup outside).
        if (v.code === 0 && r.code === 2) expect(r.err, label).toMatch(/warmup/);
        if (report && reports.length < 3) reports.push(r.out);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The mutations reach every outcome: accepted and rejected files, finished runs.
    expect(exits.validate[0]).toBeGreaterThan(RUNS / 20);
    expect(exits.validate[2]).toBeGreaterThan(RUNS / 4);
    expect(exits.run[0]! + exits.run[1]!).toBeGreaterThan(RUNS / 20);
    // Where the shared contract checker exists (not in CI), it accepts the reports too.
    if (existsSync(checkReport)) {
      for (const [n, out] of reports.entries()) {
        const f = join(tmp, `report-${n}.json`);
        writeFileSync(f, out);
        const c = spawnSync(process.execPath, [checkReport, f], { encoding: "utf8" });
        expect(c.stdout).toContain("matches the contract's report shape");
        expect(c.status).toBe(0);
      }
    }
  }, 120_000);
});
