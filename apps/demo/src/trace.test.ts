import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "apps/demo/bin/isolsim.js");
const showcase = join(root, "apps/demo/scenarios/showcase.json");
const tmp = mkdtempSync(join(tmpdir(), "isolsim-trace-"));

interface Report {
  simulated_ns: number;
  measured_ns: number;
  kernel: { cpus: number };
  cpus: { cpu: number; interruptions: Record<string, number> }[];
}

/** Runs the showcase for 3 s with a trace in `format`; returns the report and the trace text. */
function traced(format: string): { report: Report; trace: string } {
  const out = join(tmp, `trace.${format}`);
  const r = spawnSync(process.execPath, [bin, "run", showcase, "--json", "--duration", "3s", "--trace", out, "--trace-format", format], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return { report: JSON.parse(r.stdout) as Report, trace: readFileSync(out, "utf8") };
}

/** Per CPU, per source: what the report counted. */
function reportCounts(report: Report): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of report.cpus) for (const [k, n] of Object.entries(c.interruptions)) if (n > 0) m.set(`${c.cpu}/${k}`, n);
  return m;
}

const warmupOf = (r: Report): number => r.simulated_ns - r.measured_ns;

describe("traces agree with the report", () => {
  it("perfetto: every counted interruption is a source-tagged X slice on its CPU's track", () => {
    const { report, trace } = traced("perfetto");
    const doc = JSON.parse(trace) as { traceEvents: { ph: string; name: string; pid: number; tid: number; ts?: number; dur?: number; id?: number; args?: Record<string, unknown> }[] };
    const ev = doc.traceEvents;
    const threads = ev.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => [e.tid, e.args!.name]);
    expect(threads).toEqual(Array.from({ length: report.kernel.cpus }, (_, i) => [i, `CPU ${i}`]));
    expect(new Set(ev.map((e) => e.pid))).toEqual(new Set([1]));
    const counted = new Map<string, number>();
    for (const e of ev) {
      if (e.ph !== "X" || typeof e.args?.source !== "string") continue;
      if (Math.round(e.ts! * 1000) < warmupOf(report)) continue;
      const key = `${e.tid}/${e.args.source}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
    }
    expect(counted).toEqual(reportCounts(report));
    const starts = new Map(ev.filter((e) => e.ph === "s").map((e) => [e.id, e]));
    const finishes = ev.filter((e) => e.ph === "f");
    expect(finishes.length).toBeGreaterThan(0);
    for (const f of finishes) {
      const s = starts.get(f.id)!;
      expect(s.name).toBe(f.name);
      expect(f.ts!).toBeGreaterThanOrEqual(s.ts!);
    }
    expect(ev.some((e) => e.ph === "i" && e.name === "tick_stop")).toBe(true);
    expect(ev.some((e) => e.ph === "X" && e.name.startsWith("user-loop/"))).toBe(true);
    const timed = ev.filter((e) => e.ph !== "M");
    for (let i = 1; i < timed.length; i++) expect(timed[i]!.ts!).toBeGreaterThanOrEqual(timed[i - 1]!.ts!);
  });

  it("ftrace: every counted interruption is an entry event tagged with its source, in the kernel's layout", () => {
    const { report, trace } = traced("ftrace");
    const lines = trace.split("\n").filter((l) => l !== "");
    expect(lines[0]).toBe("# tracer: nop");
    expect(trace).toContain(`#P:${report.kernel.cpus}`);
    const body = lines.filter((l) => !l.startsWith("#"));
    const re = /^\s*(\S+)-(\d+)\s+\[(\d{3,})\] (\S{5})\s+(\d+)\.(\d{6}): (\w+): (.*)$/;
    const counted = new Map<string, number>();
    const events = new Set<string>();
    let last = -1;
    for (const l of body) {
      const m = re.exec(l);
      expect(m, l).not.toBeNull();
      const ns = Number(m![5]) * 1e9 + Number(m![6]) * 1e3;
      expect(ns).toBeGreaterThanOrEqual(last);
      last = ns;
      events.add(m![7]!);
      const src = / source=(\w+)$/.exec(m![8]!);
      if (!src || ns < warmupOf(report)) continue;
      const key = `${Number(m![3])}/${src[1]}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
    }
    expect(counted).toEqual(reportCounts(report));
    for (const e of ["local_timer_entry", "local_timer_exit", "call_function_entry", "irq_work_entry", "reschedule_entry", "tick_stop", "sched_switch", "sched_wakeup", "ipi_send_cpu"]) {
      expect(events, e).toContain(e);
    }
    expect(trace).toMatch(/sched_switch: prev_comm=\S+ prev_pid=\d+ prev_prio=\d+ prev_state=\S+ ==> next_comm=\S+ next_pid=\d+ next_prio=\d+/);
    expect(trace).toMatch(/user-loop\/1-\d+\s+\[001\] d\.h1\.\s+\d+\.\d{6}: local_timer_entry: vector=236 source=tick/);
  });
});
