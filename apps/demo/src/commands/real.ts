import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Report, ScenarioSpec } from "@isolsim/core";
import { formatReport } from "@isolsim/report";
import { Exit } from "../exit.js";
import { MissingTool } from "../real/initramfs.js";
import { KernelUnavailable, packageNameProblem } from "../real/kernel.js";
import { kthreadsFromPs } from "../real/kthreads.js";
import { GuestError } from "../real/qemu.js";
import { runReal } from "../real/runner.js";
import type { KernelChoice, RealRun } from "../real/runner.js";
import { loadScenario } from "../scenario-file.js";
import { inertJson, safeMessage, show } from "../show.js";
import { UsageError } from "./command.js";
import type { CliIo, Command, Option, Values } from "./command.js";
import { warnCmdline } from "./common.js";
import { importFiles } from "./import.js";

/** The options that choose and keep a real kernel run (`isolsim real`, `isolsim compare --real`). */
export const REAL_OPTIONS: Record<string, Option> = { kernel: { type: "string" }, "kernel-package": { type: "string" }, keep: { type: "string" } };

/** The kernel of `--kernel PATH` or `--kernel-package NAME` (not both), else the default Debian 12 6.1 package. */
export function kernelChoice(v: Values): KernelChoice {
  if (typeof v.kernel === "string" && typeof v["kernel-package"] === "string") {
    throw new UsageError(`--kernel and --kernel-package: give one of them (valid: --kernel PATH to a bzImage, or --kernel-package NAME of a Debian linux-image package)`);
  }
  if (typeof v.kernel === "string") return { path: v.kernel };
  if (typeof v["kernel-package"] === "string") {
    const bad = packageNameProblem(v["kernel-package"]);
    if (bad !== null) throw new UsageError(bad);
    return { package: v["kernel-package"] };
  }
  return "default";
}

/** `real` block of a real report: what booted and what the reader must know (contract: a key beside the report's). */
export interface RealInfo {
  /** The kernel release booted. */
  kernel: string;
  /** The Debian package, when it came from one. */
  package: string | null;
  /** CONFIG_HZ of the kernel, or null when unknown. */
  config_hz: number | null;
  /** The preset matching the kernel, or null. */
  preset: string | null;
  /** Always true: the guest ran under qemu TCG, its durations are emulated. */
  emulated: true;
  /** HZ mismatch, emulated durations, missing tracepoints, workload substitutes. */
  notes: string[];
}

/** A trace timestamp (`123.456789`, seconds) in integer ns. */
const stampNs = (t: string): number => {
  const [sec, frac = ""] = t.split(".");
  return Number(sec) * 1e9 + Number(frac.padEnd(9, "0").slice(0, 9));
};

/**
 * The measured window of a guest's trace: between the workload program's `isolsim: measure start`
 * and `measure end` markers, in seconds after the trace's first event (the import's `window`);
 * null when a marker is missing.
 */
