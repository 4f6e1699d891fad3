export * from "./tlb-defer.js";
export * from "./vfree-rcu.js";
