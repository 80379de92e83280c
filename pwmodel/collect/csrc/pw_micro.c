/* pw_micro: small CPU-to-CPU microbenchmarks for pwmodel (compiled at run time).
 *
 *   pw_micro c2c A B ROUNDTRIPS         CAS ping-pong on one line between CPUs A and B
 *   pw_micro atomic CPU OPS             uncontended lock xadd on a private line
 *   pw_micro spinlock CPU OPS           uncontended test-and-set lock + release
 *   pw_micro spinremote A B SAMPLES     lock+unlock on A of a lock line last written on B
 *   pw_micro futex A B ROUNDTRIPS       futex wake/wait ping-pong between threads on A and B
 *   pw_micro membarrier A B CALLS       MEMBARRIER_CMD_PRIVATE_EXPEDITED from A while a
 *                                       thread spins on B (B < 0: no other running thread)
 *
 * With PW_FIFO_PRIO=N in the environment all threads run SCHED_FIFO at N, so
 * other SCHED_OTHER load on the machine does not preempt them.
 * Each prints one CSV line: "<bench>,<cpu_a>,<cpu_b>,<n>,<ns_per_op>,<p50_ns>,<p99_ns>"
 * (p50/p99 only for per-sample benchmarks, else empty).  ns from CLOCK_MONOTONIC
 * for bulk loops and calibrated TSC for per-sample timings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define LINE 64
static volatile uint64_t line_a[LINE / 8] __attribute__((aligned(LINE)));
static volatile uint64_t flag_line[LINE / 8] __attribute__((aligned(LINE)));
static volatile uint32_t fut[LINE / 4] __attribute__((aligned(LINE)));
static volatile int stop_spin;
static long n_ops;
static int cpu_a, cpu_b;

static void pin(int cpu)
{
	cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s)) { perror("sched_setaffinity"); exit(3); }
}

static double now_ns(void)
{
	struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static double tsc_ghz(void)
{
	double a = now_ns(); uint64_t t0 = __rdtsc();
	struct timespec d = {0, 50000000}; nanosleep(&d, NULL);
	double b = now_ns(); uint64_t t1 = __rdtsc();
	return (t1 - t0) / (b - a);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* ---- c2c: round trips of a CAS-owned line; one-way = round trip / 2 ---- */
static void *c2c_peer(void *arg)
{
	(void)arg; pin(cpu_b);
	for (long i = 0; i < n_ops; i++) {
		uint64_t want = 2 * i + 1;
		while (!__sync_bool_compare_and_swap(&line_a[0], want, want + 1)) _mm_pause();
	}
	return NULL;
}

static void bench_c2c(void)
{
	pthread_t t; line_a[0] = 0;
	pthread_create(&t, NULL, c2c_peer, NULL);
	pin(cpu_a);
	/* warm-up handshake */
	double t0 = now_ns();
	for (long i = 0; i < n_ops; i++) {
		uint64_t want = 2 * i;
		while (!__sync_bool_compare_and_swap(&line_a[0], want, want + 1)) _mm_pause();
	}
	while (line_a[0] != (uint64_t)(2 * n_ops)) _mm_pause();
	double dt = now_ns() - t0;
	pthread_join(t, NULL);
	printf("c2c,%d,%d,%ld,%.3f,,\n", cpu_a, cpu_b, n_ops, dt / n_ops / 2);
}

static void bench_atomic(void)
{
	pin(cpu_a);
	volatile uint64_t *p = &line_a[0];
	for (long i = 0; i < 100000; i++) __sync_fetch_and_add(p, 1);
	double t0 = now_ns();
	for (long i = 0; i < n_ops; i++) __sync_fetch_and_add(p, 1);
	double dt = now_ns() - t0;
	printf("atomic,%d,,%ld,%.3f,,\n", cpu_a, n_ops, dt / n_ops);
}

static inline void spin_lock(volatile uint64_t *l)
{
	while (!__sync_bool_compare_and_swap(l, 0, 1))
		while (*l) _mm_pause();
}

