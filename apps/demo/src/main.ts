import { closeSync, existsSync, openSync, realpathSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { TraceRecorder, parseKernelCmdline, presets, simulate } from "@isolsim/core";
import type { MechanismEntry, MechanismRegistry, ScenarioSpec } from "@isolsim/core";
import { formatComparison, formatReport } from "@isolsim/report";
import { compareConfigs, runComparison } from "./compare.js";
import { Exit, exitCodeOf } from "./exit.js";
import { HELP } from "./help.js";
import { BadInput, PROBLEMS_SHOWN } from "./problems.js";
import { DelayedProgress, progressAllowed } from "./progress.js";
import type { ProgressStream } from "./progress.js";
import { describeMechanisms, describePresets, registry as knownMechanisms } from "./registry.js";
import { DURATION_HELP, loadScenario, parseDuration } from "./scenario-file.js";
import { clip, inertJson, safeMessage, show } from "./show.js";
import type { Overrides } from "./scenario-file.js";
import { TRACE_FORMATS, completeTrace, formatTrace } from "./trace-file.js";
import type { TraceFormat } from "./trace-file.js";
import { VERSION } from "./version.js";

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

/**
 * Joins `--opt value` into `--opt=value` for options that take a value, so a value starting with
 * `-` (`--seed -1`) is the option's value and gets the option's own range message, not
 * parseArgs' "ambiguous". Stops at `--`.
 */
function joinValues(argv: readonly string[], options: Record<string, Option>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === "string" && i + 1 < argv.length) {
      out.push(`${a}=${argv[++i]!}`);
    } else out.push(a);
  }
  return out;
}

