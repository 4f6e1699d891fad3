import { presets } from "@isolsim/core";
import { formatComparison } from "@isolsim/report";
import { compareConfigs, runComparison } from "../compare.js";
import { Exit, exitCodeOf } from "../exit.js";
import { loadScenario } from "../scenario-file.js";
import { clip, inertJson, safeMessage, show } from "../show.js";
import { UsageError } from "./command.js";
import type { Command } from "./command.js";
import { internalErrorLine, overridesOf, progressFor, warnCmdline } from "./common.js";

/** Parses `--presets a,b`: distinct known preset names. */
export function parsePresetList(s: string): string[] {
  const names = s.split(",").map((x) => x.trim());
  const valid = `valid: a comma-separated list of distinct presets out of ${Object.keys(presets).join(", ")}`;
  const bad = names.find((n) => !Object.hasOwn(presets, n));
  if (bad !== undefined) throw new UsageError(`--presets: ${show(s)} is not valid: ${bad === "" ? "an empty name" : `unknown preset ${show(bad)}`} (${valid})`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`--presets: ${show(s)} is not valid: ${show(twice)} given twice (${valid})`);
  return names;
}

/** `isolsim compare FILE`: the scenario without mechanism, with each alone and with all, per preset. */
export const compareCommand: Command = {
  options: { json: { type: "boolean" }, presets: { type: "string" }, real: { type: "boolean" }, seed: { type: "string" }, duration: { type: "string" } },
  positionals: { min: 1, max: 1, usage: "FILE, a scenario .json file" },
  run({ positionals, values: v, io, registry }) {
    const file = positionals[0]!;
    if (v.real) throw new UsageError("--real: not available yet (a later issue runs the scenario beside a real kernel under qemu)");
    const spec = loadScenario(file, { registry, overrides: overridesOf(v) });
    const names = typeof v.presets === "string" ? parsePresetList(v.presets) : [spec.kernel.preset];
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
  },
};
