import { describe, expect, it } from "vitest";
import { insertAt, removeAt } from "./array.js";

describe("insertAt / removeAt", () => {
  it("edit an array exactly as splice() does, at every position", () => {
    for (let n = 0; n < 6; n++) {
      for (let i = 0; i <= n; i++) {
        const a = Array.from({ length: n }, (_, k) => k), b = [...a];
        insertAt(a, i, 99);
        b.splice(i, 0, 99);
        expect(a).toEqual(b);
      }
      for (let i = 0; i < n; i++) {
        const a = Array.from({ length: n }, (_, k) => k), b = [...a];
        removeAt(a, i);
        b.splice(i, 1);
        expect(a).toEqual(b);
      }
    }
  });
});
