// SPDX-License-Identifier: MIT
/*
 * Options and names on the command line: getopt_long() with our own one-line errors (opterr is
 * off: getopt's "unrecognized option" plus ours made two lines), --help built into every
 * command, and "did you mean X?" for a mistyped option, command or scenario.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "suggest.h"

static const struct option help_only[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };

/* "--a, --b, --c" */
static void option_names(const struct option *opts, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (; opts->name && o < len; opts++)
		o += (size_t)snprintf(buf + o, len - o, "%s--%s", o ? ", " : "", opts->name);
}

static int bad_option(const char *cmd, const char *arg, const struct option *opts)
{
	char valid[512], dashed[48], hint[64] = "";
	struct lab_suggest s = LAB_SUGGEST_INIT(arg);
	const struct option *o;
	size_t n = strcspn(arg, "=");

	option_names(opts, valid, sizeof(valid));
	if (!strncmp(arg, "--", 2)) {
		snprintf(dashed, sizeof(dashed), "%.*s", (int)(n - 2 < 40 ? n - 2 : 40), arg + 2);
		s.word = dashed;
		for (o = opts; o->name; o++)
			lab_suggest_add(&s, o->name);
		if (lab_suggest_best(&s))
			snprintf(hint, sizeof(hint), ": did you mean --%s?", lab_suggest_best(&s));
	}
	return usage_error(cmd, "%s: unknown option '%.*s'%s Valid: %s", cmd, (int)n, arg,
			   hint[0] ? hint : ".", valid);
}

/*
 * getopt said '?': an unknown long option (optopt 0; the argument it was at is argv[optind - 1]),
 * a value given to an option that takes none (optopt is its val), or an unknown letter (optopt)
 */
static int bad_argument(const char *cmd, int argc, char **argv, const struct option *opts)
{
	const char *at = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	char letter[3] = { '-', (char)optopt, '\0' };
	const struct option *o;

	if (!optopt) {
		bad_option(cmd, at, opts);
		return CLI_BAD;
	}
	for (o = opts; o->name; o++) {
		if (o->val != optopt || strncmp(at, "--", 2) || !strchr(at, '='))
			continue;
		usage_error(cmd, "%s: --%s takes no value (not '%s')", cmd, o->name, at);
		return CLI_BAD;
	}
	bad_option(cmd, letter, opts);
	return CLI_BAD;
}

int cli_option(const char *cmd, int argc, char **argv, const struct option *opts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":h", opts, NULL);
	switch (c) {
	case 'h':
		cli_help(cmd);
		return CLI_HELP;
	case ':':
		usage_error(cmd, "%s: %s wants a value", cmd, argv[optind - 1]);
		return CLI_BAD;
	case '?':
		return bad_argument(cmd, argc, argv, opts);
	default:
		return c;
	}
}

int cli_positional(const char *cmd, int argc, char **argv, int min, int max, const char *what)
{
	int c, n;

	optind = 1;
	while ((c = cli_option(cmd, argc, argv, help_only)) != CLI_END)
		if (c == CLI_HELP || c == CLI_BAD)
			return c;
	n = argc - optind;
	if (n >= min && n <= max)
		return optind;
	if (max == 0)
		usage_error(cmd, "%s takes no arguments (not '%s')", cmd, argv[optind]);
	else if (n < min)
		usage_error(cmd, "%s takes %s (none given)", cmd, what);
	else
		usage_error(cmd, "%s takes %s, not also '%s'", cmd, what, argv[optind + max]);
	return CLI_BAD;
}

const struct lab_scenario *cli_scenario(const char *cmd, const char *name)
{
	const struct lab_scenario *sc = lab_scenario_find(name);
	struct lab_suggest s = LAB_SUGGEST_INIT(name);
	size_t i;

	if (sc)
		return sc;
	for (i = 0; i < lab_n_scenarios; i++)
		lab_suggest_add(&s, lab_scenarios[i]->name);
	if (lab_suggest_best(&s))
		fprintf(stderr,
			"tcplab: %s: unknown scenario '%s': did you mean %s? (tcplab list "
			"shows them all)\n",
			cmd, name, lab_suggest_best(&s));
	else
		fprintf(stderr, "tcplab: %s: unknown scenario '%s' (tcplab list shows them all)\n",
			cmd, name);
	return NULL;
}
