import { UsageError } from "./command.js";
import type { Command } from "./command.js";

/** `isolsim real FILE`: the scenario on a real kernel under qemu (not built yet). */
export const realCommand: Command = {
  options: { json: { type: "boolean" }, kernel: { type: "string" } },
  positionals: { min: 1, max: 1, usage: "FILE, a scenario .json file" },
  run() {
    throw new UsageError("not available yet: running a scenario on a real kernel under qemu comes with a later issue");
  },
};
