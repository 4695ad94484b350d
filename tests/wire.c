// SPDX-License-Identifier: MIT
/*
 * The wire's impairment engine on a real lab (root): exact K-th drops, seeded loss that repeats
 * itself, delay that holds, blackholes that arm and release. Traffic is a one-segment-at-a-time
 * ping-pong, so the order of matching packets (and so every decision) is deterministic.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "nstat.h"
#include "timing.h"
#include "topo.h"
#include "wire.h"

#define PORT 5002

struct lab {
	struct lab_topo topo;
	struct lab_wire *wire;
	int c, s; /* connected: client side, server side */
};

static void lab_up(struct lab *l, const char *const *specs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct lab_impair imp;
	char why[256];
	int listener;

	*l = (struct lab){ .topo = LAB_TOPO_INIT };
	ck_assert_int_eq(lab_topo_new(&l->topo, 0), 0);
	ck_assert_int_eq(lab_wire_new(&l->wire, &l->topo.ns[LAB_WIRE], false), 0);
	for (; specs && *specs; specs++) {
		ck_assert_msg(!lab_impair_parse(*specs, &imp, why, sizeof(why)), "%s", why);
		ck_assert_msg(lab_wire_add(l->wire, &imp, why, sizeof(why)) >= 0, "%s", why);
	}
	listener = lab_netns_socket(&l->topo.ns[LAB_SERVER], SOCK_STREAM);
	ck_assert_int_ge(listener, 0);
	ck_assert_int_eq(bind(listener, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(listener, 4), 0);
	inet_pton(AF_INET, LAB_SERVER_ADDR, &a.sin_addr);
	l->c = lab_netns_socket(&l->topo.ns[LAB_CLIENT], SOCK_STREAM);
	ck_assert_int_eq(connect(l->c, (struct sockaddr *)&a, sizeof(a)), 0);
	l->s = accept(listener, NULL, NULL);
	ck_assert_int_ge(l->s, 0);
	close(listener);
	setsockopt(l->c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	setsockopt(l->s, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
}

static void lab_down(struct lab *l)
{
	close(l->c);
	close(l->s);
	lab_wire_free(l->wire);
	l->wire = NULL;
	lab_topo_free(&l->topo);
}

/* one round: the client sends @size bytes, the server reads them and answers one byte */
static int64_t round_trip(struct lab *l, size_t size)
{
	char buf[256] = { 0 };
	size_t got = 0;
	int64_t t0 = lab_mono_us();
	ssize_t n;

	ck_assert_int_eq(write(l->c, buf, size), (ssize_t)size);
	while (got < size) {
		n = read(l->s, buf, size - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(write(l->s, buf, 1), 1);
	ck_assert_int_eq(read(l->c, buf, 1), 1);
	return lab_mono_us() - t0;
}

/* the relative sequence numbers of the client's data segments the wire dropped */
static size_t dropped_seqs(struct lab *l, uint32_t *out, size_t max)
{
	uint32_t first = 0;
	size_t i, n = 0, n_log;
	const struct lab_wire_log *log = lab_wire_log(l->wire, &n_log);

	for (i = 0; i < n_log; i++) {
		const struct lab_pkt *p = &log[i].pkt;

		if (!log[i].drop || !p->len)
			continue;
		if (!n)
			first = p->seq;
		if (n < max)
			out[n++] = p->seq - first;
	}
	return n;
}

START_TEST(drop_the_kth_match_exactly)
{
	const char *specs[] = { "drop,dir=c2s,flags=PA,len=10,nth=3", NULL };
	const struct lab_wire_stat *st;
	struct lab l;
	uint32_t seqs[4];
	size_t n_log;
	int i;

	lab_up(&l, specs);
	for (i = 0; i < 5; i++)
		round_trip(&l, 10);
	lab_wire_stop(l.wire);
	st = lab_wire_stat(l.wire, 0);
	ck_assert_int_eq(st->backend, LAB_BACKEND_NFTABLES);
	ck_assert_int_eq(st->dropped, 1);
	ck_assert_int_eq(st->matched, 6); /* 5 sends + the retransmission */
	ck_assert_uint_eq(dropped_seqs(&l, seqs, 4), 1); /* reported over nflog */
	ck_assert_uint_eq(lab_wire_log(l.wire, &n_log)[0].pkt.len, 10);
	lab_down(&l);
}
END_TEST

/* count=N drops N matches in a row from the K-th: the 2nd send and its first retransmission */
START_TEST(drop_count_matches_from_the_kth)
{
	const char *specs[] = { "drop,dir=c2s,flags=PA,len=10,nth=2,count=2", NULL };
	const struct lab_wire_stat *st;
	struct lab l;
	uint32_t seqs[4];
	int i;

	lab_up(&l, specs);
	for (i = 0; i < 4; i++)
		round_trip(&l, 10);
	lab_wire_stop(l.wire);
	st = lab_wire_stat(l.wire, 0);
	ck_assert_int_eq(st->dropped, 2);
	ck_assert_uint_eq(dropped_seqs(&l, seqs, 4), 2);
	lab_down(&l);
}
END_TEST

/* the same seed drops the same segments; another seed drops others */
static size_t lossy_run(const char *spec, uint32_t *seqs, size_t max)
{
	const char *specs[] = { spec, NULL };
	struct lab l;
	size_t n;
	int i;

	lab_up(&l, specs);
	for (i = 0; i < 30; i++)
		round_trip(&l, 20);
	lab_wire_stop(l.wire);
	ck_assert_int_eq(lab_wire_stat(l.wire, 0)->backend, LAB_BACKEND_NFQUEUE);
	n = dropped_seqs(&l, seqs, max);
	ck_assert_uint_eq(n, (size_t)lab_wire_stat(l.wire, 0)->dropped);
	lab_down(&l);
	return n;
}

START_TEST(seeded_loss_repeats_itself)
{
	uint32_t a[64], b[64], c[64];
	size_t na = lossy_run("loss=20%,seed=7,flags=PA", a, 64);
	size_t nb = lossy_run("loss=20%,seed=7,flags=PA", b, 64);
	size_t nc = lossy_run("loss=20%,seed=8,flags=PA", c, 64);

	ck_assert_uint_gt(na, 0);
	ck_assert_uint_eq(na, nb);
	ck_assert(!memcmp(a, b, na * sizeof(*a)));
	ck_assert(na != nc || memcmp(a, c, na * sizeof(*a)));
}
END_TEST

START_TEST(delay_holds_each_way)
{
	const char *specs[] = { "delay=20ms,dir=c2s", "delay=10ms,dir=s2c", NULL };
	struct lab_window w = lab_window(30000, 1.0);
	struct lab l;
	int64_t rtt[9];
	int i;

	lab_up(&l, specs);
	for (i = 0; i < 9; i++)
		rtt[i] = round_trip(&l, 10);
	ck_assert_msg(lab_window_holds(&w, lab_percentile(rtt, 9, 0.5)), "median RTT %lld us",
		      (long long)lab_percentile(rtt, 9, 0.5));
	for (i = 0; i < 9; i++)
		ck_assert_int_ge(rtt[i], 30000); /* never early */
	lab_down(&l);
}
END_TEST

/* a burst with some segments held back arrives out of order: the receiver says so */
static int64_t ofo_after_burst(const char *spec)
{
	const char *specs[] = { spec, NULL };
	struct lab_nstat before = { 0 }, after = { 0 };
	char buf[4000] = { 0 };
	size_t got = 0, n_log;
	struct lab l;
	int64_t ofo;
	int i;

	lab_up(&l, specs);
	ck_assert_int_eq(lab_nstat_read(&before, &l.topo.ns[LAB_SERVER]), 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(write(l.c, buf, 200), 200);
	while (got < 4000) {
		ssize_t n = read(l.s, buf, sizeof(buf));

		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(lab_nstat_read(&after, &l.topo.ns[LAB_SERVER]), 0);
	ofo = lab_nstat_delta(&before, &after, "TcpExtTCPOFOQueue");
	lab_wire_stop(l.wire);
	lab_wire_log(l.wire, &n_log);
	ck_assert_int_eq(lab_wire_stat(l.wire, 0)->held, (int64_t)n_log);
	lab_nstat_free(&before);
	lab_nstat_free(&after);
	lab_down(&l);
	return ofo;
}

START_TEST(reorder_lets_later_packets_overtake)
{
	ck_assert_int_gt(ofo_after_burst("reorder=30%,hold=5ms,seed=3"), 0);
	ck_assert_int_eq(ofo_after_burst("reorder=0%"), 0); /* contrast: nothing held */
}
END_TEST

START_TEST(blackhole_arms_and_releases)
{
	const char *specs[] = { "blackhole,dir=both,armed=0", NULL };
	struct pollfd pfd;
	struct lab l;
	char b = 0;

	lab_up(&l, specs);
	round_trip(&l, 1);
	ck_assert_int_eq(lab_wire_arm(l.wire, 0, true), 0);
	ck_assert_int_eq(write(l.c, &b, 1), 1);
	pfd = (struct pollfd){ .fd = l.s, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 300), 0); /* swallowed (and its retransmission) */
	ck_assert_int_eq(lab_wire_arm(l.wire, 0, false), 0);
	ck_assert_int_eq(poll(&pfd, 1, 3000), 1); /* the next retransmission gets through */
	lab_wire_refresh(l.wire);
	ck_assert_int_ge(lab_wire_stat(l.wire, 0)->dropped, 1);
	lab_down(&l);
}
END_TEST

/*
 * role=fin-ack: the client ACKs the server's data with a pure ACK first (the shape a "2nd pure
 * ACK" rule would take), then the server's FIN: only the packets acknowledging the FIN are
 * dropped, each re-sent FIN's too (a blackhole), all with the same ack number
 */
START_TEST(role_fin_ack_is_the_ack_of_the_fin)
{
	const char *specs[] = { "blackhole,role=fin-ack", NULL };
	struct timespec tick = { 0, 10 * 1000000 };
	const struct lab_wire_log *log;
	struct tcp_info ti;
	socklen_t len;
	size_t n_log, i, drops = 0;
	uint32_t ack = 0;
	struct lab l;
	char b;
	int64_t until;

	lab_up(&l, specs);
	round_trip(&l, 10);
	/* the reply's ACK (delayed, pure) has reached the server before its FIN leaves */
	until = lab_mono_us() + 3000000;
	do {
		len = sizeof(ti);
		ck_assert_int_eq(getsockopt(l.s, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
		if (ti.tcpi_unacked)
			nanosleep(&tick, NULL); /* a polling interval */
	} while (ti.tcpi_unacked && lab_mono_us() < until);
	ck_assert_int_eq(ti.tcpi_unacked, 0);
	ck_assert_int_eq(shutdown(l.s, SHUT_WR), 0);
	ck_assert_int_eq(read(l.c, &b, 1), 0); /* the FIN reached the client */
	until = lab_mono_us() + 3000000; /* the FIN is re-sent ~200 ms later: its ACK dropped too */
	while (lab_wire_stat(l.wire, 0)->dropped < 2 && lab_mono_us() < until)
		nanosleep(&tick, NULL);
	lab_wire_stop(l.wire);
	ck_assert_int_eq(lab_wire_stat(l.wire, 0)->backend, LAB_BACKEND_NFQUEUE);
	log = lab_wire_log(l.wire, &n_log);
	for (i = 0; i < n_log; i++) {
		if (!log[i].drop)
			continue;
		ck_assert_int_eq(log[i].dir, LAB_DIR_C2S);
		ck_assert_int_eq(log[i].pkt.flags & 0x3f, LAB_TH_ACK);
		ck_assert_uint_eq(log[i].pkt.len, 0);
		if (!drops++)
			ack = log[i].pkt.ack;
		ck_assert_uint_eq(log[i].pkt.ack, ack); /* never the data's ACK */
	}
	ck_assert_uint_ge(drops, 2);
	lab_down(&l);
}
END_TEST

/*
 * role=handshake-ack: the client's ACK of the SYN-ACK is dropped; its ACK of the SYN-ACK
 * re-sent a second later completes the handshake (accept() returns then); the ACKs of the
 * data after it are not the handshake's
 */
START_TEST(role_handshake_ack_is_the_third_packet)
{
	const char *specs[] = { "drop,role=handshake-ack", NULL };
	const struct lab_wire_stat *st;
	const struct lab_wire_log *log;
	size_t n_log;
	struct lab l;
	int64_t t0 = lab_mono_us();
	int i;

	lab_up(&l, specs); /* accept() waits for the re-sent SYN-ACK's ACK */
	ck_assert_int_ge(lab_mono_us() - t0, 900000);
	for (i = 0; i < 3; i++)
		round_trip(&l, 10);
	lab_wire_stop(l.wire);
	st = lab_wire_stat(l.wire, 0);
	ck_assert_int_eq(st->dropped, 1);
	ck_assert_int_eq(st->matched, 2); /* the handshake ACK and its repeat, nothing after */
	log = lab_wire_log(l.wire, &n_log);
	ck_assert_uint_ge(n_log, 1);
	ck_assert_int_eq(log[0].pkt.flags & 0x3f, LAB_TH_ACK);
	ck_assert_uint_eq(log[0].pkt.len, 0);
	lab_down(&l);
}
END_TEST

/*
 * a connect() through the wire with @specs on it (the last one a reject), a listener behind:
 * its errno (0 if connected)
 */
static int connect_through(const char *const *specs, int64_t *took_us)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct lab l = { .topo = LAB_TOPO_INIT };
	struct lab_impair imp;
	int listener, fd, err, last = -1;
	char why[256];
	int64_t t0;

	ck_assert_int_eq(lab_topo_new(&l.topo, 0), 0);
	ck_assert_int_eq(lab_wire_new(&l.wire, &l.topo.ns[LAB_WIRE], false), 0);
	for (; *specs; specs++) {
		ck_assert_msg(!lab_impair_parse(*specs, &imp, why, sizeof(why)), "%s", why);
		last = lab_wire_add(l.wire, &imp, why, sizeof(why));
		ck_assert_msg(last >= 0, "%s", why);
	}
	listener = lab_netns_socket(&l.topo.ns[LAB_SERVER], SOCK_STREAM);
	ck_assert_int_ge(listener, 0);
	ck_assert_int_eq(bind(listener, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(listener, 4), 0);
	inet_pton(AF_INET, LAB_SERVER_ADDR, &a.sin_addr);
	fd = lab_netns_socket(&l.topo.ns[LAB_CLIENT], SOCK_STREAM);
	t0 = lab_mono_us();
	err = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
	*took_us = lab_mono_us() - t0;
	lab_wire_stop(l.wire);
	ck_assert_int_eq(lab_wire_stat(l.wire, (size_t)last)->dropped, 1); /* the SYN, answered */
	close(fd);
	close(listener);
	lab_wire_free(l.wire);
	lab_topo_free(&l.topo);
	return err;
}

/* a reject answers for the router (ICMP) or for the destination (RST), at once */
START_TEST(reject_answers_like_a_router)
{
	/* the SYN a link away first: the answer must not arrive inside connect()'s own send */
	const char *icmp[] = { "delay=1ms,flags=S", "reject=icmp-admin-prohibited,flags=S", NULL };
	const char *rst[] = { "reject=tcp-reset,flags=S", NULL };
	int64_t took;

	ck_assert_int_eq(connect_through(icmp, &took), EHOSTUNREACH);
	ck_assert_int_lt(took, 500000); /* not at the SYN's retransmission, 1 s later */
	ck_assert_int_eq(connect_through(rst, &took), ECONNREFUSED);
	ck_assert_int_lt(took, 500000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("engine");
	SRunner *sr;
	int failed;

	lab_netns_become_root();
	if (lab_netns_probe()) {
		fprintf(stderr, "wire tests need root (network namespaces, netfilter): skipped\n");
		return 77;
	}
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, drop_the_kth_match_exactly);
	tcase_add_test(tc, drop_count_matches_from_the_kth);
	tcase_add_test(tc, seeded_loss_repeats_itself);
	tcase_add_test(tc, delay_holds_each_way);
	tcase_add_test(tc, reorder_lets_later_packets_overtake);
	tcase_add_test(tc, blackhole_arms_and_releases);
	tcase_add_test(tc, reject_answers_like_a_router);
	tcase_add_test(tc, role_fin_ack_is_the_ack_of_the_fin);
	tcase_add_test(tc, role_handshake_ack_is_the_third_packet);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
