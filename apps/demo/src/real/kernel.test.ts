import { describe, expect, it } from "vitest";
import { cacheDir, configFacts, presetForRelease } from "./kernel.js";

describe("the kernel's facts", () => {
  it("reads CONFIG_HZ and CONFIG_PREEMPT_RT from its config", () => {
    expect(configFacts("CONFIG_HZ_250=y\nCONFIG_HZ=250\n# CONFIG_PREEMPT_RT is not set\n")).toEqual({ hz: 250, rt: false });
    expect(configFacts("CONFIG_HZ=1000\nCONFIG_PREEMPT_RT=y\n")).toEqual({ hz: 1000, rt: true });
    expect(configFacts("")).toEqual({ hz: null, rt: false });
  });

  it("matches a preset by version, PREEMPT_RT 6.12 to linux-6.12-rt", () => {
    expect(presetForRelease("6.1.0-57-amd64", false)).toBe("linux-6.1");
    expect(presetForRelease("6.12.118+deb12-amd64", false)).toBe("linux-6.12");
    expect(presetForRelease("6.12.118+deb12-rt-amd64", true)).toBe("linux-6.12-rt");
    expect(presetForRelease("4.9.0-19-amd64", false)).toBe("linux-4.9");
    expect(presetForRelease("6.6.30", false)).toBeNull();
  });

  it("caches under $ISOLSIM_CACHE, else $XDG_CACHE_HOME/isolsim, else ~/.cache/isolsim", () => {
    expect(cacheDir({ ISOLSIM_CACHE: "/c" })).toBe("/c");
    expect(cacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/isolsim");
    expect(cacheDir({})).toMatch(/\/\.cache\/isolsim$/);
  });
});
