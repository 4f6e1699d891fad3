import { closeSync, openSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { TraceRecorder, paramName, presets, simulate } from "@isolsim/core";
import type { Params } from "@isolsim/core";
import type { MechanismEntry, MechanismRegistry, ScenarioSpec } from "@isolsim/core";
import { formatComparison, formatReport } from "@isolsim/report";
import { compareConfigs, runComparison } from "./compare.js";
import { Exit, exitCodeOf } from "./exit.js";
import { HELP } from "./help.js";
import { BadInput } from "./problems.js";
import { DelayedProgress, progressAllowed } from "./progress.js";
import type { ProgressStream } from "./progress.js";
import { describeMechanisms, registry as knownMechanisms } from "./registry.js";
import { DURATION_HELP, loadScenario, parseDuration } from "./scenario-file.js";
import type { Overrides } from "./scenario-file.js";
import { TRACE_FORMATS, completeTrace, formatTrace } from "./trace-file.js";
import type { TraceFormat } from "./trace-file.js";

/** The streams the CLI writes to (process.stdout/stderr, or test doubles). */
export interface CliIo {
  /** Where reports and tables go. */
  stdout: { write(s: string): boolean };
  /** Where problems and the progress bar go. */
  stderr: ProgressStream;
}

/** A problem with the command line itself (exit 2). */
class UsageError extends Error {}

type Option = { type: "boolean" | "string"; short?: string };
const COMMON: Record<string, Option> = { help: { type: "boolean", short: "h" } };
const OPTIONS: Record<string, Record<string, Option>> = {
  run: {
    json: { type: "boolean" },
    seed: { type: "string" },
    duration: { type: "string" },
    mechanisms: { type: "string" },
    preset: { type: "string" },
    trace: { type: "string" },
    "trace-format": { type: "string" },
    "all-cpus": { type: "boolean" },
  },
  compare: { json: { type: "boolean" }, presets: { type: "string" }, real: { type: "boolean" }, seed: { type: "string" }, duration: { type: "string" } },
  mechanisms: { json: { type: "boolean" } },
  presets: { json: { type: "boolean" } },
  validate: {},
  real: { json: { type: "boolean" }, kernel: { type: "string" } },
};
const TAKES_FILE = new Set(["run", "compare", "validate", "real"]);

type Values = Record<string, string | boolean | undefined>;

function parse(cmd: string, argv: string[]): { file: string | undefined; values: Values } {
  const options = { ...COMMON, ...OPTIONS[cmd] };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const valid = Object.keys(options).map((o) => `--${o}`).join(", ");
    throw new UsageError(`${(e as Error).message.replace(/\s*\n\s*/g, " ")} (valid options of ${cmd}: ${valid})`);
  }
  const values = parsed.values as Values;
  if (values.help) return { file: undefined, values };
  const pos = parsed.positionals;
  if (TAKES_FILE.has(cmd)) {
    if (pos.length !== 1) throw new UsageError(pos.length === 0 ? `missing FILE (valid: isolsim ${cmd} FILE, a scenario .json file)` : `one FILE expected, got ${pos.length}: ${pos.join(" ")}`);
  } else if (pos.length) throw new UsageError(`unexpected argument ${JSON.stringify(pos[0])} (valid: isolsim ${cmd} [--json])`);
  return { file: pos[0], values };
}

/** Parses `--mechanisms a,b:variant` into entries; an empty string is none. */
export function parseMechanismList(s: string): MechanismEntry[] {
  if (s.trim() === "") return [];
  return s.split(",").map((part) => {
    const [name, variant] = part.trim().split(":");
    return variant !== undefined && variant !== "" ? { name: name!, variant } : { name: name! };
  });
}

