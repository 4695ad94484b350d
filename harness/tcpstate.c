// SPDX-License-Identifier: MIT
/* TCP state changes from sock:inet_sock_set_state through perf events (tcpstate.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "netns.h"
#include "tcpstate.h"

#define EVENT_DIR "/sys/kernel/tracing/events/sock/inet_sock_set_state"
#define RING_PAGES 256 /* 1 MiB per CPU: ~10000 changes */

/* "ID\n" and "format" of the tracepoint, as text in @buf */
static ssize_t read_event_files(char *buf, size_t len)
{
	size_t o = 0;
	int k;

	for (k = 0; k < 2; k++) {
		int fd = open(k ? EVENT_DIR "/format" : EVENT_DIR "/id", O_RDONLY | O_CLOEXEC);
		ssize_t r;

		if (fd < 0)
			return -errno;
		while (o + 1 < len && (r = read(fd, buf + o, len - o - 1)) > 0)
			o += (size_t)r;
		close(fd);
	}
	buf[o] = '\0';
	return (ssize_t)o;
}

/* in a child with mounts of its own: tracefs mounted there, the files read into shared memory */
struct event_text {
	char *buf; /* MAP_SHARED: what the child writes, the parent reads */
	size_t len;
};

static int read_in_own_tracefs(void *arg)
{
	const struct event_text *e = arg;

	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	return read_event_files(e->buf, e->len) > 0 ? 0 : -ENOENT;
}

/*
 * The tracepoint's id and format: from tracefs where the host has it mounted; else a child
 * mounts it in a mount namespace of its own (gone when it exits) and hands the text back
 */
static int event_files(char *buf, size_t len)
{
	struct event_text e = { .len = len };
	int err;

	if (read_event_files(buf, len) > 0)
		return 0;
	e.buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (e.buf == MAP_FAILED)
		return -errno;
	err = lab_netns_in_child(read_in_own_tracefs, &e, true);
	if (!err)
		memcpy(buf, e.buf, len);
	munmap(e.buf, len);
	return err ? -ENOENT : 0;
}

/* a field's offset in the record: "field:int oldstate;\toffset:16;" */
static int field_offset(const char *format, const char *decl)
{
	const char *at = strstr(format, decl);

	return at && (at = strstr(at, "offset:")) ? atoi(at + 7) : -1;
}

int lab_tcpstate_start(struct lab_tcpstate *ts, uint16_t port)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	char text[8192], filter[64];
	size_t cpus = (size_t)get_nprocs_conf(), c;
	struct timespec real, mono;
	long page = sysconf(_SC_PAGESIZE);
	int err = event_files(text, sizeof(text));

	*ts = (struct lab_tcpstate)LAB_TCPSTATE_INIT;
	if (err) {
		snprintf(ts->why, sizeof(ts->why),
			 "no sock:inet_sock_set_state tracepoint (tracefs not readable)");
		return err;
	}
	ts->off_old = field_offset(text, " oldstate;");
	ts->off_new = field_offset(text, " newstate;");
	ts->off_sport = field_offset(text, " sport;");
	ts->off_dport = field_offset(text, " dport;");
	ts->off_family = field_offset(text, " family;");
	ts->off_saddr = field_offset(text, " saddr[4];");
	ts->off_daddr = field_offset(text, " daddr[4];");
	if (ts->off_old < 0 || ts->off_new < 0 || ts->off_sport < 0 || ts->off_dport < 0 ||
	    ts->off_family < 0 || ts->off_saddr < 0 || ts->off_daddr < 0) {
		snprintf(ts->why, sizeof(ts->why), "inet_sock_set_state: unknown record layout");
		return -EPROTO;
	}
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = strtoull(text, NULL, 10);
	attr.sample_period = 1;
	attr.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	snprintf(filter, sizeof(filter), "sport == %u || dport == %u", port, port);
	ts->ring_len = (size_t)page * (RING_PAGES + 1);
	for (c = 0; c < cpus && ts->n_cpu < LAB_TCPSTATE_CPUS; c++) {
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, (int)c, -1,
				      PERF_FLAG_FD_CLOEXEC);
		void *ring;

		if (fd < 0 && errno == ENODEV)
			continue; /* an offline CPU */
		if (fd < 0) {
			err = -errno;
			snprintf(ts->why, sizeof(ts->why),
				 "perf_event_open(inet_sock_set_state): %s", strerror(errno));
			goto fail;
		}
		ring = mmap(NULL, ts->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (ring == MAP_FAILED || ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter)) {
			err = -errno;
			snprintf(ts->why, sizeof(ts->why), "perf ring or filter: %s",
				 strerror(errno));
			if (ring != MAP_FAILED)
				munmap(ring, ts->ring_len);
			close(fd);
			goto fail;
		}
		ts->fd[ts->n_cpu] = fd;
		ts->ring[ts->n_cpu++] = ring;
	}
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	ts->real_minus_mono_ns =
		(real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
	return 0;
fail:
	lab_tcpstate_free(ts);
	return err;
}

