// SPDX-License-Identifier: MIT
/* Unit tests of the harness: fast, no root, no network. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "event.h"
#include "expect.h"
#include "impair.h"
#include "ladder.h"
#include "nstat.h"
#include "lab.h"
#include "registry.h"
#include "sockops.h"
#include "suggest.h"
#include "tcpdiag.h"
#include "timing.h"
#include "trace.h"

/* ---- counters ---------------------------------------------------------------------------- */

START_TEST(nstat_parses_pairs)
{
	struct lab_nstat s = LAB_NSTAT_INIT;
	int64_t v;

	ck_assert_int_eq(lab_nstat_parse(&s, "TcpExt: SyncookiesSent TCPAbortOnClose\n"
					     "TcpExt: 3 7\n"
					     "Tcp: RtoAlgorithm MaxConn\n"
					     "Tcp: 1 -1\n"),
			 0);
	ck_assert(lab_nstat_get(&s, "TcpExtTCPAbortOnClose", &v));
	ck_assert_int_eq(v, 7);
	ck_assert(lab_nstat_get(&s, "TcpMaxConn", &v));
	ck_assert_int_eq(v, -1);
	ck_assert(!lab_nstat_get(&s, "TcpExtNothing", &v));
	lab_nstat_free(&s);
}
END_TEST

START_TEST(nstat_rejects_malformed)
{
	struct lab_nstat s = LAB_NSTAT_INIT;

	ck_assert_int_eq(lab_nstat_parse(&s, "TcpExt: A B\nTcp: 1 2\n"), -EINVAL);
	ck_assert_int_eq(lab_nstat_parse(&s, "TcpExt: A B\nTcpExt: 1\n"), -EINVAL);
	ck_assert_int_eq(lab_nstat_parse(&s, "TcpExt: A B\nTcpExt: 1 x\n"), -EINVAL);
	ck_assert_int_eq(lab_nstat_parse(&s, "TcpExt: A B\n"), -EINVAL);
	lab_nstat_free(&s);
}
END_TEST

START_TEST(nstat_delta)
{
	struct lab_nstat a = LAB_NSTAT_INIT, b = LAB_NSTAT_INIT;

	lab_nstat_parse(&a, "TcpExt: X Y\nTcpExt: 5 1\n");
	lab_nstat_parse(&b, "TcpExt: X Y\nTcpExt: 9 1\n");
	ck_assert_int_eq(lab_nstat_delta(&a, &b, "TcpExtX"), 4);
	ck_assert_int_eq(lab_nstat_delta(&a, &b, "TcpExtY"), 0);
	ck_assert_int_eq(lab_nstat_delta(&a, &b, "TcpExtMissing"), 0);
	lab_nstat_free(&a);
	lab_nstat_free(&b);
}
END_TEST

/* ---- tolerance maths ------------------------------------------------------------------- */

START_TEST(tolerance_floor_and_percentage)
{
	ck_assert_int_eq(lab_tolerance_us(10000, 1.0), 4000); /* floor */
	ck_assert_int_eq(lab_tolerance_us(40000, 1.0), 5000); /* 12.5 % */
	ck_assert_int_eq(lab_tolerance_us(1000000, 1.0), 125000);
	ck_assert_int_eq(lab_tolerance_us(40000, 2.0), 10000); /* widened only by the scale */
}
END_TEST

START_TEST(tolerance_window_edges)
{
	struct lab_window w = lab_window(40000, 1.0);

	ck_assert(lab_window_holds(&w, 35000));
	ck_assert(lab_window_holds(&w, 45000));
	ck_assert(!lab_window_holds(&w, 34999));
	ck_assert(!lab_window_holds(&w, 45001));
}
END_TEST

START_TEST(tolerance_scale_from_env)
{
	ck_assert(lab_tolerance_scale(NULL) == 1.0);
	ck_assert(lab_tolerance_scale("") == 1.0);
	ck_assert(lab_tolerance_scale("2.5") == 2.5);
	ck_assert(lab_tolerance_scale("0.5") < 0); /* tighter than packetdrill: refused */
	ck_assert(lab_tolerance_scale("abc") < 0);
	ck_assert(lab_tolerance_scale("1e9") < 0);
}
END_TEST

START_TEST(percentiles_by_nearest_rank)
{
	int64_t v[] = { 50, 10, 40, 20, 30 };

	ck_assert_int_eq(lab_percentile(v, 5, 0.5), 30);
	ck_assert_int_eq(lab_percentile(v, 5, 0.9), 50);
	ck_assert_int_eq(lab_percentile(v, 5, 0.0), 10);
	ck_assert_int_eq(lab_percentile(v, 5, 1.0), 50);
	ck_assert_int_eq(lab_percentile(v, 0, 0.5), -1);
}
END_TEST

START_TEST(expect_records_both_sides)
{
	struct lab_expects x = LAB_EXPECTS_INIT;
	struct lab_window w = lab_window(44000, 1.0);

	ck_assert(!lab_expects_all_ok(&x, false)); /* nothing checked is no evidence */
	ck_assert(lab_expect_int(&x, "a", LAB_EQ, 1, 1));
	ck_assert(!lab_expect_int(&x, "b", LAB_GT, 1, 1));
	ck_assert(lab_expect_window(&x, "c", &w, 43000));
	ck_assert_str_eq(x.v[1].expected, "> 1");
	ck_assert_str_eq(x.v[1].observed, "1");
	ck_assert_str_eq(x.v[2].expected, "44.0 ms (38.5..49.5)");
	ck_assert(!lab_expects_all_ok(&x, false));
	lab_expects_free(&x);
}
END_TEST

/* ---- pcap reading ------------------------------------------------------------------------ */

/* an Ethernet + IPv4 + TCP frame; returns its length */
static size_t frame(uint8_t *f, uint32_t seq, uint8_t flags, uint16_t payload, bool mss)
{
	size_t thl = mss ? 24 : 20, ip_total = 20 + thl + payload;

	memset(f, 0, 14 + ip_total);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_total >> 8);
	f[17] = (uint8_t)ip_total;
	f[18] = 0x12; /* ip id */
	f[23] = 6;
	memcpy(f + 26, (uint8_t[]){ 192, 0, 2, 1, 198, 51, 100, 1 }, 8);
	f[34] = 0x9c; /* sport 40000 */
	f[35] = 0x40;
	f[36] = 0x13; /* dport 5000 */
	f[37] = 0x88;
	f[38] = (uint8_t)(seq >> 24);
	f[39] = (uint8_t)(seq >> 16);
	f[40] = (uint8_t)(seq >> 8);
	f[41] = (uint8_t)seq;
	f[46] = (uint8_t)((thl / 4) << 4);
	f[47] = flags;
	f[48] = 0xfa;
	if (mss)
		memcpy(f + 54, (uint8_t[]){ 2, 4, 0x05, 0xb4 }, 4);
	return 14 + ip_total;
}

