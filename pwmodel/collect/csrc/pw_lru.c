/* pw_lru: trigger per-CPU drains from a requester CPU while a target CPU is
 * idle, busy (SCHED_OTHER) or busy (SCHED_FIFO), with an oslat-like gap
 * detector on the target.  Part of pwmodel; compiled at run time.
 *
 * The process forks: the child is the target (pinned to --target-cpu), the
 * parent the requester (pinned to --requester-cpu).  Before each trigger the
 * requester asks the target to fault fresh anonymous pages (this fills the
 * target CPU's LRU folio batches), then writes "pwmodel begin N" to the trace
 * marker, runs the trigger, and writes "pwmodel end N".
 *
 * Times are raw TSC counts (same counter as the x86-tsc trace clock).
 * Outputs (CSV, header line first):
 *   --out-requests: trigger,dirty_ok,dirty_start_tsc,dirty_end_tsc,begin_tsc,end_tsc,rc,errno
 *   --out-gaps:     start_tsc,end_tsc            (gaps >= threshold, busy modes)
 * stdout: "tsc_hz <hz>" once, then "progress <i> <n>" per trigger.
 * The child dies with its parent (PR_SET_PDEATHSIG) and on SIGTERM writes
 * its gap file and exits.
 *
 * Scheduling knobs of the busy target (mode other): --policy other|batch|idle
 * (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE), --nice N, --slice-ns N (custom
 * slice: sched_setattr(2) sched_runtime for a fair task; 0 keeps the default),
 * --busy-tasks K (K busy loops on the target CPU with those settings; only the
 * first runs the gap detector and faults the pages).  They are set on the
 * target's own processes only, which die with the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

struct shared {
	volatile uint32_t req;  /* futex word: request counter */
	char pad0[60];
	volatile uint32_t ack;  /* last request served by the target */
	volatile uint32_t stop;
	volatile uint32_t ready;
	char pad1[52];
};

static const char *mode = "idle", *trigger = "compact", *marker = NULL;
static const char *out_req = "requests.csv", *out_gaps = "gaps.csv";
static int target_cpu = 1, requester_cpu = 0, fifo_prio = 50, pages = 16;
static int ntrig = 20;
static const char *policy = "other";
static int nice_val = 0, busy_tasks = 1;
static unsigned long long slice_ns = 0;

struct sched_attr_v1 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};
static double duration_s = 30, interval_ms = 20, gap_ns = 2000;
static volatile sig_atomic_t got_term;
static struct shared *sh;

static void die(const char *what) { perror(what); exit(3); }

static void pin(int cpu)
{
	cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s)) die("sched_setaffinity");
}

static double now_s(void)
{
	struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static double tsc_hz(void)
{
	struct timespec a, b, d = {0, 100000000};
	clock_gettime(CLOCK_MONOTONIC_RAW, &a); uint64_t t0 = __rdtsc();
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b); uint64_t t1 = __rdtsc();
	double dt = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
	return (t1 - t0) / dt;
}

static void futex_wait(volatile uint32_t *w, uint32_t v)
{
	struct timespec to = {0, 200000000};
	syscall(SYS_futex, w, FUTEX_WAIT, v, &to, NULL, 0);
}

static void futex_wake(volatile uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0); }

static void on_term(int sig) { (void)sig; got_term = 1; }

/* Fair-class settings of the calling busy task (mode other). */
static void set_fair(void)
{
	struct sched_attr_v1 a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = !strcmp(policy, "batch") ? SCHED_BATCH : !strcmp(policy, "idle") ? SCHED_IDLE : SCHED_OTHER;
	a.sched_nice = nice_val;
	a.sched_runtime = slice_ns;
	if (syscall(SYS_sched_setattr, 0, &a, 0)) die("sched_setattr");
}

/* Extra busy loops (--busy-tasks > 1): spin until stopped. */
static void extra_busy(void)
{
	pin(target_cpu);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	set_fair();
	while (!sh->stop) __asm__ volatile("pause");
	_exit(0);
}

/* Fault `pages` fresh anonymous pages; unmap the previous set first (unmap
 * drains the local batch, so it must come before the faults). */
static void dirty(void)
{
	static char *prev; static size_t prev_len;
	long psz = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)pages * psz;
	if (prev) munmap(prev, prev_len);
	prev = NULL;
	if (!pages) return;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) return;
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < len; i += psz) p[i] = 1;
	prev = p; prev_len = len;
}

static void target(void)
{
	size_t cap = 4 << 20, n = 0;
	uint64_t *g = malloc(cap * 2 * sizeof(uint64_t));
	if (!g) die("malloc");
	pin(target_cpu);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, on_term);
	signal(SIGINT, SIG_IGN);
	if (!strcmp(mode, "fifo")) {
		struct sched_param sp = { .sched_priority = fifo_prio };
		if (sched_setscheduler(0, SCHED_FIFO, &sp)) die("sched_setscheduler");
	} else if (!strcmp(mode, "other")) {
		set_fair();
	}
	int busy = strcmp(mode, "idle") != 0;
	double hz = tsc_hz();
	uint64_t thr = (uint64_t)(gap_ns * hz / 1e9);
	uint32_t seen = 0;
	sh->ready = 1;
	uint64_t prev = __rdtsc();
	while (!sh->stop && !got_term) {
		uint32_t r = sh->req;
		if (r != seen) {
			seen = r; dirty(); sh->ack = r;
			prev = __rdtsc();
			continue;
		}
		if (!busy) { futex_wait(&sh->req, seen); continue; }
		uint64_t now = __rdtsc();
		if (now - prev >= thr && n < cap) { g[2 * n] = prev; g[2 * n + 1] = now; n++; }
		prev = now;
	}
	FILE *f = fopen(out_gaps, "w");
	if (!f) die(out_gaps);
	fprintf(f, "start_tsc,end_tsc\n");
	for (size_t i = 0; i < n; i++) fprintf(f, "%lu,%lu\n", g[2 * i], g[2 * i + 1]);
	fclose(f);
	_exit(0);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0) return -1;
	int rc = write(fd, s, strlen(s)) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

