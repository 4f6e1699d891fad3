import type { MechanismRegistry } from "@isolsim/core";
import type { ProgressStream } from "../progress.js";

/** The streams the CLI writes to (process.stdout/stderr, or test doubles). */
export interface CliIo {
  /** Where reports and tables go. */
  stdout: { write(s: string): boolean };
  /** Where problems and the progress bar go. */
  stderr: ProgressStream;
}

/** A problem with the command line itself (exit 2): the message names the option, the value and what is valid. */
export class UsageError extends Error {}

/** One option of a command, as `node:util` parseArgs takes it. */
export type Option = { type: "boolean" | "string"; short?: string; multiple?: boolean };

/** The parsed options of one command line. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** What a command is given when it runs. */
export interface CommandContext {
  /** The positional arguments (FILE, TRACE…), already counted against {@link Command.positionals}. */
  positionals: string[];
  /** The parsed options. */
  values: Values;
  /** Where to write. */
  io: CliIo;
  /** The mechanisms the CLI knows (a test may pass its own). */
  registry: MechanismRegistry;
  /** The whole command line (without node and the script), for reproduce lines. */
  argv: readonly string[];
}

/** One `isolsim` command: its options, its positional arguments and what it does. */
export interface Command {
  /** Options beside `--help`. */
  options: Record<string, Option>;
  /** How many positional arguments it takes, and how to name them in a message (`FILE, a scenario .json file`). */
  positionals: { min: number; max: number; usage: string };
  /** Runs it; returns the exit code. Throws UsageError or BadInput on bad input. */
  run(ctx: CommandContext): number | Promise<number>;
}
