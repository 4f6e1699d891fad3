import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tlbDefer } from "@isolsim/tlb-defer";
import { generateScenario, runScenario, runSeed, scenarioSpecOf } from "@isolsim/torture";
import { afterAll, describe, expect, it } from "vitest";
import { capture } from "../capture.js";
import { Exit } from "../exit.js";
import { main } from "../main.js";
import { fromPackage, registry } from "../registry.js";
import { scenarioFromObject } from "../scenario-file.js";
import { inertJson } from "../show.js";
import { fileLoader } from "./torture.js";

/** tlb-defer flushing at deferred_work, after the sys_enter tracepoint: a BPF program there uses a stale TLB entry (tlb-no-stale). */
const unsafe = { ...registry, "tlb-defer": fromPackage(() => tlbDefer({ flushStep: "deferred_work" })) };

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "isolsim-torture-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("isolsim torture", () => {
  it("prints the table and exits 0 when no invariant is violated; the same seed gives the same output", async () => {
    const a = capture();
    expect(await main(["torture", "--seed", "1", "--runs", "4"], a.io)).toBe(Exit.ok);
    expect(a.out()).toMatch(/^torture seed 1: 4 runs, \d+\.\d{3} s simulated, \d+ events$/m);
    expect(a.out()).toMatch(/^INVARIANT\s+RUNS\s+EVALUATIONS\s+VIOLATIONS$/m);
    expect(a.out()).toMatch(/^tlb-no-stale\s+\d+\s+\d+\s+0$/m);
    const b = capture();
    expect(await main(["torture", "--seed", "1", "--runs", "4"], b.io)).toBe(Exit.ok);
    expect(b.out()).toBe(a.out());
    const j = capture();
    expect(await main(["torture", "--seed", "1", "--runs", "4", "--json"], j.io)).toBe(Exit.ok);
    const r = JSON.parse(j.out());
    expect(r).toMatchObject({ seed: 1, runs: 4, failure: null });
    expect(r.invariants).toHaveLength(14);
  });

  it("shrinks a violation, saves it in --out, prints the run command and exits 1; isolsim run reproduces it byte for byte", async () => {
    const out = tmp();
    const argv = ["torture", "--seed", "9", "--runs", "4", "--mechanisms", "tlb-defer", "--out", out];
    const c = capture();
    expect(await main(argv, c.io, unsafe)).toBe(Exit.violated);
    expect(c.err()).toMatch(/tlb-no-stale violated by torture-9-3; shrinking it/);
    const files = readdirSync(out);
    expect(files).toEqual(["torture-9-3-tlb-no-stale.json"]);
    const file = join(out, files[0]!);
    expect(c.out()).toContain(`reproduce: isolsim run ${file}\n`);
    expect(c.out()).toMatch(/^VIOLATED tlb-no-stale in run 3; shrunk in \d+ steps/m);
    const saved = readFileSync(file, "utf8");

    // The same seed and options: the same file (and, with --json, the same failure).
    const again = capture();
    const out2 = tmp();
    expect(await main(["torture", "--seed", "9", "--runs", "4", "--mechanisms", "tlb-defer", "--out", out2, "--json"], again.io, unsafe)).toBe(Exit.violated);
    expect(readFileSync(join(out2, files[0]!), "utf8")).toBe(saved);
    const j = JSON.parse(again.out());
    expect(j.failure).toMatchObject({ invariant: "tlb-no-stale", run: 3, file: join(out2, files[0]!) });
    expect(c.out()).toContain(`  at ${j.failure.violation.time_ns} ns on CPU ${j.failure.violation.cpu}: ${j.failure.violation.detail}\n`);

    // isolsim run on the file: exit 1, the violation torture found, and the report of the shrunk scenario byte for byte.
    const run = capture();
    expect(await main(["run", file, "--json"], run.io, unsafe)).toBe(Exit.violated);
    const report = JSON.parse(run.out());
    expect(report.invariants.violations).toContainEqual(j.failure.violation);
    const shrunk = runScenario(JSON.parse(saved), unsafe, fileLoader(unsafe))!;
    expect(run.out()).toBe(inertJson(shrunk.report) + "\n");
  });

  it("refuses bad options with exit 2, naming the option", async () => {
    for (const [argv, message] of [
      [["--runs", "0"], /--runs: "0" is not valid \(valid: an integer 1-1000000\)/],
      [["--runs", "5", "--duration", "1s"], /--runs and --duration: give one of them/],
      [["--duration", "soon"], /--duration: "soon" is not valid/],
      [["--preset", "linux-2.6"], /--preset: unknown preset "linux-2.6"/],
      [["--mechanisms", "tlb-defer:nope"], /--mechanisms\[0\]\.variant: unknown variant "nope"/],
      [["--mechanisms", "nothing"], /--mechanisms\[0\]: unknown mechanism "nothing"/],
      [["--seed", "-1"], /--seed: "-1" is not valid/],
      [["FILE"], /torture/],
    ] as const) {
      const c = capture();
      expect(await main(["torture", ...argv], c.io)).toBe(Exit.badInput);
      expect(c.out()).toBe("");
      expect(c.err()).toMatch(message);
    }
  });

  it("generates the spec isolsim run makes of the same object (the saved file runs alike)", () => {
    for (let i = 0; i < 60; i++) {
      const o = generateScenario(runSeed(9, i), { registry, name: `g${i}` });
      expect(scenarioFromObject(JSON.parse(JSON.stringify(o)), { registry, name: "file" })).toEqual(scenarioSpecOf(o));
    }
  });
});