static int do_trigger(void)
{
	if (!strcmp(trigger, "compact")) return write_str("/proc/sys/vm/compact_memory", "1");
	if (!strcmp(trigger, "stat_refresh")) return write_str("/proc/sys/vm/stat_refresh", "1");
	if (!strcmp(trigger, "drop_caches")) return write_str("/proc/sys/vm/drop_caches", "1");
	if (!strcmp(trigger, "migrate_pages")) {
		unsigned long m = 1;
		return syscall(SYS_migrate_pages, 0, 8 * sizeof(m), &m, &m) < 0 ? -1 : 0;
	}
	if (!strcmp(trigger, "none")) return 0;
	fprintf(stderr, "unknown trigger %s\n", trigger); exit(2);
}

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--mode")) mode = v;
		else if (!strcmp(k, "--trigger")) trigger = v;
		else if (!strcmp(k, "--marker")) marker = v;
		else if (!strcmp(k, "--out-requests")) out_req = v;
		else if (!strcmp(k, "--out-gaps")) out_gaps = v;
		else if (!strcmp(k, "--target-cpu")) target_cpu = atoi(v);
		else if (!strcmp(k, "--requester-cpu")) requester_cpu = atoi(v);
		else if (!strcmp(k, "--fifo-prio")) fifo_prio = atoi(v);
		else if (!strcmp(k, "--pages")) pages = atoi(v);
		else if (!strcmp(k, "--triggers")) ntrig = atoi(v);
		else if (!strcmp(k, "--duration-s")) duration_s = atof(v);
		else if (!strcmp(k, "--interval-ms")) interval_ms = atof(v);
		else if (!strcmp(k, "--gap-ns")) gap_ns = atof(v);
		else if (!strcmp(k, "--policy")) policy = v;
		else if (!strcmp(k, "--nice")) nice_val = atoi(v);
		else if (!strcmp(k, "--slice-ns")) slice_ns = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--busy-tasks")) busy_tasks = atoi(v);
		else { fprintf(stderr, "unknown option %s\n", k); return 2; }
	}
	if (strcmp(mode, "idle") && strcmp(mode, "other") && strcmp(mode, "fifo")) {
		fprintf(stderr, "mode must be idle, other or fifo\n"); return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) die("mmap");
	if (strcmp(policy, "other") && strcmp(policy, "batch") && strcmp(policy, "idle")) {
		fprintf(stderr, "policy must be other, batch or idle\n"); return 2;
	}
	pid_t extra[16]; int nextra = 0;
	if (!strcmp(mode, "other"))
		for (int k = 1; k < busy_tasks && nextra < 16; k++) {
			pid_t c = fork();
			if (c < 0) die("fork");
			if (c == 0) extra_busy();
			extra[nextra++] = c;
		}
	pid_t child = fork();
	if (child < 0) die("fork");
	if (child == 0) target();

	pin(requester_cpu);
	printf("tsc_hz %.0f\n", tsc_hz()); fflush(stdout);
	int mfd = marker ? open(marker, O_WRONLY) : -1;
	FILE *rq = fopen(out_req, "w");
	if (!rq) die(out_req);
	fprintf(rq, "trigger,dirty_ok,dirty_start_tsc,dirty_end_tsc,begin_tsc,end_tsc,rc,errno\n");
	double t_end = now_s() + duration_s;
	while (!sh->ready && now_s() < t_end) usleep(1000);
	for (int i = 0; i < ntrig && now_s() < t_end; i++) {
		uint64_t d0 = __rdtsc();
		sh->req = i + 1; futex_wake(&sh->req);
		double wait_end = now_s() + 2.0;
		while (sh->ack != (uint32_t)(i + 1) && now_s() < wait_end) usleep(20);
		uint64_t d1 = __rdtsc();
		int ok = sh->ack == (uint32_t)(i + 1);
		if (mfd >= 0) dprintf(mfd, "pwmodel begin %d\n", i);
		uint64_t b = __rdtsc();
		int rc = do_trigger();
		int err = rc ? errno : 0;
		uint64_t e = __rdtsc();
		if (mfd >= 0) dprintf(mfd, "pwmodel end %d\n", i);
		fprintf(rq, "%d,%d,%lu,%lu,%lu,%lu,%d,%d\n", i, ok, d0, d1, b, e, rc, err);
		fflush(rq);
		printf("progress %d %d\n", i + 1, ntrig); fflush(stdout);
		long long ns = (long long)(interval_ms * 1e6);
		struct timespec d = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
		nanosleep(&d, NULL);
	}
	fclose(rq);
	sh->stop = 1; futex_wake(&sh->req);
	int st;
	for (int k = 0; k < nextra; k++) {
		for (int j = 0; j < 100 && waitpid(extra[k], &st, WNOHANG) != extra[k]; j++) usleep(10000);
		kill(extra[k], SIGKILL); waitpid(extra[k], &st, WNOHANG);
	}
	for (int k = 0; k < 300; k++) {
		if (waitpid(child, &st, WNOHANG) == child) return 0;
		usleep(10000);
	}
	kill(child, SIGKILL); waitpid(child, &st, 0);
	fprintf(stderr, "target did not stop; killed\n");
	return 4;
}
