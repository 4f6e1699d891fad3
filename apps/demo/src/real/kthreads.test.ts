import { describe, expect, it } from "vitest";
import { kthreadsFromPs } from "./kthreads.js";

describe("the guest's kernel threads", () => {
  it("are kthreadd and its children, counted by role; user processes are not", () => {
    const ps = ["PID   PPID  COMMAND", "    1     0 init", "    2     0 kthreadd", "    3     2 rcu_gp", "    7     2 kworker/0:0-eve", "   16     2 rcuog/0", "   17     2 rcuop/0", "   26     2 rcuop/1", "  110     1 workload", "  112   110 isolsim-loop"].join("\n");
    expect(kthreadsFromPs(ps)).toEqual({ rcu_callback: 2, rcu_gp: 1, kworker: 1, other: 2, total: 6 });
  });
});
