// SPDX-License-Identifier: MIT
/* Captures: AF_PACKET sockets opened inside each namespace, drained by one thread. */
#define _GNU_SOURCE
#include <pcap/pcap.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture.h"
#include "error.h"

#define SNAPLEN 65535

static void write_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	pcap_dump(user, h, bytes);
	pcap_dump_flush((pcap_dumper_t *)user); /* a killed run keeps every packet seen so far */
}

static void drain(struct lab_capture *c, size_t i)
{
	int n;

	while ((n = pcap_dispatch(c->pcap[i], -1, write_packet, c->dumper[i])) > 0)
		c->packets[i] += (unsigned long)n;
}

static void *capture_thread(void *arg)
{
	struct lab_capture *c = arg;
	struct pollfd fds[LAB_CAPTURE_MAX + 1];
	size_t i;

	for (i = 0; i < c->n; i++)
		fds[i] = (struct pollfd){ .fd = pcap_get_selectable_fd(c->pcap[i]), .events = POLLIN };
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

static int open_point(struct lab_capture *c, const struct lab_capture_point *pt)
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
	ret = pcap_activate(p); /* the AF_PACKET socket is bound in this namespace, for good */
	if (ret < 0) {
		err = lab_fail(-EIO, "pcap_activate(%s/%s): %s", pt->ns->name, pt->ifname,
			       pcap_geterr(p));
		pcap_close(p);
		goto out;
	}
	pcap_setnonblock(p, 1, errbuf);
	c->dumper[c->n] = pcap_dump_open(p, pt->path);
	if (!c->dumper[c->n]) {
		err = lab_fail(-EIO, "pcap_dump_open(%s): %s", pt->path, pcap_geterr(p));
		pcap_close(p);
		goto out;
	}
	c->pcap[c->n++] = p;
out:
	lab_netns_leave(&saved);
	return err;
}

int lab_capture_start(struct lab_capture *c, const struct lab_capture_point *pts, size_t n)
{
	size_t i;
	int err = 0;

	if (n > LAB_CAPTURE_MAX)
		return lab_fail(-EINVAL, "too many capture points");
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return lab_fail(-errno, "eventfd");
	for (i = 0; i < n && !err; i++)
		err = open_point(c, &pts[i]);
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
	size_t i;

	if (c->running) {
		uint64_t one = 1;

		if (write(c->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(c->thread, NULL);
		c->running = false;
	}
	for (i = 0; i < c->n; i++) {
		pcap_dump_close(c->dumper[i]);
		pcap_close(c->pcap[i]);
	}
	c->n = 0;
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->stop_fd = -1;
}
