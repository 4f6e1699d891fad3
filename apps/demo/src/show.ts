// Bounded, terminal-safe printing of user values: in @isolsim/scenario, so the explorer prints the CLI's messages.
export { MAX_FILE_DEPTH, MAX_FILE_KEYS, MESSAGE_MAX_CHARS, SHOW_MAX_CHARS, SHOW_MAX_DEPTH, clip, escapeControl, fileShapeProblem, inertJson, safeMessage, show } from "@isolsim/scenario";
export type { ShapeProblem } from "@isolsim/scenario";
