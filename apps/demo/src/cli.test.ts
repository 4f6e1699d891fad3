import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "apps/demo/bin/isolsim.js");
const residual = join(root, "apps/demo/scenarios/residual-tick.json");
const showcase = join(root, "apps/demo/scenarios/showcase.json");
const checkReport = join(root, "../shared/tools/check-report.mjs");
const tmp = mkdtempSync(join(tmpdir(), "isolsim-cli-"));

/** Runs the built CLI as a user would. */
function isolsim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a scenario file (object or raw text) and returns its path. */
function scenario(name: string, body: unknown): string {
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, typeof body === "string" ? body : JSON.stringify(body, null, 2));
  return file;
}

/** The mechanism packages the CLI knows, in registry order. */
const MECHANISMS = ["remote-stats", "lru-spinlock-drain", "vmstat-quiesce", "tlb-defer", "rcu-nocb-merge", "oneshot-stopped"];

/** A small valid scenario (snake_case, as in files). */
const base = () => ({
  name: "small",
  duration: "2s",
  warmup: "500ms",
  kernel: { preset: "linux-4.9", cpus: 4, nohz_full: "1-3" },
  workload: [
    { type: "user-loop", cpus: "1-3" },
    { type: "syscall", cpus: "1-3", every: "500ms", call: "getpid" },
  ],
});

