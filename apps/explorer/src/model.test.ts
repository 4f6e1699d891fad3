import { describe, expect, it } from "vitest";
import { simulate } from "@isolsim/core";
import { registry, scenarioFromObject } from "@isolsim/scenario";
import { baselineOf, differenceFromBaseline, formOf, isolatedSums, noiseBars, reportProblem, withForm } from "./model.js";

const scenario = {
  name: "t",
  duration: "300ms",
  kernel: { preset: "linux-4.9", cpus: 4, nohz_full: "1-3", mechanisms: [{ name: "rcu-nocb-merge", variant: "gp-groups", options: { gp_stride: 2 } }] },
  workload: [{ type: "user-loop", cpus: "1-3" }],
};

describe("the kernel form over a scenario", () => {
  it("reads preset, CPUs, nohz_full and mechanisms as a file writes them", () => {
    expect(formOf(scenario, "linux-4.9")).toEqual({ preset: "linux-4.9", cpus: 4, nohzFull: "1-3", mechanisms: [{ name: "rcu-nocb-merge", variant: "gp-groups" }] });
  });

  it("writes the form back, keeping a mechanism's options and the workload", () => {
    const out = withForm(scenario, { preset: "linux-6.12", cpus: 8, nohzFull: "1-7", mechanisms: [{ name: "remote-stats" }, { name: "rcu-nocb-merge", variant: "gp-groups" }] });
    expect(out.kernel).toEqual({ preset: "linux-6.12", cpus: 8, nohz_full: "1-7", mechanisms: ["remote-stats", { name: "rcu-nocb-merge", variant: "gp-groups", options: { gp_stride: 2 } }] });
    expect(out.workload).toBe(scenario.workload);
  });

  it("keeps a cmdline when the form's nohz_full is empty (giving both is bad input)", () => {
    const s = { ...scenario, kernel: { cpus: 4, cmdline: "nohz_full=1-3" } };
    expect(withForm(s, { preset: "linux-4.9", cpus: 4, nohzFull: "", mechanisms: [] }).kernel).toEqual({ preset: "linux-4.9", cpus: 4, cmdline: "nohz_full=1-3", mechanisms: [] });
  });
});

describe("bars, sums and the baseline", () => {
  const spec = scenarioFromObject({ ...scenario, kernel: { cpus: 40, nohz_full: "1-39" }, workload: [{ type: "user-loop", cpus: "1-39" }] }, { registry });
  const report = simulate(spec, { registry }).report;

  it("draws one bar per CPU when there are few, counting what each CPU received", () => {
    const bars = noiseBars(report.cpus, 64);
    expect(bars).toHaveLength(40);
    expect(bars[0]).toMatchObject({ label: "CPU 0", isolated: false, counts: report.cpus[0]!.interruptions });
  });

  it("groups consecutive CPUs of one kind into a bar that sums their counts when there are many", () => {
    const bars = noiseBars(report.cpus, 8);
    expect(bars.map((b) => b.label)).toEqual(["CPU 0", "CPUs 1-5", "CPUs 6-10", "CPUs 11-15", "CPUs 16-20", "CPUs 21-25", "CPUs 26-30", "CPUs 31-35", "CPUs 36-39"]);
    const total = (k: string) => bars.reduce((n, b) => n + (b.counts[k] ?? 0), 0);
    expect(total("tick")).toBe(report.cpus.reduce((n, c) => n + (c.interruptions.tick ?? 0), 0));
  });

  it("sums the isolated CPUs and sets them beside the baseline", () => {
    const sums = isolatedSums(report);
    expect(sums.cpus).toBe(39);
    const rows = differenceFromBaseline(report, report);
    expect(rows.find((r) => r.key === "tick")).toEqual({ key: "tick", value: sums.counts.tick, baseline: sums.counts.tick, delta: 0 });
  });

  it("takes the scenario's own mechanisms away for the baseline, as isolsim compare does", () => {
    expect((baselineOf(scenario).kernel as { mechanisms: unknown[] }).mechanisms).toEqual([]);
  });

  it("accepts a report of isolsim run --json and names what a wrong file lacks", () => {
    expect(reportProblem(JSON.parse(JSON.stringify(report)))).toBeNull();
    expect(reportProblem([report])).toMatch(/compare --json/);
    expect(reportProblem({ cpus: [{ cpu: 0 }] })).toBe("cpus[0].isolated: missing (valid: true or false)");
  });
});
