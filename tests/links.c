// SPDX-License-Identifier: MIT
/*
 * The lab's links over rtnetlink (root): a link is "ready" only once its peer is up and the
 * device is activated, the wait ends at its deadline with the state it saw, and a neighbour
 * added by the harness is permanent. Each test gets a network namespace of its own (fork mode).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "event.h"
#include "link.h"
#include "netns.h"

static const struct lab_veth_end near = { "near", { 0x02, 0, 0, 0, 0x09, 0x01 } };
static const struct lab_veth_end far = { "far", { 0x02, 0, 0, 0, 0x09, 0x02 } };

/* a veth pair near <-> far in a namespace of this test's own; near is up, far is down */
static void pair(struct lab_rtnl *r, int *near_idx, int *far_idx)
{
	int self;

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(self, 0);
	ck_assert_int_eq(lab_rtnl_open(r), 0);
	ck_assert_int_eq(lab_link_veth_add(r, &near, &far, self, 0), 0);
	close(self);
	*near_idx = (int)if_nametoindex(near.name);
	*far_idx = (int)if_nametoindex(far.name);
	ck_assert(*near_idx > 0 && *far_idx > 0);
	ck_assert_int_eq(lab_link_up(r, *near_idx), 0);
}

START_TEST(ready_waits_for_the_peer_and_says_why)
{
	struct lab_rtnl r = LAB_RTNL_INIT;
	int near_idx, far_idx;
	int64_t t0;

	pair(&r, &near_idx, &far_idx);
	/* up, but its peer is down: no carrier, never ready; the deadline holds */
	t0 = lab_mono_us();
	ck_assert_int_eq(lab_link_wait_ready(near_idx, "near", t0 + 150000), -ETIMEDOUT);
	ck_assert_int_ge(lab_mono_us() - t0, 150000);
	ck_assert_int_lt(lab_mono_us() - t0, 1000000);
	ck_assert_msg(strstr(lab_error_last(), "near: not ready to carry packets") &&
			      strstr(lab_error_last(), "carrier off"),
		      "the reason names the link and its state: %s", lab_error_last());
	/* the peer comes up: both ends become ready */
	ck_assert_int_eq(lab_link_up(&r, far_idx), 0);
	ck_assert_int_eq(lab_link_wait_ready(near_idx, "near", lab_mono_us() + 5000000), 0);
	ck_assert_int_eq(lab_link_wait_ready(far_idx, "far", lab_mono_us() + 5000000), 0);
	lab_rtnl_close(&r);
}
END_TEST

START_TEST(neighbour_is_permanent)
{
	struct lab_rtnl r = LAB_RTNL_INIT;
	struct in_addr peer;
	char line[256] = "";
	int near_idx, far_idx;
	FILE *ip;

	pair(&r, &near_idx, &far_idx);
	inet_pton(AF_INET, "192.0.2.99", &peer);
	ck_assert_int_eq(lab_neigh_add_permanent(&r, near_idx, peer, far.mac), 0);
	/* iproute2's view of it (this process's namespace is the test's own) */
	ip = popen("ip -4 neigh show dev near", "r");
	ck_assert_ptr_nonnull(ip);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), ip));
	pclose(ip);
	ck_assert_msg(strstr(line, "192.0.2.99 lladdr 02:00:00:00:09:02 PERMANENT"), "ip neigh: %s",
		      line);
	lab_rtnl_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("links");
	TCase *tc = tcase_create("rtnetlink");
	SRunner *sr;
	int failed;

	lab_netns_become_root();
	if (lab_netns_probe()) {
		fprintf(stderr, "link tests need network namespaces (root): skipped\n");
		return 77;
	}
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, ready_waits_for_the_peer_and_says_why);
	tcase_add_test(tc, neighbour_is_permanent);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