export function markerWindow(trace: string): [number, number] | null {
  const first = /^(?!#).*\[\d{3}\]\s+\S+\s+(\d+\.\d+):/m.exec(trace)?.[1];
  const at = (what: string): string | undefined => new RegExp(`\\s(\\d+\\.\\d+): tracing_mark_write: isolsim: measure ${what}$`, "m").exec(trace)?.[1];
  const start = at("start");
  const end = at("end");
  if (first === undefined || start === undefined || end === undefined) return null;
  return [(stampNs(start) - stampNs(first)) / 1e9, (stampNs(end) - stampNs(first)) / 1e9];
}

/**
 * Runs a scenario on a real kernel (see real/runner.ts) and makes the report of its trace with
 * the import; progress on stderr. Missing tools, an unavailable kernel or a guest that did not
 * boot or finish are exit 2 with what failed (a guest's last console lines included).
 */
export async function measureReal(spec: ScenarioSpec, v: Values, io: CliIo, cmd: string): Promise<{ report: Report & { real: RealInfo }; run: RealRun } | number> {
  const keep = typeof v.keep === "string" ? v.keep : null;
  const outDir = keep ?? mkdtempSync(join(tmpdir(), "isolsim-real-"));
  const say = (s: string): void => void io.stderr.write(`isolsim ${cmd}: ${s}\n`);
  try {
    let run: RealRun;
    try {
      run = await runReal(spec, { kernel: kernelChoice(v), outDir, onStage: say });
    } catch (e) {
      if (e instanceof MissingTool || e instanceof KernelUnavailable) {
        io.stderr.write(`isolsim ${cmd}: ${safeMessage(e.message)}\n`);
        return Exit.badInput;
      }
      if (e instanceof GuestError) {
        io.stderr.write(`isolsim ${cmd}: ${safeMessage(e.message)}${e.console.length ? "; the guest's last console lines:" : ""}\n`);
        for (const l of e.console) io.stderr.write(`  | ${safeMessage(l)}\n`);
        if (keep !== null) io.stderr.write(`isolsim ${cmd}: the guest's output is in ${keep}\n`);
        return Exit.badInput;
      }
      throw e;
    }
    say(`parsing the trace of ${run.kernel.release} (qemu ran ${(run.wallMs / 1000).toFixed(1)} s)`);
    const trace = readFileSync(run.files.trace, "utf8");
    const window = markerWindow(trace);
    if (window === null) {
      io.stderr.write(`isolsim ${cmd}: the guest's trace has no measure start/end markers (the ring buffer of ${run.kernel.release} overflowed?)\n`);
      return Exit.badInput;
    }
    // the machine as booted: the kernel's CONFIG_HZ and the preset matching it (its release when none does)
    const machine: ScenarioSpec = { ...spec, kernel: { ...spec.kernel, preset: run.preset ?? run.kernel.release, ...(run.kernel.hz !== null ? { hz: run.kernel.hz } : {}) } };
    const imported = await importFiles([run.files.trace, run.files["interrupts.before"], run.files["interrupts.after"]], { scenario: machine, window });
    const real: RealInfo = { kernel: run.kernel.release, package: run.kernel.package, config_hz: run.kernel.hz, preset: run.preset, emulated: true, notes: run.notes };
    // kthreads: the guest's process list at the end of the run (the contract's definition), not the trace
    // (so the import's caveat that kthreads are only those the trace shows does not apply)
    const traceInfo = { ...imported.trace, approximate: imported.trace.approximate.filter((a) => a.key !== "kthreads") };
    const report = { ...imported, scenario: spec.name, seed: spec.seed, kthreads: kthreadsFromPs(readFileSync(run.files.ps, "utf8")), trace: traceInfo, real };
    if (keep !== null) say(`the raw trace and the /proc/interrupts snapshots are in ${keep}`);
    return { report, run };
  } finally {
    if (keep === null) rmSync(outDir, { recursive: true, force: true });
  }
}

/** `isolsim real FILE`: the scenario on a real kernel under qemu; the same report from the kernel's tracepoints. */
export const realCommand: Command = {
  options: { json: { type: "boolean" }, ...REAL_OPTIONS },
  positionals: { min: 1, max: 1, usage: "FILE, a scenario .json file" },
  async run({ positionals, values: v, io, registry }) {
    if (v.keep === "") throw new UsageError(`--keep: ${show(v.keep)} is not valid (valid: a directory to keep the raw trace in)`);
    const spec = loadScenario(positionals[0]!, { registry });
    warnCmdline(spec, "real", io);
    const out = await measureReal(spec, v, io, "real");
    if (typeof out === "number") return out;
    const { report } = out;
    if (v.json === true) io.stdout.write(inertJson(report) + "\n");
    else {
      io.stdout.write(formatReport(report, spec.description !== undefined ? { description: spec.description } : {}));
      io.stdout.write(`kernel: ${report.real.kernel}${report.real.package ? ` (${report.real.package})` : ""}, CONFIG_HZ=${report.real.config_hz ?? "unknown"}, under qemu TCG\n`);
      for (const n of report.real.notes) io.stdout.write(`note: ${safeMessage(n)}\n`);
    }
    return Exit.ok;
  },
};
