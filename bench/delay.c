// SPDX-License-Identifier: MIT
/*
 * bench-delay: how exact and how cheap the wire's delay engine is.
 *  1. RTT of a 1-byte TCP ping-pong (TCP_NODELAY) through the wire: without impairment, and
 *     with a configured one-way delay D (client -> server): error = RTT - baseline p50 - D
 *  2. bulk throughput client -> server: no impairment, NFQUEUE passing every packet untouched
 *     (loss=0% on both directions: each packet goes to user space and back), and delay D
 * Aim: error p50 <= 0.5 ms, p99 <= 2 ms; pass-through throughput >= 90 % of no impairment.
 * Backends: the ones this kernel has (nfqueue always; netem when CONFIG_NET_SCH_NETEM).
 *
 * usage: bench-delay [SAMPLES [MBYTES [DELAY_MS]]]   (root)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "kernel.h"
#include "timing.h"
#include "topo.h"
#include "wire.h"

#define PORT 5001

struct lab {
	struct lab_topo topo;
	struct lab_wire *wire;
	int listener;
};

static int lab_up(struct lab *l, const char *impair, const char *impair2, bool netem)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct lab_impair imp;
	char why[256];

	*l = (struct lab){ .topo = LAB_TOPO_INIT };
	if (lab_topo_new(&l->topo, 0) || lab_wire_new(&l->wire, &l->topo.ns[LAB_WIRE], netem))
		return -1;
	for (const char *spec = impair; spec; spec = spec == impair ? impair2 : NULL) {
		if (lab_impair_parse(spec, &imp, why, sizeof(why)) ||
		    lab_wire_add(l->wire, &imp, why, sizeof(why)) < 0) {
			fprintf(stderr, "bench-delay: %s: %s\n", spec, why);
			return -1;
		}
	}
	l->listener = lab_netns_socket(&l->topo.ns[LAB_SERVER], SOCK_STREAM);
	setsockopt(l->listener, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (l->listener < 0 || bind(l->listener, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(l->listener, 8))
		return -1;
	return 0;
}

static void lab_down(struct lab *l)
{
	if (l->listener >= 0)
		close(l->listener);
	lab_wire_free(l->wire);
	l->wire = NULL;
	lab_topo_free(&l->topo);
}

/* a connected pair: *c in the client namespace, *s accepted in the server namespace */
static int pair(struct lab *l, int *c, int *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };

	inet_pton(AF_INET, LAB_SERVER_ADDR, &a.sin_addr);
	*c = lab_netns_socket(&l->topo.ns[LAB_CLIENT], SOCK_STREAM);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept4(l->listener, NULL, NULL, SOCK_CLOEXEC);
	setsockopt(*c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	setsockopt(*s, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return *s < 0 ? -1 : 0;
}

struct echo {
	int fd;
	size_t n;
};

static void *echo(void *arg)
{
	struct echo *e = arg;
	char b;
	size_t i;

	for (i = 0; i < e->n; i++)
		if (read(e->fd, &b, 1) != 1 || write(e->fd, &b, 1) != 1)
			break;
	return NULL;
}

/* @n round trips of one byte; RTTs in @rtt (microseconds) */
static int ping(struct lab *l, int64_t *rtt, size_t n)
{
	struct echo e = { .n = n };
	pthread_t t;
	int c, ret = 0;
	size_t i;
	char b = 'x';

	if (pair(l, &c, &e.fd))
		return -1;
	pthread_create(&t, NULL, echo, &e);
	for (i = 0; i < n && !ret; i++) {
		int64_t t0 = lab_mono_us();

		if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1)
			ret = -1;
		rtt[i] = lab_mono_us() - t0;
	}
	pthread_join(t, NULL);
	close(c);
	close(e.fd);
	return ret;
}

