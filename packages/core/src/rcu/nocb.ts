/**
 * RCU callback offloading (CONFIG_RCU_NOCB_CPU, kernel/rcu/tree_plugin.h in 4.9): callbacks of
 * rcu_nocbs CPUs are queued locally by call_rcu() and handed to rcuo kthreads. Which kthreads exist
 * and which one waits for grace periods or invokes each CPU's callbacks is a replaceable layout
 * (`kernel.rcu.nocbLayout`); the 4.9 layout is {@link linux49NocbLayout}.
 */
import type { Kernel } from "../kernel.js";
import { Src } from "../accounting/sources.js";
import type { KthreadRole, Task } from "../sched/task.js";
import type { Rcu, RcuCallback, RcuFlavour, RcuState } from "./tree.js";
import { timerSetup } from "../time/timer.js";
import type { TimerList } from "../time/timer.js";

/** One offloaded callback queue: a flavour's callbacks of one CPU (one struct rcu_data's nocb lists). */
export interface NocbQueueRef {
  /** Flavour index (Rcu.flavours). */
  readonly flavour: number;
  /** The offloaded CPU. */
  readonly cpu: number;
}

/** An rcuo kthread a layout asks for, and its duties. */
export interface NocbKthreadSpec {
  /** comm, e.g. `rcuop/3`. */
  readonly name: string;
  /** Report role (`rcu_callback` for rcuo, `rcu_gp` for a 5.4+ rcuog). */
  readonly role: KthreadRole;
  /** CPU it is bound to (a housekeeping CPU). */
  readonly cpu: number;
  /**
   * Queues whose new callbacks it collects and waits a grace period for, then hands to their invoker
   * (4.9 nocb_leader_wait() of a leader; 5.4+ nocb_gp_wait() of rcuog). call_rcu() wakes it.
   */
  readonly gp: readonly NocbQueueRef[];
  /** Queues whose ready callbacks it invokes (rcu_nocb_kthread()'s loop; 4.9 followers, 5.4+ rcuop). */
  readonly cb: readonly NocbQueueRef[];
}

/**
 * A nocb layout: the kthreads to spawn for the offloaded CPUs (rcu_organize_nocb_kthreads() +
 * rcu_spawn_all_nocb_kthreads()). Each (flavour, offloaded CPU) queue needs exactly one `gp` and one
 * `cb` kthread. Mechanisms (rcu-nocb-merge) install their own.
 */
export type NocbLayout = (k: Kernel, flavours: readonly RcuFlavour[], nocbCpus: readonly number[]) => NocbKthreadSpec[];

/** The `gp` duties of a kthread without any (frozen, shared by the layouts' non-leaders). */
export const NO_NOCB_REFS: readonly NocbQueueRef[] = Object.freeze([]);

/** An empty callback list, shared until a list gets its first callback (frozen). */
const NO_CBS: RcuCallback[] = Object.freeze([]) as unknown as RcuCallback[];

/** int_sqrt() (lib/int_sqrt.c): floor of the square root. */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** rcu_nocb_leader_stride (4.9): the parameter, or int_sqrt(nr_cpu_ids) when it is left at its default. */
export function nocbLeaderStride(k: Kernel): number {
  return k.params.rcuNocbLeaderStride > 0 ? k.params.rcuNocbLeaderStride : Math.max(1, intSqrt(k.nrCpus));
}

/**
 * The 4.9 layout: one `rcuo<abbr>/N` kthread per flavour per offloaded CPU, spawned CPU by CPU
 * (rcu_spawn_all_nocb_kthreads() → for_each_rcu_flavor()); per flavour, the offloaded CPUs of each
 * stride-aligned block [m·ls, (m+1)·ls) form a group whose first CPU's kthread is the leader
 * (rcu_organize_nocb_kthreads()). 4.9 does not affine them; the preset assumes the admin pinned them
 * to the first housekeeping CPU.
 */
