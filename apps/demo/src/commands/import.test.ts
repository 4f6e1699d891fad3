import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { capture } from "../capture.js";
import { main } from "../main.js";
import { registry } from "../registry.js";
import { loadScenario } from "../scenario-file.js";
import { importFiles, parseWindow } from "./import.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const fx = (f: string): string => join(root, "packages/trace/fixtures", f);
const checkReport = "/work/shared/tools/check-report.mjs";
const tmp = mkdtempSync(join(tmpdir(), "isolsim-import-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const scenario = () => loadScenario(fx("scenario-4cpu.json"), { registry });

async function runJson(args: string[]) {
  const c = capture();
  const code = await main(["import", "--json", ...args], c.io);
  return { code, report: code === 0 ? JSON.parse(c.out()) : null, err: c.err(), out: c.out() };
}

describe("isolsim import: hand-checked fixtures", () => {
  it("tracefs text (irq-info flags, function tracer): every count and the noise of CPU 1 as worked out by hand", async () => {
    const { code, report: r } = await runJson(["--scenario", fx("scenario-4cpu.json"), fx("tracefs-small.txt")]);
    expect(code).toBe(0);
    expect(r.scenario).toBe("my-box");
    expect(r.kernel).toMatchObject({ preset: "linux-6.12", cpus: 4, hz: 1000, nohz_full: "1-3" });
    expect(r.trace.inputs).toEqual([{ file: fx("tracefs-small.txt"), format: "ftrace", lines: 62 }]);
    // CPU 1: a tick kept by SCHED, a timer interrupt for hrtimer_wakeup, one that expired nothing,
    // a TLB flush IPI, a tick kick, a resched IPI, a kworker running vmstat_update then the LRU drain,
    // the RCU softirq and an rcuc/1 run, a ksoftirqd run.
    expect(r.cpus[1].interruptions).toEqual({
      tick: 1, spurious_timer: 1, hrtimer: 1, ipi_tlb_flush: 1, ipi_irq_work: 1, ipi_call_function: 0, ipi_resched: 1,
      kworker_lru_drain: 1, kworker_vmstat: 1, kworker_other: 0, kthread: 1, rcu: 2,
    });
    expect(r.cpus[1].tick.kept_by.SCHED).toBe(1);
    expect(r.cpus[1].tick.stops).toBe(1);
    // 4 + 2 + 1 + 1 + 8 (kworker) + 3 + 2 + 2 + 4 (rcuc) + 3 (ksoftirqd) µs; the kworker run is the longest.
    expect(r.cpus[1]).toMatchObject({ isolated: true, noise_ns: 30_000, max_single_noise_ns: 8000, available_pct: 99.68421 });
    expect(r.cpus[2].interruptions).toMatchObject({ tick: 1, ipi_call_function: 1, ipi_irq_work: 1 });
    expect(r.cpus[2].tick.kept_by.RCU).toBe(1);
    expect(r.cpus[2].noise_ns).toBe(4000);
    expect(r.cpus[3]).toMatchObject({ noise_ns: 0, available_pct: 100 });
    expect(r.cpus[3].tick.stops).toBe(1);
    expect(r.cpus[0].interruptions.tick).toBe(2);
    expect(r.housekeeping).toMatchObject({ lru_drains: 1, tlb_flushes: 1 });
    expect(r.measured_ns).toBe(9_500_000);
    expect(r.trace.unknown.map((u: { key: string }) => u.key)).not.toContain("interruptions.ipi_tlb_flush");
    const file = join(tmp, "tracefs.json");
    writeFileSync(file, JSON.stringify(r));
    const check = spawnSync(process.execPath, [checkReport, file], { encoding: "utf8" });
    expect(check.stdout).toMatch(/matches the contract's report shape/);
  });

  it("trace-cmd report without the function tracer: the IPI split is unknown and printed as ?", async () => {
    const { code, report: r } = await runJson([fx("trace-cmd-small.txt")]);
    expect(code).toBe(0);
    expect(r.trace.inputs[0].format).toBe("trace-cmd");
    expect(r.kernel.cpus).toBe(4);
    expect(r.cpus[1].interruptions).toMatchObject({ tick: 1, ipi_resched: 1, kthread: 1 });
    expect(r.cpus[3].interruptions.kworker_vmstat).toBe(1);
    expect(r.cpus[1].tick.kept_by.POSIX_TIMER).toBe(1);
    expect(r.cpus[1]).toMatchObject({ noise_ns: 15_000, max_single_noise_ns: 8000 });
    const keys = r.trace.unknown.map((u: { key: string }) => u.key);
    expect(keys).toEqual(expect.arrayContaining(["interruptions.ipi_tlb_flush", "interruptions.ipi_call_function", "interruptions.spurious_timer", "interruptions.rcu"]));
    const c = capture();
    expect(await main(["import", fx("trace-cmd-small.txt")], c.io)).toBe(0);
    expect(c.out()).toMatch(/^\s+1\s+4001\.000\s+15\.000\s+99\.62509\s+8\.000\s+1\s+\?\s+\?\s+\?\s+\?\s+1\s/m);
  });

  it("/proc/interrupts before/after beside the trace-cmd counts", async () => {
    const { report: r } = await runJson([fx("interrupts-before.txt"), fx("trace-cmd-small.txt"), fx("interrupts-after.txt")]);
    expect(r.trace.interrupts.delta).toBe(true);
    const cpu1 = r.trace.interrupts.cpus[1];
    expect(cpu1.proc).toEqual({ LOC: 1, SPU: 0, RES: 1, CAL: 1, TLB: 0, IWI: 1 });
    expect(cpu1.trace).toEqual({ LOC: 1, RES: 1, CAL: 1, IWI: 1 });
    const c = capture();
    await main(["import", fx("interrupts-before.txt"), fx("trace-cmd-small.txt"), fx("interrupts-after.txt")], c.io);
    expect(c.out()).toMatch(/\/proc\/interrupts after − before beside the trace's counts/);
  });

  it("rtla osnoise top: runtime, noise, % available and max single per CPU; counters kept, not mapped", async () => {
    const { report: r } = await runJson(["--scenario", fx("scenario-4cpu.json"), fx("osnoise-top.txt")]);
    expect(r.cpus[1]).toMatchObject({ noise_ns: 1_234_000, max_single_noise_ns: 45_000, available_pct: 99.98628 });
    expect(r.measured_ns).toBe(9e9);
    expect(r.trace.osnoise_top[0]).toMatchObject({ cpu: 1, irq: 9012, softirq: 3, thread: 12 });
    expect(r.trace.not_mapped.join("\n")).toMatch(/HW and NMI/);
    expect(r.trace.unknown.map((u: { key: string }) => u.key)).toContain("interruptions.tick");
  });

  it("rtla osnoise hist: noise as count × avg, marked approximate; max single unknown", async () => {
    const { report: r } = await runJson([fx("osnoise-hist.txt")]);
    expect(r.cpus[1].noise_ns).toBe(500_000);
    expect(r.cpus[2].noise_ns).toBe(250_000);
    expect(r.trace.approximate.map((a: { key: string }) => a.key)).toContain("noise_ns");
    expect(r.trace.unknown.map((a: { key: string }) => a.key)).toContain("max_single_noise_ns");
  });

  it("importFiles() is what isolsim real calls: same report as the CLI, window in seconds", async () => {
    const r = await importFiles([fx("tracefs-small.txt")], { scenario: scenario(), window: [0.0045, 0.0095] });
    expect(r.cpus[1]!.interruptions).toMatchObject({ tick: 0, ipi_tlb_flush: 0, ipi_resched: 1, rcu: 2, kthread: 1 });
    expect(r.measured_ns).toBe(5_000_000);
  });
  it("reads a directory kept by isolsim real --keep: its trace and both /proc/interrupts snapshots, as if named one by one", async () => {
    const dir = fx("real/linux-6.1-small");
    const files = ["trace.txt", "interrupts.before.txt", "interrupts.after.txt"].map((f) => join(dir, f));
    const a = capture();
    expect(await main(["import", "--json", dir], a.io)).toBe(0);
    const b = capture();
    expect(await main(["import", "--json", ...files], b.io)).toBe(0);
    const strip = (s: string) => JSON.stringify({ ...JSON.parse(s), trace: undefined });
    expect(strip(a.out())).toBe(strip(b.out()));
    expect(JSON.parse(a.out()).trace.inputs).toHaveLength(3);
    const empty = mkdtempSync(join(tmp, "empty-"));
    const c = capture();
    expect(await main(["import", empty], c.io)).toBe(2);
    expect(c.err()).toMatch(/TRACE: ".*empty-\w+" is a directory without trace\.txt, interrupts\.before\.txt, interrupts\.after\.txt/);
  });
});

describe("isolsim import: bad input is exit 2", () => {
  it("names the file and line of a corrupt line, nothing on stdout", async () => {
    const bad = join(tmp, "corrupt.txt");
    writeFileSync(bad, "# tracer: nop\n          <idle>-0     [000] d.h1. 1.000000: local_timer_entry: vector=236\n\u0000\u0001 binary junk\n");
    const c = capture();
    expect(await main(["import", bad], c.io)).toBe(2);
    expect(c.out()).toBe("");
    expect(c.err()).toContain(`${bad}: line 3: not an ftrace line`);
  });
  it("rejects --window that is not FROM..TO, a missing file and a scenario with too few CPUs", async () => {
    expect(() => parseWindow("25..5")).toThrow(/--window: "25\.\.5" is not valid/);
    let c = capture();
    expect(await main(["import", "--window", "x", fx("tracefs-small.txt")], c.io)).toBe(2);
    c = capture();
    expect(await main(["import", join(tmp, "nope.txt")], c.io)).toBe(2);
    expect(c.err()).toMatch(/TRACE: cannot read .*nope\.txt.*ENOENT/);
    const two = join(tmp, "two-cpus.json");
    writeFileSync(two, JSON.stringify({ name: "x", duration: "1s", kernel: { preset: "linux-6.12", cpus: 2 }, workload: [] }));
    c = capture();
    expect(await main(["import", "--scenario", two, fx("tracefs-small.txt")], c.io)).toBe(2);
    expect(c.err()).toMatch(/--scenario: kernel\.cpus 2 is fewer than the trace's CPUs/);
  });
});

describe("isolsim import streams large traces", () => {
  it("reads a generated 50 MB trace in bounded time and memory", async () => {
    const big = join(tmp, "big.txt");
    const fd = openSync(big, "w");
    writeSync(fd, "# tracer: nop\n");
    const chunk: string[] = [];
    let bytes = 0;
    let t = 1_000_000;
    while (bytes < 50 * 1024 * 1024) {
      chunk.length = 0;
      for (let i = 0; i < 10_000; i++) {
        const cpu = i & 3;
        const s = `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, "0")}`;
        chunk.push(`            spin-${200 + cpu}     [00${cpu}] d.h1.   ${s}: local_timer_entry: vector=236`);
        chunk.push(`            spin-${200 + cpu}     [00${cpu}] d.h1.   ${s}: local_timer_exit: vector=236`);
        t += 1;
      }
      const text = chunk.join("\n") + "\n";
      bytes += text.length;
      writeSync(fd, text);
    }
    closeSync(fd);
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    let progressCalls = 0;
    const r = await importFiles([big], { onProgress: () => progressCalls++ });
    const seconds = (performance.now() - started) / 1000;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(r.events).toBeGreaterThan(600_000);
    expect(r.cpus.map((c) => c.interruptions.tick).reduce((a, b) => a + b)).toBe(r.events / 2);
    expect(progressCalls).toBeGreaterThan(5);
    expect(seconds).toBeLessThan(30);
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
