import { readFileSync } from "node:fs";

/** The version of isolsim (the `version` of apps/demo/package.json; `unknown` if it cannot be read). */
export const VERSION: string = (() => {
  try {
    // src/ and dist/ both sit one level below the package root.
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
})();