export const linux49NocbLayout: NocbLayout = (k, flavours, nocbCpus) => {
  const ls = nocbLeaderStride(k);
  const pin = k.hk.housekeeping.isEmpty() ? k.bootCpu : k.hk.housekeeping.first();
  const groups = new Map<number, number[]>();
  for (const cpu of nocbCpus) {
    const g = Math.floor(cpu / ls);
    const list = groups.get(g) ?? [];
    list.push(cpu);
    groups.set(g, list);
  }
  const out: NocbKthreadSpec[] = [];
  for (const cpu of nocbCpus) {
    const group = groups.get(Math.floor(cpu / ls))!;
    const leader = group[0] === cpu;
    for (const f of flavours) {
      out.push({
        name: `rcuo${f.abbr}/${cpu}`,
        role: "rcu_callback",
        cpu: pin,
        gp: leader ? group.map((c) => ({ flavour: f.index, cpu: c })) : NO_NOCB_REFS,
        cb: [{ flavour: f.index, cpu }],
      });
    }
  }
  return out;
};

/** The GP queues of a kthread without any (frozen, shared). */
const NO_QUEUES: NocbQueue[] = Object.freeze([]) as unknown as NocbQueue[];

/** Runtime state of one offloaded queue (holding no kthread spec, so that a layout's specs are garbage after spawn()). */
class NocbQueue {
  /** rdp->nocb_head: callbacks queued by call_rcu(), not yet collected. */
  head: RcuCallback[] = NO_CBS;
  /** rdp->nocb_gp_head: callbacks collected, waiting for their grace period. */
  gpHead: RcuCallback[] = NO_CBS;
  /** The kthread that collects it and waits grace periods for it. */
  gpKt: RcuoKthread | null = null;
  /** The kthread that invokes its ready callbacks. */
  cbKt: RcuoKthread | null = null;
  /** Its position in its GP kthread's gpQueues (the order that kthread walks its queues in). */
  gpIndex = -1;
  /** rdp->nocb_bypass holding only lazy callbacks (rdp->lazy_len = its length; CONFIG_RCU_LAZY, 6.12 tree_nocb.h). */
  bypass: RcuCallback[] = NO_CBS;
  /** rdp->nocb_bypass_first: jiffies when {@link bypass} got its first callback. */
  bypassFirst = 0;

  constructor(
    /** Flavour index (Rcu.flavours). */
    readonly flavour: number,
    /** The offloaded CPU. */
    readonly cpu: number,
  ) {}

  /** The queue as a {@link NocbQueueRef} (a new object on each read). */
  get ref(): NocbQueueRef {
    return { flavour: this.flavour, cpu: this.cpu };
  }
}

/** A spawned rcuo kthread and its state. */
export interface NocbKthread {
  /** What the layout asked for, rebuilt from the kthread's queues on each read (for inspection). */
  readonly spec: NocbKthreadSpec;
  /** The task. */
  readonly task: Task;
  /** Queues it collects and waits grace periods for. */
  readonly gpQueues: NocbQueue[];
  /** rdp->nocb_follower_head: ready callbacks it will invoke. */
  done: RcuCallback[];
  /** rdp->nocb_leader_sleep: nothing new to collect (call_rcu() on an empty queue clears it and wakes). */
  leaderSleep: boolean;
  /** Per flavour, the ->completed value rcu_nocb_wait_gp() waits for, -1 when not waiting; null when not in a wait. */
  waitC: number[] | null;
  /** Callbacks it invoked. */
  invoked: number;
}

/** Orders queues as their GP kthread walks them (its gpQueues order). */
const byGpIndex = (a: NocbQueue, b: NocbQueue): number => a.gpIndex - b.gpIndex;

/** What an rcuo kthread's __rcu_reclaim() work acts on: made when it first invokes callbacks (an idle machine's never do). */
class RcuoWork {
  /** The callbacks being invoked (a kthread has at most one work segment queued at a time). */
  reclaiming: RcuCallback[] = NO_CBS;

