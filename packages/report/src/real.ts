import type { Report } from "@isolsim/core";
import { sourceHeader } from "./table.js";
import { layoutTable, printable, us } from "./text.js";

/** A simulation to put beside the real kernel: the preset it ran under and its report. */
export interface SimulatedSide {
  /** Preset name (`linux-6.1`). */
  preset: string;
  /** The simulation's report. */
  report: Report;
}

/** The real kernel's side: its report (from its trace) and what booted. */
export interface RealSide {
  /** The report the import made of the kernel's trace; a count the trace could not give is null. */
  report: Report;
  /** The kernel release (`6.1.0-57-amd64`). */
  release: string;
  /** Things the reader must know (emulated durations, HZ mismatch, missing tracepoints). */
  notes: readonly string[];
}

/** One source on one CPU: each simulation's count, the kernel's, and kernel minus simulation. */
export interface RealComparisonRow {
  /** CPU number. */
  cpu: number;
  /** Whether the CPU is in nohz_full (in the simulation). */
  isolated: boolean;
  /** Report key (`tick`, `ipi_tlb_flush`, …), or `noise_ns` for the CPU's noise. */
  source: string;
  /** Simulated value per preset. */
  simulated: Record<string, number>;
  /** The kernel's value, or null when its trace could not give it. */
  real: number | null;
  /** Kernel minus simulation per preset, null when the kernel's value is unknown. */
  difference: Record<string, number | null>;
}

/** A simulation (under one or more presets) beside a real kernel, per CPU and source (`isolsim compare --real --json`). */
export interface RealComparison {
  /** Scenario name. */
  scenario: string;
  /** The presets simulated, in order. */
  presets: string[];
  /** The kernel release booted. */
  kernel: string;
  /** Measured window of each side, ns (the kernel's is between its trace markers). */
  measured_ns: {
    /** The simulation's (duration − warmup). */
    simulated: number;
    /** The kernel's, between the markers. */
    real: number;
  };
  /** One row per CPU and source where any side counted something (or the kernel's value is unknown). */
  rows: RealComparisonRow[];
  /** The real side's notes. */
  notes: string[];
}

/** A count of a report's CPU, or null when the report says it is unknown. */
function countOf(r: Report, cpu: number, source: string): number | null {
  const c = r.cpus.find((x) => x.cpu === cpu);
  if (!c) return null;
  const v = source === "noise_ns" ? c.noise_ns : (c.interruptions as Record<string, number | null | undefined>)[source];
  return typeof v === "number" ? v : null;
}

/**
 * Puts simulations beside a real kernel's report, per CPU and source: every interruption key of
 * either side, and each CPU's noise_ns. Rows where every side counted 0 are left out.
 */
export function compareWithReal(sims: readonly SimulatedSide[], real: RealSide): RealComparison {
  const first = sims[0]?.report ?? real.report;
  const keys: string[] = [];
  for (const r of [...sims.map((s) => s.report), real.report]) for (const k of Object.keys(r.cpus[0]?.interruptions ?? {})) if (!keys.includes(k)) keys.push(k);
  const rows: RealComparisonRow[] = [];
  for (const c of first.cpus) {
    for (const source of [...keys, "noise_ns"]) {
      const simulated: Record<string, number> = {};
      const difference: Record<string, number | null> = {};
      const realV = countOf(real.report, c.cpu, source);
      for (const s of sims) {
        const v = countOf(s.report, c.cpu, source) ?? 0;
        simulated[s.preset] = v;
        difference[s.preset] = realV === null ? null : realV - v;
      }
      if (realV === 0 && Object.values(simulated).every((v) => v === 0)) continue;
      rows.push({ cpu: c.cpu, isolated: c.isolated, source, simulated, real: realV, difference });
    }
  }
  return {
    scenario: first.scenario,
    presets: sims.map((s) => s.preset),
    kernel: real.release,
    measured_ns: { simulated: sims[0]?.report.measured_ns ?? 0, real: real.report.measured_ns },
    rows,
    notes: [...real.notes],
  };
}

const signed = (d: number | null): string => (d === null ? "?" : d === 0 ? "=" : d > 0 ? `+${d}` : String(d));

/** Formats a {@link RealComparison}: one row per CPU and source, the simulation under each preset, the kernel, kernel minus simulation. */
export function formatRealComparison(c: RealComparison): string {
  const lines: string[] = [];
  lines.push(
    `compare ${printable(c.scenario)} with the real kernel ${printable(c.kernel)}: measured ${c.measured_ns.simulated / 1e9} s simulated, ${(c.measured_ns.real / 1e9).toFixed(3)} s on the kernel; ` +
      `counts per CPU and source (noise in us), "?" where the kernel's trace cannot tell`,
  );
  const cell = (source: string, v: number | null): string => (v === null ? "?" : source === "noise_ns" ? us(v) : String(v));
  const diff = (source: string, d: number | null): string => (source === "noise_ns" && d !== null ? (d === 0 ? "=" : `${d > 0 ? "+" : "-"}${us(Math.abs(d))}`) : signed(d));
  lines.push("");
  lines.push(
    ...layoutTable(
      [
        { header: "CPU", right: true },
        { header: "source" },
        ...c.presets.map((p) => ({ header: printable(p), right: true })),
        { header: "kernel", right: true },
        ...c.presets.map((p) => ({ header: c.presets.length > 1 ? `diff ${printable(p)}` : "diff", right: true })),
      ],
      c.rows.map((r) => [
        `${r.cpu}${r.isolated ? "" : " (hk)"}`,
        r.source === "noise_ns" ? "noise (us)" : sourceHeader(r.source),
        ...c.presets.map((p) => cell(r.source, r.simulated[p] ?? 0)),
        cell(r.source, r.real),
        ...c.presets.map((p) => diff(r.source, r.difference[p] ?? null)),
      ]),
    ),
  );
  const keys = [...new Set(c.rows.map((r) => r.source).filter((s) => s !== "noise_ns"))];
  if (keys.length) lines.push(`sources: ${keys.map((k) => `${sourceHeader(k)}=${k}`).join(" ")}; diff = kernel - simulation; (hk) = housekeeping CPU`);
  for (const n of c.notes) lines.push(`note: ${printable(n)}`);
  return lines.join("\n") + "\n";
}
