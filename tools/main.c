// SPDX-License-Identifier: MIT
/* tcplab - make TCP failures happen on purpose, the same way every time, and prove it. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "suggest.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

#define RUN_HELP                                                                           \
	"  --variant V     which variant (default: default)\n"                             \
	"  --set K=V       change a parameter (see explain); bounds are checked\n"         \
	"  --impair SPEC   an extra impairment on the wire, on top of the scenario's:\n"   \
	"                  drop[,nth=K][,count=N] | blackhole | delay=T[,jitter=T] |\n"    \
	"                  loss=P[,seed=N] | reorder=P[,hold=T][,seed=N] |\n"              \
	"                  duplicate=P | corrupt=P[,seed=N] | rate=RATE |\n"               \
	"                  reject=icmp-net-unreachable|icmp-host-unreachable|\n"           \
	"                  icmp-port-unreachable|icmp-admin-prohibited|tcp-reset, then\n"  \
	"                  dir=c2s|s2c|both flags=FSRPAU len=N sport=P dport=P\n"          \
	"                  limit=N backend=auto|nftables|nfqueue|netem; T has its\n"       \
	"                  unit (50ms, 500us, 2s), P its % (2%, 0.5%), RATE tc's\n"        \
	"                  (10mbit, 125kbps); each key once\n"                             \
	"                  e.g. --impair delay=20ms,dir=both --impair loss=2%,seed=7\n"    \
	"                  ...,at=MOMENT or at=T: installed then, on the running lab\n"    \
	"  --server-cmd CMD, --client-cmd CMD\n"                                           \
	"                  your own program instead of ours, run by /bin/sh -c in\n"       \
	"                  the same namespace, with {server_addr} {port} {server}\n"       \
	"                  {client_addr} filled in; the server must listen on port\n"      \
	"                  7357 within 10 s. Expectations that need our programs'\n"       \
	"                  reports are n/a; the network's decide the verdict.\n"           \
	"                  e.g. --client-cmd 'curl -s http://{server}/'\n"                 \
	"  --keep          leave the lab's namespaces in place, named\n"                   \
	"                  tcplab-ID-{client,wire,server}, and print the\n"                \
	"                  `ip netns exec` commands to look inside (root)\n"               \
	"  --step [NAME]   pause at each phase and moment of the story (Enter goes on),\n" \
	"                  with the commands to look (ss, nstat, the capture so far);\n"   \
	"                  NAME: only at that moment (tcplab explain lists them);\n"       \
	"                  timing expectations are shown but not judged\n"                 \
	"  --results DIR   where DIR/NAME/RUN-ID/ goes (default: results)\n"               \
	"  --expect-as V   judge the run by variant V's expectations (to show that\n"      \
	"                  they can fail: a remedy judged as the failure must fail)\n"     \
	"  --quiet         no ladder, only the expectations and the verdict\n"             \
	"  --outcomes-only timed expectations are shown but do not decide the\n"           \
	"                  verdict (for runs on a loaded machine)\n"                       \
	"  --repeat N      N runs on fresh labs: how many reproduced, and the spread\n"    \
	"                  of every timed expectation (the flake detector)\n"              \
	"  --json          the report (report.json's content) on stdout as one line\n"     \
	"                  of JSON, one per run with --repeat; all else on stderr\n"       \
	"  --port N        the server's port (default 7357, which no Wireshark\n"          \
	"                  dissector claims; not 40000..44999, the client's ports)\n"

const struct lab_cmd lab_cmds[] = {
	{ "list", cmd_list, "[--names | --cases | --markdown | --params | --captures]",
	  "the scenarios, their variants and what each shows",
	  "  --names     one scenario name per line (for scripts)\n"
	  "  --cases     the suite's cases: each variant as itself (exit 0), each remedy judged\n"
	  "              as the failure (exit 1), with budget and tags (tests/scenario-cases.txt)\n"
	  "  --markdown  the README's scenario table\n"
	  "  --params    every parameter: scenario, name, default, min, max\n"
	  "  --captures  every variant's \"in the capture\" text\n" },
	{ "explain", cmd_explain, "NAME",
	  "the story: symptom, kernel mechanism, capture, remedy, parameters, by hand", "" },
	{ "run", cmd_run, "NAME [options]",
	  "build a lab (client -- wire -- server namespaces), run the scenario, check it",
	  RUN_HELP },
	{ "show", cmd_show, "FILE [--conn C] [--all] [--filter EXPR | EXPR]",
	  "any TCP capture (pcap or pcapng; Ethernet, VLAN, Linux cooked v1/v2, raw IP, loopback; "
	  "IPv4 and IPv6): its connections, then their ladders",
	  "  (no option)     the connections (endpoints, packets, bytes each way, duration,\n"
	  "                  how each ended), then every ladder of a file with up to 10\n"
	  "                  connections, else the ladders of those that ended badly (RST,\n"
	  "                  still open, retransmissions); what is not drawn is counted\n"
	  "  --conn C        only the ladders of the connections C names: a port (80), an\n"
	  "                  address, ADDR:PORT ([::1]:80 for IPv6) or both ends\n"
	  "                  (10.0.0.1:80-10.0.0.2:41234); exit 1 when none matches\n"
	  "  --all           every connection in the summary and every ladder\n"
	  "  --filter EXPR   only the frames a pcap-filter(7) expression matches, compiled for\n"
	  "                  the file's link type (as tcpdump: also the words after FILE)\n" },
	{ "facts", cmd_facts, "RUN-DIR",
	  "what a re-run must reproduce of a run (SYN/FIN/RST, payload bytes per direction and "
	  "capture, up to the end of the story): pcaps/*/facts.txt",
	  "" },
	{ "clean", cmd_clean, "[--all]",
	  "remove the labs you kept with run --keep (and nothing else)",
	  "  (no option)  only your own kept labs: kept by the same user ($SUDO_UID under sudo)\n"
	  "               with the same $TCPLAB_TAG (unset is a tag too); other users' labs and\n"
	  "               those of a test suite running at the same time stay\n"
	  "  --all        every kept lab (tcplab-ID-*), whoever kept it\n" },
	{ "help", cmd_help, "[COMMAND]", "this text, or one command's", "" },
	{ "version", cmd_version, "", "tcplab's version (also: tcplab --version, -V)", "" },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const char exits[] =
	"exit: 0 behaved as documented, 1 did not, 2 usage error, 77 cannot run here\n"
	"      (e.g. not root), 99 the lab itself broke, 128+N stopped by signal N (Ctrl-C: 130;\n"
	"      the lab is gone, partial captures are kept and readable)\n";