START_TEST(trace_parses_tcp)
{
	uint8_t f[256];
	struct lab_pkt p;
	size_t len = frame(f, 1000, LAB_TH_SYN, 0, true);

	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, len, &p), 0);
	ck_assert_int_eq(p.sport, 40000);
	ck_assert_int_eq(p.dport, 5000);
	ck_assert_int_eq(p.seq, 1000);
	ck_assert_int_eq(p.mss, 1460);
	ck_assert_int_eq(p.flags, LAB_TH_SYN);
	len = frame(f, 1001, LAB_TH_ACK | LAB_TH_PSH, 100, false);
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, len, &p), 0);
	ck_assert_int_eq(p.len, 100);
	ck_assert_int_eq(p.mss, 0);
}
END_TEST

START_TEST(trace_survives_truncation)
{
	uint8_t f[256];
	struct lab_pkt p;
	size_t len = frame(f, 1, LAB_TH_SYN, 0, true), cut;

	for (cut = 0; cut < 14 + 40; cut++)
		ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, cut, &p), -EINVAL);
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, len, &p), 0);
	f[23] = 17; /* UDP: not ours, not an error */
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, len, &p), 1);
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, len, &p), 1);
}
END_TEST

/* a router's ICMP host unreachable quoting the SYN of frame(): read as ICMP, never as TCP */
START_TEST(trace_parses_icmp_errors)
{
	uint8_t syn[256], f[256];
	size_t quoted = frame(syn, 1, LAB_TH_SYN, 0, true) - 14, len = 14 + 20 + 8 + quoted, cut;
	struct lab_icmp m;
	struct lab_pkt p;
	char name[64];

	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	f[23] = 1; /* ICMP */
	memcpy(f + 26, (uint8_t[]){ 192, 0, 2, 254, 192, 0, 2, 1 }, 8);
	f[34] = LAB_ICMP_DEST_UNREACH;
	f[35] = 1; /* host unreachable */
	memcpy(f + 42, syn + 14, quoted);
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, f, len, &p), 1);
	ck_assert_int_eq(lab_trace_parse_icmp(DLT_EN10MB, f, len, &m), 0);
	ck_assert_int_eq(m.type, LAB_ICMP_DEST_UNREACH);
	ck_assert_int_eq(m.code, 1);
	ck_assert_int_eq(m.sport, 40000);
	ck_assert_int_eq(m.dport, 5000);
	ck_assert_str_eq(lab_icmp_name(m.type, m.code, name, sizeof(name)),
			 "destination unreachable (host unreachable)");
	for (cut = 0; cut < 14 + 28; cut++)
		ck_assert_int_eq(lab_trace_parse_icmp(DLT_EN10MB, f, cut, &m), -EINVAL);
	ck_assert_int_eq(lab_trace_parse_icmp(DLT_EN10MB, f, 14 + 28, &m), 0); /* no quote */
	ck_assert_int_eq(m.sport, 0);
	ck_assert_int_eq(lab_trace_parse_icmp(DLT_EN10MB, syn, quoted + 14, &m), 1); /* TCP */
}
END_TEST

static void write_pcap(const char *path, const uint32_t *seqs, const uint8_t *flags,
		       const uint16_t *lens, size_t n)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	uint8_t f[2048];
	size_t i;

	ck_assert(d);
	for (i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .ts = { .tv_sec = 100, .tv_usec = (long)(i * i) * 250 } };

		h.caplen = h.len = (bpf_u_int32)frame(f, seqs[i], flags[i], lens[i], false);
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/*
 * A capture file with no name on disk: a memfd, written and read as /proc/self/fd/N. A failed
 * assertion (which exits at once) cannot leave it behind; closing @fd removes it.
 */