/** Asserts the shared contract checker accepts a report file, when the checker is present. */
function expectContractShape(json: string): void {
  if (!existsSync(checkReport)) return;
  const file = join(tmp, `report-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, json);
  const r = spawnSync(process.execPath, [checkReport, file], { encoding: "utf8" });
  expect(r.stdout).toContain("matches the contract's report shape");
  expect(r.status).toBe(0);
}

/** Asserts bad input: exit 2, nothing on stdout, and every expected fragment on stderr. */
function expectBadInput(r: { status: number | null; stdout: string; stderr: string }, ...fragments: string[]): void {
  expect(r.stdout).toBe("");
  for (const f of fragments) expect(r.stderr).toContain(f);
  expect(r.status).toBe(2);
}

describe("isolsim run", () => {
  it("prints a report that matches the contract with --json, and exits 0 when no invariant is violated", () => {
    const r = isolsim("run", residual, "--json");
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout);
    expect(report.cpus).toHaveLength(8);
    expect(report.cpus[1].interruptions.tick).toBe(9);
    expect(report.cpus[0].interruptions.tick).toBeGreaterThan(8990);
    expect(report.invariants.violations).toEqual([]);
    expectContractShape(r.stdout);
  });

  it("prints an rtla-osnoise-top style table by default, with why the tick kept running", () => {
    const r = isolsim("run", residual);
    expect(r.status).toBe(0);
    const header = r.stdout.split("\n").find((l) => l.trimStart().startsWith("CPU"))!;
    expect(header).toMatch(/CPU\s+Runtime\s+Noise\s+% CPU Aval\s+Max Single\s+TICK\s+SPUR/);
    expect(r.stdout).toContain("Linux 4.9: a busy nohz_full CPU keeps a 1 Hz residual tick");
    expect(r.stdout).toMatch(/CPUs 1-2,4-7: tick stopped .*ticks kept by MAX_DEFERMENT 9/);
    expect(r.stdout).toContain("violations: none");
  });

  it("replaces the seed, the duration and the mechanisms from the command line", () => {
    const r = isolsim("run", residual, "--json", "--seed", "7", "--duration", "3s", "--mechanisms", "remote-stats");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.seed).toBe(7);
    expect(report.simulated_ns).toBe(3_000_000_000);
    expect(report.kernel.mechanisms).toEqual([{ name: "remote-stats", variant: "mainline" }]);
    expect(report.cpus[1].interruptions.tick).toBe(0);
    const none = JSON.parse(isolsim("run", scenario("with-mech", { ...base(), kernel: { ...base().kernel, mechanisms: ["remote-stats"] } }), "--json", "--mechanisms", "").stdout);
    expect(none.kernel.mechanisms).toEqual([]);
  });

  it("rejects a bad --mechanisms entry naming the option, the value and the known mechanisms", () => {
    expectBadInput(isolsim("run", residual, "--mechanisms", "no-such"), '--mechanisms[0]: unknown mechanism "no-such" (valid: remote-stats, lru-spinlock-drain, vmstat-quiesce, tlb-defer, rcu-nocb-merge, oneshot-stopped)');
  });

  it("rejects bad options and values with exit 2", () => {
    expectBadInput(isolsim("run", residual, "--seed=-1"), "--seed", '"-1"', "valid: an integer");
    expectBadInput(isolsim("run", residual, "--seed", "x1"), '--seed: "x1" is not valid (valid: an integer 0-4294967295)');
    expectBadInput(isolsim("run", residual, "--duration", "10 parsecs"), "--duration", "10 parsecs", "ms");
    expectBadInput(isolsim("run", residual, "--frobnicate"), "--frobnicate", "--json");
    expectBadInput(isolsim("run", residual, "--trace", join(tmp, "t.json"), "--trace-format", "ctf"), '--trace-format: "ctf"', "perfetto, ftrace");
    expectBadInput(isolsim("run", residual, "--trace", join(tmp, "no/such/dir/t.json")), "--trace", "ENOENT");
    expectBadInput(isolsim("run"), "missing FILE");
    expectBadInput(isolsim("frob"), 'unknown command "frob"', "run, compare");
  });

  it("exits 1 and still prints the report when an invariant is violated (a SCHED_FIFO task starves a kworker with RT throttling off)", () => {
    const starved = scenario("starved", {
      name: "fifo-starves-kworker",
      duration: "10s",
      kernel: { preset: "linux-4.9", cpus: 4, hz: 250, nohz_full: "1-3", params: { sched_rt_runtime_ns: -1 } },
      workload: [
        { type: "user-loop", cpus: "1-3", policy: "fifo", priority: 50 },
        { type: "syscall", cpus: "1-3", every: "100ms", call: "file-write" },
        { type: "lru-drain-all", cpus: "0", every: "200ms" },
      ],
    });
    const r = isolsim("run", starved, "--json");
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { invariants: { violations: { invariant: string; cpu: number; detail: string }[] } };
    expect(report.invariants.violations.map((v) => v.invariant)).toContain("workqueue-progress");
    expect(report.invariants.violations[0]!.detail).toContain("SCHED_FIFO");
    expectContractShape(r.stdout);
    const table = isolsim("run", starved);
    expect(table.status).toBe(1);
    expect(table.stdout).toContain("workqueue-progress");
  });

  it("prints what the kernel would print at boot, e.g. the boot CPU kept for housekeeping", () => {
    const all = scenario("boot-cpu", { ...base(), kernel: { ...base().kernel, nohz_full: "0-3" }, workload: [{ type: "user-loop", cpus: "1-3" }] });
    const r = isolsim("run", all, "--json");
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("isolsim: kernel: Housekeeping: must include one present CPU, using boot CPU:0");
    expect(JSON.parse(r.stdout).kernel.nohz_full).toBe("1-3");
  });

  it("writes nothing to stderr when stderr is not a terminal (no progress bar)", () => {
    const r = isolsim("run", showcase);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("is deterministic: the same scenario and seed give byte-identical output and traces", () => {
    for (const format of ["perfetto", "ftrace"]) {
      const a = join(tmp, `a.${format}`);
      const b = join(tmp, `b.${format}`);
      const r1 = isolsim("run", showcase, "--json", "--duration", "3s", "--trace", a, "--trace-format", format);
      const r2 = isolsim("run", showcase, "--json", "--duration", "3s", "--trace", b, "--trace-format", format);
      expect(r1.status).toBe(0);
      expect(r1.stdout).toBe(r2.stdout);
      expect(readFileSync(a, "utf8")).toBe(readFileSync(b, "utf8"));
      expect(readFileSync(a, "utf8").length).toBeGreaterThan(1000);
    }
    const other = JSON.parse(isolsim("run", showcase, "--json", "--duration", "3s", "--seed", "2").stdout);
    const first = JSON.parse(isolsim("run", showcase, "--json", "--duration", "3s").stdout);
    expect(other.digest).not.toBe(first.digest);
  });
});

describe("isolsim validate and bad scenario files", () => {
  it("accepts the shipped scenarios", () => {
    for (const f of [residual, showcase]) {
      const r = isolsim("validate", f);
      expect(r.stdout).toContain("valid");
      expect(r.status).toBe(0);
    }
  });

  it("reports a JSON syntax error with its line and column", () => {
    expectBadInput(isolsim("validate", scenario("syntax", '{\n  "name": "x",\n  "duration": "1s"\n  "kernel": {}\n}\n')), "not valid JSON at line 4, column 3");
  });

  it("rejects an unknown mechanism, listing the known ones", () => {
    const s = base();
    expectBadInput(isolsim("run", scenario("mech", { ...s, kernel: { ...s.kernel, mechanisms: ["remote-stats", "tlb-deferr"] } })), 'kernel.mechanisms[1]: unknown mechanism "tlb-deferr" (valid: remote-stats, lru-spinlock-drain, vmstat-quiesce, tlb-defer, rcu-nocb-merge, oneshot-stopped)');
  });

  it("rejects an unknown variant and options a mechanism does not take", () => {
    const s = base();
    const m = [{ name: "remote-stats", variant: "v9" }, { name: "oneshot-stopped", options: { colour: 1 } }];
    expectBadInput(isolsim("validate", scenario("variant", { ...s, kernel: { ...s.kernel, mechanisms: m } })), 'kernel.mechanisms[0].variant: unknown variant "v9" of remote-stats (valid: mainline)', "kernel.mechanisms[1].options.colour: unknown option");
  });

  it("a variant that needs what the kernel lacks is exit 2 saying what is missing; the boot option supplies it", () => {
    const s = base();
    const at = (name: string, cmdline: string, m: unknown[]) => scenario(name, { ...s, kernel: { preset: "linux-4.9", cpus: 4, cmdline, mechanisms: m } });
    expectBadInput(isolsim("validate", at("no-qpw", "nohz_full=1-3", [{ name: "lru-spinlock-drain", variant: "qpw" }])), '"qpw" needs QPW enabled at boot', "add qpw=1 to kernel.cmdline");
    expectBadInput(isolsim("run", at("no-pti", "nohz_full=1-3 nopti", [{ name: "tlb-defer", variant: "cr3-switch" }])), '"cr3-switch" needs page-table isolation', "add pti=on to kernel.cmdline");
    const ok = isolsim("run", at("both", "nohz_full=1-3 qpw=1 pti=on", [{ name: "lru-spinlock-drain", variant: "qpw" }, { name: "tlb-defer", variant: "cr3-switch" }]), "--json");
    expect(ok.status).toBe(0);
    expect(ok.stderr).toBe("");
    expect(JSON.parse(ok.stdout).kernel.mechanisms).toEqual([{ name: "lru-spinlock-drain", variant: "qpw" }, { name: "tlb-defer", variant: "cr3-switch" }]);
    expectBadInput(isolsim("validate", scenario("pti-twice", { ...s, kernel: { preset: "linux-4.9", cpus: 4, cmdline: "nohz_full=1-3 pti=off", params: { pti: true } } })), "kernel.params.pti: true conflicts with kernel.cmdline, which sets pti off");
  });

  it("passes mechanism options from the file (snake_case) and rejects bad ones naming the option", () => {
    const s = base();
    const ok = scenario("opts", { ...s, kernel: { ...s.kernel, mechanisms: [{ name: "tlb-defer", options: { flush_step: "deferred_work" } }, { name: "rcu-nocb-merge", variant: "gp-groups", options: { gp_stride: 2 } }] } });
    const r = isolsim("run", ok, "--json");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).mechanism_stats["tlb-defer"].flush_step).toBe("deferred_work");
    const bad = scenario("bad-opts", { ...s, kernel: { ...s.kernel, mechanisms: [{ name: "vmstat-quiesce", options: { fold_item_ns: -3 } }] } });
    expectBadInput(isolsim("run", bad), "kernel.mechanisms[0].options.fold_item_ns", "-3", "valid: an integer >= 0");
  });

  it("rejects a CPU out of range, naming the field, the CPU and the valid range", () => {
    const s = base();
    s.workload[1]!.cpus = "1-5";
    expectBadInput(isolsim("run", scenario("range", s)), "workload[1].cpus: CPU 5 is out of range for a machine of 4 CPUs (valid: 0-3)");
  });

  it("rejects a negative duration", () => {
    const s = base() as Record<string, unknown> & ReturnType<typeof base>;
    (s.workload[1] as Record<string, unknown>).every = "-500ms";
    expectBadInput(isolsim("run", scenario("negative", s)), 'workload[1].every: "-500ms" is not a valid duration', "valid: a positive duration");
  });

  it("rejects an unknown field, listing the fields that exist", () => {
    const s = { ...base(), kernel: { ...base().kernel, nohz: "1-3" } };
    expectBadInput(isolsim("validate", scenario("unknown", s)), "kernel.nohz: unknown field (valid: preset, cpus, hz, nohz_full, cmdline, mechanisms, params)");
  });

  it("rejects a syscall on a CPU without a user-loop task, and cmdline with nohz_full", () => {
    const s = base();
    s.workload[0]!.cpus = "1-2";
    expectBadInput(isolsim("validate", scenario("nouser", s)), "workload[1].cpus: CPU 3 has no user-loop task");
    const both = { ...base(), kernel: { ...base().kernel, cmdline: "nohz_full=1-3" } };
    expectBadInput(isolsim("validate", scenario("both", both)), "kernel.cmdline: give either kernel.cmdline or kernel.nohz_full");
  });

  it("reports several problems at once, each with its field path", () => {
    const s = {
      ...base(),
      colour: "red",
      warmup: -5,
      kernel: { ...base().kernel, cpus: 4, nohz_full: "1-9", mechanisms: ["nope"], params: { tick_handler_ns: -1 } },
      workload: [
        { type: "user-loop", cpus: "1-3", policy: "fifo", priority: 120 },
        { type: "syscall", cpus: "1-3", every: "1ms", call: "getpidd" },
        { type: "teleport", cpus: "1" },
        { type: "vmalloc-churn", cpus: "0", every: "1ms" },
      ],
    };
    const r = isolsim("validate", scenario("several", s));
    expectBadInput(
      r,
      "problems:",
      "colour: unknown field",
      "warmup: -5 is not a valid duration",
      "kernel.nohz_full: CPU 9 is out of range",
      'kernel.mechanisms[0]: unknown mechanism "nope"',
      "kernel.params.tick_handler_ns: -1 is not valid",
      "workload[0].priority: 120 is not valid (valid: an integer 1-99)",
      'workload[1].call: "getpidd" is not valid (valid: getpid, file-write, page-fault, mlock, call-rcu)',
      'workload[2].type: "teleport" is not a workload type (valid: user-loop',
      "workload[3].pages: required (valid: an integer >= 1)",
    );
    expect(r.stderr.split("\n").filter((l) => l.startsWith("  ")).length).toBe(9);
  });
});

describe("isolsim compare, mechanisms, presets", () => {
  it("compares the baseline, each mechanism alone and all, side by side", () => {
    const r = isolsim("compare", residual, "--duration", "3s");
    expect(r.status).toBe(0);
    for (const c of ["baseline", ...MECHANISMS, "all"]) expect(r.stdout).toMatch(new RegExp(`^${c}\\s`, "m"));
    expect(r.stdout).toContain("Change against the baseline");
    expect(r.stdout).toMatch(/^remote-stats\s+baseline\s+.*-\d+ \(-\d+%\)/m);
  });

  it("prints a JSON array of { config, mechanisms, report } with --json", () => {
    const r = isolsim("compare", residual, "--json", "--duration", "3s");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { config: string; mechanisms: unknown[]; report: { cpus: { interruptions: { tick: number } }[] } }[];
    expect(out.map((e) => e.config)).toEqual(["baseline", ...MECHANISMS, "all"]);
    expect(out.map((e) => e.mechanisms)).toEqual([[], ...MECHANISMS.map((m) => [m]), MECHANISMS]);
    expect(out[0]!.report.cpus[1]!.interruptions.tick).toBe(2);
    expect(out[1]!.report.cpus[1]!.interruptions.tick).toBe(0);
    for (const e of out) expect(Object.keys(e)).toEqual(["config", "mechanisms", "report"]);
    expectContractShape(JSON.stringify(out[out.length - 1]!.report));
  });

  it("refuses with --real, before booting anything, what a real kernel cannot run, and validates --presets", () => {
    const kernelLoop = scenario("kernel-loop-real", {
      name: "kl",
      duration: "2s",
      kernel: { preset: "linux-6.1", cpus: 2, nohz_full: "1" },
      workload: [{ type: "user-loop", cpus: "1" }, { type: "kernel-loop", cpus: "1", every: "100ms", run: "1ms" }],
    });
    expectBadInput(isolsim("compare", kernelLoop, "--real"), 'workload[1].type: "kernel-loop" cannot be reproduced on a real kernel');
    expectBadInput(isolsim("real", residual, "--kernel", join(tmp, "no-such-bzImage")), "--kernel:", "does not exist");
    expectBadInput(isolsim("compare", residual, "--real", "--presets", "linux-4.9,linux-9.9"), '--presets: "linux-4.9,linux-9.9" is not valid');
    expectBadInput(isolsim("compare", residual, "--presets", "linux-4.9,linux-9.9"), '--presets: "linux-4.9,linux-9.9" is not valid', "linux-4.9");
  });

  it("lists mechanisms with descriptions and variants, and presets", () => {
    const m = JSON.parse(isolsim("mechanisms", "--json").stdout) as { name: string; description: string; variants: string[] }[];
    expect(m.map((x) => [x.name, x.variants])).toEqual([
      ["remote-stats", ["mainline"]],
      ["lru-spinlock-drain", ["spinlock", "qpw", "drain-on-return"]],
      ["vmstat-quiesce", ["fold-on-exit", "shepherd-skip"]],
      ["tlb-defer", ["ct-work", "cr3-switch"]],
      ["rcu-nocb-merge", ["merged", "gp-groups"]],
      ["oneshot-stopped", []],
    ]);
    for (const x of m) expect(x.description.length).toBeGreaterThan(10);
    expect(isolsim("mechanisms").stdout).toContain("variants: mainline (default)");
    expect(isolsim("mechanisms").stdout).toMatch(/built in: /);
    for (const x of m) expect(Array.isArray((x as unknown as { built_in: unknown }).built_in)).toBe(true);
    const p = JSON.parse(isolsim("presets", "--json").stdout) as { name: string; params: Record<string, unknown> }[];
    expect(p.map((x) => x.name)).toContain("linux-4.9");
    for (const x of p) for (const key of Object.keys(x.params)) expect(key).toMatch(/^[a-z0-9_]+$/);
    expect(isolsim("presets").stdout).toContain("sets: hz=1000, clockevent_oneshot_stopped=false");
  });

  it("explains itself with --help, including how large machines are summarised", () => {
    const r = isolsim("run", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--all-cpus");
    expect(r.stdout).toContain("min / median / max");
    expect(isolsim("--help").stdout).toContain("exit codes");
  });
});
