/* SPDX-License-Identifier: MIT */
#ifndef LAB_CLI_H
#define LAB_CLI_H

#include <getopt.h>

#include "lab.h"
#include "registry.h"

/*
 * The command line: one file per subcommand (cmd_NAME.c), each a row of the table in main.c.
 * A command gets argv from its own name on and returns an exit code (lab.h). Every command
 * takes --help (and -h); every usage error is one line on stderr and exit 2.
 */
struct lab_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args; /* "NAME [--variant V] ..." */
	const char *summary; /* one line for `tcplab help` */
	const char *help; /* the rest of `tcplab help NAME` (options), may be "" */
};

extern const struct lab_cmd lab_cmds[];

int cmd_list(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_facts(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* usage_error() - "tcplab: <message> (see: tcplab help CMD)" on stderr; LAB_EXIT_USAGE */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_help() - print @cmd's help: usage, summary, options, exit codes */
void cli_help(const char *cmd);
/* cli_wrap() - @text wrapped at 78 columns with @indent */
void cli_wrap(const char *text, int indent);

/* what cli_option() and cli_positional() return besides an option's val */
enum { CLI_END = -1, CLI_HELP = -2, CLI_BAD = -3 };
#define CLI_HELP_OPTION                        \
	{                                      \
		"help", no_argument, NULL, 'h' \
	}

/* cli_exit() - the exit code after CLI_HELP (0: help was asked for) or CLI_BAD (2) */
static inline int cli_exit(int code)
{
	return code == CLI_HELP ? 0 : LAB_EXIT_USAGE;
}

/*
 * cli_option() - the next option of @cmd (getopt_long over @opts, which end with
 * CLI_HELP_OPTION; set optind = 1 first): its val; CLI_END after the last; CLI_HELP once the
 * help is printed; CLI_BAD once one line says what was wrong and what is valid
 */
int cli_option(const char *cmd, int argc, char **argv, const struct option *opts);

/*
 * cli_positional() - for a command with no options but --help: the index of its first argument
 * when there are @min to @max of them (@what names them: "one scenario name"), else CLI_HELP or
 * CLI_BAD as cli_option()
 */
int cli_positional(const char *cmd, int argc, char **argv, int min, int max, const char *what);

/* cli_scenario() - the scenario @name, or NULL after "unknown scenario, did you mean" */
const struct lab_scenario *cli_scenario(const char *cmd, const char *name);

#endif
