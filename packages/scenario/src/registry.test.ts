import { describe, expect, it } from "vitest";
import { presets } from "@isolsim/core";
import type { Preset } from "@isolsim/core";
import { describeMechanisms, describePresets } from "./registry.js";

/** A constructed modern preset, shaped as the shipped ones are: switches set, mechanisms built in (one with its default variant, one with another). */
const modern: Preset = {
  name: "linux-test",
  description: "a constructed modern preset",
  era: "6.12",
  params: { hz: 250, clockeventOneshotStopped: true, pti: false, pagevecSize: 31 },
  mechanisms: [{ name: "remote-stats" }, { name: "vmstat-quiesce", variant: "shepherd-skip" }, { name: "oneshot-stopped" }],
};
const both = { ...presets, [modern.name]: modern };

describe("describeMechanisms", () => {
  it("says which presets have each mechanism built in, with the variant (the default when the preset names none)", () => {
    const byName = Object.fromEntries(describeMechanisms(undefined, { [modern.name]: modern }).map((m) => [m.name, m.built_in]));
    expect(byName["remote-stats"]).toEqual([{ preset: "linux-test", variant: "mainline" }]);
    expect(byName["vmstat-quiesce"]).toEqual([{ preset: "linux-test", variant: "shepherd-skip" }]);
    expect(byName["oneshot-stopped"]).toEqual([{ preset: "linux-test" }]);
    expect(byName["tlb-defer"]).toEqual([]);
    expect(byName["lru-spinlock-drain"]).toEqual([]);
  });

  it("lists the shipped presets' built-ins: remote-stats, rcu-nocb-merge gp-groups and oneshot-stopped from 6.1 on, vmstat-quiesce shepherd-skip from 6.12 on", () => {
    const byName = Object.fromEntries(describeMechanisms().map((m) => [m.name, m.built_in.map((b) => `${b.preset}${b.variant ? `:${b.variant}` : ""}`)]));
    const modern = ["linux-6.1", "linux-6.12", "linux-6.12-rt"];
    expect(byName["remote-stats"]).toEqual(modern.map((p) => `${p}:mainline`));
    expect(byName["rcu-nocb-merge"]).toEqual(modern.map((p) => `${p}:gp-groups`));
    expect(byName["oneshot-stopped"]).toEqual(modern);
    expect(byName["vmstat-quiesce"]).toEqual(["linux-6.12:shepherd-skip", "linux-6.12-rt:shepherd-skip"]);
    expect(byName["tlb-defer"]).toEqual([]);
    expect(byName["lru-spinlock-drain"]).toEqual([]);
  });

  it("lists no preset for any mechanism under the shipped linux-4.9, which has none built in", () => {
    for (const m of describeMechanisms()) expect(m.built_in.filter((b) => b.preset === "linux-4.9")).toEqual([]);
  });
});

describe("describePresets", () => {
  it("gives each preset's mechanisms and the switches it sets, snake_case with their values", () => {
    const p = describePresets(both).find((x) => x.name === "linux-test")!;
    expect(p.era).toBe("6.12");
    expect(p.mechanisms).toEqual([{ name: "remote-stats" }, { name: "vmstat-quiesce", variant: "shepherd-skip" }, { name: "oneshot-stopped" }]);
    expect(p.params).toEqual({ hz: 250, clockevent_oneshot_stopped: true, pti: false, pagevec_size: 31 });
    const l49 = describePresets().find((x) => x.name === "linux-4.9")!;
    expect(l49.params).toMatchObject({ hz: 1000, tick_dep_kick_all: true, pti: false });
  });
});