static int scratch_file(char *path, size_t len)
{
	int fd = memfd_create("unit-capture", MFD_CLOEXEC);

	if (fd >= 0)
		snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

START_TEST(trace_reads_file_and_marks_retransmissions)
{
	char path[32];
	uint32_t seqs[] = { 100, 101, 201, 101, 301 };
	uint8_t flags[] = { LAB_TH_SYN, LAB_TH_ACK, LAB_TH_ACK, LAB_TH_ACK,
			    LAB_TH_ACK | LAB_TH_FIN };
	uint16_t lens[] = { 0, 100, 100, 100, 0 };
	struct lab_trace t = LAB_TRACE_INIT;
	char why[256] = "";
	int fd = scratch_file(path, sizeof(path));

	ck_assert(fd >= 0);
	write_pcap(path, seqs, flags, lens, 5);
	ck_assert_int_eq(lab_trace_read(&t, path, why, sizeof(why)), 0);
	close(fd);
	ck_assert_int_eq(t.n, 5);
	ck_assert_int_eq(t.v[1].rseq, 1);
	ck_assert(!t.v[2].retrans);
	ck_assert(t.v[3].retrans);
	ck_assert_int_eq(lab_trace_count_retrans(&t, (struct in_addr){ 0 }), 1);
	ck_assert_int_eq(lab_trace_count(&t, (struct in_addr){ 0 }, LAB_TH_FIN, false), 1);
	ck_assert_int_eq(lab_trace_count(&t, (struct in_addr){ 0 }, 0, true), 3);
	ck_assert_int_eq(t.v[4].t_us - t.v[0].t_us, 4000); /* 16 * 250 us */
	ck_assert_int_eq(lab_trace_max_gap(&t, (struct in_addr){ 0 }, NULL), 1750); /* 3^2 to 4^2 */
	lab_trace_free(&t);
}
END_TEST

/* Wireshark's tcp.analysis words, per direction: zero window, window probe, update, dup ACK */
START_TEST(trace_names_flow_control_segments)
{
	struct in_addr c = { htonl(0xc0000201) }, sv = { htonl(0xc6336401) };
	struct {
		bool to_server;
		uint32_t seq, ack;
		uint8_t flags;
		uint16_t win, len;
		uint32_t sack; /* left edge of a 1000-byte SACK block, 0 for none */
		unsigned int want;
	} rows[] = {
		{ true, 100, 0, LAB_TH_SYN, 64240, 0, 0, 0 },
		{ false, 500, 101, LAB_TH_SYN | LAB_TH_ACK, 65160, 0, 0, 0 },
		{ true, 101, 501, LAB_TH_ACK, 200, 0, 0, 0 },
		{ true, 101, 501, LAB_TH_ACK, 200, 1000, 0, 0 },
		{ false, 501, 1101, LAB_TH_ACK, 0, 0, 0, LAB_AN_ZERO_WINDOW },
		/* Linux's probe: no payload at snd_una - 1 while the window is zero */
		{ true, 1100, 501, LAB_TH_ACK, 200, 0, 0, LAB_AN_WINDOW_PROBE },
		{ false, 501, 1101, LAB_TH_ACK, 0, 0, 0, LAB_AN_ZERO_WINDOW },
		{ false, 501, 1101, LAB_TH_ACK, 50, 0, 0, LAB_AN_WINDOW_UPDATE },
		{ false, 501, 1101, LAB_TH_ACK, 50, 0, 0, LAB_AN_DUP_ACK },
		{ false, 501, 1101, LAB_TH_ACK, 50, 0, 2101, LAB_AN_DUP_ACK | LAB_AN_SACK },
		{ false, 501, 1101, LAB_TH_ACK, 50, 0, 101, LAB_AN_DUP_ACK | LAB_AN_DSACK },
		/* the same shape with an open window is a keep-alive, not a probe */
		{ true, 1100, 501, LAB_TH_ACK, 200, 0, 0, 0 },
		/* its answer is Wireshark's "ACK to a keep-alive", not a dup ACK */
		{ false, 501, 1101, LAB_TH_ACK, 50, 0, 0, 0 },
		{ false, 501, 1101, LAB_TH_ACK | LAB_TH_FIN, 0, 0, 0, 0 },
	};
	struct lab_pkt v[sizeof(rows) / sizeof(rows[0])];
	struct lab_trace t = { .v = v, .n = sizeof(rows) / sizeof(rows[0]) };
	char text[64];
	size_t i;

	memset(v, 0, sizeof(v));
	for (i = 0; i < t.n; i++) {
		v[i].src = rows[i].to_server ? c : sv;
		v[i].dst = rows[i].to_server ? sv : c;
		v[i].sport = rows[i].to_server ? 40000 : 7357;
		v[i].dport = rows[i].to_server ? 7357 : 40000;
		v[i].seq = rows[i].seq;
		v[i].ack = rows[i].ack;
		v[i].flags = rows[i].flags;
		v[i].win = rows[i].win;
		v[i].len = rows[i].len;
		v[i].n_sack = rows[i].sack ? 1 : 0;
		v[i].sack_left = rows[i].sack;
		v[i].sack_right = rows[i].sack + 1000;
	}
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	for (i = 0; i < t.n; i++)
		ck_assert_msg(v[i].analysis == rows[i].want, "row %zu: analysis %#x, want %#x", i,
			      v[i].analysis, rows[i].want);
	ck_assert(v[11].keepalive);
	ck_assert_str_eq(lab_pkt_analysis_str(&v[9], text, sizeof(text)),
			 "dup ACK, SACK 2001-3001");
	ck_assert_int_eq(lab_trace_count_analysis(&t, c, LAB_AN_WINDOW_PROBE, INT64_MAX), 1);
	ck_assert_int_eq(lab_trace_count_analysis(&t, sv, LAB_AN_ZERO_WINDOW, INT64_MAX), 2);
	free(t.conns); /* the packets are this test's own */
}
END_TEST

START_TEST(trace_rejects_garbage_with_a_reason)
{
	char path[32];
	struct lab_trace t = LAB_TRACE_INIT;
	char why[256] = "";
	int fd = scratch_file(path, sizeof(path));

	ck_assert(fd >= 0);
	ck_assert_int_eq(write(fd, "this is not a capture file at all", 33), 33);
	ck_assert_int_lt(lab_trace_read(&t, path, why, sizeof(why)), 0);
	ck_assert_msg(strstr(why, path) != NULL, "reason names the file: %s", why);
	close(fd);
	lab_trace_free(&t);
}
END_TEST

START_TEST(trace_keeps_packets_before_a_cut)
{
	char path[32];
	uint32_t seqs[] = { 1, 2, 3 };
	uint8_t flags[] = { LAB_TH_SYN, LAB_TH_ACK, LAB_TH_ACK };
	uint16_t lens[] = { 0, 0, 500 };
	struct lab_trace t = LAB_TRACE_INIT;
	char why[256] = "";
	int fd = scratch_file(path, sizeof(path));

	ck_assert(fd >= 0);
	write_pcap(path, seqs, flags, lens, 3);
	ck_assert_int_eq(truncate(path, 24 + 2 * (16 + 54) + 16 + 100), 0); /* mid third packet */
	ck_assert_int_eq(lab_trace_read(&t, path, why, sizeof(why)), 0);
	close(fd);
	ck_assert_int_eq(t.n, 2);
	ck_assert_int_eq(t.bad, 1);
	lab_trace_free(&t);
}
END_TEST

START_TEST(flags_in_tcpdump_notation)
{
	char b[12];

	lab_tcp_flags_str(LAB_TH_SYN | LAB_TH_ACK, b, sizeof(b));
	ck_assert_str_eq(b, "S.");
	lab_tcp_flags_str(LAB_TH_RST | LAB_TH_ACK, b, sizeof(b));
	ck_assert_str_eq(b, "R.");
	lab_tcp_flags_str(LAB_TH_FIN | LAB_TH_PSH | LAB_TH_ACK, b, sizeof(b));
	ck_assert_str_eq(b, "FP.");
}
END_TEST

/* ---- programs' step language and event lines ---------------------------------------------- */

START_TEST(sockops_parse_good_and_bad)
{
	struct sockop ops[SOCKOPS_MAX];
	char why[128];

	ck_assert_int_eq(sockops_parse("accept,recv:10,close", ops, SOCKOPS_MAX, why, 128), 3);
	ck_assert_str_eq(ops[1].verb->name, "recv");
	ck_assert_int_eq(ops[1].arg[0], 10);
	ck_assert_int_eq(sockops_parse("naive:5:10:4096", ops, SOCKOPS_MAX, why, 128), 1);
	ck_assert_int_eq(ops[0].arg[2], 4096);
	ck_assert_int_eq(sockops_parse("accept,fly", ops, SOCKOPS_MAX, why, 128), -1);
	ck_assert_str_eq(why, "unknown step 'fly'");
	ck_assert_int_eq(sockops_parse("send", ops, SOCKOPS_MAX, why, 128), -1);
	ck_assert_int_eq(sockops_parse("send:-1", ops, SOCKOPS_MAX, why, 128), -1);
	ck_assert_int_eq(sockops_parse("send:99999999999", ops, SOCKOPS_MAX, why, 128), -1);
	ck_assert_int_eq(sockops_parse("close:1", ops, SOCKOPS_MAX, why, 128), -1);
}
END_TEST

/* "NAME" followed by @n arguments ":1" */
static void verb_script(char *buf, size_t len, const char *name, int n)
{
	size_t used = (size_t)snprintf(buf, len, "%s", name);

	while (n-- > 0 && used < len)
		used += (size_t)snprintf(buf + used, len - used, ":1");
}

START_TEST(sockops_every_verb_in_help_and_arg_counts)
{
	const struct sockop_verb *v;
	struct sockop ops[SOCKOPS_MAX];
	char *help = NULL, script[96], why[128];
	size_t help_len = 0, i;
	FILE *out = open_memstream(&help, &help_len);

	ck_assert_ptr_nonnull(out);
	sockops_help(out, "  ");
	fclose(out);
	for (i = 0; (v = sockops_verb(i)); i++) {
		ck_assert_msg(!strncmp(v->args, v->name, strlen(v->name)), "verb %s: args '%s'",
			      v->name, v->args);
		ck_assert_msg(strstr(help, v->args) && strstr(help, v->help), "verb %s not in help",
			      v->name);
		ck_assert_int_le(v->min_args, v->max_args);
		ck_assert_int_le(v->max_args, SOCKOPS_MAX_ARGS);

		verb_script(script, sizeof(script), v->name, v->min_args);
		ck_assert_msg(sockops_parse(script, ops, SOCKOPS_MAX, why, 128) == 1, "%s: %s",
			      script, why);
		ck_assert_ptr_eq(ops[0].verb, v);
		ck_assert_int_eq(ops[0].nargs, v->min_args);

		verb_script(script, sizeof(script), v->name, v->max_args);
		ck_assert_msg(sockops_parse(script, ops, SOCKOPS_MAX, why, 128) == 1, "%s: %s",
			      script, why);
		ck_assert_ptr_eq(ops[0].verb, v);
		ck_assert_int_eq(ops[0].nargs, v->max_args);

		verb_script(script, sizeof(script), v->name, v->max_args + 1);
		ck_assert_msg(sockops_parse(script, ops, SOCKOPS_MAX, why, 128) == -1, "%s parsed",
			      script);
		ck_assert_msg(strstr(why, "bad or extra argument"), "%s: %s", script, why);
	}
	ck_assert_int_ge(i, 20);
	free(help);
}
END_TEST

START_TEST(event_round_trip)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct lab_event ev;

	lab_event_emit(m, "recv", -1, ECONNRESET, NULL);
	fclose(m);
	ck_assert_int_eq(lab_event_parse(text, &ev), 0);
	ck_assert_str_eq(ev.call, "recv");
	ck_assert_int_eq(ev.ret, -1);
	ck_assert_str_eq(ev.err, "ECONNRESET");
	ck_assert_int_eq(ev.t0_us, 0); /* an instant */
	ck_assert_int_eq(lab_event_parse("not json", &ev), -EINVAL);
	ck_assert_int_eq(lab_event_parse("{\"call\":\"recv\"}", &ev), -EINVAL);
	/* a line from an older program: no entry stamp, drawn at its only one */
	ck_assert_int_eq(lab_event_parse("{\"t_us\":5,\"call\":\"recv\",\"ret\":3}", &ev), 0);
	ck_assert_int_eq(ev.t0_us, 0);
	ck_assert_int_eq(lab_event_start(&ev), 5);
	/* an entry after the return is nonsense: only the return is kept */
	ck_assert_int_eq(lab_event_parse("{\"t0_us\":9,\"t_us\":5,\"call\":\"recv\"}", &ev), 0);
	ck_assert_int_eq(lab_event_start(&ev), 5);
	free(text);
}
END_TEST

