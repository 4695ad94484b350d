// SPDX-License-Identifier: MIT
/*
 * The scenario test driver: one TCase per line of scenario-cases.txt. A case runs the scenario
 * on a fresh lab and checks its verdict. "Judged-as" cases run a remedy against the failure's
 * expectations and must come out "not as documented": the proof that the assertions can fail.
 * meson runs one case per test (CK_RUN_CASE), so the suite runs in parallel.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "netns.h"
#include "registry.h"

#define MAX_CASES 1024

struct scase {
	char name[96], scenario[32], variant[32], expect_as[32];
	int exit;
};

static struct scase cases[MAX_CASES]; /* read once in main(), before any fork; read-only after */
static size_t n_cases;

static void load_cases(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(99);
	}
	while (fgets(line, sizeof(line), f)) {
		struct scase *c = &cases[n_cases];

		if (n_cases == MAX_CASES) {
			/* a case left out would pass as "0 checks": refuse instead */
			fprintf(stderr, "%s: more than %d cases: raise MAX_CASES\n", path,
				MAX_CASES);
			exit(99);
		}

		if (line[0] == '#' || sscanf(line, "%31s %31s %31s %d", c->scenario, c->variant,
					     c->expect_as, &c->exit) != 4)
			continue;
		char name[sizeof(c->name)];

		if (strcmp(c->variant, c->expect_as))
			snprintf(name, sizeof(name), "%s/%s-judged-as-%s", c->scenario, c->variant,
				 c->expect_as);
		else
			snprintf(name, sizeof(name), "%s/%s", c->scenario, c->variant);
		memcpy(c->name, name, sizeof(name));
		n_cases++;
	}
	fclose(f);
}

START_TEST(run_case)
{
	const struct scase *c = &cases[_i];
	char like[LAB_NAME_MAX];
	struct lab_run_opts o = { .sc = lab_scenario_find(c->scenario),
				  .variant = c->variant,
				  .expect_as = c->expect_as,
				  .results = getenv("TCPLAB_RESULTS") ? getenv("TCPLAB_RESULTS") :
									LAB_BUILD_ROOT
						     "/test-results",
				  .quiet = true,
				  .behaves_like = like };
	int ret;

	like[0] = '\0';
	ret = lab_run_main(&o);
	ck_assert_msg(ret != LAB_EXIT_ERROR, "%s: the lab itself broke (see above)", c->name);
	ck_assert_msg(ret == c->exit, "%s: expected exit %d (%s), got %d", c->name, c->exit,
		      c->exit ? "not as documented" : "as documented", ret);
	/* judged by every variant, the run matches its own and no other: the variants are told
	 * apart by what was observed */
	ck_assert_msg(!strcmp(like, c->variant), "%s: behaves like '%s', not (only) like %s",
		      c->name, like, c->variant);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("scenarios");
	SRunner *sr;
	size_t i;
	int failed, err;

	load_cases(argc > 1 ? argv[1] : "tests/scenario-cases.txt");
	lab_netns_become_root(); /* root, or root in an unprivileged user namespace */
	err = lab_netns_probe();
	if (err) {
		printf("SKIP: cannot create network namespaces (%s): the scenarios need root\n",
		       strerror(-err));
		return 77;
	}
	for (i = 0; getenv("CK_RUN_CASE") && i < n_cases; i++)
		if (!strcmp(cases[i].name, getenv("CK_RUN_CASE")))
			break;
	if (getenv("CK_RUN_CASE") && i == n_cases) {
		fprintf(stderr, "CK_RUN_CASE=%s: no such case in the cases file\n",
			getenv("CK_RUN_CASE"));
		return 99;
	}
	for (i = 0; i < n_cases; i++) {
		const struct lab_scenario *sc = lab_scenario_find(cases[i].scenario);
		TCase *tc = tcase_create(cases[i].name);

		if (!sc) {
			fprintf(stderr, "scenario-cases.txt: unknown scenario '%s'\n",
				cases[i].scenario);
			return 99;
		}
		tcase_set_timeout(tc, sc->budget_s + 5);
		tcase_add_loop_test(tc, run_case, (int)i, (int)i + 1);
		suite_add_tcase(s, tc);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
