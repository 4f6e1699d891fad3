// Problems with the user's input (exit 2): in @isolsim/scenario, so the explorer shows the CLI's messages.
export { BadInput, PROBLEMS_KEPT, PROBLEMS_SHOWN, collect, fromInputError, sortProblems } from "@isolsim/scenario";
export type { Problem } from "@isolsim/scenario";
