import { closeSync, openSync, writeSync } from "node:fs";
import { TraceRecorder, completeTrace, simulate } from "@isolsim/core";
import { formatReport, traceMetaOf } from "@isolsim/report";
import { exitCodeOf } from "../exit.js";
import { loadScenario } from "../scenario-file.js";
import { clip, inertJson, safeMessage, show } from "../show.js";
import { TRACE_FORMATS, formatTrace } from "../trace-file.js";
import type { TraceFormat } from "../trace-file.js";
import { UsageError } from "./command.js";
import type { Command } from "./command.js";
import { overridesOf, progressFor, sameFile, warnCmdline } from "./common.js";

/** `isolsim run FILE`: one scenario, a table or the report. */
export const runCommand: Command = {
  options: {
    json: { type: "boolean" },
    seed: { type: "string" },
    duration: { type: "string" },
    mechanisms: { type: "string" },
    preset: { type: "string" },
    trace: { type: "string" },
    "trace-format": { type: "string" },
    "all-cpus": { type: "boolean" },
  },
  positionals: { min: 1, max: 1, usage: "FILE, a scenario .json file" },
  run({ positionals, values: v, io, registry }) {
    const file = positionals[0]!;
    const format = (v["trace-format"] ?? "perfetto") as string;
    if (!(TRACE_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--trace-format: ${show(format)} is not valid (valid: ${TRACE_FORMATS.join(", ")})`);
    }
    if (v["trace-format"] !== undefined && v.trace === undefined) throw new UsageError(`--trace-format: needs --trace OUT (valid: --trace OUT --trace-format ${format})`);
    const spec = loadScenario(file, { registry, overrides: overridesOf(v) });
    warnCmdline(spec, "run", io);
    let fd: number | null = null;
    if (typeof v.trace === "string") {
      if (sameFile(file, v.trace)) throw new UsageError(`--trace: ${show(v.trace)} is the scenario file itself (valid: another path; the trace never overwrites its scenario)`);
      try {
        fd = openSync(v.trace, "w");
      } catch (e) {
        throw new UsageError(`--trace: cannot write ${show(v.trace)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a writable file path)`);
      }
    }
    const recorder = fd !== null ? new TraceRecorder() : null;
    const json = v.json === true;
    const progress = progressFor(io, json, safeMessage(clip(spec.name, 60)));
    let result;
    try {
      result = simulate(spec, { registry, trace: recorder, onProgress: (done, total) => progress.update(done, total) });
    } finally {
      progress.stop();
    }
    if (fd !== null && recorder) {
      completeTrace(result.kernel, recorder, spec.duration);
      writeSync(fd, formatTrace(recorder, format as TraceFormat, traceMetaOf(spec)));
      closeSync(fd);
    }
    for (const w of result.kernel.hk.warnings) io.stderr.write(`isolsim: kernel: ${safeMessage(w)}\n`);
    const report = result.report;
    if (json) io.stdout.write(inertJson(report) + "\n");
    else {
      const opts: { description?: string; allCpus?: boolean } = { allCpus: v["all-cpus"] === true };
      if (spec.description !== undefined) opts.description = spec.description;
      io.stdout.write(formatReport(report, opts));
    }
    return exitCodeOf([report]);
  },
};
