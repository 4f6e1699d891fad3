/*
 * isolsim-workload: the scenario's workload on a real kernel, run as /workload in the isolsim
 * initramfs (apps/demo/src/real/). Built with `gcc -static -O2`; its arguments come from
 * workloadArgs() in workload.ts, which is the only place that knows the scenario format.
 *
 *   isolsim-workload DURATION_NS WARMUP_NS SEED HK_CPU ITEM...
 *
 * ITEM is one argv word, fields separated by ':' (times in ns):
 *   loop:CPU:POLICY:PRIO                   one busy user task pinned to CPU (POLICY other|fifo|rr)
 *   syscall:CPU:CALL:EVERY:AT:JITTER:PAGES the first loop task of CPU makes CALL each period
 *   compact:CPU:EVERY:AT:JITTER            write "1" to /proc/sys/vm/compact_memory from CPU
 *                                          (mm/compaction.c compact_nodes() calls lru_add_drain_all())
 *   forkchurn:CPU:EVERY:AT:JITTER:CHILDREN fork CHILDREN children at once from CPU, reap them: more
 *                                          than the 2 stacks kernel/fork.c caches per CPU, so the
 *                                          other vmap'd stacks are vfree()d (VMAP_STACK)
 *   wakeup:CPU:EVERY:AT:JITTER:RUN         a user process pinned to CPU sleeps, wakes each period and
 *                                          spins for RUN (a user task, not a kernel thread)
 *   bpf:CPU:EVERY:AT:JITTER                from HK_CPU, load a raw tracepoint program, attach it to
 *                                          sys_enter and drop the previous one each period (JIT
 *                                          images are vmalloc()ed and vfree()d)
 *
 * Each item runs in its own process (a user-loop task per process, as in the model). Periods are
 * kept by one controller process on HK_CPU that sleeps until the next firing and hands
 * it to the process that makes it: a flag the busy loop polls (no clock read, no syscall on an
 * isolated CPU between firings) or a byte on a pipe for a sleeping worker.
 * At the end of the warmup it writes "isolsim: measure start" to trace_marker and copies
 * /proc/interrupts to /tmp/interrupts.before; at the end, "isolsim: measure end" and
 * /tmp/interrupts.after.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 256

enum kind { LOOP, SYSCALL, COMPACT, FORKCHURN, WAKEUP, BPF };

struct item {
	enum kind kind;
	int cpu;
	int policy, prio;          /* loop */
	char call[16];             /* syscall */
	uint64_t every, at, jitter;
	uint64_t arg;              /* pages, children, run */
	uint64_t base;             /* next nominal firing, ns since start */
	uint64_t next;             /* next firing (base + a jitter draw), ns since start */
	volatile uint64_t pending; /* firings handed over, not yet made */
	int pipe[2];               /* wakes a sleeping worker */
	int loop;                  /* syscall: index of the loop item that makes it */
};

/* Shared (MAP_SHARED) between the controller and the workers: each worker is its own process so
 * that one worker's munmap() or fork() never sends TLB-shootdown IPIs to another worker's CPU. */
static struct item *items;
static int nitems;
static volatile int *stop;
static uint64_t rng;
static int hk_cpu;
static struct timespec t0;

static void die(const char *what)
{
	fprintf(stderr, "isolsim-workload: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)(t.tv_nsec - t0.tv_nsec);
}

static void sleep_until(uint64_t ns)
{
	struct timespec t = t0;
	uint64_t n = (uint64_t)t.tv_nsec + ns;
	t.tv_sec += n / 1000000000ull;
	t.tv_nsec = n % 1000000000ull;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set))
		die("sched_setaffinity");
}

static void marker(const char *s)
{
	int fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror("trace_marker");
		close(fd);
	}
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0)
		die(from);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			die(to);
	close(in);
	close(out);
}

