import type { Command } from "./command.js";
import { compareCommand } from "./compare.js";
import { importCommand } from "./import.js";
import { mechanismsCommand } from "./mechanisms.js";
import { presetsCommand } from "./presets.js";
import { realCommand } from "./real.js";
import { runCommand } from "./run.js";
import { tortureCommand } from "./torture.js";
import { sweepCommand } from "./sweep.js";
import { validateCommand } from "./validate.js";
import { workerCommand } from "./worker.js";

/** Every `isolsim` command by name, in the order `isolsim --help` and the unknown-command message list them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  run: runCommand,
  compare: compareCommand,
  mechanisms: mechanismsCommand,
  presets: presetsCommand,
  validate: validateCommand,
  real: realCommand,
  import: importCommand,
  torture: tortureCommand,
  sweep: sweepCommand,
  worker: workerCommand,
};
