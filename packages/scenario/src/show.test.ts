import { describe, expect, it } from "vitest";
import { MESSAGE_MAX_CHARS, SHOW_MAX_CHARS, clip, escapeControl, fileShapeProblem, inertJson, safeMessage, show } from "./show.js";

describe("bounded, inert echo of user values", () => {
  it("prints small values as JSON, undefined as missing", () => {
    expect(show(undefined)).toBe("missing");
    expect(show("5ms")).toBe('"5ms"');
    expect(show({ a: [1, null, true] })).toBe('{"a":[1,null,true]}');
    expect(show(1e30)).toBe("1e+30");
  });

  it("cuts deep and long values, in bounded work", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(show(deep)).toBe("[[[[[…]]]]]");
    const long = show("x".repeat(10_000_000));
    expect(long.length).toBeLessThanOrEqual(SHOW_MAX_CHARS + 1);
    expect(long.endsWith("…")).toBe(true);
    expect(show(Array.from({ length: 1_000_000 }, () => 7)).length).toBeLessThanOrEqual(SHOW_MAX_CHARS + 1);
  });

  it("escapes control characters, also those JSON leaves alone (DEL, C1, bidi overrides)", () => {
    expect(show("a\u001b[2Jb\u007f\u009b\u202e")).toBe('"a\\u001b[2Jb\\u007f\\u009b\\u202e"');
    expect(escapeControl("one\ntwo\tthree\r")).toBe("one\\ntwo\\tthree\\r");
  });

  it("bounds messages and says how much was cut", () => {
    expect(clip("abcdef", 3)).toBe("abc… (3 more characters)");
    const m = safeMessage("\u001b".repeat(5_000_000));
    expect(m.length).toBeLessThan(MESSAGE_MAX_CHARS + 50);
    expect(m).toContain("cut from 5000000 characters");
  });

  it("finds the first value nested too deep, without recursion, and objects of too many keys", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(fileShapeProblem({ name: "x", workload: [{ cpus: deep }] }, 32)?.path).toBe("workload[0].cpus[0][0]…");
    expect(fileShapeProblem({ name: "x", workload: [{ cpus: deep }] }, 32)?.message).toContain("nested more than 32");
    expect(fileShapeProblem({ kernel: { params: { a: [[1]] } } }, 32)).toBeNull();
    const params = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`p${i}`, i]));
    expect(fileShapeProblem({ kernel: { params } }, 32, 1000)).toEqual({ path: "kernel.params", message: "an object of 1001 keys (valid: at most 1000 keys in any object of a scenario)" });
    expect(fileShapeProblem({ kernel: { params } }, 32, 1001)).toBeNull();
  });

  it("writes JSON whose every control character is escaped, with the same value", () => {
    const v = { name: "a\u001b[2J\u007f\u009b31m\u2028\u202e", n: 1 };
    const text = inertJson(v);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(text)).toEqual(v);
    expect(inertJson({ a: [1, "x"] })).toBe(JSON.stringify({ a: [1, "x"] }, null, 2));
  });
});