static void do_syscall(struct item *it)
{
	size_t len = it->arg * 4096;
	if (!strcmp(it->call, "getpid")) {
		syscall(SYS_getpid);
	} else if (!strcmp(it->call, "file-write")) {
		/* new page-cache pages each call: truncate, then write (mm/filemap.c adds them to the LRU) */
		static int fd = -1;
		static char *buf;
		if (fd < 0) {
			char name[64];
			snprintf(name, sizeof name, "/tmp/isolsim-write-%d", it->cpu);
			fd = open(name, O_RDWR | O_CREAT, 0644);
			buf = malloc(len);
			if (fd < 0 || !buf)
				die("file-write");
			memset(buf, 'x', len);
			mlock(buf, len);
		}
		if (ftruncate(fd, 0) || pwrite(fd, buf, len, 0) != (ssize_t)len)
			die("file-write");
	} else if (!strcmp(it->call, "page-fault") || !strcmp(it->call, "mlock")) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		if (it->call[0] == 'm') {
			if (mlock(p, len))
				die("mlock");
			munlock(p, len);
		} else {
			for (size_t i = 0; i < len; i += 4096)
				p[i] = 1;
		}
		munmap(p, len);
	} else if (!strcmp(it->call, "call-rcu")) {
		/* fs/file_table.c: the last fput() frees the struct file through call_rcu() */
		int fd = open("/proc/self/stat", O_RDONLY);
		if (fd >= 0)
			close(fd);
	}
}

/*
 * Locks the worker's pages (its text, stack and the shared region): with
 * /proc/sys/vm/compact_unevictable_allowed at 0 (set by /init), compaction — the lru-drain-all
 * substitute — then leaves them alone instead of migrating them under the busy loop (a migration
 * flushes the TLB of every CPU running the mm and makes the task wait in D state), as a
 * latency-sensitive application would. MCL_CURRENT only: the pages a syscall item maps later fault
 * as the model's do.
 */
static void lock_memory(void)
{
	if (mlockall(MCL_CURRENT))
		die("mlockall");
}

static void loop_worker(struct item *it)
{
	int self = (int)(it - items);
	uint64_t done[MAX_ITEMS] = {0};
	pin(it->cpu);
	lock_memory();
	prctl(PR_SET_NAME, "isolsim-loop");
	if (it->policy != SCHED_OTHER) {
		struct sched_param sp = {.sched_priority = it->prio};
		if (sched_setscheduler(0, it->policy, &sp))
			die("sched_setscheduler");
	}
	while (!*stop) {
		for (int i = 0; i < nitems; i++) {
			if (items[i].kind == SYSCALL && items[i].loop == self && items[i].pending != done[i]) {
				done[i]++;
				do_syscall(&items[i]);
			}
		}
	}
}

static int bpf_load(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uint64_t)(uintptr_t)"GPL";
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
	if (prog < 0)
		die("bpf(BPF_PROG_LOAD)");
	memset(&a, 0, sizeof a);
	a.raw_tracepoint.name = (uint64_t)(uintptr_t)"sys_enter";
	a.raw_tracepoint.prog_fd = (uint32_t)prog;
	int link = (int)syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &a, sizeof a);
	if (link < 0)
		die("bpf(BPF_RAW_TRACEPOINT_OPEN)");
	close(prog);
	return link;
}

static void periodic_worker(struct item *it)
{
	char c;
	int link = -1;
	static const char *names[] = {"isolsim-loop", "", "isolsim-compact", "isolsim-fork", "isolsim-wakeup", "isolsim-bpf"};
	pin(it->kind == BPF ? hk_cpu : it->cpu);
	lock_memory();
	prctl(PR_SET_NAME, names[it->kind]);
	while (read(it->pipe[0], &c, 1) == 1 && c == 'f') {
		if (it->kind == COMPACT) {
			int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);
			if (fd < 0 || write(fd, "1", 1) != 1)
				die("/proc/sys/vm/compact_memory");
			close(fd);
		} else if (it->kind == FORKCHURN) {
			for (uint64_t i = 0; i < it->arg; i++) {
				pid_t p = fork();
				if (p == 0)
					_exit(0);
				if (p < 0)
					die("fork");
			}
			while (wait(NULL) > 0)
				;
		} else if (it->kind == WAKEUP) {
			uint64_t end = now_ns() + it->arg;
			while (now_ns() < end)
				;
		} else if (it->kind == BPF) {
			int next = bpf_load();
			if (link >= 0)
				close(link);
			link = next;
		}
	}
	if (link >= 0)
		close(link);
}

static uint64_t field(char **s)
{
	char *f = strsep(s, ":");
	if (!f)
		return 0;
	return strtoull(f, NULL, 10);
}