START_TEST(event_call_stamps_entry_and_return)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct lab_event ev;
	int64_t before = lab_now_us(), after;

	ck_assert_int_eq(LAB_EVENT_CALL(m, "close", close(-1), NULL), -1);
	after = lab_now_us();
	fclose(m);
	ck_assert_int_eq(lab_event_parse(text, &ev), 0);
	ck_assert_str_eq(ev.call, "close");
	ck_assert_str_eq(ev.err, "EBADF");
	ck_assert_int_ge(ev.t0_us, before);
	ck_assert_int_ge(ev.t_us, ev.t0_us);
	ck_assert_int_le(ev.t_us, after);
	free(text);
}
END_TEST

/*
 * A server's recv() woken by the client's data gets two rows (entry, return after the data); its
 * quick close() that sends a RST gets one, at its entry, before the RST; an old line stays where
 * it was; a connect() that blocked while its SYN was retransmitted returns after the retransmission.
 */
/* the frame() TCP segment behind other link headers: QinQ tags, Linux cooked v2, IPv6 */
START_TEST(trace_reads_vlan_sll2_and_ipv6)
{
	uint8_t f[256], g[320];
	size_t len = frame(f, 7, LAB_TH_SYN, 0, true), l6;
	static const uint8_t qinq[] = { 0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x14 };
	struct lab_pkt p;

	memcpy(g, f, 12); /* 802.1ad 100, 802.1Q 20, then IPv4 */
	memcpy(g + 12, qinq, sizeof(qinq));
	memcpy(g + 20, f + 12, len - 12);
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, g, len + 8, &p), 0);
	ck_assert_int_eq(p.seq, 7);
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, g, 12 + 8 + 2 + 10, &p), -EINVAL);
	memset(g, 0, 20); /* cooked v2: the protocol first, 20 bytes of header */
	g[0] = 0x08;
	memcpy(g + 20, f + 14, len - 14);
	ck_assert_int_eq(lab_trace_parse(DLT_LINUX_SLL2, g, len + 6, &p), 0);
	ck_assert_int_eq(p.ipver, 4);
	ck_assert_int_eq(p.mss, 1460);
	/* IPv6 with a hop-by-hop header before the TCP header */
	memset(g, 0, sizeof(g));
	g[12] = 0x86;
	g[13] = 0xdd;
	g[14] = 0x60;
	l6 = 8 + len - 34; /* extension + TCP */
	g[18] = (uint8_t)(l6 >> 8);
	g[19] = (uint8_t)l6;
	g[20] = 0; /* hop-by-hop */
	g[37] = 1; /* ::1 -> ::1 */
	g[53] = 1;
	g[54] = IPPROTO_TCP;
	memcpy(g + 62, f + 34, len - 34);
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, g, 62 + len - 34, &p), 0);
	ck_assert_int_eq(p.ipver, 6);
	ck_assert_int_eq(p.sport, 40000);
	ck_assert_int_eq(p.len, 0);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&p.src6));
	for (l6 = 14; l6 < 62 + 20; l6++)
		ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, g, l6, &p), -EINVAL);
	g[54] = IPPROTO_UDP;
	ck_assert_int_eq(lab_trace_parse(DLT_EN10MB, g, 62 + len - 34, &p), 1);
	ck_assert_int_eq(lab_trace_frame_kind(DLT_EN10MB, g, 62 + len - 34), LAB_FRAME_UDP);
}
END_TEST

/* @n connections of three packets each (SYN, SYN-ACK, 10 bytes), one address, ports apart */
static void many_conns(struct lab_trace *t, size_t n)
{
	struct in_addr lo = { htonl(0x7f000001) };
	size_t i;

	t->v = calloc(3 * n, sizeof(*t->v));
	ck_assert_ptr_nonnull(t->v);
	for (i = 0; i < n; i++) {
		struct lab_pkt *p = &t->v[3 * i];
		uint16_t port = (uint16_t)(20000 + i);

		p[0] = (struct lab_pkt){ .src = lo,
					 .dst = lo,
					 .sport = port,
					 .dport = 5000,
					 .seq = (uint32_t)i * 7919,
					 .flags = LAB_TH_SYN };
		p[1] = (struct lab_pkt){ .src = lo,
					 .dst = lo,
					 .sport = 5000,
					 .dport = port,
					 .seq = 1000,
					 .ack = p[0].seq + 1,
					 .flags = LAB_TH_SYN | LAB_TH_ACK };
		p[2] = (struct lab_pkt){ .src = lo,
					 .dst = lo,
					 .sport = port,
					 .dport = 5000,
					 .seq = p[0].seq + 1,
					 .ack = 1001,
					 .len = 10,
					 .flags = LAB_TH_ACK | LAB_TH_PSH };
	}
	t->n = 3 * n;
}

