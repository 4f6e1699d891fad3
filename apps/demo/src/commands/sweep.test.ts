// Needs the built CLI (dist/cell-worker.js is what the pool's threads load): turbo builds it before this test.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyParams, expandCells, parseSweep } from "@isolsim/sweep";
import { afterAll, describe, expect, it } from "vitest";
import { capture } from "../capture.js";
import { Exit } from "../exit.js";
import { main } from "../main.js";

const dir = mkdtempSync(join(tmpdir(), "isolsim-sweep-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenarios = fileURLToPath(new URL("../../scenarios/", import.meta.url));

/** A tiny sweep: 8 cells of 200 ms simulated on 8 CPUs. */
const tiny = {
  name: "tiny",
  base: {
    duration: "200ms",
    kernel: { preset: "linux-4.9", cpus: 8, nohz_full: "1-7" },
    workload: [
      { type: "user-loop", cpus: "1-7" },
      { type: "syscall", cpus: "1-7", every: "20ms", jitter: "5ms", call: "file-write" },
      { type: "lru-drain-all", cpus: "0", every: "50ms" },
    ],
  },
  matrix: { "kernel.mechanisms": [[], ["remote-stats"]], "kernel.cpus": [8, 12], seed: { from: 1, to: 2 } },
  metrics: ["max:max_single_noise_ns", "mean:noise_ns", "sum:interruptions.tick", "p99:interruptions.kworker_lru_drain"],
};

function write(name: string, v: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof v === "string" ? v : JSON.stringify(v));
  return f;
}

async function sweep(args: string[]): Promise<{ exit: number; out: string; err: string }> {
  const c = capture();
  const exit = await main(["sweep", ...args], c.io);
  return { exit, out: c.out(), err: c.err() };
}

// Each test spawns worker threads and runs several sweeps: more than the default 5 s on a busy 2-core machine.
describe("isolsim sweep on the local pool", { timeout: 60_000 }, () => {
  const file = write("tiny.json", tiny);

  it("gives the same bytes with 2 workers as with 1, sorted by cell, each cell as isolsim run runs it", async () => {
    const one = await sweep([file, "--workers", "1", "--out", join(dir, "one.jsonl")]);
    const two = await sweep([file, "--workers", "2", "--out", join(dir, "two.jsonl")]);
    expect(one.exit).toBe(Exit.ok);
    expect(two.exit).toBe(Exit.ok);
    const bytes = readFileSync(join(dir, "one.jsonl"), "utf8");
    expect(readFileSync(join(dir, "two.jsonl"), "utf8")).toBe(bytes);
    expect(two.out).toBe(one.out);
    const lines = bytes.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.cell)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(lines[0])).toEqual(["cell", "params", "hash", "digest", "exit", "metrics"]);
    expect(lines[5].params).toEqual({ "kernel.mechanisms": ["remote-stats"], "kernel.cpus": 8, seed: 2 });
    // The cells differ, and each one's digest and metrics are those of `isolsim run` on its scenario.
    expect(new Set(lines.map((l) => l.digest)).size).toBe(8);
    const cells = expandCells(parseSweep(tiny));
    for (const n of [0, 7]) {
      const scenario = write(`cell${n}.json`, { name: "tiny", ...applyParams(tiny.base, cells[n]!.params) });
      const c = capture();
      expect(await main(["run", scenario, "--json"], c.io)).toBe(lines[n].exit);
      const report = JSON.parse(c.out());
      expect(report.digest).toBe(lines[n].digest);
      const iso = report.cpus.filter((x: { isolated: boolean }) => x.isolated);
      expect(lines[n].metrics["sum:interruptions.tick"]).toBe(iso.reduce((a: number, x: { interruptions: { tick: number } }) => a + x.interruptions.tick, 0));
      expect(lines[n].metrics["max:max_single_noise_ns"]).toBe(Math.max(...iso.map((x: { max_single_noise_ns: number }) => x.max_single_noise_ns)));
    }
    expect(one.out).toContain("sweep tiny: 8 cells, 0 violated an invariant, 0 failed");
    expect(one.out).toMatch(/max:max_single_noise_ns \(max of max_single_noise_ns over isolated CPUs; rows kernel\.mechanisms, columns kernel\.cpus; max over seed \(2 values\)\)\nkernel\.mechanisms\s+8\s+12\nnone\s+\d+\s+\d+\nremote-stats\s+\d+\s+\d+\n/);
    // --json prints the same lines on stdout.
    const json = await sweep([file, "--workers", "2", "--json"]);
    expect(json.out).toBe(bytes);
  });

  it("resumes: a rerun skips cells recorded with the same inputs, reruns the others, and ends with the same bytes", async () => {
    const full = readFileSync(join(dir, "one.jsonl"), "utf8");
    const lines = full.trimEnd().split("\n");
    const changed = JSON.parse(lines[3]!);
    changed.hash = "0".repeat(32);
    changed.metrics["mean:noise_ns"] = -1;
    // Lines out of order, one missing, one of other inputs, one cut by a crash.
    const partial = [lines[6], lines[0], JSON.stringify(changed), lines[2], lines[1], lines[7], lines[4]!.slice(0, 40)].join("\n");
    const out = write("partial.jsonl", partial);
    const r = await sweep([file, "--workers", "2", "--out", out]);
    expect(r.exit).toBe(Exit.ok);
    expect(r.err).toContain(`5 of 8 cells already in ${out}; running 3`);
    expect(readFileSync(out, "utf8")).toBe(full);
    // Everything recorded: nothing runs.
    const again = await sweep([file, "--out", out]);
    expect(again.err).toContain("8 of 8 cells already in");
    expect(readFileSync(out, "utf8")).toBe(full);
    // Other metrics are other inputs: every cell runs again.
    const other = write("tiny-other.json", { ...tiny, metrics: ["min:noise_ns"] });
    const rerun = await sweep([other, "--out", out]);
    expect(rerun.err).not.toContain("already in");
    expect(readFileSync(out, "utf8").split("\n")[0]).toMatch(/"metrics":\{"min:noise_ns":\d+\}\}$/);
  });

  it("records a cell that violates an invariant as a result (exit 1, violations summarised); the sweep exits 1", async () => {
    const f = write("starve.json", { base: join(scenarios, "workqueue-starvation.json"), matrix: { duration: ["1s", "1500ms"] }, metrics: ["max:noise_ns"] });
    const out = join(dir, "starve.jsonl");
    const r = await sweep([f, "--workers", "2", "--out", out]);
    expect(r.exit).toBe(Exit.violated);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.exit)).toEqual([0, 1]);
    expect(lines[1].violations).toEqual({ "workqueue-progress": 1 });
    expect(r.err).toContain("isolsim sweep: cell 1 (duration=1500ms): exit 1, invariants violated: workqueue-progress ×1");
    expect(r.out).toContain("1 violated an invariant");
  });

  it("validates every cell before running any: exit 2 naming the cell and the field, nothing on stdout, no results file", async () => {
    const bad = write("bad.json", { ...tiny, matrix: { "kernel.cpus": [8, 0, 4], "workload.1.every": ["1ms", "-5ms"] } });
    const out = join(dir, "never.jsonl");
    const r = await sweep([bad, "--out", out]);
    expect(r.exit).toBe(Exit.badInput);
    expect(r.out).toBe("");
    expect(existsSync(out)).toBe(false);
    expect(r.err).toContain("cell 2 (kernel.cpus=0, workload.1.every=1ms): kernel.cpus: 0 is not valid");
    expect(r.err).toContain("cell 1 (kernel.cpus=8, workload.1.every=-5ms): workload[1].every:");
    // CPUs 1-7 do not exist on a 4-CPU machine.
    expect(r.err).toMatch(/cell 4 \(kernel\.cpus=4, workload\.1\.every=1ms\): kernel\.nohz_full: /);
    const metric = await sweep([write("bad-metric.json", { ...tiny, metrics: ["avg:noise_ns"] })]);
    expect(metric.exit).toBe(Exit.badInput);
    expect(metric.err).toMatch(/metrics\[0\]: "avg:noise_ns" has aggregate "avg" \(valid: "agg:key" with agg one of max, min, mean, p50, p99, sum\)/);
    const base = await sweep([write("bad-base.json", { ...tiny, base: "nowhere.json" })]);
    expect(base.err).toMatch(/base: cannot read ".*nowhere\.json": ENOENT/);
    for (const [args, msg] of [
      [["--workers", "0"], /--workers: "0" is not valid \(valid: an integer 1-256\)/],
      [["--queue", "http://x:1"], /--queue: "http:\/\/x:1" is not a redis:\/\/ URL/],
      [["--plot", "x.png"], /--plot: "x\.png" is not valid \(valid: a file name ending in \.svg\)/],
      [["--rows", "seed", "--cols", "seed"], /--cols: "seed" is also --rows/],
      [["--rows", "kernel.hz"], /--rows: "kernel\.hz" is not a matrix key of the sweep \(valid: kernel\.mechanisms, kernel\.cpus, seed\)/],
      [["--out", file], /--out: .* is the sweep file itself/],
    ] as const) {
      const e = await sweep([file, ...args]);
      expect(e.exit, args.join(" ")).toBe(Exit.badInput);
      expect(e.err).toMatch(msg);
      expect(e.out).toBe("");
    }
  });

  it("draws --plot as SVG, the same bytes on every run, with --rows/--cols choosing the axes", async () => {
    const svg = join(dir, "plot.svg");
    const r = await sweep([file, "--workers", "2", "--plot", svg, "--rows", "kernel.cpus", "--cols", "kernel.mechanisms"]);
    expect(r.exit).toBe(Exit.ok);
    const first = readFileSync(svg, "utf8");
    expect(first.startsWith("<svg")).toBe(true);
    expect(first).toContain("sum:interruptions.tick");
    expect(first).toContain("remote-stats");
    expect(r.out).toMatch(/rows kernel\.cpus, columns kernel\.mechanisms; max over seed \(2 values\)/);
    await sweep([file, "--workers", "1", "--plot", svg, "--rows", "kernel.cpus", "--cols", "kernel.mechanisms"]);
    expect(readFileSync(svg, "utf8")).toBe(first);
  });
});