static void parse(char *arg)
{
	if (nitems == MAX_ITEMS) {
		fprintf(stderr, "isolsim-workload: more than %d items\n", MAX_ITEMS);
		exit(2);
	}
	struct item *it = &items[nitems++];
	char *s = arg, *kind = strsep(&s, ":");
	it->cpu = (int)field(&s);
	it->loop = -1;
	if (!strcmp(kind, "loop")) {
		char *p = strsep(&s, ":");
		it->kind = LOOP;
		it->policy = !strcmp(p, "fifo") ? SCHED_FIFO : !strcmp(p, "rr") ? SCHED_RR : SCHED_OTHER;
		it->prio = (int)field(&s);
		return;
	}
	if (!strcmp(kind, "syscall")) {
		it->kind = SYSCALL;
		snprintf(it->call, sizeof it->call, "%s", strsep(&s, ":"));
	} else if (!strcmp(kind, "compact")) {
		it->kind = COMPACT;
	} else if (!strcmp(kind, "forkchurn")) {
		it->kind = FORKCHURN;
	} else if (!strcmp(kind, "wakeup")) {
		it->kind = WAKEUP;
	} else if (!strcmp(kind, "bpf")) {
		it->kind = BPF;
	} else {
		fprintf(stderr, "isolsim-workload: unknown item %s\n", kind);
		exit(2);
	}
	it->every = field(&s);
	it->at = field(&s);
	it->jitter = field(&s);
	it->arg = field(&s);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: isolsim-workload DURATION_NS WARMUP_NS SEED HK_CPU ITEM...\n");
		return 2;
	}
	uint64_t duration = strtoull(argv[1], NULL, 10), warmup = strtoull(argv[2], NULL, 10);
	rng = strtoull(argv[3], NULL, 10) * 2654435761ull + 0x9e3779b97f4a7c15ull;
	hk_cpu = atoi(argv[4]);
	items = mmap(NULL, sizeof(struct item) * MAX_ITEMS + 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (items == MAP_FAILED)
		die("mmap");
	stop = (volatile int *)(items + MAX_ITEMS);
	for (int i = 5; i < argc; i++)
		parse(argv[i]);
	for (int i = 0; i < nitems; i++) {
		if (items[i].kind != SYSCALL)
			continue;
		for (int j = 0; j < nitems; j++)
			if (items[j].kind == LOOP && items[j].cpu == items[i].cpu) {
				items[i].loop = j;
				break;
			}
		if (items[i].loop < 0) {
			fprintf(stderr, "isolsim-workload: syscall on CPU %d has no loop task\n", items[i].cpu);
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pin(hk_cpu);
	lock_memory();
	pid_t pid[MAX_ITEMS];
	for (int i = 0; i < nitems; i++) {
		struct item *it = &items[i];
		it->base = it->at;
		it->next = it->at + (it->jitter ? xorshift() % (it->jitter + 1) : 0);
		if (it->kind == SYSCALL)
			continue;
		if (it->kind != LOOP && pipe(it->pipe))
			die("pipe");
		pid[i] = fork();
		if (pid[i] < 0)
			die("fork");
		if (pid[i] == 0) {
			if (it->kind == LOOP)
				loop_worker(it);
			else
				periodic_worker(it);
			_exit(0);
		}
	}
	int measuring = 0;
	for (;;) {
		uint64_t next = measuring ? duration : warmup;
		for (int i = 0; i < nitems; i++)
			if (items[i].kind != LOOP && items[i].next < next)
				next = items[i].next;
		sleep_until(next);
		if (!measuring && next >= warmup) {
			copy_file("/proc/interrupts", "/tmp/interrupts.before");
			marker("isolsim: measure start");
			measuring = 1;
		}
		if (next >= duration)
			break;
		for (int i = 0; i < nitems; i++) {
			struct item *it = &items[i];
			if (it->kind == LOOP || it->next > next)
				continue;
			if (it->kind == SYSCALL)
				__atomic_add_fetch(&it->pending, 1, __ATOMIC_RELEASE);
			else if (write(it->pipe[1], "f", 1) != 1)
				die("pipe write");
			it->base += it->every;
			it->next = it->base + (it->jitter ? xorshift() % (it->jitter + 1) : 0);
		}
	}
	marker("isolsim: measure end");
	copy_file("/proc/interrupts", "/tmp/interrupts.after");
	*stop = 1;
	for (int i = 0; i < nitems; i++) {
		if (items[i].kind == SYSCALL)
			continue;
		if (items[i].kind != LOOP) {
			if (write(items[i].pipe[1], "q", 1) != 1)
				die("pipe write");
		}
		waitpid(pid[i], NULL, 0);
	}
	return 0;
}