/* thousands of connections: each its own, relative numbers right in the last one too */
START_TEST(trace_conns_have_no_limit)
{
	struct lab_trace t = LAB_TRACE_INIT;

	many_conns(&t, 3000);
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	ck_assert_int_eq(t.n_conns, 3000);
	ck_assert_int_eq(t.v[3 * 2999 + 2].rseq, 1);
	ck_assert_int_eq(t.v[3 * 2999 + 2].rack, 1);
	ck_assert(t.v[3 * 2999 + 1].rack == 1 && !t.v[3 * 2999 + 1].from_client);
	ck_assert_int_eq(t.conns[2999].rule, LAB_CONN_BY_SYN);
	ck_assert_int_eq(t.conns[2999].client.port, 22999);
	ck_assert_int_eq(t.conns[2999].data[0], 10);
	/* the same data again in the last connection: a retransmission */
	t.v[3 * 2999 + 1] = t.v[3 * 2999 + 2];
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	ck_assert(t.v[3 * 2999 + 2].retrans);
	/* no SYN at all: the server is the port that all connections share, and the well-known one */
	for (size_t i = 0; i < t.n; i++)
		t.v[i].flags &= (uint8_t)~LAB_TH_SYN;
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	ck_assert_int_eq(t.conns[5].rule, LAB_CONN_BY_SHARED);
	ck_assert_int_eq(t.conns[5].server.port, 5000);
	ck_assert(!t.conns[5].syn);
	ck_assert_int_eq(t.v[3 * 5].rseq, 1); /* the first byte seen */
	lab_trace_free(&t);
	many_conns(&t, 1);
	t.v[0] = t.v[1]; /* the server's packet first, no handshake, port 443 */
	t.v[0].flags = t.v[1].flags = LAB_TH_ACK;
	t.v[0].sport = t.v[1].sport = t.v[2].dport = 443;
	t.v[0].dport = t.v[1].dport = t.v[2].sport = 20000;
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	ck_assert_int_eq(t.n_conns, 1);
	ck_assert_int_eq(t.conns[0].rule, LAB_CONN_BY_PORT);
	ck_assert_int_eq(t.conns[0].client.port, 20000);
	ck_assert(!t.v[0].from_client && t.v[2].from_client);
	lab_trace_free(&t);
}
END_TEST

/* a new initial sequence number on the same 4-tuple, once the first has ended, is a new one */
START_TEST(trace_new_isn_new_conn)
{
	struct lab_trace t = LAB_TRACE_INIT;

	many_conns(&t, 2);
	t.v[3] = t.v[0];
	t.v[3].seq += 100000;
	t.v[4].dport = t.v[5].sport = t.v[3].sport;
	t.v[4].ack = t.v[3].seq + 1;
	t.v[5].seq = t.v[3].seq + 1;
	t.v[2].flags |= LAB_TH_FIN;
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	ck_assert_int_eq(t.n_conns, 2);
	ck_assert_int_eq(t.v[5].rseq, 1);
	ck_assert(!t.v[3].retrans);
	t.v[3].seq = t.v[0].seq; /* the same SYN: a retransmission, one connection */
	ck_assert_int_eq(lab_trace_annotate(&t), 0);
	ck_assert_int_eq(t.n_conns, 1);
	ck_assert(t.v[3].retrans);
	lab_trace_free(&t);
}
END_TEST

START_TEST(ladder_draws_calls_at_entry)
{
	struct in_addr cli = { htonl(0xc0000201) }, srv = { htonl(0xc6336401) };
	struct lab_pkt c_side[] = {
		{ .t_us = 100, .src = cli, .dst = srv, .flags = LAB_TH_ACK | LAB_TH_PSH, .len = 50 },
		{ .t_us = 260, .src = srv, .dst = cli, .flags = LAB_TH_RST | LAB_TH_ACK },
		{ .t_us = 1010, .src = cli, .dst = srv, .flags = LAB_TH_SYN },
		{ .t_us = 4000, .src = cli, .dst = srv, .flags = LAB_TH_SYN, .retrans = true },
	};
	struct lab_pkt s_side[] = {
		{ .t_us = 150, .src = cli, .dst = srv, .flags = LAB_TH_ACK | LAB_TH_PSH, .len = 50 },
		{ .t_us = 250, .src = srv, .dst = cli, .flags = LAB_TH_RST | LAB_TH_ACK },
	};
	struct lab_trace cs = { .v = c_side, .n = 4 }, ss = { .v = s_side, .n = 2 };
	struct lab_event ev[] = {
		{ .t0_us = 50, .t_us = 200, .who = "server", .call = "recv", .ret = 50 },
		{ .t0_us = 240, .t_us = 290, .who = "server", .call = "close" },
		{ .t_us = 270, .who = "client", .call = "recv", .ret = -1, .err = "ECONNRESET" },
		{ .t0_us = 1000,
		  .t_us = 5000,
		  .who = "client2",
		  .call = "connect",
		  .ret = -1,
		  .err = "ETIMEDOUT" },
	};
	struct lab_ladder l = {
		.client_side = &cs, .server_side = &ss, .client = cli, .events = ev, .n_events = 4
	};
	static const char *const want[] = {
		"recv() ...",
		"packet",
		"recv() = 50 (returned after 0.150 ms)",
		"close() = 0",
		"packet",
		"recv() = -1 ECONNRESET",
		"connect() ...",
		"packet",
		"packet",
		"connect() = -1 ETIMEDOUT (blocked 4.0 ms)",
	};
	struct lab_ladder_row *rows;
	struct in_addr client;
	size_t n = lab_ladder_rows(&l, &rows, &client), i;
	char text[128];

	ck_assert_int_eq(n, 10);
	for (i = 0; i < n; i++) {
		if (rows[i].pkt)
			snprintf(text, sizeof(text), "packet");
		else
			lab_ladder_call_str(&rows[i], LAB_CALL_TIME | LAB_CALL_DETAIL, text,
					    sizeof(text));
		ck_assert_msg(!strcmp(text, want[i]), "row %zu: '%s', want '%s'", i, text, want[i]);
	}
	ck_assert_int_eq(rows[3].t_us, 240); /* close() at its entry, before its RST */
	ck_assert(rows[4].pkt == &s_side[1]);
	free(rows);
}
END_TEST

/* ---- option parsing ---------------------------------------------------------------------- */

static int setup(const char *scenario, const char *variant, const char *set, char *why)
{
	const char *sets[] = { set };
	struct lab_run_opts o = { .sc = lab_scenario_find(scenario),
				  .variant = variant,
				  .sets = sets,
				  .n_sets = set ? 1 : 0 };

	if (!o.sc) {
		snprintf(why, 256, "unknown scenario '%s'", scenario);
		return LAB_EXIT_USAGE;
	}
	return lab_run_check(&o, why, 256);
}

