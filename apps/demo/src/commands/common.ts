import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseKernelCmdline } from "@isolsim/core";
import type { MechanismEntry, ScenarioSpec } from "@isolsim/core";
import { BadInput } from "../problems.js";
import { DelayedProgress, progressAllowed } from "../progress.js";
import { DURATION_HELP, parseDuration } from "../scenario-file.js";
import type { Overrides } from "../scenario-file.js";
import { clip, safeMessage, show } from "../show.js";
import { VERSION } from "../version.js";
import { UsageError } from "./command.js";
import type { CliIo, Values } from "./command.js";

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

/** Parses `--seed N` (an integer 0-4294967295). */
export function parseSeedOption(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed: ${show(s)} is not valid (valid: an integer 0-4294967295)`);
  return n;
}

/** The scenario overrides of `--seed`, `--duration`, `--mechanisms` and `--preset`. */
export function overridesOf(v: Values): Overrides {
  const o: Overrides = {};
  if (typeof v.seed === "string") o.seed = parseSeedOption(v.seed);
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
export function sameFile(file: string, out: string): boolean {
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

/** The command line parameters the model parses (machine/cmdline.ts parseKernelCmdline()). */
const CMDLINE_KNOWN = ["nohz_full", "isolcpus", "rcu_nocbs", "irqaffinity", "pti", "qpw"];

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

/** Writes the {@link cmdlineWarnings} of a scenario to stderr. */
export function warnCmdline(spec: ScenarioSpec, cmd: string, io: CliIo): void {
  for (const w of cmdlineWarnings(spec)) io.stderr.write(`isolsim ${cmd}: warning: ${w}\n`);
}

/** A progress bar on stderr that shows itself only on a TTY, without --json, after a moment. */
export function progressFor(io: CliIo, json: boolean, label: string): DelayedProgress {
  return new DelayedProgress(io.stderr, progressAllowed(io.stderr, json), label);
}

/** Whether internal errors print their stack (`ISOLSIM_DEBUG=1`). */
const debug = (): boolean => typeof process !== "undefined" && process.env.ISOLSIM_DEBUG === "1";

/** Quotes one argument for a shell command line when it needs it. */
export const shellWord = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

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