function overridesOf(v: Values): Overrides {
  const o: Overrides = {};
  if (typeof v.seed === "string") {
    const n = Number(v.seed);
    if (!/^\d+$/.test(v.seed) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed: ${JSON.stringify(v.seed)} is not valid (valid: an integer 0-4294967295)`);
    o.seed = n;
  }
  if (typeof v.duration === "string") {
    if (!parseDuration(v.duration)) throw new UsageError(`--duration: ${JSON.stringify(v.duration)} is not valid (valid: a positive duration: ${DURATION_HELP})`);
    o.duration = /^\d+$/.test(v.duration) ? (Number(v.duration) as unknown as string) : v.duration;
  }
  if (typeof v.mechanisms === "string") o.mechanisms = parseMechanismList(v.mechanisms);
  if (typeof v.preset === "string") o.preset = v.preset;
  return o;
}

function progressFor(io: CliIo, json: boolean, label: string): DelayedProgress {
  return new DelayedProgress(io.stderr, progressAllowed(io.stderr, json), label);
}

const traceTitle = (spec: ScenarioSpec): string => `isolsim ${spec.name} (${spec.kernel.preset}, ${spec.kernel.cpus} CPUs, seed ${spec.seed})`;

function cmdRun(file: string, v: Values, io: CliIo, registry: MechanismRegistry): number {
  const format = (v["trace-format"] ?? "perfetto") as string;
  if (!(TRACE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--trace-format: ${JSON.stringify(format)} is not valid (valid: ${TRACE_FORMATS.join(", ")})`);
  }
  if (v["trace-format"] !== undefined && v.trace === undefined) throw new UsageError(`--trace-format: needs --trace OUT (valid: --trace OUT --trace-format ${format})`);
  const spec = loadScenario(file, { registry, overrides: overridesOf(v) });
  let fd: number | null = null;
  if (typeof v.trace === "string") {
    try {
      fd = openSync(v.trace, "w");
    } catch (e) {
      throw new UsageError(`--trace: cannot write ${JSON.stringify(v.trace)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a writable file path)`);
    }
  }
  const recorder = fd !== null ? new TraceRecorder() : null;
  const json = v.json === true;
  const progress = progressFor(io, json, spec.name);
  let result;
  try {
    result = simulate(spec, { registry, trace: recorder, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  if (fd !== null && recorder) {
    completeTrace(result.kernel, recorder, spec.duration);
    writeSync(fd, formatTrace(recorder, format as TraceFormat, { title: traceTitle(spec), cpus: spec.kernel.cpus }));
    closeSync(fd);
  }
  for (const w of result.kernel.hk.warnings) io.stderr.write(`isolsim: kernel: ${w}\n`);
  const report = result.report;
  if (json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    const opts: { description?: string; allCpus?: boolean } = { allCpus: v["all-cpus"] === true };
    if (spec.description !== undefined) opts.description = spec.description;
    io.stdout.write(formatReport(report, opts));
  }
  return exitCodeOf([report]);
}

function cmdCompare(file: string, v: Values, io: CliIo, registry: MechanismRegistry): number {
  if (v.real) throw new UsageError("--real: not available yet (a later issue runs the scenario beside a real kernel under qemu)");
  const spec = loadScenario(file, { registry, overrides: overridesOf(v) });
  let names = [spec.kernel.preset];
  if (typeof v.presets === "string") {
    names = v.presets.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const bad = names.filter((n) => !presets[n]);
    if (names.length === 0 || bad.length) {
      throw new UsageError(`--presets: ${JSON.stringify(v.presets)} is not valid (valid: a comma-separated list of ${Object.keys(presets).join(", ")})`);
    }
  }
  const json = v.json === true;
  const progress = progressFor(io, json, `compare ${spec.name}`);
  let out;
  try {
    out = runComparison(spec, compareConfigs(spec, registry, names), registry, (done, total) => progress.update(done, total));
  } finally {
    progress.stop();
  }
  if (json) {
    for (const s of out.skipped) io.stderr.write(`isolsim compare: ${s.config}: skipped: ${s.reason}\n`);
    io.stdout.write(JSON.stringify(out.entries.map((e) => ({ config: e.config, mechanisms: e.mechanisms, report: e.report })), null, 2) + "\n");
  } else io.stdout.write(formatComparison(out.entries, out.skipped, spec.description !== undefined ? { description: spec.description } : {}));
  return exitCodeOf(out.entries.map((e) => e.report));
}

function cmdMechanisms(v: Values, io: CliIo, registry: MechanismRegistry): number {
  const list = describeMechanisms(registry);
  if (v.json) io.stdout.write(JSON.stringify(list, null, 2) + "\n");
  else {
    const w = Math.max(4, ...list.map((m) => m.name.length));
    for (const m of list) {
      const variants = m.variants.length ? `variants: ${m.variants.map((x, i) => (i === 0 ? `${x} (default)` : x)).join(", ")}` : "no variants";
      io.stdout.write(`${m.name.padEnd(w)}  ${m.description}\n${"".padEnd(w)}  ${variants}\n`);
    }
    if (list.length === 0) io.stdout.write("no mechanism packages known\n");
  }
  return Exit.ok;
}

function cmdPresets(v: Values, io: CliIo): number {
  const list = Object.values(presets).map((p) => ({
    name: p.name,
    description: p.description,
    era: p.era,
    mechanisms: p.mechanisms,
    params: Object.fromEntries(Object.entries(p.params).map(([key, value]) => [paramName(key as keyof Params), value])),
  }));
  if (v.json) io.stdout.write(JSON.stringify(list, null, 2) + "\n");
  else {
    for (const p of list) {
      const mech = p.mechanisms.map((m) => (m.variant !== undefined ? `${m.name}(${m.variant})` : m.name));
      io.stdout.write(`${p.name}  ${p.description}\n  built-in mechanisms: ${mech.length ? mech.join(", ") : "none"}\n`);
    }
  }
  return Exit.ok;
}

function cmdValidate(file: string, io: CliIo, registry: MechanismRegistry): number {
  const spec = loadScenario(file, { registry });
  const k = spec.kernel;
  io.stdout.write(
    `${file}: valid: scenario ${spec.name}, ${k.preset}, ${k.cpus} CPUs, ${spec.workload.length} workload item${spec.workload.length === 1 ? "" : "s"}, ${spec.duration} ns\n`,
  );
  return Exit.ok;
}

/** Runs the CLI on `argv` (without node and the script); returns the exit code. */
export function main(argv: readonly string[], io: CliIo, registry: MechanismRegistry = knownMechanisms): number {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    const topic = cmd === "help" && rest[0] && HELP[rest[0]] ? rest[0] : "overview";
    (cmd === undefined ? io.stderr : io.stdout).write(HELP[topic]!);
    return cmd === undefined ? Exit.badInput : Exit.ok;
  }
  if (!OPTIONS[cmd]) {
    io.stderr.write(`isolsim: unknown command ${JSON.stringify(cmd)} (valid: ${Object.keys(OPTIONS).join(", ")}); isolsim --help\n`);
    return Exit.badInput;
  }
  try {
    const { file, values } = parse(cmd, [...rest]);
    if (values.help) {
      io.stdout.write(HELP[cmd]!);
      return Exit.ok;
    }
    switch (cmd) {
      case "run":
        return cmdRun(file!, values, io, registry);
      case "compare":
        return cmdCompare(file!, values, io, registry);
      case "mechanisms":
        return cmdMechanisms(values, io, registry);
      case "presets":
        return cmdPresets(values, io);
      case "validate":
        return cmdValidate(file!, io, registry);
      default:
        throw new UsageError("not available yet: running a scenario on a real kernel under qemu comes with a later issue");
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`isolsim ${cmd}: ${e.message}\n`);
      return Exit.badInput;
    }
    if (e instanceof BadInput) {
      const where = e.file ? `${e.file}: ` : "";
      if (e.problems.length === 1) io.stderr.write(`isolsim ${cmd}: ${where}${e.problems[0]!.field}: ${e.problems[0]!.message}\n`);
      else {
        io.stderr.write(`isolsim ${cmd}: ${where}${e.problems.length} problems:\n`);
        for (const p of e.problems) io.stderr.write(`  ${p.field}: ${p.message}\n`);
      }
      return Exit.badInput;
    }
    throw e;
  }
}
