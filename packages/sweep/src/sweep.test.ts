import { describe, expect, it } from "vitest";
import { simulate } from "@isolsim/core";
import {
  SweepError,
  aggregate,
  applyParams,
  canonicalJson,
  cellResult,
  expandCells,
  formatResults,
  formatSummary,
  metricsOf,
  parseSweep,
  plotSpec,
  recordedResults,
  summarize,
  sweepExit,
  valueLabel,
} from "./index.js";

const sweepFile = {
  name: "t",
  base: "base.json",
  matrix: { "kernel.cpus": [8, 16], "kernel.mechanisms": [[], ["remote-stats"]], seed: { from: 1, to: 3 } },
  metrics: ["max:max_single_noise_ns", "mean:noise_ns", "sum:interruptions.tick"],
};

const problems = (raw: unknown): string[] => {
  try {
    parseSweep(raw);
  } catch (e) {
    if (e instanceof SweepError) return e.problems.map((p) => `${p.field}: ${p.message}`);
    throw e;
  }
  return [];
};

describe("parseSweep and expandCells", () => {
  it("numbers cells in row-major order of the keys as written, ranges expanded", () => {
    const s = parseSweep(sweepFile);
    const cells = expandCells(s);
    expect(cells).toHaveLength(12);
    expect(cells[0]!.params).toEqual({ "kernel.cpus": 8, "kernel.mechanisms": [], seed: 1 });
    expect(cells[1]!.params).toEqual({ "kernel.cpus": 8, "kernel.mechanisms": [], seed: 2 });
    expect(cells[3]!.params).toEqual({ "kernel.cpus": 8, "kernel.mechanisms": ["remote-stats"], seed: 1 });
    expect(cells[11]!.params).toEqual({ "kernel.cpus": 16, "kernel.mechanisms": ["remote-stats"], seed: 3 });
    expect(Object.keys(cells[5]!.params)).toEqual(["kernel.cpus", "kernel.mechanisms", "seed"]);
  });

  it("reports every problem with its field and what is valid", () => {
    const p = problems({ base: 3, matrix: { "": [1], seed: { from: 5, to: 1 }, x: [], "a.__proto__.b": [1] }, metrics: ["avg:noise_ns", "max:nope", 7], extra: 1 });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^extra: unknown field/),
        expect.stringMatching(/^base: 3 is not valid/),
        expect.stringMatching(/^matrix\[""\]: .*empty segment/),
        expect.stringMatching(/^matrix\["seed"\]: from 5 > to 1/),
        expect.stringMatching(/^matrix\["x"\]: \[\] has no values/),
        expect.stringMatching(/^matrix\["a.__proto__.b"\]: .*__proto__/),
        expect.stringMatching(/^metrics\[0\]: .*aggregate "avg" \(valid: .*max, min, mean, p50, p99, sum/),
        expect.stringMatching(/^metrics\[1\]: .*"nope", not a per-CPU report key \(valid: noise_ns/),
        expect.stringMatching(/^metrics\[2\]: 7 is not valid/),
      ]),
    );
    expect(problems({ base: {}, matrix: { a: { from: 1, to: 100000 }, b: [1, 2] } })).toEqual([expect.stringMatching(/^matrix: 200000 cells \(valid: at most 100000/)]);
  });
});

describe("applyParams", () => {
  it("sets dotted paths in a copy, indexes lists, creates missing objects", () => {
    const base = { seed: 1, kernel: { cpus: 8 }, workload: [{ type: "user-loop", cpus: "1-7" }, { type: "syscall", every: "1s" }] };
    const out = applyParams(base, { "kernel.cpus": 64, "workload.1.every": "5ms", "kernel.params.tick_handler_ns": 100 });
    expect(out).toEqual({ seed: 1, kernel: { cpus: 64, params: { tick_handler_ns: 100 } }, workload: [{ type: "user-loop", cpus: "1-7" }, { type: "syscall", every: "5ms" }] });
    expect(base.kernel.cpus).toBe(8);
    expect(() => applyParams(base, { "workload.5.every": 1 })).toThrow(/workload is a list of 2 items: "5" is not an index of it \(valid: 0-1\)/);
    expect(() => applyParams(base, { "seed.x": 1 })).toThrow(/seed is 1, not an object or a list/);
  });

  it("canonicalJson sorts keys at every level", () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
    expect(valueLabel([])).toBe("none");
    expect(valueLabel(["remote-stats", { name: "tlb-defer", variant: "cr3-switch" }])).toBe("remote-stats+tlb-defer:cr3-switch");
  });
});