  constructor(
    /** End of rcu_nocb_kthread()'s __rcu_reclaim() of {@link reclaiming} (made once per kthread). */
    readonly reclaim: () => void,
  ) {}
}

/** {@link RcuoWork} of a kthread with GP duties (nocb_leader_wait()), made when it is spawned. */
class RcuoGpWork extends RcuoWork {
  /** The array {@link NocbKthread.waitC} points to during a wait (refilled with -1 for each). */
  readonly waitC: number[];
  /** Its queues whose nocb_head is not empty, in the order they became so. */
  ready: NocbQueue[] = [];
  /** The queues the last collection took callbacks from (their nocb_gp_head), in gpQueues order. */
  collected: NocbQueue[] = [];

  constructor(
    reclaim: () => void,
    /** End of nocb_leader_wait() after the grace period: hand each queue's batch to its invoker. */
    readonly leaderWait: () => void,
    /** End of rcu_nocb_wait_gp(): ask for the grace periods the collected callbacks need. */
    readonly waitGp: () => void,
    nrFlavours: number,
  ) {
    super(reclaim);
    this.waitC = new Array<number>(nrFlavours).fill(-1);
  }
}

/** {@link NocbKthread}: its spec is not kept (an idle machine has three per offloaded CPU) but rebuilt when read. */
class RcuoKthread implements NocbKthread {
  done: RcuCallback[] = NO_CBS;
  leaderSleep = true;
  waitC: number[] | null = null;
  invoked = 0;
  /** What its work segments act on: an {@link RcuoGpWork} from spawn for a kthread with GP duties, else null until it first invokes callbacks. */
  work: RcuoWork | null = null;
  /** rdp_gp->nocb_timer armed RCU_NOCB_WAKE_LAZY (CONFIG_RCU_LAZY): made on the first lazy callback of its queues. */
  lazyTimer: TimerList | null = null;
  /** The lazy timer fired since its last pass: its next pass flushes old bypass lists even if no queue became ready. */
  lazyDue = false;

  constructor(
    readonly task: Task,
    readonly gpQueues: NocbQueue[],
    /** Whether a queue it collects or invokes is of a nohz_full CPU (its work then counts as housekeeping noise). */
    readonly serves: boolean,
    private readonly queues: readonly (readonly (NocbQueue | null | undefined)[])[],
  ) {}

  get spec(): NocbKthreadSpec {
    const cb: NocbQueueRef[] = [];
    for (const row of this.queues) for (const q of row) if (q && q.cbKt === this) cb.push({ flavour: q.flavour, cpu: q.cpu });
    const gp = this.gpQueues.length > 0 ? this.gpQueues.map((q) => ({ flavour: q.flavour, cpu: q.cpu })) : NO_NOCB_REFS;
    return { name: this.task.name, role: this.task.role ?? "other", cpu: this.task.cpu, gp, cb };
  }
}

/** The offloading runtime: queues, rcuo kthreads and their loops (rcu_nocb_kthread()). */
export class NocbOffload {
  /** Spawned kthreads, in spawn order. */
  readonly kthreads: RcuoKthread[] = [];
  /** The spawned kthreads with grace-period duties, in spawn order: the only ones that ever wait in rcu_nocb_wait_gp(). */
  private readonly gpKthreads: RcuoKthread[] = [];
  /** By flavour and CPU: the queue, undefined for an offloaded CPU no spec named yet, null for a CPU not offloaded. */
  private readonly queues: (NocbQueue | null | undefined)[][];
  /** Per CPU, 1 if it is nohz_full (tick_nohz_full_cpu(); read without touching the Cpu). */
  private readonly nohzFull: Uint8Array;

  constructor(
    private readonly k: Kernel,
    private readonly rcu: Rcu,
  ) {
    this.queues = [];
    this.nohzFull = Uint8Array.from(k.cpus, (c) => (c.nohzFull ? 1 : 0));
  }

