import { describe, expect, it } from "vitest";
import { StreamDigest } from "./digest.js";

/** FNV-1a 64 over 32-bit words, in BigInt: the reference the two-half version must equal. */
function reference(events: [number, number, number, number][]): string {
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  const step = (w: bigint): void => {
    h = ((h ^ BigInt.asUintN(32, w)) * 0x100000001b3n) & mask;
  };
  for (const [time, kind, cpu, arg] of events) {
    const t = BigInt(time), a = BigInt(arg);
    step(t);
    step(t >> 32n);
    step(BigInt(kind));
    step(BigInt(cpu));
    step(a);
    step(a >> 32n);
  }
  return h.toString(16).padStart(16, "0");
}

/** The digest before issue 18: two 32-bit lanes, with kind, cpu and the time's high word xor-ed into one word. */
function previousScheme(events: [number, number, number, number][]): string {
  let s1 = 0x811c9dc5, s2 = 0xcbf29ce4;
  for (const [time, kind, cpu, arg] of events) {
    const hi = (time / 4294967296) | 0;
    let h1 = Math.imul(s1 ^ (time >>> 0), 0x01000193);
    h1 = Math.imul(h1 ^ ((kind << 20) ^ cpu ^ (hi << 8)), 0x01000193);
    h1 = Math.imul(h1 ^ Math.floor(arg / 4294967296), 0x01000193);
    let h2 = Math.imul(s2 ^ h1, 0x5bd1e995);
    h2 = Math.imul(h2 ^ (arg | 0) ^ (h2 >>> 15), 0x27d4eb2d);
    s1 = h1;
    s2 = h2;
  }
  return (s1 >>> 0).toString(16).padStart(8, "0") + (s2 >>> 0).toString(16).padStart(8, "0");
}

const digest = (events: [number, number, number, number][]): string => {
  const d = new StreamDigest();
  for (const [t, k, c, a] of events) d.event(t, k, c, a);
  return d.hex();
};

describe("StreamDigest: FNV-1a 64 of the event stream", () => {
  it("is FNV-1a 64 over the six 32-bit words of each event (checked against BigInt)", () => {
    const events: [number, number, number, number][] = [
      [0, 0, 0, 0],
      [1_000_000, 3, 7, 42],
      [2 ** 40 + 12345, 17, 4095, -1],
      [2 ** 53 - 1, 255, 65535, 2 ** 52 + 7],
      [5_000_000_000, 1, 256, -(2 ** 40)],
    ];
    expect(digest([])).toBe("cbf29ce484222325");
    for (let n = 1; n <= events.length; n++) expect(digest(events.slice(0, n))).toBe(reference(events.slice(0, n)));
  });

  it("tells CPU 256 at time t from CPU 0 at t + 2^32 ns, which the previous scheme digested alike", () => {
    const a: [number, number, number, number][] = [[1000, 1, 0, 9], [5, 1, 256, 0], [2 ** 32 + 70, 2, 3, 1]];
    const b: [number, number, number, number][] = [[1000, 1, 0, 9], [5 + 2 ** 32, 1, 0, 0], [2 ** 32 + 70, 2, 3, 1]];
    expect(previousScheme(a)).toBe(previousScheme(b));
    expect(digest(a)).not.toBe(digest(b));
  });

  it("changes with any one field of one event: time, kind, cpu, argument, high words included", () => {
    const base: [number, number, number, number][] = Array.from({ length: 20 }, (_, i) => [i * 1000, i % 3, i % 5, i * 7]);
    // kind and cpu are 32-bit fields (the event queue's); time and arg go up to 2^53.
    const deltas = [[1, 2 ** 32, 2 ** 40], [1, 2 ** 16], [1, 256, 2 ** 20], [1, 2 ** 32, 2 ** 40]];
    const variants = [0, 1, 2, 3].flatMap((field) =>
      deltas[field]!.map((delta) => digest(base.map((e, i) => (i === 10 ? (e.map((v, f) => (f === field ? v + delta : v)) as [number, number, number, number]) : e)))),
    );
    const all = new Set([digest(base), ...variants]);
    expect(all.size).toBe(variants.length + 1);
  });
});
