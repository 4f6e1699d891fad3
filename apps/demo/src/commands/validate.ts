import { Exit } from "../exit.js";
import { loadScenario } from "../scenario-file.js";
import { safeMessage } from "../show.js";
import type { Command } from "./command.js";
import { warnCmdline } from "./common.js";

/** `isolsim validate FILE`: checks a scenario without running it. */
export const validateCommand: Command = {
  options: {},
  positionals: { min: 1, max: 1, usage: "FILE, a scenario .json file" },
  run({ positionals, io, registry }) {
    const file = positionals[0]!;
    const spec = loadScenario(file, { registry });
    warnCmdline(spec, "validate", io);
    const k = spec.kernel;
    io.stdout.write(
      `${safeMessage(file)}: valid: scenario ${safeMessage(spec.name)}, ${k.preset}, ${k.cpus} CPUs, ${spec.workload.length} workload item${spec.workload.length === 1 ? "" : "s"}, ${spec.duration} ns\n`,
    );
    return Exit.ok;
  },
};
