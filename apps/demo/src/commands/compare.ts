import { presets, simulate } from "@isolsim/core";
import type { ScenarioSpec } from "@isolsim/core";
import { compareWithReal, formatComparison, formatRealComparison } from "@isolsim/report";
import { compareConfigs, configScenario, runComparison } from "../compare.js";
import { Exit, exitCodeOf } from "../exit.js";
import { loadScenario } from "../scenario-file.js";
import { clip, inertJson, safeMessage, show } from "../show.js";
import { UsageError } from "./command.js";
import type { CliIo, Command, Values } from "./command.js";
import { internalErrorLine, overridesOf, progressFor, warnCmdline } from "./common.js";
import { REAL_OPTIONS, measureReal } from "./real.js";

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
  options: { json: { type: "boolean" }, presets: { type: "string" }, real: { type: "boolean" }, seed: { type: "string" }, duration: { type: "string" }, ...REAL_OPTIONS },
  positionals: { min: 1, max: 1, usage: "FILE, a scenario .json file" },
  run({ positionals, values: v, io, registry }) {
    const file = positionals[0]!;
    const realOnly = Object.keys(REAL_OPTIONS).find((o) => v[o] !== undefined);
    if (v.real) return compareReal(file, v, io, registry);
    if (realOnly !== undefined) throw new UsageError(`--${realOnly}: only with --real (valid: isolsim compare FILE --real [--${realOnly} …])`);
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

/**
 * `isolsim compare FILE --real`: the scenario on a real kernel under qemu, beside its simulation
 * under the preset matching the kernel (or each of `--presets`), with the preset's own mechanisms
 * only (what the real kernel has), per CPU and source. The simulation runs at the kernel's
 * CONFIG_HZ when the scenario says otherwise (and says so).
 */
async function compareReal(file: string, v: Values, io: CliIo, registry: Parameters<Command["run"]>[0]["registry"]): Promise<number> {
  const spec = loadScenario(file, { registry, overrides: overridesOf(v) });
  const names = typeof v.presets === "string" ? parsePresetList(v.presets) : null;
  warnCmdline(spec, "compare", io);
  const measured = await measureReal(spec, v, io, "compare");
  if (typeof measured === "number") return measured;
  const { report: real, run } = measured;
  let presetNames = names;
  if (presetNames === null) {
    presetNames = [run.preset ?? spec.kernel.preset];
    if (run.preset === null) io.stderr.write(`isolsim compare: no preset matches the kernel ${run.kernel.release}: simulating under the scenario's ${spec.kernel.preset}\n`);
  }
  const notes = [...real.real.notes];
  const hz = run.kernel.hz;
  const simSpec: ScenarioSpec = hz !== null && spec.kernel.hz !== undefined && spec.kernel.hz !== hz ? { ...spec, kernel: { ...spec.kernel, hz } } : spec;
  if (simSpec !== spec) notes.push(`simulated at the kernel's CONFIG_HZ=${hz}, not the scenario's hz=${spec.kernel.hz}`);
  const sims = presetNames.map((preset) => {
    const { report } = simulate(configScenario(simSpec, { config: preset, preset, mechanisms: [], baseline: preset }), { registry });
    return { preset, report };
  });
  const c = compareWithReal(sims, { report: real, release: run.kernel.release, notes });
  if (v.json === true) io.stdout.write(inertJson(c) + "\n");
  else io.stdout.write(formatRealComparison(c));
  return exitCodeOf(sims.map((s) => s.report));
}