static void *sink(void *arg)
{
	static char buf[1 << 16];
	int fd = *(int *)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

/* megabits per second for @bytes from client to server */
static double bulk(struct lab *l, size_t bytes)
{
	static char buf[1 << 16];
	pthread_t t;
	int c, s;
	size_t sent = 0;
	int64_t t0;

	if (pair(l, &c, &s))
		return -1;
	pthread_create(&t, NULL, sink, &s);
	t0 = lab_mono_us();
	while (sent < bytes) {
		ssize_t n = write(c, buf, bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf));

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	shutdown(c, SHUT_WR);
	pthread_join(t, NULL); /* the receiver has everything */
	t0 = lab_mono_us() - t0;
	close(c);
	close(s);
	return (double)sent * 8.0 / (double)t0;
}

static double median(double *v, size_t n)
{
	int64_t k[16];
	size_t i;

	for (i = 0; i < n; i++)
		k[i] = (int64_t)(v[i] * 1000.0);
	return (double)lab_percentile(k, n, 0.5) / 1000.0;
}

/*
 * Throughput is noisy on a shared 2-core machine: three labs up at once (no impairment; the
 * engine on but selecting SYNs only; every packet through NFQUEUE untouched), measured in turn,
 * REPS times each; medians compared.
 */
#define REPS 7
static int bulk_compare(size_t mb)
{
	static const char *const what[] = { "no impairment", "engine on, bulk not selected",
					    "every packet through NFQUEUE" };
	const char *specs[3][2] = { { NULL, NULL },
				    { "delay=50ms,dir=both,flags=S", NULL },
				    { "loss=0%,dir=c2s", "loss=0%,dir=s2c" } };
	struct lab l[3];
	double v[3][REPS], m[3];
	size_t i, r;

	for (i = 0; i < 3; i++)
		if (lab_up(&l[i], specs[i][0], specs[i][1], false))
			return 1;
	for (r = 0; r < REPS; r++)
		for (i = 0; i < 3; i++)
			v[i][r] = bulk(&l[i], mb << 20);
	for (i = 0; i < 3; i++) {
		m[i] = median(v[i], REPS);
		printf("  bulk %zu MB, %-30s median %6.0f Mbit/s of %d", mb, what[i], m[i], REPS);
		if (i)
			printf("  (%.1f %% of no impairment%s; %" PRIu64 " packets queued)",
			       100.0 * m[i] / m[0], i == 1 ? ", aim >= 90 %" : "",
			       lab_wire_engine(l[i].wire).queued);
		printf("\n");
	}
	for (i = 0; i < 3; i++)
		lab_down(&l[i]);
	return 0;
}

static int run_delay(const char *backend, size_t n, long delay_ms, double base_p50_us, bool netem)
{
	char spec[96];
	int64_t *rtt = calloc(n, sizeof(*rtt));
	struct lab l;
	size_t i;

	snprintf(spec, sizeof(spec), "delay=%ldms,dir=c2s,backend=%s", delay_ms, backend);
	if (!rtt || lab_up(&l, spec, NULL, netem) || ping(&l, rtt, n)) {
		fprintf(stderr, "bench-delay: %s delay run failed\n", backend);
		free(rtt);
		return 1;
	}
	for (i = 0; i < n; i++)
		rtt[i] -= (int64_t)base_p50_us + delay_ms * 1000;
	printf("  %-8s delay %ld ms one way: RTT - baseline - delay: p50 %+.3f ms  p99 %+.3f ms  "
	       "max %+.3f ms   (aim |p50| <= 0.5, p99 <= 2)\n",
	       backend, delay_ms, (double)lab_percentile(rtt, n, 0.5) / 1000.0,
	       (double)lab_percentile(rtt, n, 0.99) / 1000.0,
	       (double)lab_percentile(rtt, n, 1.0) / 1000.0);
	printf("  %-8s held %" PRId64 " packets, %" PRIu64 " verdict errors\n", backend,
	       lab_wire_stat(l.wire, 0)->held, lab_wire_engine(l.wire).verdict_errors);
	lab_down(&l);
	free(rtt);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	size_t mb = argc > 2 ? strtoul(argv[2], NULL, 10) : 20;
	long delay_ms = argc > 3 ? strtol(argv[3], NULL, 10) : 50;
	struct lab_kernel k;
	int64_t *rtt = calloc(n ? n : 1, sizeof(*rtt));
	double base;
	struct lab l;

	if (!n || !mb || delay_ms < 1 || !rtt) {
		fprintf(stderr, "usage: bench-delay [SAMPLES [MBYTES [DELAY_MS]]]\n");
		return 2;
	}
	if (lab_netns_probe()) {
		fprintf(stderr, "bench-delay: needs root (network namespaces)\n");
		return 77;
	}
	lab_kernel_probe(&k);
	printf("bench-delay: kernel %s, HZ %d, netem %s\n", k.release, k.hz,
	       k.netem == 1 ? "yes" : "no");
	if (lab_up(&l, NULL, NULL, false) || ping(&l, rtt, n))
		return 1;
	base = (double)lab_percentile(rtt, n, 0.5);
	printf("  baseline RTT (no impairment): p50 %.3f ms  p99 %.3f ms\n", base / 1000.0,
	       (double)lab_percentile(rtt, n, 0.99) / 1000.0);
	/* delays first: a bulk transfer leaves the kernel busy freeing memory for a while */
	if (run_delay("nfqueue", n, delay_ms, base, false))
		return 1;
	if (k.netem == 1 && run_delay("netem", n, delay_ms, base, true))
		return 1;
	if (k.netem != 1)
		printf("  netem    not in this kernel: not measured\n");
	lab_down(&l);
	free(rtt);
	return bulk_compare(mb);
}
