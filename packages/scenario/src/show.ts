/**
 * Bounded, terminal-safe printing of user values: whatever a scenario file holds (a name nested
 * 100,000 arrays deep, a 50 MB string, escape sequences), what the CLI echoes is one short line.
 */

/** Longest echo of one user value, in characters. */
export const SHOW_MAX_CHARS = 120;

/** Deepest nesting echoed; deeper arrays and objects print as `[…]` / `{…}`. */
export const SHOW_MAX_DEPTH = 4;

/** Longest problem message printed, in characters (messages from the core echo values too). */
export const MESSAGE_MAX_CHARS = 1000;

/** Deepest nesting of arrays and objects a scenario file may have (real scenarios need 5). */
export const MAX_FILE_DEPTH = 32;

// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Escapes control characters (`\n`, `\u001b`, ...) so a string prints as one inert line on a terminal. */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** Cuts `s` to at most `max` characters, ending in `…` and the number of characters left out. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

/** A message made safe to print: control characters escaped, at most {@link MESSAGE_MAX_CHARS} (bounded work). */
export function safeMessage(s: string): string {
  const head = escapeControl(s.slice(0, MESSAGE_MAX_CHARS));
  if (s.length <= MESSAGE_MAX_CHARS && head.length <= MESSAGE_MAX_CHARS) return head;
  return `${head.slice(0, MESSAGE_MAX_CHARS)}… (cut from ${s.length} characters)`;
}

/**
 * A user value as JSON-like text of at most {@link SHOW_MAX_CHARS} characters and
 * {@link SHOW_MAX_DEPTH} levels, control characters escaped; `missing` for undefined. Never
 * recurses deeper than the depth bound and stops building once the budget is spent, so its
 * cost is bounded whatever the value.
 */
export function show(v: unknown): string {
  if (v === undefined) return "missing";
  const out: string[] = [];
  let len = 0;
  const budget = SHOW_MAX_CHARS + 1;
  const put = (s: string): boolean => {
    out.push(s);
    len += s.length;
    return len < budget;
  };
  const walk = (x: unknown, depth: number): boolean => {
    if (x === null || typeof x === "boolean") return put(String(x));
    if (typeof x === "number") return put(Number.isFinite(x) ? String(x) : "null");
    if (typeof x === "string") return put(JSON.stringify(x.length > budget ? x.slice(0, budget) : x));
    if (Array.isArray(x)) {
      if (depth >= SHOW_MAX_DEPTH) return put(x.length ? "[…]" : "[]");
      if (!put("[")) return false;
      for (let i = 0; i < x.length; i++) {
        if (i > 0 && !put(",")) return false;
        if (!walk(x[i], depth + 1)) return false;
      }
      return put("]");
    }
    if (typeof x === "object") {
      const keys = Object.keys(x as object);
      if (depth >= SHOW_MAX_DEPTH) return put(keys.length ? "{…}" : "{}");
      if (!put("{")) return false;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (i > 0 && !put(",")) return false;
        if (!put(`${JSON.stringify(k.length > budget ? k.slice(0, budget) : k)}:`)) return false;
        if (!walk((x as Record<string, unknown>)[k], depth + 1)) return false;
      }
      return put("}");
    }
    return put(String(x));
  };
  walk(v, 0);
  const text = escapeControl(out.join(""));
  return text.length > SHOW_MAX_CHARS ? `${text.slice(0, SHOW_MAX_CHARS)}…` : text;
}

/** Most keys an object of a scenario file may have (the params object, the largest, has about 60). */
export const MAX_FILE_KEYS = 1000;

/** Where a parsed file breaks a shape limit, and how. */
export interface ShapeProblem {
  /** Path of the offending value (`name[0][0]…`, `kernel.params`). */
  path: string;
  /** What is wrong and what is valid. */
  message: string;
}

/**
 * The first value of a parsed file nested deeper than `maxDepth` arrays/objects, or an object
 * with more than `maxKeys` keys; null when there is none. Iterative, so a file of a million `[`
 * cannot overflow the stack, and it stops at the first problem, so the checks after it (the
 * schema, the core) never see a million unknown keys.
 */
export function fileShapeProblem(v: unknown, maxDepth: number = MAX_FILE_DEPTH, maxKeys: number = MAX_FILE_KEYS): ShapeProblem | null {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: v, depth: 0, path: "" }];
  while (stack.length) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    const at = path || "(scenario)";
    if (depth >= maxDepth) {
      return { path: at.replace(/(\[\d+\])\1{2,}/g, "$1$1…"), message: `nested more than ${maxDepth} arrays/objects deep (valid: at most ${maxDepth} levels; a scenario needs 5)` };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const x: unknown = value[i];
        if (x !== null && typeof x === "object") stack.push({ value: x, depth: depth + 1, path: `${path}[${i}]` });
      }
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > maxKeys) return { path: at, message: `an object of ${keys.length} keys (valid: at most ${maxKeys} keys in any object of a scenario)` };
    for (let i = keys.length - 1; i >= 0; i--) {
      const x = (value as Record<string, unknown>)[keys[i]!];
      const key = keys[i]!.length > 80 ? `${keys[i]!.slice(0, 80)}…` : keys[i]!;
      if (x !== null && typeof x === "object") stack.push({ value: x, depth: depth + 1, path: `${path ? `${path}.` : ""}${key}` });
    }
  }
  return null;
}

// What JSON.stringify leaves raw although a terminal may act on it: DEL, C1 controls (0x9b is CSI),
// the line/paragraph separators and the bidi overrides.
// eslint-disable-next-line no-control-regex
const JSON_RAW = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text (2-space indent) with every control character escaped, so `--json` on a terminal stays inert; the same value when parsed. */
export function inertJson(v: unknown): string {
  return JSON.stringify(v, null, 2).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