  /** Spawns the layout's kthreads and routes each offloaded queue; a layout leaving a queue without exactly one GP and one callback kthread is an error. */
  spawn(specs: readonly NocbKthreadSpec[]): void {
    const k = this.k;
    const nf = this.rcu.flavours.length;
    for (let f = 0; f < nf; f++) {
      this.queues.push(Array.from({ length: k.nrCpus }, (_, cpu) => (this.rcu.isNocbCpu(cpu) ? undefined : null)));
    }
    const q = (ref: NocbQueueRef, who: string): NocbQueue => {
      const row = this.queues[ref.flavour];
      let queue = row && Number.isInteger(ref.cpu) && ref.cpu >= 0 && ref.cpu < row.length ? row[ref.cpu] : null;
      if (queue === undefined) queue = row![ref.cpu] = new NocbQueue(ref.flavour, ref.cpu);
      if (!queue) throw new Error(`rcu nocb layout: ${who} names flavour ${ref.flavour} CPU ${ref.cpu}, which is not an offloaded queue (valid: flavours 0-${nf - 1}, CPUs ${k.hk.rcuNocbs.toString() || "none"})`);
      return queue;
    };
    for (const spec of specs) {
      if (!Number.isInteger(spec.cpu) || spec.cpu < 0 || spec.cpu >= k.nrCpus) {
        throw new Error(`rcu nocb layout: ${spec.name} is bound to CPU ${spec.cpu} (valid: 0-${k.nrCpus - 1})`);
      }
      const task = k.sched.createTask({ name: spec.name, cpu: spec.cpu, user: false, role: spec.role });
      let serves = false;
      for (const ref of spec.gp) if (k.cpus[ref.cpu]?.nohzFull) serves = true;
      for (const ref of spec.cb) if (k.cpus[ref.cpu]?.nohzFull) serves = true;
      const kt = new RcuoKthread(task, spec.gp.length > 0 ? [] : NO_QUEUES, serves, this.queues);
      for (const ref of spec.gp) {
        const queue = q(ref, spec.name);
        if (queue.gpKt) throw new Error(`rcu nocb layout: rcuo${this.rcu.flavours[ref.flavour]!.abbr}/${ref.cpu}'s grace periods are waited by both ${queue.gpKt.task.name} and ${spec.name} (exactly one)`);
        queue.gpKt = kt;
        kt.gpQueues.push(queue);
      }
      for (const ref of spec.cb) {
        const queue = q(ref, spec.name);
        if (queue.cbKt) throw new Error(`rcu nocb layout: rcuo${this.rcu.flavours[ref.flavour]!.abbr}/${ref.cpu}'s callbacks are invoked by both ${queue.cbKt.task.name} and ${spec.name} (exactly one)`);
        queue.cbKt = kt;
      }
      task.data = kt;
      task.onIdle = this.rcuoIdle;
      this.kthreads.push(kt);
      if (kt.gpQueues.length > 0) {
        this.gpKthreads.push(kt);
        kt.work = new RcuoGpWork(
          () => this.reclaimed(kt),
          () => this.leaderWaited(kt),
          () => this.waitGp(kt),
          this.rcu.states.length,
        );
        for (let i = 0; i < kt.gpQueues.length; i++) kt.gpQueues[i]!.gpIndex = i;
      }
    }
    for (let f = 0; f < nf; f++) {
      const row = this.queues[f]!;
      for (let cpu = 0; cpu < row.length; cpu++) {
        const queue = row[cpu];
        if (queue === undefined || (queue && (!queue.gpKt || !queue.cbKt))) {
          throw new Error(`rcu nocb layout: offloaded CPU ${cpu} (${this.rcu.flavours[f]!.name}) has no ${queue?.gpKt ? "callback-invoking" : "grace-period"} kthread (each queue needs exactly one)`);
        }
      }
    }
  }

