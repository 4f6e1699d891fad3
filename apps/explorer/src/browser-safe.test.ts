import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));

describe("the page's code runs in a browser as it is", () => {
  it("has no node: import, process or Buffer outside tests", () => {
    for (const f of readdirSync(SRC).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
      const text = readFileSync(join(SRC, f), "utf8");
      expect(text, f).not.toMatch(/from ["']node:|\bprocess\.|\bBuffer\b/);
    }
  });
});
