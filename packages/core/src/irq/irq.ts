import type { Nanoseconds } from "../engine/engine.js";
import { EventPriority } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import { Src } from "../accounting/sources.js";
import type { InterruptionKey } from "../accounting/sources.js";

/** A softirq handler: its name, cost and action (open_softirq()). */
export interface SoftirqAction {
  /** Name (e.g. `RCU`, `TIMER`). */
  name: string;
  /** Interruption source it counts as, or -1 when it belongs to the interrupt that raised it. */
  source: number;
  /** Cost of one run, ns. */
  costNs: Nanoseconds;
  /** The action. */
  action: (cpu: number) => void;
}

/** An irq_work kind (struct irq_work): its segment names and, when it has no function, the start effect every CPU shares. */
interface IrqWorkKind {
  /** Name of the self-IPI segment (arch_irq_work_raise()). */
  readonly localName: string;
  /** Name of the remote call-function-single segment. */
  readonly remoteName: string;
  /** Start effect of work without a function: it is no longer pending on the CPU it runs on. */
  readonly run: (seg: Segment) => void;
}

/** Interrupt delivery: device IRQs, IPIs (call-function, resched, irq_work), softirqs (kernel/irq, kernel/smp.c). */
export class InterruptController {
  /**
   * Handlers of IPIs sent and not yet arrived, in a ring indexed by message id (the arrival event's
   * argument) modulo its size; each holds its sender and send time. Ids are handed out in order and
   * every IPI arrives after the same latency, so the ring only grows with the IPIs in flight at once.
   */
  private inFlight: (Segment | null)[] = new Array<Segment | null>(64).fill(null);
  /** Message id of each ring slot's handler. */
  private inFlightIds: number[] = new Array<number>(64).fill(0);
  private nextMessage = 1;
  /** Per irq_work name: its segment names (local self-IPI, remote call-function) and, for work without a function, its shared start effect. */
  private readonly irqWorkKinds = new Map<string, IrqWorkKind>();
  private readonly kArrive: number;
  private readonly softirqs: (SoftirqAction | undefined)[] = [];
  /** Per softirq number: its segment name and a start effect shared by every CPU (runs on `k.executingCpu`). */
  private readonly softirqSegs: ({ name: string; start: (seg: Segment) => void } | undefined)[] = [];
  /** Per CPU, the names of irq_work queued and not yet run (created at the CPU's first irq_work). */
  private readonly irqWorkPending: (Set<string> | undefined)[];

  constructor(private readonly k: Kernel) {
    this.irqWorkPending = new Array<Set<string> | undefined>(k.nrCpus).fill(undefined);
    this.kArrive = k.engine.register("ipi_arrive", (cpu, id) => this.arrive(cpu, id));
  }

  /** Registers a softirq action (open_softirq()). */
  openSoftirq(nr: number, action: SoftirqAction): void {
    this.softirqs[nr] = action;
    const k = this.k;
    this.softirqSegs[nr] = { name: `softirq:${action.name}`, start: () => action.action(k.executingCpu) };
  }

  /** Marks a softirq pending on `cpu`; it runs at that CPU's interrupt exit (raise_softirq()). */
  raiseSoftirq(cpu: number, nr: number): void {
    const c = this.k.cpus[cpu]!;
    c.softirqPending |= 1 << nr;
    if (!c.inIrq) this.k.exec.runSoftirqsNow(cpu);
  }

  /** Takes the pending softirqs of `cpu` as interrupt-level segments (__do_softirq()), appended to `out`. */
  softirqSegments(cpu: number, out: Segment[]): void {
    const c = this.k.cpus[cpu]!;
    const pending = c.softirqPending;
    c.softirqPending = 0;
    for (let nr = 0; nr < 10; nr++) {
      if (!(pending & (1 << nr))) continue;
      const a = this.softirqs[nr];
      if (!a) continue;
      const s = this.softirqSegs[nr]!;
      out.push(this.k.exec.segments.take(s.name, a.costNs, Context.softirq, a.source, false, s.start, null, 0));
    }
  }

  /** A hardware interrupt arrives on `cpu` now; `seg` is its handler. */
  raise(cpu: number, seg: Segment): void {
    this.k.exec.interrupt(cpu, seg);
  }

