import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "apps/demo/bin/isolsim.js");
const tmp = mkdtempSync(join(tmpdir(), "isolsim-limits-"));

/** Runs the built CLI as a user would. */
function isolsim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a scenario file and returns its path. */
function scenario(name: string, body: unknown): string {
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify(body));
  return file;
}

/** A small valid scenario with `kernel` and extra workload items merged in. */
function small(kernel: Record<string, unknown> = {}, items: unknown[] = [], top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "limits",
    duration: "20ms",
    kernel: { preset: "linux-4.9", cpus: 4, nohz_full: "1-3", ...kernel },
    workload: [{ type: "user-loop", cpus: "1-3" }, ...items],
    ...top,
  };
}

/** Asserts bad input through `run` (and `validate` with `both`): exit 2, nothing on stdout, every fragment on stderr, no stack. */
function expectBadInput(file: string | { file: string; both: true }, ...fragments: string[]): void {
  const cmds = typeof file === "string" ? ["run"] : ["validate", "run"];
  const path = typeof file === "string" ? file : file.file;
  for (const cmd of cmds) {
    const r = isolsim(cmd, path);
    expect(r.stdout, cmd).toBe("");
    for (const f of fragments) expect(r.stderr, cmd).toContain(f);
    expect(r.stderr, cmd).not.toMatch(/\n\s+at /);
    expect(r.status, cmd).toBe(2);
  }
}

// Each case spawns the CLI a few times: allow for a loaded machine.
describe("the CLI reads the limits table", { timeout: 30_000 }, () => {
  it("refuses parameters that used to crash, and gives hz 7 and 0 the same message", () => {
    expectBadInput(
      { file: scenario("params", small({ params: { pagevec_size: 1_000_000_000, tick_handler_ns: 1e30, ipi_handler_ns: 9007199254740991, hz: 7 } })), both: true },
      "kernel.params.pagevec_size: 1000000000 is not valid (valid: an integer 1-255)",
      "kernel.params.tick_handler_ns: 1e+30 is not valid (valid: an integer >= 0 and <= 1000000000 ns (0ns to 1s))",
      "kernel.params.ipi_handler_ns: 9007199254740991 is not valid",
      "kernel.params.hz: 7 is not valid (valid: 100, 250, 300, 1000)",
    );
    expectBadInput(scenario("hz0", small({ params: { hz: 0 } })), "kernel.params.hz: 0 is not valid (valid: 100, 250, 300, 1000)");
  });

  it("refuses a period below 1 µs on syscall, vmalloc-churn and wakeup", () => {
    const items = [
      { type: "syscall", cpus: "1", every: 42, call: "getpid" },
      { type: "vmalloc-churn", cpus: "0", every: "1ns", pages: 4 },
      { type: "wakeup", cpus: "2", every: 42, run: "1us" },
    ];
    expectBadInput(
      { file: scenario("every", small({}, items)), both: true },
      "workload[1].every: 42 is not a valid duration (valid: a positive duration from 1us to 3600s",
      'workload[2].every: "1ns" is not a valid duration',
      "workload[3].every: 42 is not a valid duration",
    );
  });

  it("refuses pages, duration and the number of items beyond their documented maximum", () => {
    expectBadInput(scenario("pages", small({}, [{ type: "vmalloc-churn", cpus: "0", every: "1ms", pages: 1e9 }])), "workload[1].pages: 1000000000 is not valid (valid: an integer 1-262144)");
    expectBadInput(scenario("duration", small({}, [], { duration: 1e15 })), "duration: 1000000000000000 is not a valid duration (valid: a positive duration from 1ns to 3600s");
    const many = Array.from({ length: 100_000 }, () => ({ type: "user-loop", cpus: "1" }));
    expectBadInput(scenario("many", { ...small(), workload: many }), "workload: 100000 items is not valid (valid: at most 1024 items");
  });

  it("type-checks mechanism options: numbers in range, booleans as booleans", () => {
    expectBadInput(
      scenario("options", small({ mechanisms: [{ name: "lru-spinlock-drain", options: { check_cpu_ns: 1e30 } }, { name: "rcu-nocb-merge", variant: "gp-groups", options: { all_cpus: "false" } }] })),
      "kernel.mechanisms[0].options.check_cpu_ns: 1e+30 is not valid (valid: an integer >= 0 and <= 1000000000 ns (0ns to 1s))",
      'kernel.mechanisms[1].options.all_cpus: "false" is not valid (valid: true, false)',
    );
    const values = ["yes", 1, null];
    expectBadInput(
      scenario("all-cpus", small({ mechanisms: values.map((v) => ({ name: "rcu-nocb-merge", variant: "gp-groups", options: { all_cpus: v } })) })),
      ...values.map((v, i) => `kernel.mechanisms[${i}].options.all_cpus: ${JSON.stringify(v)} is not valid (valid: true, false)`),
    );
  });

  it("refuses contradictions: kernel.hz against params.hz, a priority with policy other", () => {
    expectBadInput(scenario("two-hz", small({ hz: 1000, params: { hz: 250 } })), "kernel.params.hz: 250 conflicts with kernel.hz 1000");
    // Two parameters valid only together are checked together, in either order.
    const rt = isolsim("validate", scenario("rt", small({ params: { sched_rt_period_ns: 500_000_000, sched_rt_runtime_ns: 400_000_000 } })));
    expect(rt.stderr).toBe("");
    expect(rt.status).toBe(0);
    expectBadInput(scenario("priority", small({}, [{ type: "user-loop", cpus: "0", policy: "other", priority: 10 }])), "workload[1].priority: 10 is not valid with policy other");
  });

  it("finishes a run whose syscalls cannot keep up with their period: overrun firings are skipped", () => {
    const file = scenario("overrun", small({}, [{ type: "syscall", cpus: "1-3", every: "1us", call: "file-write", pages: 64 }]));
    const r = isolsim("run", file, "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).events).toBeGreaterThan(0);
  });
});
