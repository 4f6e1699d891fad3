import { describe, expect, it } from "vitest";
import { DelayedProgress, progressAllowed } from "./progress.js";
import { BadInput } from "./problems.js";
import { registry } from "./registry.js";
import { parseDuration, scenarioFromObject } from "./scenario-file.js";

describe("scenario files", () => {
  it("parses durations as integer ns or strings with ns/us/ms/s", () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration("1.5ms")).toBe(1_500_000);
    expect(parseDuration("20us")).toBe(20_000);
    expect(parseDuration("10s")).toBe(10_000_000_000);
    for (const bad of [-1, 1.5, "-5ms", "5 min", "0.5ns", null]) expect(parseDuration(bad)).toBeNull();
  });

  it("converts snake_case fields to the core's camelCase ScenarioSpec, durations in ns", () => {
    const spec = scenarioFromObject(
      {
        name: "s",
        duration: "2s",
        warmup: "500ms",
        kernel: { cpus: 4, nohz_full: "1-3", params: { tick_handler_ns: 1000 } },
        workload: [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2", every: "300ms", run: "20us", jitter: 100 }],
      },
      { registry },
    );
    expect(spec).toEqual({
      name: "s",
      seed: 1,
      duration: 2e9,
      warmup: 5e8,
      kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1-3", params: { tick_handler_ns: 1000 } },
      workload: [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2", every: 3e8, run: 20_000, jitter: 100 }],
    });
  });

  it("names the options that replaced a field in its problems", () => {
    const raw = { duration: "1s", kernel: { cpus: 2 }, workload: [] };
    try {
      scenarioFromObject(raw, { registry, overrides: { preset: "linux-9", duration: "0s" } });
      expect.unreachable();
    } catch (e) {
      expect((e as BadInput).problems.map((p) => p.field)).toEqual(["--duration", "--preset"]);
    }
  });
});

function problemsOf(raw: unknown): { field: string; message: string }[] {
  try {
    scenarioFromObject(raw, { registry });
  } catch (e) {
    return [...(e as BadInput).problems];
  }
  return expect.unreachable();
}

describe("problems name what is valid for the field they are in", () => {
  const scenario = (kernel: Record<string, unknown>) => ({ duration: "1s", kernel: { cpus: 8, ...kernel }, workload: [] });

  it("kernel.cpus is a number of CPUs, not a CPU list", () => {
    expect(problemsOf(scenario({ cpus: "8" }))).toEqual([{ field: "kernel.cpus", message: '"8" is not valid (valid: an integer 1-8192)' }]);
    expect(problemsOf(scenario({ cpus: 9000 }))).toEqual([{ field: "kernel.cpus", message: "9000 is not valid (valid: an integer 1-8192)" }]);
  });

  it("a mechanism entry that is neither a name nor an object says both are valid", () => {
    expect(problemsOf(scenario({ mechanisms: [3] }))).toEqual([
      { field: "kernel.mechanisms[0]", message: '3 is not valid (valid: a mechanism name (isolsim mechanisms lists them) or { "name", "variant"?, "options"? })' },
    ]);
  });

  it("an empty mechanism name is one problem that shows the value", () => {
    expect(problemsOf(scenario({ mechanisms: [""] }))).toEqual([
      { field: "kernel.mechanisms[0].name", message: '"" is not valid (valid: a mechanism name (isolsim mechanisms lists them))' },
    ]);
  });
});

describe("progress bar", () => {
  it("shows only on a terminal and never with --json", () => {
    expect(progressAllowed({ isTTY: true, write: () => true }, false)).toBe(true);
    expect(progressAllowed({ isTTY: true, write: () => true }, true)).toBe(false);
    expect(progressAllowed({ write: () => true }, false)).toBe(false);
  });

  it("appears only once the run has taken longer than the delay", () => {
    let t = 0;
    let written = "";
    const stream = { isTTY: true, write: (s: string) => ((written += s), true), on: () => stream, removeListener: () => stream, cursorTo: () => true, clearLine: () => true, columns: 80 };
    const p = new DelayedProgress(stream, true, "run", 1000, () => t);
    p.update(10, 100);
    expect(p.shown).toBe(false);
    t = 1500;
    p.update(20, 100);
    expect(p.shown).toBe(true);
    p.stop();
    expect(written).not.toBe("");
  });
});
