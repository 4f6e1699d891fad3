import { readFileSync } from "node:fs";
import { InputError, simulate } from "@isolsim/core";
import type { ScenarioSpec, WorkloadSpec } from "@isolsim/core";

/** Parses a duration: a number of ns or a string with unit ns/us/ms/s. */
function duration(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === "string" ? /^(\d+(?:\.\d+)?)(ns|us|ms|s)$/.exec(v) : null;
  if (!m) throw new InputError(field, `${JSON.stringify(v)} is not a duration (valid: ns as an integer, or "10s", "500ms", "20us", "100ns")`);
  const mult = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[m[2] as "ns"];
  return Math.round(Number(m[1]) * mult);
}

function toSpec(raw: Record<string, any>): ScenarioSpec {
  const k = raw.kernel ?? {};
  const workload = (raw.workload ?? []).map((w: Record<string, any>, i: number) => {
    const out: Record<string, unknown> = { ...w };
    for (const f of ["every", "at", "jitter", "run"]) if (w[f] !== undefined) out[f] = duration(w[f], `workload[${i}].${f}`);
    return out as WorkloadSpec;
  });
  return {
    name: raw.name,
    seed: raw.seed ?? 1,
    duration: duration(raw.duration, "duration"),
    warmup: raw.warmup === undefined ? 0 : duration(raw.warmup, "warmup"),
    kernel: { preset: k.preset ?? "linux-4.9", cpus: k.cpus, hz: k.hz, nohzFull: k.nohz_full, cmdline: k.cmdline, mechanisms: k.mechanisms ?? [], params: k.params },
    workload,
  };
}

function main(argv: string[]): number {
  const [cmd, file, ...rest] = argv;
  if (cmd !== "run" || !file) {
    process.stderr.write("usage: isolsim run FILE [--json]\n");
    return 2;
  }
  try {
    const spec = toSpec(JSON.parse(readFileSync(file, "utf8")));
    const { report } = simulate(spec);
    if (rest.includes("--json")) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else for (const c of report.cpus) process.stdout.write(`${c.cpu}\t${c.noise_ns}\t${JSON.stringify(c.interruptions)}\n`);
    return report.invariants.violations.length ? 1 : 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof SyntaxError) {
      process.stderr.write(`isolsim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