static const struct lab_cmd *find_cmd(const char *name)
{
	const struct lab_cmd *c;

	for (c = lab_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("tcplab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see: tcplab help%s%s)\n", cmd ? " " : "", cmd ? cmd : "");
	return LAB_EXIT_USAGE;
}

void cli_help(const char *name)
{
	const struct lab_cmd *c = find_cmd(name);

	printf("usage: tcplab %s%s%s\n\n", c->name, c->args[0] ? " " : "", c->args);
	cli_wrap(c->summary, 2);
	printf("\n%s", c->help);
	printf("  --help, -h      this text\n\n%s", exits);
}

static void usage(void)
{
	const struct lab_cmd *c;

	printf("usage: tcplab COMMAND [ARGS]   (tcplab help COMMAND, or COMMAND --help)\n\n");
	for (c = lab_cmds; c->name; c++) {
		printf("  %-8s %s%s%s\n", c->name, c->name, c->args[0] ? " " : "", c->args);
		cli_wrap(c->summary, 11);
	}
	printf("\n%s", exits);
}

/* "unknown command 'rn': did you mean run?" */
static int unknown_command(const char *what, const char *name)
{
	struct lab_suggest s = LAB_SUGGEST_INIT(name);
	const struct lab_cmd *c;

	for (c = lab_cmds; c->name; c++)
		lab_suggest_add(&s, c->name);
	if (lab_suggest_best(&s))
		return usage_error(NULL, "%s '%s': did you mean %s?", what, name,
				   lab_suggest_best(&s));
	return usage_error(NULL, "%s '%s'", what, name);
}

static int cmd_help(int argc, char **argv)
{
	int first = cli_positional("help", argc, argv, 0, 1, "at most one command name");

	if (first < 0)
		return cli_exit(first);
	if (first == argc) {
		usage();
		return 0;
	}
	if (!find_cmd(argv[first]))
		return unknown_command("help: no command", argv[first]);
	cli_help(argv[first]);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	int first = cli_positional("version", argc, argv, 0, 0, "");

	if (first < 0)
		return cli_exit(first);
	printf("tcplab %s\n", lab_version());
	return 0;
}

int main(int argc, char **argv)
{
	const struct lab_cmd *c;

	if (argc < 2)
		return usage_error(NULL, "no command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(1, argv + 1);
	if (argv[1][0] == '-')
		return usage_error(NULL,
				   "unknown option '%s'; valid before a command: --help, -h, "
				   "--version, -V",
				   argv[1]);
	c = find_cmd(argv[1]);
	if (!c)
		return unknown_command("unknown command", argv[1]);
	return c->fn(argc - 1, argv + 1);
}