START_TEST(options_are_checked)
{
	char why[256];

	ck_assert_int_eq(setup("rst-on-close", NULL, NULL, why), 0);
	ck_assert_int_eq(setup("rst-on-close", "drain", "read_bytes=20", why), 0);
	ck_assert_int_eq(setup("no-such", NULL, NULL, why), LAB_EXIT_USAGE);
	ck_assert_msg(strstr(why, "unknown scenario 'no-such'"), "%s", why);
	ck_assert_int_eq(setup("rst-on-close", "nope", NULL, why), LAB_EXIT_USAGE);
	ck_assert_msg(strstr(why, "known: default, drain"), "%s", why);
	ck_assert_int_eq(setup("rst-on-close", NULL, "bogus=1", why), LAB_EXIT_USAGE);
	ck_assert_msg(strstr(why, "unknown parameter 'bogus'"), "%s", why);
	ck_assert_int_eq(setup("rst-on-close", NULL, "request_bytes=0", why), LAB_EXIT_USAGE);
	ck_assert_msg(strstr(why, "out of range (1..60000"), "%s", why);
	ck_assert_int_eq(setup("rst-on-close", NULL, "request_bytes=12x", why), LAB_EXIT_USAGE);
	ck_assert_int_eq(setup("rst-on-close", NULL, "request_bytes", why), LAB_EXIT_USAGE);
	ck_assert_int_eq(setup("rst-on-close", NULL, "=5", why), LAB_EXIT_USAGE);
}
END_TEST

/* ---- impairment specs ------------------------------------------------------------------- */

START_TEST(impair_specs_parse)
{
	struct lab_impair imp;
	char why[256];

	ck_assert_int_eq(lab_impair_parse("drop,dir=c2s,flags=A,len=0,nth=2", &imp, why, 256), 0);
	ck_assert_int_eq(imp.kind, LAB_IMP_DROP);
	ck_assert_int_eq(imp.m.dir, LAB_DIR_C2S);
	ck_assert_int_eq(imp.m.flags, LAB_TH_ACK);
	ck_assert_int_eq(imp.m.len, 0);
	ck_assert_int_eq(imp.nth, 2);
	ck_assert_int_eq(imp.count, 1);
	ck_assert_int_eq(lab_impair_parse("drop,nth=2,count=3", &imp, why, 256), 0);
	ck_assert_int_eq(imp.count, 3);
	ck_assert_int_eq(lab_impair_parse("delay=1.5ms,jitter=500us,dir=both", &imp, why, 256), 0);
	ck_assert_int_eq(imp.delay_us, 1500);
	ck_assert_int_eq(imp.jitter_us, 500);
	ck_assert_int_eq(imp.m.dir, LAB_DIR_C2S | LAB_DIR_S2C);
	ck_assert_int_eq(lab_impair_parse("loss=2.5%,seed=7", &imp, why, 256), 0);
	ck_assert_uint_eq(imp.ppm, 25000);
	ck_assert_uint_eq(imp.seed, 7);
	ck_assert_int_eq(lab_impair_parse("blackhole,armed=0,flags=FA,sport=5000", &imp, why, 256),
			 0);
	ck_assert(!imp.armed);
	ck_assert_int_eq(imp.m.flags, LAB_TH_FIN | LAB_TH_ACK);
	ck_assert_int_eq(imp.m.sport, 5000);
	ck_assert_int_eq(lab_impair_parse("reorder=10%,hold=2ms,flags=S.", &imp, why, 256), 0);
	ck_assert_int_eq(imp.hold_us, 2000);
	ck_assert_int_eq(imp.m.flags, LAB_TH_SYN | LAB_TH_ACK);
	ck_assert_int_eq(lab_impair_parse("reject=icmp-host-unreachable,flags=S", &imp, why, 256),
			 0);
	ck_assert_int_eq(imp.kind, LAB_IMP_REJECT);
	ck_assert_int_eq(imp.reject, LAB_REJECT_HOST_UNREACH);
	ck_assert(imp.armed);
	ck_assert_int_eq(imp.m.flags, LAB_TH_SYN);
	ck_assert_int_eq(lab_impair_parse("reject=tcp-reset,dport=7357,armed=0", &imp, why, 256),
			 0);
	ck_assert_int_eq(imp.reject, LAB_REJECT_TCP_RESET);
	ck_assert(!imp.armed);
	ck_assert_int_eq(lab_impair_parse("reject=icmp-net-unreachable", &imp, why, 256), 0);
	ck_assert_int_eq(imp.reject, LAB_REJECT_NET_UNREACH);
	ck_assert_int_eq(lab_impair_parse("reject=icmp-port-unreachable", &imp, why, 256), 0);
	ck_assert_int_eq(imp.reject, LAB_REJECT_PORT_UNREACH);
	ck_assert_int_eq(lab_impair_parse("reject=icmp-admin-prohibited", &imp, why, 256), 0);
	ck_assert_int_eq(imp.reject, LAB_REJECT_ADMIN_PROHIBITED);
	ck_assert_str_eq(lab_reject_name(LAB_REJECT_ADMIN_PROHIBITED), "icmp-admin-prohibited");
	ck_assert(!imp.seeded);
	/* netem's kinds, its limit, and rates in tc's units */
	ck_assert_int_eq(lab_impair_parse("duplicate=1%,dir=both", &imp, why, 256), 0);
	ck_assert_int_eq(imp.kind, LAB_IMP_DUPLICATE);
	ck_assert_uint_eq(imp.ppm, 10000);
	ck_assert(lab_impair_needs_netem(&imp));
	ck_assert_int_eq(lab_impair_parse("corrupt=0.5%,seed=0", &imp, why, 256), 0);
	ck_assert_int_eq(imp.kind, LAB_IMP_CORRUPT);
	ck_assert_uint_eq(imp.ppm, 5000);
	ck_assert(imp.seeded); /* seed=0 is a seed */
	ck_assert_int_eq(lab_impair_parse("rate=10mbit,dir=s2c", &imp, why, 256), 0);
	ck_assert_int_eq(imp.kind, LAB_IMP_RATE);
	ck_assert_uint_eq(imp.rate_bps, 10000000);
	ck_assert(!lab_impair_needs_netem(&imp)); /* NFQUEUE does a rate too */
	ck_assert_int_eq(lab_impair_parse("rate=125kbps", &imp, why, 256), 0);
	ck_assert_uint_eq(imp.rate_bps, 1000000);
	ck_assert_int_eq(lab_impair_parse("rate=1.5gbit", &imp, why, 256), 0);
	ck_assert_uint_eq(imp.rate_bps, 1500000000);
	ck_assert_int_eq(lab_impair_parse("delay=20ms,limit=100", &imp, why, 256), 0);
	ck_assert_int_eq(imp.limit, 100);
	ck_assert(lab_impair_needs_netem(&imp)); /* limit is netem's queue limit */
	ck_assert_int_eq(lab_impair_parse("loss=1%", &imp, why, 256), 0);
	ck_assert_int_eq(imp.limit, 0);
	ck_assert(!lab_impair_needs_netem(&imp));
}
END_TEST

