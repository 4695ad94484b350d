/* SPDX-License-Identifier: MIT */
#ifndef LAB_CLI_H
#define LAB_CLI_H

#include "lab.h"
#include "registry.h"

/*
 * The command line: one file per subcommand (cmd_NAME.c), each a row of the table in main.c.
 * A command gets argv from its own name on and returns an exit code (lab.h).
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
/* cli_help() - with "--help"/"-h" as the only argument, print @cmd's help: true if it did */
int cli_help_wanted(int argc, char **argv);
void cli_help(const char *cmd);
/* cli_wrap() - @text wrapped at 78 columns with @indent */
void cli_wrap(const char *text, int indent);

#endif
