import { parseArgs } from "node:util";
import type { MechanismRegistry } from "@isolsim/core";
import { COMMANDS } from "./commands/all.js";
import { UsageError } from "./commands/command.js";
import type { CliIo, Command, Option, Values } from "./commands/command.js";
import { internalErrorLine } from "./commands/common.js";
import { Exit } from "./exit.js";
import { HELP } from "./help.js";
import { BadInput, PROBLEMS_SHOWN } from "./problems.js";
import { registry as knownMechanisms } from "./registry.js";
import { safeMessage, show } from "./show.js";
import { VERSION } from "./version.js";

export type { CliIo } from "./commands/command.js";
export { cmdlineWarnings, internalErrorLine, parseMechanismList } from "./commands/common.js";

const COMMON: Record<string, Option> = { help: { type: "boolean", short: "h" } };

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

function parse(cmd: string, command: Command, argv: string[]): { positionals: string[]; values: Values } {
  const options = { ...COMMON, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({ args: joinValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    const valid = Object.keys(options).map((o) => `--${o}`).join(", ");
    throw new UsageError(`${(e as Error).message.replace(/\s*\n\s*/g, " ")} (valid options of ${cmd}: ${valid})`);
  }
  const values = parsed.values as Values;
  const pos = parsed.positionals;
  if (values.help) return { positionals: pos, values };
  const { min, max, usage } = command.positionals;
  if (pos.length < min) throw new UsageError(`missing ${usage.split(",")[0]} (valid: isolsim ${cmd} ${usage})`);
  if (pos.length > max) {
    throw new UsageError(
      max === 0
        ? `unexpected argument ${show(pos[0])} (valid: isolsim ${cmd} [--json])`
        : max === 1
          ? `one FILE expected, got ${pos.length}: ${pos.join(" ")}`
          : `at most ${max} arguments expected, got ${pos.length} (valid: isolsim ${cmd} ${usage})`,
    );
  }
  return { positionals: pos, values };
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
 * Runs the CLI on `argv` (without node and the script); resolves to the exit code. Never
 * rejects: an unexpected error is an internal error (exit 3, one line on stderr).
 */
export async function main(argv: readonly string[], io: CliIo, registry: MechanismRegistry = knownMechanisms): Promise<number> {
  try {
    return await mainUnguarded(argv, io, registry);
  } catch (e) {
    try {
      io.stderr.write(`${internalErrorLine(e, argv)}\n`);
    } catch {
      // Nothing left to report with.
    }
    return Exit.internal;
  }
}

async function mainUnguarded(argv: readonly string[], io: CliIo, registry: MechanismRegistry): Promise<number> {
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
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) {
    io.stderr.write(`isolsim: unknown command ${show(cmd)} (valid: ${Object.keys(COMMANDS).join(", ")}, --version); isolsim --help\n`);
    return Exit.badInput;
  }
  try {
    const { positionals, values } = parse(cmd, command, [...rest]);
    if (values.help) {
      io.stdout.write(HELP[cmd] ?? HELP.overview!);
      return Exit.ok;
    }
    return await command.run({ positionals, values, io, registry, argv });
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