  /**
   * __call_rcu_nocb_enqueue(): append to the CPU's nocb list; if it was empty, wake_nocb_leader()
   * wakes the queue's GP kthread when it sleeps — a remote wakeup of a housekeeping CPU.
   */
  enqueue(rsp: RcuState, cb: RcuCallback): void {
    const queue = this.queues[rsp.flavour.index]?.[cb.cpu] ?? null;
    if (!queue || !queue.gpKt) throw new Error(`rcu: CPU ${cb.cpu} is not offloaded for ${rsp.flavour.name}`);
    if (queue.bypass.length > 0 || cb.lazy) {
      if (this.tryBypass(queue, cb)) return;
    }
    this.enqueueHead(queue, cb);
  }

  /**
   * rcu_nocb_try_bypass() (6.12 tree_nocb.h) for a lazy callback, or a non-lazy one meeting a lazy
   * bypass: a bypass older than jiffies_lazy_flush, or any bypass before a non-lazy callback, is
   * flushed to the queue first (rcu_nocb_flush_bypass()) and the callback is enqueued there (returns
   * false). Otherwise the lazy callback joins the bypass; on the first one, __call_rcu_nocb_wake()
   * finds only lazy callbacks and wake_nocb_gp_defer(RCU_NOCB_WAKE_LAZY) arms the GP kthread's
   * nocb_timer jiffies_lazy_flush ahead instead of waking it (returns true).
   */
  private tryBypass(queue: NocbQueue, cb: RcuCallback): boolean {
    const j = this.jiffies();
    const ncbs = queue.bypass.length;
    if (!cb.lazy || (ncbs > 0 && j > queue.bypassFirst + this.lazyFlushJiffies())) {
      this.flushBypass(queue);
      return false;
    }
    if (ncbs === 0) {
      queue.bypass = [cb];
      queue.bypassFirst = j;
      this.armLazyTimer(queue.gpKt!);
    } else queue.bypass.push(cb);
    return true;
  }

  /** jiffies now. */
  private jiffies(): number {
    return Math.floor(this.k.engine.now / this.k.tickPeriod);
  }

  /** jiffies_lazy_flush in jiffies (at least 1). */
  private lazyFlushJiffies(): number {
    return Math.max(1, Math.round(this.k.params.rcuLazyFlushNs / this.k.tickPeriod));
  }

  /**
   * wake_nocb_gp_defer(RCU_NOCB_WAKE_LAZY): mod_timer(&rdp_gp->nocb_timer, jiffies + jiffies_lazy_flush)
   * unless already deferred (pending). The timer is not pinned: armed on a nohz_full CPU it runs on a
   * housekeeping CPU (4.9-6.8 get_nohz_timer_target(); v6.9+ the timer-migration hierarchy, where a
   * tickless nohz_full CPU counts as idle and the migrator expires its global timers).
   */
  private armLazyTimer(kt: RcuoKthread): void {
    const k = this.k;
    const t = (kt.lazyTimer ??= timerSetup("do_nocb_deferred_wakeup_timer", () => this.lazyTimerFired(kt)));
    if (k.timers.pending(t)) return;
    const here = k.executingCpu;
    const cpu = here >= 0 && (k.hk.housekeeping.has(here) || k.hk.housekeeping.isEmpty()) ? here : kt.task.cpu;
    k.timers.addOn(t, cpu, (this.jiffies() + this.lazyFlushJiffies()) * k.tickPeriod);
  }

  /** do_nocb_deferred_wakeup_timer() → wake_nocb_gp(): wakes the GP kthread, whose next pass flushes the old lazy bypass lists. */
  private lazyTimerFired(kt: RcuoKthread): void {
    kt.lazyDue = true;
    if (!kt.leaderSleep) return;
    kt.leaderSleep = false;
    this.k.sched.wakeUp(kt.task, this.k.executingCpu);
  }