describe("metrics", () => {
  it("aggregates with nearest-rank percentiles", () => {
    const v = [5, 1, 4, 2, 3];
    expect([aggregate("max", v), aggregate("min", v), aggregate("sum", v), aggregate("mean", v), aggregate("p50", v), aggregate("p99", v)]).toEqual([5, 1, 15, 3, 3, 5]);
    expect(aggregate("max", [])).toBeNull();
  });

  it("reads a simulated report's isolated CPUs only", () => {
    const { report } = simulate({
      name: "m", seed: 1, duration: 200_000_000, warmup: 0,
      kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1-3" },
      workload: [{ type: "user-loop", cpus: "1-3" }],
    });
    const s = parseSweep({ base: {}, metrics: ["sum:interruptions.tick", "max:noise_ns", "p50:tick.kept_by.MAX_DEFERMENT"] });
    const m = metricsOf(report, s.metrics);
    const iso = report.cpus.filter((c) => c.isolated);
    expect(m["sum:interruptions.tick"]).toBe(iso.reduce((a, c) => a + c.interruptions.tick, 0));
    expect(m["sum:interruptions.tick"]).toBeLessThan(report.cpus[0]!.interruptions.tick);
    expect(m["max:noise_ns"]).toBe(Math.max(...iso.map((c) => c.noise_ns)));
  });
});

describe("results and summary", () => {
  const s = parseSweep(sweepFile);
  const cells = expandCells(s);
  const hashes = cells.map((c) => `h${c.cell}`);
  const results = cells.map((c) =>
    cellResult(c, hashes[c.cell]!, {
      digest: `d${c.cell}`,
      exit: c.cell === 4 ? 1 : 0,
      metrics: { "max:max_single_noise_ns": c.cell, "mean:noise_ns": c.cell / 2, "sum:interruptions.tick": 1 },
      ...(c.cell === 4 ? { violations: { "tick-deps": 2 } } : {}),
    }),
  );

  it("formats sorted lines with keys in a fixed order, and reads them back for resume", () => {
    const text = formatResults([...results].reverse());
    expect(text).toBe(formatResults(results));
    const first = text.split("\n")[0]!;
    expect(first).toBe('{"cell":0,"params":{"kernel.cpus":8,"kernel.mechanisms":[],"seed":1},"hash":"h0","digest":"d0","exit":0,"metrics":{"max:max_single_noise_ns":0,"mean:noise_ns":0,"sum:interruptions.tick":1}}');
    const changed = [...hashes];
    changed[2] = "other";
    const torn = `${text}{"cell":11,"par`;
    const done = recordedResults(torn, cells, changed);
    expect([...done.keys()].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(formatResults(done.values())).toBe(formatResults(results.filter((r) => r.cell !== 2)));
    expect(sweepExit(results)).toBe(1);
    expect(sweepExit([...results, cellResult(cells[0]!, "x", { digest: null, exit: 3, metrics: {}, error: "boom" })])).toBe(3);
  });

  it("tables fold the other axes and name them; the plot spec has one panel per metric", () => {
    const tables = summarize(s, results);
    expect(tables[0]!.rows!.path).toBe("kernel.cpus");
    expect(tables[0]!.cols!.path).toBe("kernel.mechanisms");
    // max over seeds of cells 0-2 is 2; of 9-11 is 11.
    expect(tables[0]!.values).toEqual([[2, 5], [8, 11]]);
    expect(tables[1]!.values).toEqual([[0.5, 2], [3.5, 5]]);
    const text = formatSummary(tables);
    expect(text).toContain("max:max_single_noise_ns (max of max_single_noise_ns over isolated CPUs; rows kernel.cpus, columns kernel.mechanisms; max over seed (3 values))");
    expect(text).toContain("kernel.cpus  none  remote-stats\n8               2             5\n16              8            11\n");
    const spec = plotSpec(tables, "t") as { concat: { encoding: { x: { scale: object } }; data: { values: unknown[] } }[] };
    expect(spec.concat).toHaveLength(3);
    expect(spec.concat[0]!.data.values).toContainEqual({ x: 16, series: "remote-stats", y: 11 });
    const bySeed = summarize(s, results, "seed", "kernel.cpus");
    expect(bySeed[0]!.folded.map((a) => a.path)).toEqual(["kernel.mechanisms"]);
  });
});