static inline void spin_unlock(volatile uint64_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

static void bench_spinlock(void)
{
	pin(cpu_a);
	volatile uint64_t *l = &line_a[0]; *l = 0;
	for (long i = 0; i < 100000; i++) { spin_lock(l); spin_unlock(l); }
	double t0 = now_ns();
	for (long i = 0; i < n_ops; i++) { spin_lock(l); spin_unlock(l); }
	double dt = now_ns() - t0;
	printf("spinlock,%d,,%ld,%.3f,,\n", cpu_a, n_ops, dt / n_ops);
}

/* ---- spinlock whose line was last written by cpu_b ---- */
static void *remote_writer(void *arg)
{
	(void)arg; pin(cpu_b);
	for (long i = 0; i < n_ops; i++) {
		while (flag_line[0] != (uint64_t)(2 * i + 1)) _mm_pause();
		spin_lock(&line_a[0]); spin_unlock(&line_a[0]);
		__atomic_store_n(&flag_line[0], 2 * i + 2, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void bench_spinremote(void)
{
	pthread_t t; line_a[0] = 0; flag_line[0] = 0;
	uint64_t *s = malloc(n_ops * sizeof(uint64_t));
	double ghz = tsc_ghz();
	pthread_create(&t, NULL, remote_writer, NULL);
	pin(cpu_a);
	uint64_t overhead = ~0ULL;
	for (int k = 0; k < 1000; k++) {
		unsigned aux; uint64_t a = __rdtscp(&aux), b = __rdtscp(&aux);
		if (b - a < overhead) overhead = b - a;
	}
	for (long i = 0; i < n_ops; i++) {
		__atomic_store_n(&flag_line[0], 2 * i + 1, __ATOMIC_RELEASE);
		while (flag_line[0] != (uint64_t)(2 * i + 2)) _mm_pause();
		unsigned aux; uint64_t a = __rdtscp(&aux);
		spin_lock(&line_a[0]); spin_unlock(&line_a[0]);
		uint64_t b = __rdtscp(&aux);
		s[i] = b - a > overhead ? b - a - overhead : 0;
	}
	pthread_join(t, NULL);
	qsort(s, n_ops, sizeof(uint64_t), cmp_u64);
	double sum = 0; for (long i = 0; i < n_ops; i++) sum += s[i];
	printf("spinlock_remote,%d,%d,%ld,%.3f,%.3f,%.3f\n", cpu_a, cpu_b, n_ops, sum / n_ops / ghz,
	       s[n_ops / 2] / ghz, s[(long)(n_ops * 0.99)] / ghz);
}

/* ---- futex ping-pong: each side sleeps until woken ---- */
static void fwait(volatile uint32_t *w, uint32_t v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0); }
static void fwake(volatile uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *futex_peer(void *arg)
{
	(void)arg; pin(cpu_b);
	for (long i = 0; i < n_ops; i++) {
		while (fut[0] != (uint32_t)(2 * i + 1)) fwait(&fut[0], 2 * i);
		fut[0] = 2 * i + 2; fwake(&fut[0]);
	}
	return NULL;
}

static void bench_futex(void)
{
	pthread_t t; fut[0] = 0;
	pthread_create(&t, NULL, futex_peer, NULL);
	pin(cpu_a);
	double t0 = now_ns();
	for (long i = 0; i < n_ops; i++) {
		fut[0] = 2 * i + 1; fwake(&fut[0]);
		while (fut[0] != (uint32_t)(2 * i + 2)) fwait(&fut[0], 2 * i + 1);
	}
	double dt = now_ns() - t0;
	pthread_join(t, NULL);
	printf("futex_roundtrip,%d,%d,%ld,%.3f,,\n", cpu_a, cpu_b, n_ops, dt / n_ops);
}

static void *spinner(void *arg)
{
	(void)arg; pin(cpu_b);
	while (!stop_spin) _mm_pause();
	return NULL;
}

static void bench_membarrier(void)
{
	pthread_t t; int peer = cpu_b >= 0;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0)) {
		perror("membarrier register"); exit(3);
	}
	if (peer) pthread_create(&t, NULL, spinner, NULL);
	pin(cpu_a);
	struct timespec d = {0, 20000000}; nanosleep(&d, NULL);
	uint64_t *s = malloc(n_ops * sizeof(uint64_t));
	double ghz = tsc_ghz();
	double t0 = now_ns();
	for (long i = 0; i < n_ops; i++) {
		uint64_t a = __rdtsc();
		if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)) { perror("membarrier"); exit(3); }
		s[i] = __rdtsc() - a;
	}
	double dt = now_ns() - t0;
	stop_spin = 1;
	if (peer) pthread_join(t, NULL);
	qsort(s, n_ops, sizeof(uint64_t), cmp_u64);
	char bcol[16] = "";
	if (peer) snprintf(bcol, sizeof(bcol), "%d", cpu_b);
	printf("membarrier%s,%d,%s,%ld,%.3f,%.3f,%.3f\n", peer ? "" : "_no_peer", cpu_a,
	       bcol, n_ops, dt / n_ops, s[n_ops / 2] / ghz, s[(long)(n_ops * 0.99)] / ghz);
}

int main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc < 4) { fprintf(stderr, "usage: pw_micro BENCH CPU_A [CPU_B] N\n"); return 2; }
	const char *b = argv[1];
	int two = !strcmp(b, "c2c") || !strcmp(b, "spinremote") || !strcmp(b, "futex") || !strcmp(b, "membarrier");
	if (two && argc < 5) { fprintf(stderr, "%s needs CPU_A CPU_B N\n", b); return 2; }
	cpu_a = atoi(argv[2]);
	cpu_b = two ? atoi(argv[3]) : -1;
	n_ops = atol(argv[two ? 4 : 3]);
	if (n_ops <= 0) { fprintf(stderr, "N must be > 0\n"); return 2; }
	const char *prio = getenv("PW_FIFO_PRIO");
	if (prio && atoi(prio) > 0) {  /* threads created later inherit the policy */
		struct sched_param sp = { .sched_priority = atoi(prio) };
		if (sched_setscheduler(0, SCHED_FIFO, &sp)) { perror("sched_setscheduler"); return 3; }
	}
	if (!strcmp(b, "c2c")) bench_c2c();
	else if (!strcmp(b, "atomic")) bench_atomic();
	else if (!strcmp(b, "spinlock")) bench_spinlock();
	else if (!strcmp(b, "spinremote")) bench_spinremote();
	else if (!strcmp(b, "futex")) bench_futex();
	else if (!strcmp(b, "membarrier")) bench_membarrier();
	else { fprintf(stderr, "unknown benchmark %s\n", b); return 2; }
	return 0;
}