  /** rcu_nocb_flush_bypass(): the bypass list's callbacks go to the queue (nocb_head), in order. */
  private flushBypass(queue: NocbQueue): void {
    const cbs = queue.bypass;
    if (cbs.length === 0) return;
    queue.bypass = NO_CBS;
    for (let i = 0; i < cbs.length; i++) this.enqueueHead(queue, cbs[i]!);
  }

  /**
   * nocb_gp_wait()'s bypass check (6.12), at the GP kthread's collection pass: a lazy bypass older
   * than jiffies_lazy_flush is flushed; one still younger re-arms the lazy timer
   * ("WakeLazyIsDeferred").
   */
  private flushOldBypasses(kt: RcuoKthread): void {
    const j = this.jiffies();
    const flushJ = this.lazyFlushJiffies();
    let lazy = false;
    for (const q of kt.gpQueues) {
      if (q.bypass.length === 0) continue;
      if (j > q.bypassFirst + flushJ) this.flushBypass(q);
      else lazy = true;
    }
    if (lazy) this.armLazyTimer(kt);
  }

  /** __call_rcu_nocb_enqueue() of one callback on the queue proper (4.9), waking its GP kthread when the queue was empty and it sleeps. */
  private enqueueHead(queue: NocbQueue, cb: RcuCallback): void {
    const wasEmpty = queue.head.length === 0;
    if (wasEmpty) queue.head = [cb];
    else queue.head.push(cb);
    if (!wasEmpty) return;
    const kt = queue.gpKt!;
    (kt.work as RcuoGpWork).ready.push(queue);
    if (!kt.leaderSleep) return;
    kt.leaderSleep = false;
    this.k.sched.wakeUp(kt.task, cb.cpu);
  }

  /** rcu_nocb_gp_cleanup(): the GP kthread wakes every rcuo kthread waiting on this flavour (swake_up_all()). */
  gpCompleted(rsp: RcuState): void {
    const f = rsp.flavour.index;
    const kts = this.gpKthreads;
    for (let i = 0; i < kts.length; i++) {
      const kt = kts[i]!;
      if (kt.waitC && kt.waitC[f]! >= 0) this.k.sched.wakeUp(kt.task, this.k.executingCpu);
    }
  }

  /** Callbacks waiting anywhere in offloaded queues (for tests and end checks). */
  pending(): number {
    let n = 0;
    for (const row of this.queues) for (const q of row) if (q) n += q.head.length + q.gpHead.length + q.bypass.length;
    for (const kt of this.kthreads) n += kt.done.length;
    return n;
  }

  private chargeHousekeeping(ns: number): void {
    if (this.k.measuring()) this.k.housekeepingStats.noiseNs += ns;
  }

  /** Every rcuo kthread's onIdle: one pass of its loop, with its state in the kthread data. */
  private readonly rcuoIdle = (t: Task): void => this.step(t.data as RcuoKthread);

