import { basename } from "node:path";
import { readFileSync, statSync } from "node:fs";
import type { MechanismRegistry, ScenarioSpec } from "@isolsim/core";
import { BadInput, parseJson, scenarioFromObject } from "@isolsim/scenario";
import type { Overrides } from "@isolsim/scenario";

export { DEFAULT_PRESET, DURATION_HELP, fieldPath, parseDuration, parseJson, scenarioFromObject } from "@isolsim/scenario";
export type { Overrides } from "@isolsim/scenario";

/** Largest scenario file read, bytes: far above any real scenario (1,024 items fit in a few hundred KiB), below what parsing could not hold. */
export const MAX_SCENARIO_FILE_BYTES = 64 * 1024 * 1024;

/** Reads, parses and validates a scenario file; every problem is a BadInput naming the file. */
export function loadScenario(file: string, opts: { registry: MechanismRegistry; overrides?: Overrides }): ScenarioSpec {
  let text: string;
  try {
    // A FIFO, a device such as /dev/zero or a huge file would be read forever or exhaust memory.
    const st = statSync(file);
    if (!st.isFile()) throw new BadInput([{ field: "FILE", message: `${JSON.stringify(file)} is not a regular file (valid: a readable scenario .json file)` }]);
    if (st.size > MAX_SCENARIO_FILE_BYTES) {
      throw new BadInput([{ field: "FILE", message: `${JSON.stringify(file)} has ${st.size} bytes (valid: a scenario file of at most ${MAX_SCENARIO_FILE_BYTES} bytes)` }]);
    }
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof BadInput) throw e;
    throw new BadInput([{ field: "FILE", message: `cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a readable scenario .json file)` }]);
  }
  try {
    return scenarioFromObject(parseJson(text), { ...opts, name: basename(file).replace(/\.json$/, "") });
  } catch (e) {
    if (e instanceof BadInput) throw new BadInput(e.problems, file, e.more);
    throw e;
  }
}
