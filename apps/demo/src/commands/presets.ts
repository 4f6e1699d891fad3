import { Exit } from "../exit.js";
import { describePresets } from "../registry.js";
import type { Command } from "./command.js";

/** One preset's value of a parameter as the table shows it (`true`, `1000`). */
const showParam = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

/** `isolsim presets`: the kernel presets, their built-in mechanisms and the parameters they set. */
export const presetsCommand: Command = {
  options: { json: { type: "boolean" } },
  positionals: { min: 0, max: 0, usage: "nothing" },
  run({ values: v, io }) {
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
  },
};
