import { describe, expect, it } from "vitest";
import { BadInput } from "./problems.js";
import { registry } from "./registry.js";
import { parseJson, scenarioFromObject } from "./scenario.js";

const problemsOf = (f: () => unknown): { field: string; message: string }[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof BadInput) return [...e.problems];
    throw e;
  }
  throw new Error("expected BadInput");
};

describe("scenario validation (shared by the CLI and the explorer)", () => {
  it("turns a valid object into the core's ScenarioSpec, durations in ns", () => {
    const spec = scenarioFromObject(
      { duration: "20ms", kernel: { cpus: 4, nohz_full: "1-3", mechanisms: ["remote-stats"] }, workload: [{ type: "user-loop", cpus: "1-3" }] },
      { registry, name: "t" },
    );
    expect(spec).toMatchObject({ name: "t", seed: 1, duration: 20_000_000, warmup: 0, kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1-3", mechanisms: [{ name: "remote-stats" }] } });
  });

  it("names the field, the value and what is valid, for every problem at once", () => {
    const problems = problemsOf(() =>
      scenarioFromObject({ duration: "1 fortnight", kernel: { cpus: 8, nohz_full: "1-9" }, workload: [{ type: "user-loop", cpus: "1-7" }] }, { registry }),
    );
    expect(problems.map((p) => p.field)).toEqual(["duration", "kernel.nohz_full"]);
    expect(problems[0]!.message).toContain('"1 fortnight" is not a valid duration');
    expect(problems[1]!.message).toContain("(valid: 0-7)");
  });

  it("reports a JSON syntax error with its line and column", () => {
    const [p] = problemsOf(() => parseJson('{\n  "duration": 1,,\n}'));
    expect(p).toMatchObject({ field: "(file)" });
    expect(p!.message).toMatch(/^not valid JSON at line 2, column \d+/);
  });
});