/* at= and role= as the wire reads them */
START_TEST(impair_at_and_role)
{
	struct lab_impair imp;
	char why[256] = "";

	ck_assert_int_eq(lab_impair_parse("delay=40ms,dir=s2c,at=before-close", &imp, why, 256), 0);
	ck_assert_str_eq(imp.at, "before-close");
	ck_assert_int_eq(imp.at_us, -1);
	ck_assert_int_eq(lab_impair_parse("drop,flags=PA,at=1.5s", &imp, why, 256), 0);
	ck_assert_int_eq(imp.at_us, 1500000);
	ck_assert_str_eq(imp.at, "");
	ck_assert_int_eq(lab_impair_parse("delay=1ms", &imp, why, 256), 0);
	ck_assert_int_eq(imp.at_us, -1);
	ck_assert_int_eq(lab_impair_parse("drop,role=fin-ack,count=2", &imp, why, 256), 0);
	ck_assert_int_eq(imp.m.role, LAB_ROLE_FIN_ACK);
	ck_assert_int_eq(imp.count, 2);
	ck_assert_int_eq(lab_impair_parse("blackhole,role=handshake-ack,backend=nfqueue", &imp, why,
					  256),
			 0);
	ck_assert_int_eq(imp.m.role, LAB_ROLE_HANDSHAKE_ACK);
}
END_TEST

START_TEST(impair_specs_rejected_with_a_reason)
{
	static const char *const bad[][2] = {
		{ "", "1 to" },
		{ "slow", "not an impairment (drop, blackhole, delay=T, loss=P, reorder=P, "
			  "duplicate=P, corrupt=P, rate=RATE, reject=HOW)" },
		{ "duplicat=1%", "did you mean duplicate?" },
		{ "duplicate", "duplicate=P (P: a percentage" },
		{ "corrupt=3", "did you mean corrupt=3%?" },
		{ "rate", "rate=RATE (RATE: a rate with its unit" },
		{ "rate=10", "has no unit: did you mean rate=10mbit?" },
		{ "rate=10furlongs", "rate=10furlongs is not a rate with its unit: 10mbit" },
		{ "rate=1bit", "(8kbit to 100gbit)" },
		{ "rate=200gbit", "(8kbit to 100gbit)" },
		{ "rate=10Mbit", "is not a rate" },
		{ "duplicate=5%,backend=nfqueue", "duplicate is done by netem only" },
		{ "delay=5ms,limit=10,backend=nfqueue",
		  "limit=N (netem's queue limit) is done by" },
		{ "corrupt=1%,flags=S", "netem, which works on a whole direction" },
		{ "delay=5ms,limit=10,sport=5", "works on a whole direction" },
		{ "drop,limit=3", "not a key of 'drop'" },
		{ "delay=5ms,limit=0", "limit=0 is not valid (limit: packets queued at most" },
		{ "duplicate=1%,seed=3", "not a key of 'duplicate'" },
		{ "rate=1mbit,jitter=1ms", "not a key of 'rate'" },
		{ "rejet=tcp-reset", "did you mean reject?" },
		{ "reject", "reject wants a value: reject=HOW (HOW: icmp-net-unreachable|" },
		{ "reject=icmp-host-unreach",
		  "did you mean reject=icmp-host-unreachable? (reject: " },
		{ "reject=tcp-rst", "did you mean reject=tcp-reset?" },
		{ "reject=drop", "reject=drop is not valid (reject: icmp-net-unreachable|" },
		{ "reject=tcp-reset,nth=2", "not a key of 'reject' (reject takes armed, dir," },
		{ "reject=tcp-reset,armed=2", "armed=2 is not valid (armed: 0|1)" },
		{ "reject=tcp-reset,backend=nfqueue", "reject is done by nftables" },
		{ "reject=tcp-reset,reject=tcp-reset", "'reject' given twice" },
		{ "reject=tcp-reset,drop", "one impairment per spec" },
		{ "dorp", "did you mean drop?" },
		{ "delay", "delay=T (T: a time" },
		{ "loss", "loss=P (P: a percentage" },
		{ "delay=-5ms", "not a time from 0 to 10s" },
		{ "delay=11s", "not a time" },
		{ "delay=5parsecs", "not a time" },
		{ "delay=50", "has no unit: did you mean delay=50ms?" },
		{ "delay=5ms,jitter=1", "did you mean jitter=1ms?" },
		{ "reorder=5%,hold=2", "did you mean hold=2ms?" },
		{ "loss=0.5", "has no unit: did you mean loss=0.5%?" },
		{ "reorder=10", "did you mean reorder=10%?" },
		{ "loss=101%", "not a percentage from 0% to 100%" },
		{ "loss=101", "not a percentage" },
		{ "drop=3", "takes no value (drop[,nth=K][,count=N])" },
		{ "drop,nth=0", "nth=0 is not valid (nth: which match, 1..1000000000)" },
		{ "drop,count=0", "count=0 is not valid (count: how many matches, 1..1000)" },
		{ "delay=1ms,count=2", "not a key of 'delay' (delay takes jitter, limit, dir," },
		{ "drop,dir=up", "dir=up is not valid (dir: c2s|s2c|both)" },
		{ "drop,dir=bth", "did you mean dir=both?" },
		{ "drop,flags=SX", "flags=SX is not valid (flags: TCP flags among FSRPAU" },
		{ "drop,jitter=5ms",
		  "not a key of 'drop' (drop takes nth, count, role, dir, flags," },
		{ "delay=5ms,role=fin-ack", "not a key of 'delay'" },
		{ "drop,role=fin", "did you mean role=fin-ack? (role: handshake-ack|fin-ack)" },
		{ "drop,role=fin-ack,backend=nftables", "role=fin-ack is followed in user space" },
		{ "delay=5ms,at=2", "has no unit: did you mean at=2ms?" },
		{ "delay=5ms,at=20s", "at=20s is not a time" },
		{ "delay=5ms,at=Before_Close", "at=Before_Close is not valid (at: a moment of" },
		{ "delay=5ms,jiter=1ms", "not a key of 'delay': did you mean jitter?" },
		{ "drop,backend=nfq", "did you mean backend=nfqueue? (backend: auto|nftables|" },
		{ "drop,backend=nfqueue", "done by nftables" },
		{ "delay=5ms,backend=nftables", "needs backend" },
		{ "delay=5ms,backend=netem,flags=S", "whole direction" },
		{ "drop,len", "'len' wants a value: len=VALUE (len: payload bytes, 0..65495)" },
		{ "delay=5ms,delay=10ms", "'delay' given twice" },
		{ "drop,nth=2,nth=3", "'nth' given twice" },
		{ "drop,dir=c2s,dir=s2c", "'dir' given twice" },
		{ "delay=5ms,loss=1%", "one impairment per spec" },
		{ ",,,", "names no impairment" },
	};
	struct lab_impair imp;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(lab_impair_parse(bad[i][0], &imp, why, 256) == -EINVAL,
			      "accepted '%s'", bad[i][0]);
		ck_assert_msg(strstr(why, bad[i][1]), "'%s': reason '%s' lacks '%s'", bad[i][0],
			      why, bad[i][1]);
	}
}
END_TEST