  /**
   * Sends an IPI from `from` to `to`: it arrives after the delivery latency and runs `handler` in
   * interrupt context, counted as `source` (smp_call_function_single(), smp_send_reschedule()).
   */
  sendIpi(from: number, to: number, source: InterruptionKey, name: string, costNs: Nanoseconds, handler: ((seg: Segment) => void) | null): void {
    const k = this.k;
    const now = k.engine.now;
    // Nothing keeps an IPI's handler segment after it ran (a trace copies it): it comes from the pool.
    const seg = k.exec.segments.take(name, costNs, Context.irq, Src[source], false, handler, null, 0);
    seg.causeCpu = from;
    seg.causeTime = now;
    const id = this.nextMessage++;
    this.fileInFlight(id, seg);
    // IPIs pending together are taken in local APIC priority order: the higher vector first
    // (RESCHEDULE_VECTOR 0xfd before CALL_FUNCTION_SINGLE_VECTOR 0xfb, arch/x86/include/asm/irq_vectors.h).
    const apicOrder = source === "ipi_resched" ? -2 : -1;
    k.engine.schedule(now + k.params.ipiLatencyNs, this.kArrive, to, id, EventPriority.hardware + apicOrder);
  }

  /** Runs `fn` on `to` through a call-function IPI (smp_call_function_single()). */
  callFunctionSingle(from: number, to: number, name: string, fn: ((seg: Segment) => void) | null, source: InterruptionKey = "ipi_call_function"): void {
    this.sendIpi(from, to, source, name, this.k.params.ipiHandlerNs, fn);
  }

  /** Sends a reschedule IPI (smp_send_reschedule()). */
  sendReschedule(from: number, to: number): void {
    this.sendIpi(from, to, "ipi_resched", "reschedule", this.k.params.ipiReschedNs, null);
  }

  /**
   * Queues irq_work `name` on `to` (irq_work_queue_on()): a pending work is not queued twice; a
   * remote one arrives as an IPI, a local one as a self-IPI (arch_irq_work_raise()).
   */
  irqWorkQueueOn(from: number, to: number, name: string, fn: (() => void) | null = null): void {
    const pending = (this.irqWorkPending[to] ??= new Set<string>());
    if (pending.has(name)) return;
    pending.add(name);
    const kind = this.irqWorkKind(name);
    // The work runs on `to` (k.executingCpu when its segment starts): it is no longer pending there.
    const run =
      fn === null
        ? kind.run
        : (): void => {
            pending.delete(name);
            fn();
          };
    if (from === to) {
      this.raise(to, this.k.exec.segments.take(kind.localName, this.k.params.ipiIrqWorkNs, Context.irq, Src.ipi_irq_work, false, run, null, 0));
    } else {
      // 4.9 x86: a remote irq_work_queue_on() is arch_send_call_function_single_ipi(); the target
      // runs it from the call-function-single vector (counted as ipi_irq_work all the same).
      this.sendIpi(from, to, "ipi_irq_work", kind.remoteName, this.k.params.ipiIrqWorkNs, run);
    }
  }

  /** The segment names and shared start effect of irq_work `name`, made at its first use. */
  private irqWorkKind(name: string): IrqWorkKind {
    let kind = this.irqWorkKinds.get(name);
    if (kind === undefined) {
      const k = this.k;
      kind = {
        localName: `irq_work:${name}`,
        remoteName: `call_function_single:${name}`,
        run: () => {
          this.irqWorkPending[k.executingCpu]?.delete(name);
        },
      };
      this.irqWorkKinds.set(name, kind);
    }
    return kind;
  }

  /** Files an IPI's handler in the in-flight ring under its message id, doubling the ring when that slot is taken. */
  private fileInFlight(id: number, seg: Segment): void {
    let ring = this.inFlight;
    if (ring[id & (ring.length - 1)] !== null) {
      const old = ring, oldIds = this.inFlightIds;
      let size = old.length * 2;
      for (;;) {
        ring = new Array<Segment | null>(size).fill(null);
        const ids = new Array<number>(size).fill(0);
        let clash = ring[id & (size - 1)] !== null;
        for (let i = 0; i < old.length && !clash; i++) {
          const s = old[i]!;
          if (s === null) continue;
          const at = oldIds[i]! & (size - 1);
          if (ring[at] !== null) clash = true;
          ring[at] = s;
          ids[at] = oldIds[i]!;
        }
        if (!clash && ring[id & (size - 1)] === null) {
          this.inFlight = ring;
          this.inFlightIds = ids;
          break;
        }
        size *= 2;
      }
    }
    const at = id & (ring.length - 1);
    ring[at] = seg;
    this.inFlightIds[at] = id;
  }

  private arrive(cpu: number, id: number): void {
    const ring = this.inFlight;
    const at = id & (ring.length - 1);
    const seg = ring[at]!;
    if (seg === null || this.inFlightIds[at] !== id) return;
    ring[at] = null;
    this.k.trace?.flow(seg.causeCpu, cpu, seg.causeTime, this.k.engine.now, seg.name);
    this.raise(cpu, seg);
  }
}
