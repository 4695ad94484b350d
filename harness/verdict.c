// SPDX-License-Identifier: MIT
/*
 * The verdict, said once and the same everywhere: the exit code, the verdict line, report.json
 * (and report.html). A run whose results cannot be written is an ERROR that says why ("write
 * report.json: No space left on device"), never an "as documented" that exits 99; a file that
 * cannot be made to say the run's verdict is removed rather than left saying another.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "report.h"
#include "run.h"

static const struct {
	const char *verdict;
	int code;
} verdicts[] = {
	{ "as documented", LAB_EXIT_AS_DOCUMENTED },
	{ "not as documented", LAB_EXIT_NOT_AS_DOCUMENTED },
	{ "error", LAB_EXIT_ERROR },
};

static int verdict_of(const struct lab_run *run, const char **verdict)
{
	size_t i = 1; /* not as documented */

	if (run->error[0])
		i = 2;
	else if (lab_expects_all_ok(&run->ex, lab_run_outcomes_only(run)))
		i = 0;
	*verdict = verdicts[i].verdict;
	return verdicts[i].code;
}

static int code_of(const char *verdict)
{
	size_t i;

	for (i = 0; i < LAB_ARRAY_SIZE(verdicts); i++)
		if (!strcmp(verdict, verdicts[i].verdict))
			return verdicts[i].code;
	return -1;
}

/* the verdict report.json in @dir says, read back from the disk: 0, -ENOENT, -EINVAL */
static int read_verdict(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX + 32];
	struct json_object *o, *v;
	int err = -EINVAL;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (access(path, F_OK))
		return -errno;
	o = json_object_from_file(path);
	if (o && json_object_object_get_ex(o, "verdict", &v) &&
	    json_object_is_type(v, json_type_string)) {
		snprintf(buf, len, "%s", json_object_get_string(v));
		err = 0;
	}
	json_object_put(o);
	return err;
}

/* the files that state a verdict, when they cannot state this one */
static void remove_verdicts(const struct lab_run *run)
{
	static const char *const files[] = { "report.json", "report.html" };
	char path[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < LAB_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", run->dir, files[i]);
		unlink(path);
	}
}

/*
 * The invariant, checked on every run: the exit code is the verdict's, and report.json (read
 * back from the disk) says the same verdict or is not there (then the ERROR said why).
 */
static int check_agreement(struct lab_run *run, const char **verdict, int ret)
{
	char said[32] = "";
	int err = run->dir[0] ? read_verdict(run->dir, said, sizeof(said)) : -ENOENT;

	if (code_of(*verdict) == ret && (err == -ENOENT || (!err && !strcmp(said, *verdict))))
		return ret;
	lab_error_clear();
	lab_run_error_cause(
		run, -EPROTO,
		"the run's verdict disagrees with itself: %s, exit %d, report.json %s%s", *verdict,
		ret, err ? "unreadable: " : "says ", err ? strerror(-err) : said);
	remove_verdicts(run);
	return verdict_of(run, verdict);
}

int lab_run_conclude(struct lab_run *run, const char **verdict)
{
	int ret = verdict_of(run, verdict), err;

	if (run->dir[0] && (err = lab_report_write(run, *verdict))) {
		if (run->error[0]) /* already an ERROR: say that its results are missing too */
			fprintf(stderr, "tcplab: cannot write the results in %s: %s\n", run->dir,
				lab_error_last());
		lab_run_error(run, err, "cannot write the results in %s", run->dir);
		ret = verdict_of(run, verdict);
		if (lab_report_write(run, *verdict))
			remove_verdicts(run);
	}
	return check_agreement(run, verdict, ret);
}
