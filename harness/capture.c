// SPDX-License-Identifier: MIT
/* Captures: AF_PACKET sockets opened inside each namespace, drained by one thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture.h"
#include "error.h"

#define SNAPLEN 65535
#define BUFFER_BYTES (512 << 10)

static void write_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct lab_capture_file *file = (struct lab_capture_file *)user;

	pcap_dump((u_char *)file->dumper, h, bytes);
	/* a killed run keeps every packet seen so far; a full disk is remembered, not ignored */
	if (pcap_dump_flush(file->dumper) && !file->err)
		file->err = -(errno ? errno : EIO);
}

static void drain(struct lab_capture *c, size_t i)
{
	int n;

	while ((n = pcap_dispatch(c->pcap[i], -1, write_packet, (u_char *)&c->file[i])) > 0)
		c->packets[i] += (unsigned long)n;
}

static void *capture_thread(void *arg)
{
	struct lab_capture *c = arg;
	struct pollfd fds[LAB_CAPTURE_MAX + 1];
	size_t i;

	for (i = 0; i < c->n; i++)
		fds[i] = (struct pollfd){ .fd = pcap_get_selectable_fd(c->pcap[i]),
					  .events = POLLIN };
	fds[c->n] = (struct pollfd){ .fd = c->stop_fd, .events = POLLIN };
	for (;;) {
		if (poll(fds, c->n + 1, -1) < 0)
			continue;
		for (i = 0; i < c->n; i++)
			if (fds[i].revents)
				drain(c, i);
		if (fds[c->n].revents)
			break;
	}
	/* whatever the kernel queued before the stop request */
	for (i = 0; i < c->n; i++)
		drain(c, i);
	return NULL;
}

static int open_point(const struct lab_capture_point *pt, void **pcap, void **dumper)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int saved = -1, err, ret;

	err = lab_netns_enter(pt->ns, &saved);
	if (err)
		return err;
	p = pcap_create(pt->ifname, errbuf);
	if (!p) {
		err = lab_fail(-ENODEV, "pcap_create(%s/%s): %s", pt->ns->name, pt->ifname, errbuf);
		goto out;
	}
	pcap_set_snaplen(p, SNAPLEN);
	pcap_set_immediate_mode(p, 1);
	pcap_set_timeout(p, 1);
	pcap_set_buffer_size(p, BUFFER_BYTES); /* a small ring: set-up and teardown cost ms */
	ret = pcap_activate(p); /* the AF_PACKET socket is bound in this namespace, for good */
	if (ret < 0) {
		err = lab_fail(-EIO, "pcap_activate(%s/%s): %s", pt->ns->name, pt->ifname,
			       pcap_geterr(p));
		pcap_close(p);
		goto out;
	}
	pcap_setnonblock(p, 1, errbuf);
	errno = 0;
	*dumper = pcap_dump_open(p, pt->path);
	if (!*dumper) {
		err = lab_fail(errno ? -errno : -EIO, "create %s", pt->path);
		pcap_close(p);
		goto out;
	}
	/* the file header now: a run stopped before its first packet still leaves a pcap */
	if (pcap_dump_flush(*dumper)) {
		err = lab_fail(-(errno ? errno : EIO), "write the pcap header of %s", pt->path);
		pcap_dump_close(*dumper);
		*dumper = NULL;
		pcap_close(p);
		goto out;
	}
	*pcap = p;
out:
	lab_netns_leave(&saved);
	return err;
}

/*
 * Opening and closing an AF_PACKET socket with a ring each wait for an RCU grace period
 * (synchronize_net() in packet_set_ring() and packet_release()), ~10-25 ms here. Waiters that
 * overlap share a grace period, so every capture point is opened and closed on its own thread.
 */
struct point_job {
	pthread_t thread;
	const struct lab_capture_point *pt;
	void *pcap, *dumper;
	int err;
	char why[256]; /* its lab_fail() reason: recorded on its own thread */
};

static void *open_job(void *arg)
{
	struct point_job *job = arg;

	lab_error_clear();
	job->err = open_point(job->pt, &job->pcap, &job->dumper);
	snprintf(job->why, sizeof(job->why), "%s", lab_error_last());
	return NULL;
}

static void *close_job(void *arg)
{
	struct point_job *job = arg;

	pcap_dump_close(job->dumper);
	pcap_close(job->pcap);
	return NULL;
}

/* run @fn for every job, each on its own thread (inline if a thread cannot be had) */
static void run_jobs(struct point_job *jobs, size_t n, void *(*fn)(void *))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pthread_create(&jobs[i].thread, NULL, fn, &jobs[i]))
			jobs[i].thread = 0, fn(&jobs[i]);
	for (i = 0; i < n; i++)
		if (jobs[i].thread)
			pthread_join(jobs[i].thread, NULL);
}

int lab_capture_start(struct lab_capture *c, const struct lab_capture_point *pts, size_t n)
{
	struct point_job jobs[LAB_CAPTURE_MAX] = { 0 };
	size_t i;
	int err = 0;

	if (n > LAB_CAPTURE_MAX)
		return lab_fail(-EINVAL, "too many capture points");
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return lab_fail(-errno, "eventfd");
	for (i = 0; i < n; i++)
		jobs[i].pt = &pts[i];
	run_jobs(jobs, n, open_job);
	for (i = 0; i < n; i++) {
		if (jobs[i].err) {
			err = err ? err : lab_error_adopt(jobs[i].err, jobs[i].why);
			continue;
		}
		c->pcap[c->n] = jobs[i].pcap;
		c->file[c->n] = (struct lab_capture_file){ .dumper = jobs[i].dumper };
		snprintf(c->file[c->n++].path, sizeof(c->file[0].path), "%s", pts[i].path);
	}
	c->n_files = c->n;
	if (!err) {
		err = -pthread_create(&c->thread, NULL, capture_thread, c);
		if (err)
			lab_fail(err, "capture thread");
		c->running = !err;
	}
	if (err)
		lab_capture_stop(c);
	return err;
}

void lab_capture_stop(struct lab_capture *c)
{
	struct point_job jobs[LAB_CAPTURE_MAX];
	size_t i;

	if (c->running) {
		uint64_t one = 1;

		if (write(c->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(c->thread, NULL);
		c->running = false;
	}
	for (i = 0; i < c->n; i++)
		jobs[i] = (struct point_job){ .pcap = c->pcap[i], .dumper = c->file[i].dumper };
	run_jobs(jobs, c->n, close_job);
	c->n = 0;
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->stop_fd = -1;
}

int lab_capture_check(const struct lab_capture *c)
{
	size_t i;

	for (i = 0; i < c->n_files; i++)
		if (c->file[i].err)
			return lab_fail(c->file[i].err, "write %s", c->file[i].path);
	return 0;
}