START_TEST(impair_matches_exactly)
{
	struct lab_impair imp;
	struct lab_pkt ack = { .flags = LAB_TH_ACK, .len = 0, .sport = 40000, .dport = 5000 };
	struct lab_pkt data = ack;
	char why[256];

	data.flags |= LAB_TH_PSH;
	data.len = 16;
	ck_assert_int_eq(lab_impair_parse("drop,flags=A,len=0,dport=5000", &imp, why, 256), 0);
	ck_assert(lab_match_packet(&imp.m, &ack, LAB_DIR_C2S));
	ck_assert(!lab_match_packet(&imp.m, &ack, LAB_DIR_S2C)); /* default dir=c2s */
	ck_assert(!lab_match_packet(&imp.m, &data, LAB_DIR_C2S)); /* flags are exact */
	data.flags = LAB_TH_ACK;
	ck_assert(!lab_match_packet(&imp.m, &data, LAB_DIR_C2S)); /* so is the length */
	ack.dport = 5001;
	ck_assert(!lab_match_packet(&imp.m, &ack, LAB_DIR_C2S));
}
END_TEST

static int setup_impair(const char *spec, char *why)
{
	const char *impairs[] = { spec };
	struct lab_run_opts o = { .sc = lab_scenario_find("rst-on-close"),
				  .impairs = impairs,
				  .n_impairs = 1 };

	return lab_run_check(&o, why, 256);
}

START_TEST(impair_option_is_checked)
{
	char why[256];

	ck_assert_int_eq(setup_impair("delay=20ms,dir=both", why), 0);
	ck_assert_int_eq(setup_impair("delay=20", why), LAB_EXIT_USAGE);
	ck_assert_msg(strstr(why, "did you mean delay=20ms?"), "%s", why);
	ck_assert_int_eq(setup_impair("delay=20lightyears", why), LAB_EXIT_USAGE);
	ck_assert_msg(strstr(why, "--impair delay=20lightyears: "), "%s", why);
	ck_assert_int_eq(setup_impair("rate=2mbit,dir=both", why), 0); /* NFQUEUE anywhere */
}
END_TEST

START_TEST(suggest_typos_not_strangers)
{
	static const char *const cmds[] = { "list", "explain", "run", "show", "facts", "clean" };
	static const char *const names[] = { "rst-on-close", "lost-final-ack", "lost-handshake-ack",
					     "accept-overflow" };

	ck_assert_str_eq(lab_suggest_among("rn", cmds, 6), "run");
	ck_assert_str_eq(lab_suggest_among("lsit", cmds, 6), "list"); /* two letters swapped */
	ck_assert_str_eq(lab_suggest_among("explian", cmds, 6), "explain");
	ck_assert_str_eq(lab_suggest_among("rst-on-clos", names, 4), "rst-on-close");
	ck_assert_str_eq(lab_suggest_among("RST_ON_CLOSE", names, 4), "rst-on-close");
	ck_assert_str_eq(lab_suggest_among("lost-final", names, 4), "lost-final-ack"); /* prefix */
	ck_assert_ptr_null(lab_suggest_among("lost", names, 4)); /* begins two: no guess */
	ck_assert_ptr_null(lab_suggest_among("frobnicate", cmds, 6));
	ck_assert_ptr_null(lab_suggest_among("x", cmds, 6));
	ck_assert_ptr_null(lab_suggest_among("", cmds, 6));
}
END_TEST

/* ---- socket predicates (the waits' conditions) ------------------------------------------- */

START_TEST(socks_predicates)
{
	struct lab_sock v[] = {
		{ .state = TCP_LISTEN, .lport = 7357 },
		{ .state = TCP_ESTABLISHED,
		  .lport = 7357,
		  .rport = 40000,
		  .rqueue = 100,
		  .wqueue = 20 },
	};
	struct lab_socks s = { .v = v, .n = 2 };
	struct lab_socks_queue unread = { 7357, 100, UINT32_MAX }, more = { 7357, 101, UINT32_MAX };
	struct lab_socks_queue acked = { 7357, 0, 0 }, some = { 7357, 0, 20 };
	struct lab_socks_state est = { 7357, TCP_ESTABLISHED }, tw = { 7357, TCP_TIME_WAIT };

	ck_assert(lab_socks_queued(&s, &unread));
	ck_assert(!lab_socks_queued(&s, &more));
	ck_assert(!lab_socks_queued(&s, &acked)); /* 20 bytes not acknowledged yet */
	ck_assert(lab_socks_queued(&s, &some));
	ck_assert(!lab_socks_lack_state(&s, &est));
	ck_assert(lab_socks_lack_state(&s, &tw));
	s.n = 1; /* the connection is gone: only the listener */
	ck_assert(!lab_socks_queued(&s, &unread));
	ck_assert(lab_socks_lack_state(&s, &est));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("harness");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("nstat");
	tcase_add_test(tc, nstat_parses_pairs);
	tcase_add_test(tc, nstat_rejects_malformed);
	tcase_add_test(tc, nstat_delta);
	suite_add_tcase(s, tc);
	tc = tcase_create("timing");
	tcase_add_test(tc, tolerance_floor_and_percentage);
	tcase_add_test(tc, tolerance_window_edges);
	tcase_add_test(tc, tolerance_scale_from_env);
	tcase_add_test(tc, percentiles_by_nearest_rank);
	tcase_add_test(tc, expect_records_both_sides);
	suite_add_tcase(s, tc);
	tc = tcase_create("trace");
	tcase_add_test(tc, trace_parses_tcp);
	tcase_add_test(tc, trace_survives_truncation);
	tcase_add_test(tc, trace_parses_icmp_errors);
	tcase_add_test(tc, trace_reads_file_and_marks_retransmissions);
	tcase_add_test(tc, trace_names_flow_control_segments);
	tcase_add_test(tc, trace_rejects_garbage_with_a_reason);
	tcase_add_test(tc, trace_keeps_packets_before_a_cut);
	tcase_add_test(tc, flags_in_tcpdump_notation);
	tcase_add_test(tc, trace_reads_vlan_sll2_and_ipv6);
	tcase_add_test(tc, trace_conns_have_no_limit);
	tcase_add_test(tc, trace_new_isn_new_conn);
	suite_add_tcase(s, tc);
	tc = tcase_create("programs");
	tcase_add_test(tc, sockops_parse_good_and_bad);
	tcase_add_test(tc, sockops_every_verb_in_help_and_arg_counts);
	tcase_add_test(tc, event_round_trip);
	tcase_add_test(tc, event_call_stamps_entry_and_return);
	tcase_add_test(tc, ladder_draws_calls_at_entry);
	tcase_add_test(tc, socks_predicates);
	suite_add_tcase(s, tc);
	tc = tcase_create("options");
	tcase_add_test(tc, options_are_checked);
	tcase_add_test(tc, impair_specs_parse);
	tcase_add_test(tc, impair_specs_rejected_with_a_reason);
	tcase_add_test(tc, impair_at_and_role);
	tcase_add_test(tc, impair_matches_exactly);
	tcase_add_test(tc, impair_option_is_checked);
	tcase_add_test(tc, suggest_typos_not_strangers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
