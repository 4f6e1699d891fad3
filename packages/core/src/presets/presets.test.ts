import { describe, expect, it } from "vitest";
import { checkLimit, paramLimits } from "../limits.js";
import { defaultParams } from "../params.js";
import type { Params } from "../params.js";
import { rcuFlavours } from "../rcu/tree.js";
import { getPreset, presets } from "./index.js";

describe("presets as data", () => {
  it("lists linux-4.9, linux-6.1, linux-6.12 and linux-6.12-rt; each sets only known, valid params", () => {
    expect(Object.keys(presets)).toEqual(["linux-4.9", "linux-6.1", "linux-6.12", "linux-6.12-rt"]);
    for (const p of Object.values(presets)) {
      for (const [k, v] of Object.entries(p.params)) {
        expect(k in defaultParams).toBe(true);
        expect(() => checkLimit(`${p.name}.${k}`, v, paramLimits[k as keyof Params])).not.toThrow();
      }
    }
    expect(() => getPreset("linux-6.2")).toThrow(/valid: linux-4.9, linux-6.1, linux-6.12, linux-6.12-rt/);
  });

  it("linux-6.1 builds in remote-stats, rcu-nocb-merge gp-groups with rcuop on every CPU, oneshot-stopped; 6.12 adds the shepherd skip", () => {
    expect(getPreset("linux-6.1").mechanisms).toEqual([{ name: "remote-stats" }, { name: "rcu-nocb-merge", variant: "gp-groups", options: { all_cpus: true } }, { name: "oneshot-stopped" }]);
    expect(getPreset("linux-6.12").mechanisms.map((m) => m.name)).toEqual(["remote-stats", "rcu-nocb-merge", "oneshot-stopped", "vmstat-quiesce"]);
    expect(getPreset("linux-6.12").params.pagevecSize).toBe(31);
    expect(getPreset("linux-6.1").params.pagevecSize).toBe(15);
  });

  it("rcuFlavoursMerged leaves one rcu_state: rcu_preempt under PREEMPT_RCU, else rcu_sched", () => {
    expect(rcuFlavours(true, true).map((f) => f.name)).toEqual(["rcu_preempt"]);
    expect(rcuFlavours(false, true).map((f) => f.name)).toEqual(["rcu_sched"]);
    expect(rcuFlavours(true).map((f) => f.name)).toEqual(["rcu_preempt", "rcu_sched", "rcu_bh"]);
  });
});