static int add(struct lab_tcpstate *ts, const struct lab_tcpstate_change *c)
{
	struct lab_tcpstate_change *grown = realloc(ts->v, (ts->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	ts->v = grown;
	ts->v[ts->n++] = *c;
	return 0;
}

/* one PERF_RECORD_SAMPLE: u64 time; u32 size; raw tracepoint record */
static void sample(struct lab_tcpstate *ts, const unsigned char *rec, size_t len)
{
	struct lab_tcpstate_change c;
	uint64_t time;
	uint32_t size;
	const unsigned char *raw = rec + 12;
	uint16_t family;
	int32_t v;

	if (len < 12)
		return;
	memcpy(&time, rec, 8);
	memcpy(&size, rec + 8, 4);
	if (12 + (size_t)size > len || (size_t)ts->off_daddr + 4 > size)
		return;
	memcpy(&family, raw + ts->off_family, 2);
	if (family != AF_INET)
		return;
	c.t_us = ((int64_t)time + ts->real_minus_mono_ns) / 1000;
	memcpy(&v, raw + ts->off_old, 4);
	c.oldstate = v;
	memcpy(&v, raw + ts->off_new, 4);
	c.newstate = v;
	memcpy(&c.sport, raw + ts->off_sport, 2);
	memcpy(&c.dport, raw + ts->off_dport, 2);
	memcpy(&c.saddr, raw + ts->off_saddr, 4);
	memcpy(&c.daddr, raw + ts->off_daddr, 4);
	add(ts, &c);
}

/* every record of one CPU's ring, the wrapped ones copied whole */
static void drain(struct lab_tcpstate *ts, void *ring)
{
	struct perf_event_mmap_page *meta = ring;
	unsigned char *data =
		(unsigned char *)ring + (meta->data_offset ?: ts->ring_len / (RING_PAGES + 1));
	uint64_t size = meta->data_size ?: ts->ring_len - ts->ring_len / (RING_PAGES + 1);
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE), tail = meta->data_tail;
	unsigned char rec[512];

	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		size_t k;

		for (k = 0; k < sizeof(h); k++)
			((unsigned char *)&h)[k] = data[(tail + k) % size];
		if (h.size < sizeof(h) || tail + h.size > head)
			break;
		for (k = 0; k < h.size && k < sizeof(rec); k++)
			rec[k] = data[(tail + k) % size];
		if (h.type == PERF_RECORD_SAMPLE && h.size <= sizeof(rec))
			sample(ts, rec + sizeof(h), h.size - sizeof(h));
		else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16)
			ts->lost += *(uint64_t *)(void *)(rec + sizeof(h) + 8);
		tail += h.size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

static int by_time(const void *a, const void *b)
{
	const struct lab_tcpstate_change *x = a, *y = b;

	return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

void lab_tcpstate_stop(struct lab_tcpstate *ts)
{
	size_t c;

	for (c = 0; c < ts->n_cpu; c++)
		ioctl(ts->fd[c], PERF_EVENT_IOC_DISABLE, 0);
	for (c = 0; c < ts->n_cpu; c++)
		drain(ts, ts->ring[c]);
	if (ts->n)
		qsort(ts->v, ts->n, sizeof(*ts->v), by_time);
	/* closing waits for the tracepoint's unregistering (an RCU grace period): at free */
}

void lab_tcpstate_free(struct lab_tcpstate *ts)
{
	size_t c;

	for (c = 0; c < ts->n_cpu; c++) {
		munmap(ts->ring[c], ts->ring_len);
		close(ts->fd[c]);
	}
	ts->n_cpu = 0;
	free(ts->v);
	ts->v = NULL;
	ts->n = 0;
}
