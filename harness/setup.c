// SPDX-License-Identifier: MIT
/* Before any lab exists: the variant, the parameters (--set), the extra impairments (--impair). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"
#include "run.h"
#include "suggest.h"

const struct lab_variant *lab_variant_find(const struct lab_scenario *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->n_variants; i++)
		if (!strcmp(lab_variant_at(sc, i)->name, name))
			return lab_variant_at(sc, i);
	return NULL;
}

static int find_param(const struct lab_scenario *sc, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sc->n_params; i++)
		if (strlen(sc->params[i].name) == len && !strncmp(sc->params[i].name, name, len))
			return (int)i;
	return -1;
}

/* "known: a, b, c" and, if @typo looks like one of them, ": did you mean b?" before it */
static void known_list(const struct lab_scenario *sc, char *buf, size_t len, bool variants,
		       const char *typo)
{
	size_t i, n = variants ? sc->n_variants : sc->n_params, o = 0;
	struct lab_suggest s = LAB_SUGGEST_INIT(typo);
	const char *best;

	for (i = 0; i < n; i++)
		lab_suggest_add(&s, variants ? lab_variant_at(sc, i)->name : sc->params[i].name);
	best = lab_suggest_best(&s);
	buf[0] = '\0';
	if (best)
		o = (size_t)snprintf(buf, len, ": did you mean %s?", best);
	o += (size_t)snprintf(buf + o, len - o, " (known: ");
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
				      variants ? lab_variant_at(sc, i)->name : sc->params[i].name);
	if (o < len)
		snprintf(buf + o, len - o, "%s)", n ? "" : "none");
}

static int set_param(struct lab_run *run, const char *set, char *why, size_t len)
{
	const char *eq = strchr(set, '=');
	char known[256], name[64], *end;
	const struct lab_param *p;
	long v;
	int i;

	if (!eq || eq == set) {
		snprintf(why, len, "--set wants KEY=VALUE, not '%s'", set);
		return LAB_EXIT_USAGE;
	}
	i = find_param(run->sc, set, (size_t)(eq - set));
	if (i < 0) {
		snprintf(name, sizeof(name), "%.*s", (int)(eq - set), set);
		known_list(run->sc, known, sizeof(known), false, name);
		snprintf(why, len, "unknown parameter '%s' for %s%s", name, run->sc->name, known);
		return LAB_EXIT_USAGE;
	}
	p = &run->sc->params[i];
	errno = 0;
	v = strtol(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end) {
		snprintf(why, len, "%s: '%s' is not a whole number", p->name, eq + 1);
		return LAB_EXIT_USAGE;
	}
	if (v < p->min || v > p->max) {
		snprintf(why, len, "%s=%ld is out of range (%ld..%ld %s)", p->name, v, p->min,
			 p->max, p->unit);
		return LAB_EXIT_USAGE;
	}
	run->param[i] = v;
	return 0;
}

/* the scenario's parameter struct, from the values by index */
static int fill_params(struct lab_run *run, char *why, size_t len)
{
	size_t i;

	run->params = calloc(1, run->sc->params_size ? run->sc->params_size : 1);
	run->obs = calloc(1, run->sc->obs_size ? run->sc->obs_size : 1);
	if (!run->params || !run->obs) {
		snprintf(why, len, "out of memory");
		return LAB_EXIT_ERROR;
	}
	for (i = 0; i < run->sc->n_params; i++)
		memcpy(run->params + run->sc->params[i].offset, &run->param[i], sizeof(long));
	return 0;
}

/*
 * somewhere an Enter can come from: the controlling terminal, stdin if it is one, or a pipe a
 * script feeds on purpose (not /dev/null or a file: nobody would ever press it)
 */