  /**
   * One pass of rcu_nocb_kthread() (4.9): invoke ready callbacks; a kthread with GP duties runs
   * nocb_leader_wait(): sleep until woken, collect every queue's new callbacks, rcu_nocb_wait_gp()
   * (sleeps until the GP kthread's cleanup wakes it), then append each queue's batch to its invoker's
   * list, waking that kthread if its list was empty. Returning without work puts it to sleep.
   */
  private step(kt: RcuoKthread): void {
    const p = this.k.params;
    const t = kt.task;
    if (kt.done.length > 0) {
      const cbs = kt.done;
      kt.done = NO_CBS;
      const work = (kt.work ??= new RcuoWork(() => this.reclaimed(kt)));
      work.reclaiming = cbs;
      this.rcu.kthreadWork(t, "rcu_nocb_kthread:__rcu_reclaim", cbs.length * p.rcuCallbackNs, Src.rcu, work.reclaim);
      return;
    }
    if (kt.gpQueues.length === 0) return;
    if (kt.waitC) {
      const waitC = kt.waitC;
      const states = this.rcu.states;
      for (let f = 0; f < waitC.length; f++) if (waitC[f]! >= 0 && states[f]!.completed < waitC[f]!) return;
      kt.waitC = null;
      this.rcu.kthreadWork(t, "nocb_leader_wait", p.rcuNocbKthreadNs, Src.kthread, (kt.work as RcuoGpWork).leaderWait);
      return;
    }
    if (kt.leaderSleep) return;
    if (kt.lazyTimer) {
      kt.lazyDue = false;
      this.flushOldBypasses(kt);
    }
    // Collect every queue with new callbacks, in gpQueues order (the ready list, sorted).
    const work = kt.work as RcuoGpWork;
    const got = work.ready;
    if (got.length === 0) {
      kt.leaderSleep = true;
      return;
    }
    got.sort(byGpIndex);
    for (let i = 0; i < got.length; i++) {
      const q = got[i]!;
      q.gpHead = q.head;
      q.head = NO_CBS;
    }
    work.ready = work.collected;
    work.ready.length = 0;
    work.collected = got;
    kt.waitC = work.waitC.fill(-1);
    this.rcu.kthreadWork(t, "rcu_nocb_wait_gp", p.rcuNocbKthreadNs, Src.kthread, work.waitGp);
  }

  /** __rcu_reclaim() of the batch `kt` took from its list (end of its work segment). */
  private reclaimed(kt: RcuoKthread): void {
    const k = this.k;
    const work = kt.work!;
    const cbs = work.reclaiming;
    work.reclaiming = NO_CBS;
    let mine = 0;
    const nohzFull = this.nohzFull;
    for (let i = 0; i < cbs.length; i++) mine += nohzFull[cbs[i]!.cpu]!;
    for (let i = 0; i < cbs.length; i++) this.rcu.invokeCallback(cbs[i]!);
    kt.invoked += cbs.length;
    this.chargeHousekeeping(mine * k.params.rcuCallbackNs);
  }

  /** nocb_leader_wait() after the grace period: each queue's batch goes to its invoker's list, waking it if that was empty. */
  private leaderWaited(kt: RcuoKthread): void {
    const k = this.k;
    const t = kt.task;
    const work = kt.work as RcuoGpWork;
    // No queue has new callbacks exactly when none became ready since the collection.
    kt.leaderSleep = work.ready.length === 0 && !kt.lazyDue;
    // The queues with a nocb_gp_head are the ones collected (only this clears it), in gpQueues order.
    const collected = work.collected;
    for (let i = 0; i < collected.length; i++) {
      const q = collected[i]!;
      if (q.gpHead.length === 0) continue;
      const inv = q.cbKt!;
      const wasEmpty = inv.done.length === 0;
      if (wasEmpty) inv.done = q.gpHead;
      else for (const cb of q.gpHead) inv.done.push(cb);
      q.gpHead = NO_CBS;
      if (inv !== kt && wasEmpty) k.sched.wakeUp(inv.task, t.cpu);
    }
    if (kt.serves) this.chargeHousekeeping(k.params.rcuNocbKthreadNs);
  }

  /** rcu_nocb_wait_gp(): rcu_start_future_gp() for each flavour of the collected callbacks, recording the ->completed each waits for. */
  private waitGp(kt: RcuoKthread): void {
    const work = kt.work as RcuoGpWork;
    const waitC = work.waitC;
    const collected = work.collected;
    for (let i = 0; i < collected.length; i++) {
      const q = collected[i]!;
      if (q.gpHead.length === 0 || waitC[q.flavour]! >= 0) continue;
      const c = this.rcu.startFutureGp(this.rcu.states[q.flavour]!);
      waitC[q.flavour] = c;
      for (const cb of q.gpHead) cb.c = c;
    }
    if (kt.serves) this.chargeHousekeeping(this.k.params.rcuNocbKthreadNs);
  }
}
