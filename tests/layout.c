// SPDX-License-Identifier: MIT
/*
 * report.html's ladder layout over every reference run in pcaps/ (both captures and the events
 * of its report.json): no label overlaps another, crosses a timeline or leaves the drawing; time
 * is drawn (nagle's stall as space, a lost packet stopped on the wire); and the check
 * itself finds a flaw when there is one. No root, no network.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <glob.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "html_layout.h"
#include "lab.h"
#include "ladder.h"
#include "topo.h"
#include "trace.h"

struct ref {
	struct lab_trace client, server;
	struct lab_event *events;
	size_t n_events;
	struct lab_ladder ladder;
};

/* a reference run: its captures, lost packets marked as the runner does, its events */
static void ref_load(struct ref *r, const char *dir)
{
	char path[512], why[256];
	struct json_object *root, *events;
	struct in_addr client, server;
	size_t i;

	memset(r, 0, sizeof(*r));
	inet_pton(AF_INET, LAB_CLIENT_ADDR, &client);
	inet_pton(AF_INET, LAB_SERVER_ADDR, &server);
	snprintf(path, sizeof(path), "%s/client.pcap", dir);
	ck_assert_msg(!lab_trace_read(&r->client, path, why, sizeof(why)), "%s", why);
	snprintf(path, sizeof(path), "%s/server.pcap", dir);
	ck_assert_msg(!lab_trace_read(&r->server, path, why, sizeof(why)), "%s", why);
	lab_trace_mark_lost(&r->client, &r->server, client);
	lab_trace_mark_lost(&r->server, &r->client, server);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	root = json_object_from_file(path);
	ck_assert_msg(root && json_object_object_get_ex(root, "events", &events),
		      "%s: no events (pcaps/regenerate.sh keeps report.json)", path);
	r->n_events = json_object_array_length(events);
	r->events = calloc(r->n_events + 1, sizeof(*r->events));
	ck_assert_ptr_nonnull(r->events);
	for (i = 0; i < r->n_events; i++) {
		struct json_object *e = json_object_array_get_idx(events, i), *who;

		ck_assert_int_eq(lab_event_parse(json_object_to_json_string(e), &r->events[i]), 0);
		if (json_object_object_get_ex(e, "who", &who))
			snprintf(r->events[i].who, sizeof(r->events[i].who), "%s",
				 json_object_get_string(who));
	}
	json_object_put(root);
	r->ladder = (struct lab_ladder){ .client_side = &r->client,
					 .server_side = &r->server,
					 .client = client,
					 .events = r->events,
					 .n_events = r->n_events };
}

static void ref_free(struct ref *r)
{
	lab_trace_free(&r->client);
	lab_trace_free(&r->server);
	free(r->events);
}

START_TEST(every_reference_ladder_lays_out_clean)
{
	glob_t g;
	size_t i, labels = 0;

	ck_assert_int_eq(glob("pcaps/*/*/report.json", 0, NULL, &g), 0);
	ck_assert_uint_gt(g.gl_pathc, 20);
	for (i = 0; i < g.gl_pathc; i++) {
		struct lab_svg_layout L;
		struct ref r;
		char why[512];
		size_t bad;

		*strrchr(g.gl_pathv[i], '/') = '\0';
		ref_load(&r, g.gl_pathv[i]);
		ck_assert_int_eq(lab_svg_layout(&L, &r.ladder, NULL), 0);
		bad = lab_svg_layout_check(&L, why, sizeof(why));
		ck_assert_msg(!bad, "%s: %zu layout problems, first: %s", g.gl_pathv[i], bad, why);
		labels += L.n_labels;
		lab_svg_layout_free(&L);
		ref_free(&r);
	}
	ck_assert_uint_gt(labels, 1000);
	globfree(&g);
}
END_TEST

START_TEST(the_check_finds_a_flaw)
{
	struct lab_svg_layout L;
	struct ref r;
	char why[512];

	ref_load(&r, "pcaps/lost-final-ack/default");
	ck_assert_int_eq(lab_svg_layout(&L, &r.ladder, NULL), 0);
	ck_assert_uint_gt(L.n_labels, 10);
	L.labels[5].box.y = L.labels[4].box.y; /* two labels on one line */
	L.labels[5].box.x = L.labels[4].box.x;
	ck_assert_uint_gt(lab_svg_layout_check(&L, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "overlaps"));
	L.labels[5].box.x = LAB_SVG_X_SERVER - 5; /* across the server's timeline */
	L.labels[5].box.y += 400;
	ck_assert_uint_gt(lab_svg_layout_check(&L, why, sizeof(why)), 0);
	L.labels[5].box.x = LAB_SVG_W - 2; /* past the right edge */
	ck_assert_uint_gt(lab_svg_layout_check(&L, why, sizeof(why)), 0);
	lab_svg_layout_free(&L);
	ref_free(&r);
}
END_TEST

/* the lost ACK stops on the wire; the 200 ms until the FIN's re-send is cut and labelled */
START_TEST(a_loss_stops_on_the_wire)
{
	struct lab_svg_layout L;
	struct ref r;
	size_t i, lost = 0;

	ref_load(&r, "pcaps/lost-final-ack/default");
	ck_assert_int_eq(lab_svg_layout(&L, &r.ladder, NULL), 0);
	for (i = 0; i < L.n_arrows; i++)
		if (L.arrows[i].lost) {
			lost++;
			ck_assert_int_eq(L.arrows[i].x2, LAB_SVG_X_WIRE);
		} else {
			ck_assert_int_ne(L.arrows[i].x2, LAB_SVG_X_WIRE);
		}
	ck_assert_uint_eq(lost, 1);
	ck_assert_uint_ge(L.n_cuts, 1);
	ck_assert_int_gt(L.cuts[0].us, 180000);
	lab_svg_layout_free(&L);
	ref_free(&r);
}
END_TEST

/*
 * nagle-delayed-ack: the server's delayed ACK leaves ~40 ms without a packet: drawn as at least
 * 40 ms of the axis (100 px), where the packets before and after it are rows apart
 */
START_TEST(a_stall_is_space)
{
	struct lab_svg_layout L;
	struct ref r;
	size_t i, stalls = 0;

	ref_load(&r, "pcaps/nagle-delayed-ack/default");
	ck_assert_int_eq(lab_svg_layout(&L, &r.ladder, NULL), 0);
	for (i = 1; i < L.n; i++) {
		int64_t dt = L.rows[i].t_us - L.rows[i - 1].t_us;

		if (dt <= LAB_SVG_CUT_US) /* never less room than the time it took */
			ck_assert_int_ge(L.y[i] - L.y[i - 1], (int)(dt * LAB_SVG_PX_PER_MS / 1e3));
		stalls += dt > 35000 && dt < LAB_SVG_CUT_US && L.y[i] - L.y[i - 1] >= 35 * 2.5;
	}
	ck_assert_uint_ge(stalls, 10);
	ck_assert_uint_lt(L.fold_from, L.fold_to); /* 20 requests: the middle is folded */
	lab_svg_layout_free(&L);
	ref_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("ladder");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_reference_ladder_lays_out_clean);
	tcase_add_test(tc, the_check_finds_a_flaw);
	tcase_add_test(tc, a_loss_stops_on_the_wire);
	tcase_add_test(tc, a_stall_is_space);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