function parse(cmd: string, argv: string[]): { file: string | undefined; values: Values } {
  const options = { ...COMMON, ...OPTIONS[cmd] };
  let parsed;
  try {
    parsed = parseArgs({ args: joinValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    const valid = Object.keys(options).map((o) => `--${o}`).join(", ");
    throw new UsageError(`${(e as Error).message.replace(/\s*\n\s*/g, " ")} (valid options of ${cmd}: ${valid})`);
  }
  const values = parsed.values as Values;
  if (values.help) return { file: undefined, values };
  const pos = parsed.positionals;
  if (TAKES_FILE.has(cmd)) {
    if (pos.length !== 1) throw new UsageError(pos.length === 0 ? `missing FILE (valid: isolsim ${cmd} FILE, a scenario .json file)` : `one FILE expected, got ${pos.length}: ${pos.join(" ")}`);
  } else if (pos.length) throw new UsageError(`unexpected argument ${show(pos[0])} (valid: isolsim ${cmd} [--json])`);
  return { file: pos[0], values };
}

/** What `--mechanisms` accepts, for its messages. */
const MECHANISMS_HELP = 'a comma-separated list of name or name:variant (isolsim mechanisms lists them), or "" for none';

/** Parses `--mechanisms a,b:variant` into entries; an empty string is none. An empty name or variant is bad input. */
export function parseMechanismList(s: string): MechanismEntry[] {
  if (s.trim() === "") return [];
  return s.split(",").map((part, i) => {
    const fields = part.trim().split(":");
    const [name, variant] = fields;
    const bad = (what: string): never => {
      throw new BadInput([{ field: `--mechanisms[${i}]`, message: `${show(part.trim())} ${what} (valid: ${MECHANISMS_HELP})` }]);
    };
    if (name === "") bad("has no mechanism name");
    if (fields.length > 2) bad('has more than one ":"');
    if (variant === "") bad('has an empty variant after ":"');
    return variant !== undefined ? { name: name!, variant } : { name: name! };
  });
}

function overridesOf(v: Values): Overrides {
  const o: Overrides = {};
  if (typeof v.seed === "string") {
    const n = Number(v.seed);
    if (!/^\d+$/.test(v.seed) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed: ${show(v.seed)} is not valid (valid: an integer 0-4294967295)`);
    o.seed = n;
  }
  if (typeof v.duration === "string") {
    const integer = /^\d+$/.test(v.duration);
    if (!parseDuration(integer ? Number(v.duration) : v.duration)) throw new UsageError(`--duration: ${show(v.duration)} is not valid (valid: a positive duration: ${DURATION_HELP})`);
    o.duration = integer ? (Number(v.duration) as unknown as string) : v.duration;
  }
  if (typeof v.mechanisms === "string") o.mechanisms = parseMechanismList(v.mechanisms);
  if (typeof v.preset === "string") o.preset = v.preset;
  return o;
}

/** Whether `out` names the file `file` (same real path, or the same inode through a hard link). */
function sameFile(file: string, out: string): boolean {
  try {
    if (existsSync(out)) {
      const a = statSync(file);
      const b = statSync(out);
      return (a.dev === b.dev && a.ino === b.ino) || realpathSync(file) === realpathSync(out);
    }
    return realpathSync(file) === join(realpathSync(dirname(out)), basename(out));
  } catch {
    return false;
  }
}

/**
 * One warning line per `kernel.cmdline` token the model does not parse (a typo such as
 * `NOHZ_FULL=1-7`, a bare `nohz_full`, or `nohz_full = 1-7` split at its spaces): accepted, as
 * the kernel accepts it, but visible. Words after `--` are meant for init and not warned about.
 */
export function cmdlineWarnings(spec: ScenarioSpec): string[] {
  const cmdline = spec.kernel.cmdline;
  if (cmdline === undefined) return [];
  const unknown = parseKernelCmdline(cmdline, spec.kernel.cpus).unknown;
  const end = unknown.indexOf("--");
  return (end < 0 ? unknown : unknown.slice(0, end)).map((token) => {
    const name = token.split("=")[0]!.replace(/-/g, "_");
    const known = CMDLINE_KNOWN.find((k) => k === name.toLowerCase());
    const hint =
      known === undefined
        ? `isolsim models ${CMDLINE_KNOWN.map((k) => `${k}=`).join(", ")}`
        : name !== known
          ? `parameter names are case-sensitive: did you mean ${known}=?`
          : `${known} takes a value: ${known}=LIST, without spaces around "="`;
    return `kernel.cmdline: ${show(token)} ignored, as the kernel would pass it to init (${hint})`;
  });
}

/** The command line parameters the model parses (machine/cmdline.ts parseKernelCmdline()). */
const CMDLINE_KNOWN = ["nohz_full", "isolcpus", "rcu_nocbs", "irqaffinity", "pti", "qpw"];

function warnCmdline(spec: ScenarioSpec, cmd: string, io: CliIo): void {
  for (const w of cmdlineWarnings(spec)) io.stderr.write(`isolsim ${cmd}: warning: ${w}\n`);
}

function progressFor(io: CliIo, json: boolean, label: string): DelayedProgress {
  return new DelayedProgress(io.stderr, progressAllowed(io.stderr, json), label);
}

const traceTitle = (spec: ScenarioSpec): string => `isolsim ${spec.name} (${spec.kernel.preset}, ${spec.kernel.cpus} CPUs, seed ${spec.seed})`;

function cmdRun(file: string, v: Values, io: CliIo, registry: MechanismRegistry): number {
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
    writeSync(fd, formatTrace(recorder, format as TraceFormat, { title: traceTitle(spec), cpus: spec.kernel.cpus }));
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
}

function cmdCompare(file: string, v: Values, io: CliIo, registry: MechanismRegistry): number {
  if (v.real) throw new UsageError("--real: not available yet (a later issue runs the scenario beside a real kernel under qemu)");
  const spec = loadScenario(file, { registry, overrides: overridesOf(v) });
  let names = [spec.kernel.preset];
  if (typeof v.presets === "string") {
    names = v.presets.split(",").map((s) => s.trim());
    const valid = `valid: a comma-separated list of distinct presets out of ${Object.keys(presets).join(", ")}`;
    const bad = names.find((n) => !Object.hasOwn(presets, n));
    if (bad !== undefined) throw new UsageError(`--presets: ${show(v.presets)} is not valid: ${bad === "" ? "an empty name" : `unknown preset ${show(bad)}`} (${valid})`);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new UsageError(`--presets: ${show(v.presets)} is not valid: ${show(twice)} given twice (${valid})`);
  }
  warnCmdline(spec, "compare", io);
  const json = v.json === true;
  const progress = progressFor(io, json, `compare ${safeMessage(clip(spec.name, 60))}`);
  let out;
  try {
    out = runComparison(spec, compareConfigs(spec, registry, names), registry, (done, total) => progress.update(done, total));
  } finally {
    progress.stop();
  }
  // A crashed configuration is a bug of isolsim: the others are still shown (a crashed one as
  // skipped in the table), each crash is one line on stderr, and the exit code is 3.
  const same = [...(typeof v.seed === "string" ? ["--seed", v.seed] : []), ...(typeof v.duration === "string" ? ["--duration", v.duration] : [])];
  for (const c of out.crashed) io.stderr.write(`isolsim compare: ${c.config}: ${internalErrorLine(c.error, ["run", file, ...c.reproduce, ...same])}\n`);
  const skipped = [...out.skipped, ...out.crashed.map((c) => ({ config: c.config, reason: "crashed: an internal error of isolsim (on stderr)" }))];
  if (json) {
    for (const s of out.skipped) io.stderr.write(`isolsim compare: ${s.config}: skipped: ${safeMessage(s.reason)}\n`);
    io.stdout.write(inertJson(out.entries.map((e) => ({ config: e.config, mechanisms: e.mechanisms, report: e.report }))) + "\n");
  } else io.stdout.write(formatComparison(out.entries, skipped, spec.description !== undefined ? { description: spec.description } : {}));
  return out.crashed.length ? Exit.internal : exitCodeOf(out.entries.map((e) => e.report));
}

function cmdMechanisms(v: Values, io: CliIo, registry: MechanismRegistry): number {
  const list = describeMechanisms(registry);
  if (v.json) io.stdout.write(JSON.stringify(list, null, 2) + "\n");
  else {
    const w = Math.max(4, ...list.map((m) => m.name.length));
    for (const m of list) {
      const variants = m.variants.length ? `variants: ${m.variants.map((x, i) => (i === 0 ? `${x} (default)` : x)).join(", ")}` : "no variants";
      const builtIn = m.built_in.length ? m.built_in.map((b) => (b.variant ? `${b.preset} (${b.variant})` : b.preset)).join(", ") : "no preset";
      io.stdout.write(`${m.name.padEnd(w)}  ${m.description}\n${"".padEnd(w)}  ${variants}\n${"".padEnd(w)}  built in: ${builtIn}\n`);
    }
    if (list.length === 0) io.stdout.write("no mechanism packages known\n");
  }
  return Exit.ok;
}

/** One preset's value of a parameter as the table shows it (`true`, `1000`). */
const showParam = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function cmdPresets(v: Values, io: CliIo): number {
  const list = describePresets();
  if (v.json) io.stdout.write(JSON.stringify(list, null, 2) + "\n");
  else {
    for (const p of list) {
      const mech = p.mechanisms.map((m) => (m.variant !== undefined ? `${m.name} (${m.variant})` : m.name));
      const params = Object.entries(p.params).map(([name, value]) => `${name}=${showParam(value)}`);
      io.stdout.write(`${p.name}  ${p.description}\n  built-in mechanisms: ${mech.length ? mech.join(", ") : "none"}\n`);
      io.stdout.write(`  sets: ${params.length ? params.join(", ") : "nothing (every parameter at its default)"}\n`);
    }
  }
  return Exit.ok;
}

function cmdValidate(file: string, io: CliIo, registry: MechanismRegistry): number {
  const spec = loadScenario(file, { registry });
  warnCmdline(spec, "validate", io);
  const k = spec.kernel;
  io.stdout.write(
    `${safeMessage(file)}: valid: scenario ${safeMessage(spec.name)}, ${k.preset}, ${k.cpus} CPUs, ${spec.workload.length} workload item${spec.workload.length === 1 ? "" : "s"}, ${spec.duration} ns\n`,
  );
  return Exit.ok;
}

/** Whether internal errors print their stack (`ISOLSIM_DEBUG=1`). */
const debug = (): boolean => typeof process !== "undefined" && process.env.ISOLSIM_DEBUG === "1";

/** Quotes one argument for a shell command line when it needs it. */
const shellWord = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/**
 * The one line of an internal error (exit 3): that it is a bug of isolsim, the version, what
 * failed and the command that reproduces it; with ISOLSIM_DEBUG=1 the stack follows.
 */
export function internalErrorLine(e: unknown, argv: readonly string[]): string {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const line =
    `isolsim: internal error of isolsim ${VERSION} (a bug, not bad input): ${clip(safeMessage(what), 300)}; ` +
    `reproduce with: ${clip(safeMessage(["isolsim", ...argv].map(shellWord).join(" ")), 500)}` +
    (debug() ? "" : " (ISOLSIM_DEBUG=1 shows the stack)");
  return debug() && e instanceof Error && e.stack ? `${line}\n${e.stack}` : line;
}

/** Prints the problems of a BadInput: one line, or a count and at most {@link PROBLEMS_SHOWN} lines then "… and N more". */
function printProblems(cmd: string, e: BadInput, io: CliIo): void {
  const where = e.file ? `${safeMessage(e.file)}: ` : "";
  const total = e.problems.length + e.more;
  if (total === 1) {
    io.stderr.write(`isolsim ${cmd}: ${where}${safeMessage(e.problems[0]!.field)}: ${safeMessage(e.problems[0]!.message)}\n`);
    return;
  }
  io.stderr.write(`isolsim ${cmd}: ${where}${total} problems:\n`);
  const shown = e.problems.slice(0, PROBLEMS_SHOWN);
  for (const p of shown) io.stderr.write(`  ${safeMessage(p.field)}: ${safeMessage(p.message)}\n`);
  if (total > shown.length) io.stderr.write(`  … and ${total - shown.length} more\n`);
}

/**
 * Runs the CLI on `argv` (without node and the script); returns the exit code. Never throws: an
 * unexpected error is an internal error (exit 3, one line on stderr).
 */
export function main(argv: readonly string[], io: CliIo, registry: MechanismRegistry = knownMechanisms): number {
  try {
    return mainUnguarded(argv, io, registry);
  } catch (e) {
    try {
      io.stderr.write(`${internalErrorLine(e, argv)}\n`);
    } catch {
      // Nothing left to report with.
    }
    return Exit.internal;
  }
}

function mainUnguarded(argv: readonly string[], io: CliIo, registry: MechanismRegistry): number {
  const [cmd, ...rest] = argv;
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    io.stdout.write(`isolsim ${VERSION}\n`);
    return Exit.ok;
  }
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    const topic = cmd === "help" && rest[0] && HELP[rest[0]] ? rest[0] : "overview";
    (cmd === undefined ? io.stderr : io.stdout).write(HELP[topic]!);
    return cmd === undefined ? Exit.badInput : Exit.ok;
  }
  if (!OPTIONS[cmd]) {
    io.stderr.write(`isolsim: unknown command ${show(cmd)} (valid: ${Object.keys(OPTIONS).join(", ")}, --version); isolsim --help\n`);
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
      io.stderr.write(`isolsim ${cmd}: ${safeMessage(e.message)}\n`);
      return Exit.badInput;
    }
    if (e instanceof BadInput) {
      printProblems(cmd, e, io);
      return Exit.badInput;
    }
    throw e;
  }
}
