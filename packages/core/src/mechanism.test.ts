import { describe, expect, it } from "vitest";
import { CompositionError, checkComposition, mergeMechanismEntries, resolveMechanisms } from "./mechanism.js";
import type { Mechanism, MechanismRegistry } from "./mechanism.js";
import { simulate } from "./simulate.js";

const mech = (name: string, extra: Partial<Mechanism> = {}): Mechanism => ({ name, description: `${name} test mechanism`, install: () => {}, ...extra });

const registry: MechanismRegistry = {
  alpha: ({ variant }) => mech("alpha", { variants: ["one", "two"], variant: variant ?? "one" }),
  beta: () => mech("beta", { conflicts: ["gamma"] }),
  gamma: () => mech("gamma"),
  delta: () => mech("delta", { requires: ["alpha"] }),
};

describe("mechanism composition", () => {
  it("rejects an unknown mechanism, naming the valid ones", () => {
    expect(() => resolveMechanisms([{ name: "nope" }], registry)).toThrow('kernel.mechanisms[0]: unknown mechanism "nope" (valid: alpha, beta, gamma, delta)');
  });

  it("rejects the same mechanism twice", () => {
    expect(() => mergeMechanismEntries([], [{ name: "alpha" }, { name: "alpha" }])).toThrow('kernel.mechanisms[1]: "alpha" is listed twice');
    expect(() => checkComposition([mech("a"), mech("a")])).toThrow(CompositionError);
  });

  it("rejects conflicting mechanisms", () => {
    const ms = resolveMechanisms([{ name: "beta" }, { name: "gamma" }], registry);
    expect(() => checkComposition(ms)).toThrow("kernel.mechanisms[0]: beta conflicts with gamma");
  });

  it("rejects a missing requirement", () => {
    const ms = resolveMechanisms([{ name: "delta" }], registry);
    expect(() => checkComposition(ms)).toThrow('kernel.mechanisms[0]: delta requires alpha (add "alpha" to the mechanisms)');
  });

  it("rejects an unknown variant, naming the valid ones", () => {
    expect(() => resolveMechanisms([{ name: "alpha", variant: "three" }], registry)).toThrow('kernel.mechanisms[0].variant: unknown variant "three" of alpha (valid: one, two)');
    expect(() => resolveMechanisms([{ name: "gamma", variant: "x" }], registry)).toThrow("valid: none: it has no variants");
  });

  it("lets a scenario entry replace the preset's entry of the same name", () => {
    const merged = mergeMechanismEntries([{ name: "alpha", variant: "one" }, { name: "gamma" }], [{ name: "alpha", variant: "two" }]);
    expect(merged).toEqual([{ name: "gamma" }, { name: "alpha", variant: "two" }]);
  });

  it("reports composition errors before the run", () => {
    let installed = false;
    const spec = {
      name: "x",
      seed: 1,
      duration: 1e6,
      warmup: 0,
      kernel: { preset: "linux-4.9", cpus: 2, nohzFull: "1", mechanisms: [{ name: "beta" }, { name: "gamma" }] },
      workload: [],
    };
    const reg: MechanismRegistry = { ...registry, gamma: () => mech("gamma", { install: () => void (installed = true) }) };
    expect(() => simulate(spec, { registry: reg })).toThrow("beta conflicts with gamma");
    expect(installed).toBe(false);
  });
});
