import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatNs } from "@isolsim/core";
import { parseDuration } from "./scenario-file.js";

const SCALE = { ns: 1, us: 1_000, ms: 1_000_000, s: 1_000_000_000 } as const;
const units = Object.keys(SCALE) as (keyof typeof SCALE)[];
const nsArb = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 3_600_000_000_000 }), fc.maxSafeInteger().filter((n) => n >= 0));

/** `ns` written exactly in `unit`, with as many decimals as it needs (`1234567891234` in ms → `1234567.891234`). */
function exactDecimal(ns: number, unit: keyof typeof SCALE): string {
  const scale = SCALE[unit];
  const digits = String(scale).length - 1;
  const whole = Math.floor(ns / scale);
  const frac = String(ns % scale).padStart(digits, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

describe("parseDuration (scenario files, --duration)", () => {
  it("reads an integer of ns as itself, and refuses negative, fractional or unsafe numbers", () => {
    fc.assert(fc.property(nsArb, (n) => parseDuration(n) === n));
    fc.assert(fc.property(fc.double({ noNaN: true }).filter((x) => !(Number.isSafeInteger(x) && x >= 0)), (x) => parseDuration(x) === null));
  });

  it("reads every exact decimal of a unit as its ns: integers and fractions alike, spaces allowed around", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3_600_000_000_000 }), fc.constantFrom(...units), fc.constantFrom("", " ", "  "), (ns, unit, sp) => {
        expect(parseDuration(`${sp}${exactDecimal(ns, unit)}${sp}${unit}${sp}`)).toBe(ns);
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses a value below a nanosecond, and text that is not a duration", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 9 }), (n, d) => {
        expect(parseDuration(`${n}.${"0".repeat(9)}${d}s`)).toBeNull();
        expect(parseDuration(`${n}.${d}ns`)).toBeNull();
      }),
    );
    for (const bad of ["", "ms", "1", "1 h", "-1ms", "1e3ns", "1..2ms", ".5ms", "5.ms", "0x10ns", null, true, [], {}]) expect(parseDuration(bad)).toBeNull();
  });

  it("round-trips with formatNs(), the unit the messages and the reference print", () => {
    fc.assert(fc.property(nsArb, (n) => parseDuration(formatNs(n)) === n));
  });
});
