import { Exit } from "../exit.js";
import { describeMechanisms } from "../registry.js";
import type { Command } from "./command.js";

/** `isolsim mechanisms`: the mechanism packages the CLI knows, with variants and the presets that build them in. */
export const mechanismsCommand: Command = {
  options: { json: { type: "boolean" } },
  positionals: { min: 0, max: 0, usage: "nothing" },
  run({ values: v, io, registry }) {
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
  },
};
