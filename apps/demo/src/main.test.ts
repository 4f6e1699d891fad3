import { fileURLToPath } from "node:url";
import { remoteStats } from "@isolsim/remote-stats";
import { describe, expect, it } from "vitest";
import { Exit, exitCodeOf } from "./exit.js";
import { capture } from "./capture.js";
import { main } from "./main.js";
import { fromPackage, registry } from "./registry.js";

const residual = fileURLToPath(new URL("../scenarios/residual-tick.json", import.meta.url));


/** A registry whose remote-stats skips its work: the remote-tick-staleness invariant must catch it. */
const faulty = { ...registry, "remote-stats": fromPackage(() => remoteStats({ faults: { skipWork: true } })) };

describe("exit codes", () => {
  it("is 1 when any report has a violation, 0 otherwise", async () => {
    const clean = { invariants: { checked: [], violations: [] } };
    const bad = { invariants: { checked: ["tick-deps"], violations: [{ invariant: "tick-deps", time_ns: 1, cpu: 1, detail: "x" }] } };
    expect(exitCodeOf([clean, clean] as never)).toBe(Exit.ok);
    expect(exitCodeOf([clean, bad] as never)).toBe(Exit.violated);
  });

  it("run exits 1 on an invariant violation and still prints the report, with the violation listed", async () => {
    const c = capture();
    expect(await main(["run", residual, "--duration", "4s", "--mechanisms", "remote-stats"], c.io, faulty)).toBe(Exit.violated);
    expect(c.out()).toMatch(/VIOLATED: \d+ violation/);
    expect(c.out()).toMatch(/remote-tick-staleness at \d+\.\d{9} s on CPU \d/);
    const j = capture();
    expect(await main(["run", residual, "--json", "--duration", "4s", "--mechanisms", "remote-stats"], j.io, faulty)).toBe(Exit.violated);
    const report = JSON.parse(j.out());
    expect(report.invariants.violations[0].invariant).toBe("remote-tick-staleness");
  });

  it("compare exits 1 when any configuration violated an invariant", async () => {
    const c = capture();
    expect(await main(["compare", residual, "--duration", "4s"], c.io, faulty)).toBe(Exit.violated);
    expect(c.out()).toMatch(/^VIOLATED in remote-stats: /m);
    expect(c.out()).toMatch(/^baseline\s/m);
  });

  it("compare skips a configuration that cannot be composed, saying why", async () => {
    const conflicting = {
      ...registry,
      "rival-stats": () => ({ name: "rival-stats", description: "a rival of remote-stats", conflicts: ["remote-stats"], install: () => undefined }),
    };
    const c = capture();
    expect(await main(["compare", residual, "--duration", "2s"], c.io, conflicting)).toBe(Exit.ok);
    expect(c.out()).toMatch(/^all: skipped: rival-stats conflicts with remote-stats/m);
    expect(c.out()).toMatch(/^rival-stats\s/m);
  });
});

/** A registry with a mechanism whose install() throws: a bug of isolsim, not bad input. */
const crashing = { ...registry, boom: () => ({ name: "boom", description: "a mechanism that crashes", install: (): void => { throw new TypeError("boom: cannot read x of undefined"); } }) };

describe("internal errors (exit 3)", () => {
  it("run exits 3 with one line naming the version and the command, nothing on stdout, no stack", async () => {
    const c = capture();
    expect(await main(["run", residual, "--mechanisms", "boom"], c.io, crashing)).toBe(Exit.internal);
    expect(c.out()).toBe("");
    const lines = c.err().trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^isolsim: internal error of isolsim \d+\.\d+\.\d+ \(a bug, not bad input\): TypeError: boom: cannot read x of undefined; reproduce with: isolsim run \S+residual-tick\.json --mechanisms boom/);
    expect(c.err()).not.toMatch(/^\s+at /m);
  });

  it("prints the stack with ISOLSIM_DEBUG=1", async () => {
    const before = process.env.ISOLSIM_DEBUG;
    process.env.ISOLSIM_DEBUG = "1";
    try {
      const d = capture();
      expect(await main(["run", residual, "--mechanisms", "boom"], d.io, crashing)).toBe(Exit.internal);
      expect(d.err()).toMatch(/^\s+at /m);
    } finally {
      if (before === undefined) delete process.env.ISOLSIM_DEBUG;
      else process.env.ISOLSIM_DEBUG = before;
    }
  });

  it("compare exits 3 when a configuration crashes, still showing the others (3 beats 1)", async () => {
    const c = capture();
    expect(await main(["compare", residual, "--duration", "2s"], c.io, crashing)).toBe(Exit.internal);
    expect(c.out()).toMatch(/^baseline\s/m);
    expect(c.out()).toMatch(/^boom: skipped: crashed: an internal error of isolsim/m);
    expect(c.err()).toMatch(/^isolsim compare: boom: isolsim: internal error of isolsim .*reproduce with: isolsim run \S+ --preset linux-4\.9 --mechanisms boom --duration 2s/m);
    expect(c.err()).toMatch(/^isolsim compare: all: isolsim: internal error/m);
    const j = capture();
    expect(await main(["compare", residual, "--json", "--duration", "2s"], j.io, { ...faulty, boom: crashing.boom })).toBe(Exit.internal);
    const out = JSON.parse(j.out()) as { config: string }[];
    expect(out.map((e) => e.config)).toContain("remote-stats");
    expect(out.map((e) => e.config)).not.toContain("boom");
  });
});
