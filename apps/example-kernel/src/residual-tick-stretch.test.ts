import { describe, expect, it } from "vitest";
import { CompositionError, InputError, simulate } from "@isolsim/core";
import { remoteStats } from "@isolsim/remote-stats";
import { residualTickStretch } from "./residual-tick-stretch.js";
import { exampleScenario, runByName } from "./example.js";

const S = 1_000_000_000;

describe("residual-tick-stretch", () => {
  it("linux-4.9 alone: a busy nohz_full CPU keeps a residual tick once a second (MAX_DEFERMENT)", () => {
    const { report } = simulate(exampleScenario(5));
    expect(report.cpus[1]!.interruptions.tick).toBe(4);
    expect(report.cpus[1]!.tick.kept_by.MAX_DEFERMENT).toBe(4);
  });

  it("with seconds: 2 the residual tick comes every 2 s, and scheduler statistics go 2 s stale", () => {
    const { report } = simulate(exampleScenario(5), { mechanisms: [residualTickStretch({ seconds: 2 })] });
    for (const c of report.cpus.filter((c) => c.cpu >= 1 && c.cpu <= 6)) {
      expect(c.interruptions.tick).toBe(2);
      expect(c.tick.kept_by.MAX_DEFERMENT).toBe(2);
    }
    expect(report.mechanism_stats["residual-tick-stretch"]).toEqual({ deferment_ns: 2 * S, max_tick_gap_ns: 2 * S });
    expect(report.kernel.mechanisms).toEqual([{ name: "residual-tick-stretch" }]);
    expect(report.invariants.violations).toEqual([]);
  });

  it("conflicts with remote-stats: both replace kernel.maxDeferment, so composing them is an error", () => {
    expect(() => simulate(exampleScenario(2), { mechanisms: [remoteStats(), residualTickStretch()] })).toThrow(CompositionError);
    expect(() => simulate(exampleScenario(2), { mechanisms: [remoteStats(), residualTickStretch()] })).toThrow(
      "kernel.mechanisms[1]: residual-tick-stretch conflicts with remote-stats (compose only one of them)",
    );
  });

  it("bad options name the field, the value and what is valid", () => {
    expect(() => residualTickStretch({ seconds: 0 })).toThrow(InputError);
    expect(() => residualTickStretch({ seconds: 0 })).toThrow("options.seconds: 0 is not valid (valid: an integer 1-3600)");
    expect(() => runByName([{ name: "residual-tick-stretch", options: { second: 2 } }], 2)).toThrow(
      "kernel.mechanisms[0].options.second: unknown option (valid: seconds)",
    );
    expect(() => runByName([{ name: "residual-tick-stretch", variant: "fast" }], 2)).toThrow(
      'kernel.mechanisms[0].variant: unknown variant "fast" of residual-tick-stretch (valid: none: it has no variants)',
    );
  });
});