static bool terminal(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd >= 0)
		close(fd);
	return fd >= 0 || isatty(STDIN_FILENO) ||
	       (!fstat(STDIN_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
}

/* both the variant played and the one judged against must be possible with these values */
static int check_params(struct lab_run *run, char *why, size_t len)
{
	const struct lab_variant *v[2] = { run->variant, run->expect_as };
	char reason[256];
	int i;

	for (i = 0; run->sc->check && i < 2; i++) {
		if (run->sc->check(run, v[i], run->params, reason, sizeof(reason)))
			continue;
		snprintf(why, len, "%s, variant %s: %s", run->sc->name, v[i]->name, reason);
		return LAB_EXIT_USAGE;
	}
	return 0;
}

/* a blank command would run /bin/sh -c "": a program that exits at once, never the one meant */
static int check_cmds(const struct lab_run_opts *opts, char *why, size_t len)
{
	const char *cmd[2] = { opts->server_cmd, opts->client_cmd };
	int i;

	for (i = 0; i < 2; i++) {
		if (!cmd[i] || cmd[i][strspn(cmd[i], " \t\n")])
			continue;
		snprintf(why, len, "--%s-cmd is empty: give a command, or leave the option out",
			 i ? "client" : "server");
		return LAB_EXIT_USAGE;
	}
	return 0;
}

/* what can be known before the lab: an impairment's backend exists in this kernel */
static int check_backends(struct lab_run *run, char *why, size_t len)
{
	const struct lab_impair *imp;
	size_t i;

	for (i = 0; i < run->n_extra; i++) {
		imp = &run->extra[i];
		if (!lab_impair_needs_netem(imp))
			continue;
		lab_kernel_probe(&run->kernel);
		if (run->kernel.netem == 0) {
			snprintf(
				why, len,
				"--impair %s: this kernel (%s) has no sch_netem (CONFIG_NET_SCH_NETEM "
				"is not set)%s",
				imp->spec, run->kernel.release,
				imp->backend == LAB_BACKEND_NETEM && !imp->limit &&
						imp->kind != LAB_IMP_DUPLICATE &&
						imp->kind != LAB_IMP_CORRUPT ?
					"; backend=nfqueue or auto does the same here" :
					": only netem does that");
			return LAB_EXIT_SKIP;
		}
		/* netem seeds its generator (TCA_NETEM_PRNG_SEED) since Linux 6.3 */
		if (imp->kind == LAB_IMP_CORRUPT && imp->seeded && run->kernel.version &&
		    run->kernel.version < LAB_KERNEL_VERSION(6, 3, 0)) {
			snprintf(why, len,
				 "--impair %s: netem takes a seed since Linux 6.3, this is %s "
				 "(corrupt without seed= runs here)",
				 imp->spec, run->kernel.release);
			return LAB_EXIT_SKIP;
		}
	}
	return 0;
}

/* TCPLAB_EMULATED=WHAT: a short word naming the emulator, recorded in every report */
static int read_emulated(struct lab_run *run, char *why, size_t len)
{
	const char *e = getenv(LAB_EMULATED_ENV);

	if (!e || !*e)
		return 0;
	if (strlen(e) >= sizeof(run->emulated) || e[strspn(e, "abcdefghijklmnopqrstuvwxyz0-9-")]) {
		snprintf(why, len, "%s=%s: name the emulator in one short word (tcg), or unset it",
			 LAB_EMULATED_ENV, e);
		return LAB_EXIT_USAGE;
	}
	snprintf(run->emulated, sizeof(run->emulated), "%s", e);
	return 0;
}

bool lab_run_outcomes_only(const struct lab_run *run)
{
	return run->opts->outcomes_only || run->emulated[0];
}

int lab_run_setup(struct lab_run *run, const struct lab_run_opts *opts, char *why, size_t len)
{
	char known[256];
	size_t i;
	int ret;

	run->opts = opts;
	run->sc = opts->sc;
	if (!run->sc) {
		snprintf(why, len, "no scenario given");
		return LAB_EXIT_USAGE;
	}
	if (run->sc->n_params > LAB_PARAMS_MAX) {
		snprintf(why, len, "%s declares more than %d parameters", run->sc->name,
			 LAB_PARAMS_MAX);
		return LAB_EXIT_ERROR;
	}
	if (opts->port < 0 || opts->port > 65535 || (opts->port >= 40000 && opts->port <= 44999)) {
		snprintf(why, len,
			 "--port %d: use 1..65535 outside 40000..44999 (the client's own ports)",
			 opts->port);
		return LAB_EXIT_USAGE;
	}
	run->port = opts->port ? (uint16_t)opts->port : LAB_DEFAULT_PORT;
	run->variant = lab_variant_find(run->sc, opts->variant ? opts->variant : "default");
	run->expect_as = opts->expect_as ? lab_variant_find(run->sc, opts->expect_as) :
					   run->variant;
	if (!run->variant || !run->expect_as) {
		const char *typo = !run->variant ? opts->variant : opts->expect_as;

		known_list(run->sc, known, sizeof(known), true, typo);
		snprintf(why, len, "unknown variant '%s' for %s%s", typo, run->sc->name, known);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < run->sc->n_params; i++)
		run->param[i] = run->sc->params[i].def;
	for (i = 0; i < opts->n_sets; i++) {
		ret = set_param(run, opts->sets[i], why, len);
		if (ret)
			return ret;
	}
	for (i = 0; i < opts->n_impairs; i++) {
		char reason[256];

		if (run->n_extra == LAB_WIRE_MAX / 2) {
			snprintf(why, len, "at most %d --impair", LAB_WIRE_MAX / 2);
			return LAB_EXIT_USAGE;
		}
		if (lab_impair_parse(opts->impairs[i], &run->extra[run->n_extra++], reason,
				     sizeof(reason))) {
			snprintf(why, len, "--impair %s: %s", opts->impairs[i], reason);
			return LAB_EXIT_USAGE;
		}
	}
	/* a moment named by --step NAME or at=NAME is one this variant's story passes */
	ret = lab_run_check_moments(run, why, len);
	if (ret)
		return ret;
	if (opts->step && !opts->dry && !terminal()) {
		snprintf(why, len,
			 "--step pauses until Enter: it needs a terminal or a pipe on stdin (there "
			 "is no /dev/tty, and stdin is neither)");
		return LAB_EXIT_USAGE;
	}
	ret = check_cmds(opts, why, len);
	if (!ret)
		ret = check_backends(run, why, len);
	if (ret)
		return ret;
	run->scale = lab_tolerance_scale(getenv(LAB_TOLERANCE_ENV));
	if (run->scale < 0) {
		snprintf(why, len, "%s must be a number from 1 to 100", LAB_TOLERANCE_ENV);
		return LAB_EXIT_USAGE;
	}
	ret = read_emulated(run, why, len);
	if (!ret)
		ret = fill_params(run, why, len);
	if (!ret && run->sc->check)
		lab_kernel_probe(&run->kernel); /* HZ, for the timers a precondition may model */
	return ret ? ret : check_params(run, why, len);
}

int lab_run_check(const struct lab_run_opts *opts, char *why, size_t len)
{
	struct lab_run run = { .n_clients = 0 };
	int ret = lab_run_setup(&run, opts, why, len);

	free(run.params);
	free(run.obs);
	return ret;
}
