import { describe, expect, it } from "vitest";
import { checkOptions, describeLimit, formatNs, paramLimits, scenarioLimits, showValue, withinLimit } from "./limits.js";
import { defaultParams, paramCatalogue, InputError } from "./params.js";
import type { Params } from "./params.js";
import { presets } from "./presets/index.js";
import { workloadFields } from "./scenario.js";
import type { ScenarioSpec, WorkloadSpec } from "./scenario.js";
import { buildKernel, simulate } from "./simulate.js";
import { workloadInstallers } from "./workload/workload.js";

const US = 1000;
const MS = 1_000_000;

const base = (over: Partial<ScenarioSpec> = {}): ScenarioSpec => ({
  name: "t",
  seed: 1,
  duration: 2 * MS,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1-3" },
  workload: [{ type: "user-loop", cpus: "1-3" }],
  ...over,
});

/** A spec with one more workload item after the user-loop (given loosely, as an API caller might). */
const withItem = (item: Record<string, unknown>, over: Partial<ScenarioSpec> = {}): ScenarioSpec =>
  base({ workload: [{ type: "user-loop", cpus: "1-3" }, item as unknown as WorkloadSpec], ...over });

const withParams = (params: Record<string, unknown>): ScenarioSpec => base({ kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1-3", params } });

/** The InputError simulate() throws for `spec` (fails when it throws none or another error). */
function inputError(spec: ScenarioSpec): InputError {
  try {
    simulate(spec);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("simulate() accepted the spec");
}

describe("the limits table", () => {
  it("has a row for every kernel parameter, and every default and preset value lies within it", () => {
    for (const key of Object.keys(defaultParams) as (keyof Params)[]) {
      const limit = paramLimits[key];
      expect(limit, `paramLimits has no row for ${key}: add its range and why to limits.ts`).toBeDefined();
      expect(limit.why.length, key).toBeGreaterThan(0);
      expect(withinLimit(defaultParams[key], limit), `default ${key}`).toBe(true);
      for (const p of Object.values(presets)) {
        if (key in p.params) expect(withinLimit(p.params[key], limit), `${p.name} ${key}`).toBe(true);
      }
    }
    expect(Object.keys(paramLimits).sort()).toEqual(Object.keys(defaultParams).sort());
    for (const info of paramCatalogue()) expect(info.valid, info.name).not.toBe("");
  });

  it("names the fields of every workload type the core installs", () => {
    for (const type of workloadInstallers.keys()) expect(workloadFields[type], `workloadFields has no entry for ${type}`).toBeDefined();
  });

  it("says what is valid in the words of the error messages", () => {
    expect(describeLimit(scenarioLimits["kernel.cpus"])).toBe("an integer 1-8192");
    expect(describeLimit(paramLimits.hz)).toBe("100, 250, 300, 1000");
    expect(describeLimit(paramLimits.schedRtRuntimeNs)).toBe("-1 (off) or an integer >= 0 and <= 3600000000000 ns (0ns to 3600s)");
    expect(describeLimit(scenarioLimits["workload[].every"])).toBe("an integer >= 1000 and <= 3600000000000 ns (1us to 3600s)");
    expect(formatNs(1500)).toBe("1500ns");
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(showValue(deep)).toBe("(a list)");
    expect(showValue("x".repeat(100))).toBe(`"${"x".repeat(56)}...`);
  });
});

describe("simulate() checks its input against the limits table", () => {
  it("refuses the parameters that used to crash, naming the field, the value and what is valid", () => {
    expect(inputError(withParams({ pagevec_size: 1_000_000_000 })).message).toBe("kernel.params.pagevec_size: 1000000000 is not valid (valid: an integer 1-255)");
    expect(inputError(withParams({ tick_handler_ns: 1e30 })).message).toBe("kernel.params.tick_handler_ns: 1e+30 is not valid (valid: an integer >= 0 and <= 1000000000 ns (0ns to 1s))");
    expect(inputError(withParams({ tick_handler_ns: 9007199254740991 })).field).toBe("kernel.params.tick_handler_ns");
    expect(inputError(withParams({ vmstat_interval_ns: 0 })).field).toBe("kernel.params.vmstat_interval_ns");
    expect(inputError(withParams({ sched_rt_runtime_ns: 2_000_000_000 })).message).toMatch(/^kernel\.params\.sched_rt_runtime_ns: runtime 2000000000 ns exceeds period 1000000000 ns/);
    expect(() => buildKernel(withParams({ sched_rt_period_ns: 500 * MS, sched_rt_runtime_ns: 400 * MS }))).not.toThrow();
    expect(inputError(withParams({ sched_rt_period_ns: 500 * MS })).field).toBe("kernel.params.sched_rt_period_ns");
    expect(inputError(withParams({ clockevent_oneshot_stopped: "false" })).message).toBe('kernel.params.clockevent_oneshot_stopped: "false" is not valid (valid: true, false)');
  });

  it("gives hz 7 and hz 0 the same message, in kernel.hz and kernel.params.hz alike", () => {
    expect(inputError(withParams({ hz: 7 })).message).toBe("kernel.params.hz: 7 is not valid (valid: 100, 250, 300, 1000)");
    expect(inputError(withParams({ hz: 0 })).message).toBe("kernel.params.hz: 0 is not valid (valid: 100, 250, 300, 1000)");
    expect(inputError(base({ kernel: { preset: "linux-4.9", cpus: 4, hz: 7 } })).message).toBe("kernel.hz: 7 is not valid (valid: 100, 250, 300, 1000)");
  });

  it("refuses a period that is not an integer of ns of at least 1 µs", () => {
    for (const every of [0, -1, 0.5, null, "5ms", 42, "1ns"]) {
      for (const type of ["syscall", "vmalloc-churn", "wakeup", "lru-drain-all", "kernel-loop"]) {
        const item = { type, cpus: "1", every, ...(type === "syscall" ? { call: "getpid" } : {}), ...(type === "vmalloc-churn" ? { pages: 4 } : {}), ...(type === "wakeup" || type === "kernel-loop" ? { run: 1000 } : {}) };
        const e = inputError(withItem(item));
        expect(e.field).toBe("workload[1].every");
        expect(e.message).toContain("(valid: an integer >= 1000 and <= 3600000000000 ns (1us to 3600s))");
      }
    }
  });

  it("refuses pages, durations and item counts beyond their documented maximum", () => {
    expect(inputError(withItem({ type: "vmalloc-churn", cpus: "0", every: MS, pages: 1e9 })).message).toBe("workload[1].pages: 1000000000 is not valid (valid: an integer 1-262144)");
    expect(inputError(withItem({ type: "syscall", cpus: "1", every: MS, call: "file-write", pages: 0 })).field).toBe("workload[1].pages");
    expect(inputError(base({ duration: 1e15 })).message).toBe("duration: 1000000000000000 is not valid (valid: an integer >= 1 and <= 3600000000000 ns (1ns to 3600s))");
    expect(inputError(base({ warmup: 2 * MS })).field).toBe("warmup");
    expect(inputError(base({ seed: -1 })).field).toBe("seed");
    const many = Array.from({ length: 100_000 }, () => ({ type: "user-loop" as const, cpus: "1" }));
    expect(inputError(base({ workload: many })).message).toBe("workload: 100000 is not valid (valid: an integer 0-1024)");
    expect(inputError(withItem({ type: "user-loop", cpus: "1", tasks: 1000 })).field).toBe("workload[1].tasks");
    expect(inputError(withItem({ type: "wakeup", cpus: "1", every: MS, run: -5 })).field).toBe("workload[1].run");
    expect(inputError(withItem({ type: "wakeup", cpus: "1", every: MS, run: 5, jitter: 0.5 })).field).toBe("workload[1].jitter");
  });

  it("refuses unknown fields, missing ones and wrong types, naming what is valid", () => {
    expect(inputError(withItem({ type: "wakeup", cpus: "1", every: MS, run: 5, colour: 1 })).message).toBe("workload[1].colour: unknown field (valid: type, cpus, every, run, at, jitter)");
    expect(inputError(withItem({ type: "wakeup", cpus: "1", every: MS })).message).toBe("workload[1].run: required for type wakeup");
    expect(inputError(withItem({ type: "teleport", cpus: "1" })).field).toBe("workload[1].type");
    expect(inputError(withItem({ type: "syscall", cpus: 1, every: MS, call: "getpid" })).field).toBe("workload[1].cpus");
    expect(inputError(withItem({ type: "syscall", cpus: "1", every: MS, call: "getpidd" })).field).toBe("workload[1].call");
    expect(inputError(withItem({ type: "syscall", cpus: "1", every: MS, call: "getpid", pages: 4 })).field).toBe("workload[1].pages");
    expect(inputError({ ...base(), extra: 1 } as unknown as ScenarioSpec).field).toBe("extra");
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(inputError(base({ name: deep as string })).message).toBe("name: (a list) is not valid (valid: a string)");
    expect(inputError(base({ kernel: { preset: "linux-4.9", cpus: 4, mechanisms: [{ name: "" }] } })).field).toBe("kernel.mechanisms[0].name");
    expect(inputError(base({ kernel: { preset: "linux-4.9", cpus: 4, mechanisms: [{ name: "x", options: [] as unknown as Record<string, unknown> }] } })).field).toBe("kernel.mechanisms[0].options");
  });

  it("refuses contradictions: two different HZ, and a priority for SCHED_OTHER", () => {
    expect(inputError(base({ kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, params: { hz: 250 } } })).message).toBe(
      "kernel.params.hz: 250 conflicts with kernel.hz 1000 (valid: give hz once, or the same value in both)",
    );
    expect(() => buildKernel(base({ kernel: { preset: "linux-4.9", cpus: 4, hz: 250, params: { hz: 250 } } }))).not.toThrow();
    expect(inputError(withItem({ type: "user-loop", cpus: "0", priority: 50 })).field).toBe("workload[1].priority");
    expect(inputError(withItem({ type: "user-loop", cpus: "0", policy: "other", priority: 50 })).message).toMatch(/SCHED_OTHER has no RT priority/);
    expect(inputError(withItem({ type: "user-loop", cpus: "0", policy: "fifo" })).field).toBe("workload[1].priority");
  });

  it("checks a mechanism's options against its table: unknown keys, types and ranges", () => {
    const limits = { allCpus: { type: "boolean", why: "a switch" }, gpStride: { type: "integer", min: 1, max: 8192, why: "CPUs" } } as const;
    for (const v of ["yes", "false", 1, null]) expect(() => checkOptions("m", { allCpus: v }, limits)).toThrow(`m.options.allCpus: ${JSON.stringify(v)} is not valid (valid: true, false)`);
    expect(() => checkOptions("m", { gpStride: 1e30 }, limits)).toThrow("m.options.gpStride: 1e+30 is not valid (valid: an integer 1-8192)");
    expect(() => checkOptions("m", { colour: 1 }, limits)).toThrow("m.options.colour: unknown option of m (valid: allCpus, gpStride)");
    expect(() => checkOptions("m", { variant: "v", faults: {}, allCpus: true, gpStride: 2 }, limits)).not.toThrow();
  });
});

describe("a periodic item whose work cannot keep up", () => {
  /** Events and the longest list of deferred syscalls of a run of `ms` with `item` on CPU 1. */
  const run = (item: Record<string, unknown>, ms: number): { events: number; deferred: number } => {
    const { kernel, report } = simulate(withItem(item, { duration: ms * MS }));
    const deferred = Math.max(...kernel.sched.tasks.map((t) => t.pendingEntries.length));
    return { events: report.events, deferred };
  };

  it("skips overrun firings, as a late periodic hrtimer fires once: pending work and events stay bounded", () => {
    for (const item of [
      { type: "syscall", cpus: "1", every: US, call: "file-write", pages: 16 },
      { type: "kernel-loop", cpus: "1", every: US, run: 5 * US },
      { type: "wakeup", cpus: "1-3", every: US, run: 3 * US },
      { type: "vmalloc-churn", cpus: "1", every: US, pages: 64 },
    ]) {
      const short = run(item, 1);
      const long = run(item, 2);
      expect(long.deferred, item.type).toBeLessThanOrEqual(1);
      // Twice the time, about twice the events: nothing piles up from one period to the next.
      expect(long.events / short.events, item.type).toBeLessThan(2.3);
    }
  });
});

describe("noise at the warmup boundary", () => {
  it("clips an interval that straddles warmup to its part inside the window, and counts interruptions by start", () => {
    // CPU 0 (busy) takes the wakeup's hrtimer interrupt at 0.5 ms, a 2 ms handler here: one noise
    // interval from 0.5 ms to about 2.5 ms, across a warmup of 1 ms or 1.5 ms.
    const spec = (warmup: number): ScenarioSpec =>
      base({
        duration: 4 * MS,
        warmup,
        kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1-3", params: { ipi_handler_ns: 2 * MS } },
        workload: [{ type: "user-loop", cpus: "0-3" }, { type: "wakeup", cpus: "2", every: 10 * MS, at: MS / 2, run: 20 * US }],
      });
    const all = simulate(spec(0)).report.cpus[0]!;
    expect(all.max_single_noise_ns).toBeGreaterThan(2 * MS);
    for (const warmup of [MS, 1.5 * MS]) {
      const clipped = simulate(spec(warmup)).report.cpus[0]!;
      const before = warmup - MS / 2;
      expect(clipped.max_single_noise_ns).toBe(all.max_single_noise_ns - before);
      // Noise that ended before warmup (a tick at boot) is not counted at all.
      expect(clipped.noise_ns).toBeGreaterThanOrEqual(clipped.max_single_noise_ns);
      expect(clipped.noise_ns).toBeLessThanOrEqual(all.noise_ns - before);
      expect(clipped.available_pct).toBeLessThan(75);
      // Counts stay by start time: the ticks of the first millisecond are not counted after warmup.
      expect(clipped.interruptions.tick).toBeLessThanOrEqual(all.interruptions.tick);
    }
  });
});
