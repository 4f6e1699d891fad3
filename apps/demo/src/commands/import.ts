import { createReadStream, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { housekeepingSetup, parseKernelCmdline } from "@isolsim/core";
import type { ScenarioSpec } from "@isolsim/core";
import { TraceImporter, TraceInputError, TraceLineError, formatImportedReport } from "@isolsim/trace";
import type { ImportMachine, ImportedReport } from "@isolsim/trace";
import { Exit } from "../exit.js";
import { BadInput } from "../problems.js";
import { loadScenario } from "../scenario-file.js";
import { inertJson, show } from "../show.js";
import { UsageError } from "./command.js";
import type { Command } from "./command.js";
import { progressFor } from "./common.js";

/** Longest line read (characters): a trace line is a few hundred; a binary file has none. */
const MAX_LINE = 1 << 20;

/** Options of {@link importFiles}. */
export interface ImportFilesOptions {
  /** Machine facts the trace cannot give (name, CPUs, nohz_full, HZ, preset): echoed in the report. */
  scenario?: ScenarioSpec;
  /** Count only events in [from, to] seconds after the trace's first timestamp. */
  window?: readonly [number, number];
  /** Called with bytes read so far and the total, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

/** The machine facts of a scenario for the importer: name, preset, CPUs, HZ and the nohz_full set (kernel.cmdline or kernel.nohz_full). */
export function machineOf(spec: ScenarioSpec): ImportMachine {
  const k = spec.kernel;
  const cmdline = k.cmdline ?? (k.nohzFull !== undefined && k.nohzFull !== "" ? `nohz_full=${k.nohzFull}` : "");
  const nohz = housekeepingSetup(parseKernelCmdline(cmdline, k.cpus), k.cpus).nohzFull;
  const m: ImportMachine = { name: spec.name, preset: k.preset, cpus: k.cpus, nohzFull: nohz.toString(), isolated: nohz.toArray() };
  if (k.hz !== undefined) m.hz = k.hz;
  return m;
}

/** A line error of the importer as the CLI's bad input (exit 2): the file, the line number and what is wrong. */
function badLine(e: TraceLineError): BadInput {
  return new BadInput([{ field: `line ${e.line}`, message: e.reason }], e.file);
}

/**
 * Reads trace files (ftrace text, trace-cmd report, /proc/interrupts, rtla osnoise top/hist;
 * detected by content) line by line with bounded memory and makes the contract's report with its
 * `trace` object. Throws BadInput (exit 2) naming the file and line of a bad line, or an
 * unreadable file.
 */
export async function importFiles(paths: readonly string[], options: ImportFilesOptions = {}): Promise<ImportedReport> {
  const sizes = paths.map((p) => {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      throw new BadInput([{ field: "TRACE", message: `cannot read ${show(p)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a readable trace file)` }]);
    }
    if (!st.isFile()) throw new BadInput([{ field: "TRACE", message: `${show(p)} is not a regular file (valid: a trace file; save a pipe's output to a file first)` }]);
    return st.size;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const imp = new TraceImporter(options.window ? { window: options.window } : {});
  let before = 0;
  for (const [i, path] of paths.entries()) {
    const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
    imp.beginInput(path);
    let lines = 0;
    try {
      // Split chunks at "\n" ourselves: twice as fast as node:readline on a busy machine, and a
      // line longer than MAX_LINE is refused instead of growing without bound.
      let rest = "";
      for await (const chunk of stream as AsyncIterable<string>) {
        const text = rest + chunk;
        let from = 0;
        for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
          lines++;
          imp.line(text.slice(from, nl));
          from = nl + 1;
        }
        rest = text.slice(from);
        if (rest.length > MAX_LINE) {
          throw new BadInput([{ field: `line ${lines + 1}`, message: `longer than ${MAX_LINE} characters (valid: a text trace of lines; is this a binary trace.dat? run trace-cmd report on it)` }], path);
        }
        options.onProgress?.(before + stream.bytesRead, total);
      }
      if (rest !== "") imp.line(rest);
      imp.endInput();
    } catch (e) {
      stream.destroy();
      if (e instanceof TraceLineError) throw badLine(e);
      throw e;
    }
    before += sizes[i]!;
  }
  try {
    return imp.finish(options.scenario ? machineOf(options.scenario) : {});
  } catch (e) {
    if (e instanceof TraceInputError) throw new BadInput([{ field: e.field, message: e.message }]);
    throw e;
  }
}

/** Parses `--window A..B` (seconds after the trace's first event, A < B). */
export function parseWindow(s: string): [number, number] {
  const m = /^(\d+(?:\.\d+)?)\.\.(\d+(?:\.\d+)?)$/.exec(s);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2]) : NaN;
  if (!m || !(a < b)) throw new UsageError(`--window: ${show(s)} is not valid (valid: FROM..TO in seconds after the trace's first event, FROM < TO, such as 5..25)`);
  return [a, b];
}

/** The files of an `isolsim real --keep DIR` directory that `import` reads, in this order. */
export const KEPT_TRACE_FILES = ["trace.txt", "interrupts.before.txt", "interrupts.after.txt"] as const;

/**
 * Expands each TRACE that is a directory kept by `isolsim real --keep DIR` into its trace and
 * /proc/interrupts snapshots; other directories are bad input naming what was looked for.
 */
export function expandKeptDirs(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      return [p]; // importFiles() names the unreadable path
    }
    if (!dir) return [p];
    const found = KEPT_TRACE_FILES.map((f) => join(p, f)).filter((f) => existsSync(f));
    if (found.length === 0) {
      throw new BadInput([{ field: "TRACE", message: `${show(p)} is a directory without ${KEPT_TRACE_FILES.join(", ")} (valid: trace files, or a directory kept by isolsim real --keep DIR)` }]);
    }
    return found;
  });
}

/** `isolsim import TRACE…`: the report from traces captured on a real machine. */
export const importCommand: Command = {
  options: { json: { type: "boolean" }, scenario: { type: "string" }, window: { type: "string" }, "all-cpus": { type: "boolean" } },
  positionals: { min: 1, max: 64, usage: "TRACE…, trace files (ftrace text, trace-cmd report, /proc/interrupts, rtla osnoise top or hist output) or a directory kept by isolsim real --keep" },
  async run({ positionals, values: v, io, registry }) {
    const json = v.json === true;
    const opts: ImportFilesOptions = {};
    if (typeof v.window === "string") opts.window = parseWindow(v.window);
    if (typeof v.scenario === "string") opts.scenario = loadScenario(v.scenario, { registry });
    const progress = progressFor(io, json, "import");
    opts.onProgress = (done, total) => progress.update(done, total);
    let report: ImportedReport;
    try {
      report = await importFiles(expandKeptDirs(positionals), opts);
    } finally {
      progress.stop();
    }
    if (json) io.stdout.write(inertJson(report) + "\n");
    else io.stdout.write(formatImportedReport(report, { allCpus: v["all-cpus"] === true }));
    return Exit.ok;
  },
};
