// SPDX-License-Identifier: MIT
/* tcplab - make TCP failures happen on purpose, the same way every time, and prove it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <pcap/pcap.h>

#include "ladder.h"
#include "netns.h"
#include "expect.h"
#include "lab.h"
#include "registry.h"
#include "timing.h"
#include "topo.h"
#include "trace.h"

static const char usage[] =
	"usage: tcplab list\n"
	"       tcplab explain NAME\n"
	"       tcplab show FILE.pcap\n"
	"       tcplab clean\n"
	"       tcplab facts RUN-DIR\n"
	"       tcplab run NAME [--variant V] [--set KEY=VALUE]... [--results DIR]\n"
	"                       [--impair SPEC]... [--server-cmd CMD] [--client-cmd CMD]\n"
	"                       [--expect-as V] [--quiet] [--outcomes-only]\n"
	"                       [--repeat N]\n"
	"\n"
	"  list      the scenarios, their variants and what each shows\n"
	"  explain   the story: symptom, kernel mechanism, capture, remedy, parameters\n"
	"  show      the ladder of any capture (pcap or pcapng, IPv4/TCP): one line per\n"
	"            packet, retransmissions, RSTs, zero windows, long silences\n"
	"  facts     what a re-run must reproduce of a run (SYN/FIN/RST, payload bytes per\n"
	"            direction and capture, up to the end of the story): pcaps/*/facts.txt\n"
	"  clean     remove every lab kept with run --keep (and nothing else)\n"
	"  run       build a lab (client -- wire -- server namespaces), run the scenario, check it\n"
	"            --variant V     which variant (default: default)\n"
	"            --set K=V       change a parameter (see explain); bounds are checked\n"
	"            --impair SPEC   an extra impairment on the wire, on top of the scenario's:\n"
	"                            drop[,nth=K] | blackhole | delay=T[,jitter=T] |\n"
	"                            loss=P[,seed=N] | reorder=P[,hold=T][,seed=N], then\n"
	"                            dir=c2s|s2c|both flags=FSRPAU len=N sport=P dport=P\n"
	"                            backend=auto|nftables|nfqueue|netem\n"
	"                            e.g. --impair delay=20ms,dir=both --impair loss=2%,seed=7\n"
	"            --server-cmd CMD, --client-cmd CMD\n"
	"                            your own program instead of ours, run by /bin/sh -c in\n"
	"                            the same namespace, with {server_addr} {port} {server}\n"
	"                            {client_addr} filled in; the server must listen on port\n"
	"                            5000 within 10 s. Expectations that need our programs'\n"
	"                            reports are n/a; the network's decide the verdict.\n"
	"                            e.g. --client-cmd 'curl -s http://{server}/'\n"
	"            --keep          leave the lab's namespaces in place, named\n"
	"                            tcplab-ID-{client,wire,server}, and print the\n"
	"                            `ip netns exec` commands to look inside (root)\n"
	"            --step          pause at each phase of the story (Enter goes on), with the\n"
	"                            commands to look (ss, nstat, the capture so far); timing\n"
	"                            expectations are shown but not judged\n"
	"            --results DIR   where DIR/NAME/RUN-ID/ goes (default: results)\n"
	"            --expect-as V   judge the run by variant V's expectations (to show that\n"
	"                            they can fail: a remedy judged as the failure must fail)\n"
	"            --quiet         no ladder, only the expectations and the verdict\n"
	"            --outcomes-only timed expectations are shown but do not decide the\n"
	"                            verdict (for runs on a loaded machine)\n"
	"            --repeat N      N runs on fresh labs: how many reproduced, and the spread\n"
	"                            of every timed expectation (the flake detector)\n"
	"\n"
	"exit: 0 behaved as documented, 1 did not, 2 usage error, 77 cannot run here\n"
	"      (e.g. not root), 99 the lab itself broke, 128+N stopped by signal N (Ctrl-C: 130;\n"
	"      the lab is gone, partial captures are kept and readable)\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("tcplab: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see: tcplab --help)\n", stderr);
	return LAB_EXIT_USAGE;
}

static int cmd_list(void)
{
	size_t i, j;

	for (i = 0; i < lab_n_scenarios; i++) {
		const struct lab_scenario *sc = lab_scenarios[i];
		char variants[128] = "";
		size_t o = 0;

		for (j = 0; j < sc->n_variants; j++)
			o += (size_t)snprintf(variants + o, sizeof(variants) - o, "%s%s",
					      j ? "," : "", lab_variant_at(sc, j)->name);
		printf("%-16s %-18s %s\n", sc->name, variants, sc->summary);
	}
	return 0;
}

/* print @text wrapped at 78 columns with @indent */
static void wrap(const char *text, int indent)
{
	int col = indent;
	const char *p = text;

	printf("%*s", indent, "");
	while (*p) {
		size_t word = strcspn(p, " \n");

		if (col > indent && col + (int)word > 78) {
			printf("\n%*s", indent, "");
			col = indent;
		}
		printf("%.*s", (int)word, p);
		col += (int)word;
		p += word;
		if (*p == '\n') {
			printf("\n%*s", indent, "");
			col = indent;
			p++;
		} else if (*p == ' ') {
			if (col > indent) {
				putchar(' ');
				col++;
			}
			p++;
		}
	}
	putchar('\n');
}

static int cmd_explain(const char *name)
{
	const struct lab_scenario *sc = lab_scenario_find(name);
	size_t i;

	if (!sc)
		return usage_error("unknown scenario '%s'", name);
	printf("%s: %s\n\n", sc->name, sc->summary);
	printf("SYMPTOM\n");
	wrap(sc->symptom, 2);
	printf("\nMECHANISM\n");
	wrap(sc->mechanism, 2);
	printf("\nIN THE CAPTURE\n");
	wrap(sc->capture, 2);
	printf("\nREMEDY\n");
	wrap(sc->remedy, 2);
	printf("\nVARIANTS\n");
	for (i = 0; i < sc->n_variants; i++)
		printf("  %-14s %s\n", lab_variant_at(sc, i)->name, lab_variant_at(sc, i)->summary);
	printf("\nPARAMETERS (--set KEY=VALUE)\n");
	for (i = 0; i < sc->n_params; i++) {
		const struct lab_param *p = &sc->params[i];

		printf("  %-16s default %-8ld range %ld..%ld %s\n", p->name, p->def, p->min, p->max,
		       p->unit);
		wrap(p->help, 20);
	}
	printf("\nBY HAND (what the lab runs for each variant, in namespaces you make: CLIENT and\n"
	       "SERVER joined through a router; the lab's addresses are %s and %s)\n",
	       LAB_CLIENT_ADDR, LAB_SERVER_ADDR);
	for (i = 0; i < sc->n_variants; i++) {
		char *by_hand = lab_by_hand(sc, lab_variant_at(sc, i)->name);

		printf("  # %s\n", lab_variant_at(sc, i)->name);
		for (const char *l = by_hand ? by_hand : ""; *l;) { /* one per line, never wrapped */
			size_t len = strcspn(l, "\n");

			printf("  %.*s\n", (int)len, l);
			l += len + (l[len] == '\n');
		}
		free(by_hand);
	}
	printf("\nRUN IT\n  tcplab run %s\n  tcplab run %s --variant %s\n", sc->name, sc->name,
	       sc->n_variants > 1 ? lab_variant_at(sc, 1)->name : "default");
	printf("  tcplab run %s --step        # pause at each phase, look with ss/nstat\n",
	       sc->name);
	printf("  then open results/%s/RUN-ID/report.html; reference captures: pcaps/%s/\n",
	       sc->name, sc->name);
	return 0;
}

/* --repeat: N fresh labs; how many reproduced, and the spread of every timed expectation */
static int repeat(struct lab_run_opts *o, long n)
{
	struct lab_expects *ex = calloc((size_t)n, sizeof(*ex));
	int64_t *vals = calloc((size_t)n, sizeof(*vals));
	long i, j, as_documented = 0, not_documented = 0, errors = 0;
	size_t k;
	int ret = 0;

	if (!ex || !vals)
		return LAB_EXIT_ERROR;
	for (i = 0; i < n; i++) {
		o->expects_out = &ex[i];
		o->quiet = o->quiet || i > 0;
		ret = lab_run_main(o);
		if (ret == LAB_EXIT_USAGE || ret == LAB_EXIT_SKIP)
			goto out;
		as_documented += ret == LAB_EXIT_AS_DOCUMENTED;
		not_documented += ret == LAB_EXIT_NOT_AS_DOCUMENTED;
		errors += ret == LAB_EXIT_ERROR;
	}
	printf("\n== repeat: %ld of %ld runs as documented, %ld not, %ld lab errors\n",
	       as_documented, n, not_documented, errors);
	printf("%-52s %6s  %s\n", "expectation", "held", "spread (min / p50 / max)");
	for (k = 0; k < ex[0].n; k++) {
		const struct lab_expect *e = &ex[0].v[k];
		long held = 0, m = 0;

		for (j = 0; j < n; j++) { /* the same check in another run: by key, not by label */
			size_t q;

			for (q = 0; q < ex[j].n && strcmp(ex[j].v[q].key, e->key); q++)
				;
			if (q == ex[j].n)
				continue;
			held += ex[j].v[q].ok;
			if (ex[j].v[q].kind == LAB_EXPECT_WINDOW || ex[j].v[q].kind == LAB_EXPECT_AT_MOST)
				vals[m++] = ex[j].v[q].observed_us;
		}
		printf("%-52s %3ld/%-3ld", e->what, held, n);
		if (m)
			printf(" %.1f / %.1f / %.1f ms (window %s)",
			       lab_percentile(vals, (size_t)m, 0) / 1e3,
			       lab_percentile(vals, (size_t)m, 0.5) / 1e3,
			       lab_percentile(vals, (size_t)m, 1.0) / 1e3, e->expected);
		putchar('\n');
	}
	ret = errors ? LAB_EXIT_ERROR : not_documented ? LAB_EXIT_NOT_AS_DOCUMENTED : 0;
out:
	for (i = 0; i < n; i++)
		lab_expects_free(&ex[i]);
	free(ex);
	free(vals);
	return ret;
}

/* tcplab show FILE: the ladder of any capture, and what is worth a look in it */
static int cmd_show(const char *path)
{
	struct lab_trace t = LAB_TRACE_INIT;
	struct lab_ladder l = { .client_side = &t };
	char why[512] = "";
	size_t i, rst = 0, zero = 0, retrans = 0;
	int64_t gap;
	int err;

	err = lab_trace_read(&t, path, why, sizeof(why));
	if (err) {
		fprintf(stderr, "tcplab: show: %s\n", why);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < t.n; i++) {
		rst += !!(t.v[i].flags & LAB_TH_RST);
		retrans += t.v[i].retrans;
		zero += !t.v[i].win && !(t.v[i].flags & (LAB_TH_RST | LAB_TH_SYN));
	}
	printf("%s: %zu TCP/IPv4 packets, %zu other frames, %zu malformed (link type %s)\n", path,
	       t.n, t.other, t.bad, pcap_datalink_val_to_name(t.linktype) ?: "?");
	if (why[0])
		printf("warning: the file ends early (%s): showing what came before\n", why);
	printf("\n");
	lab_ladder_write(stdout, &l);
	gap = lab_trace_max_gap(&t, (struct in_addr){ 0 }, NULL);
	printf("\nnotes: %zu retransmission(s), %zu RST, %zu zero-window advertisement(s), longest "
	       "silence %.1f ms\n",
	       retrans, rst, zero, (double)gap / 1e3);
	lab_trace_free(&t);
	return 0;
}

/*
 * tcplab facts RUN-DIR: what a re-run must reproduce (the facts.txt files in pcaps/), from
 * both captures of a run, up to the end of its story (report.json)
 */
static int cmd_facts(const char *dir)
{
	char path[PATH_MAX], why[512] = "";
	struct json_object *report, *end;
	int64_t until;
	int side;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	report = json_object_from_file(path);
	if (!report || !json_object_object_get_ex(report, "story_end_us", &end)) {
		json_object_put(report);
		fprintf(stderr,
			"tcplab: facts: %s: not a run folder (no story_end_us in its "
			"report.json)\n",
			dir);
		return LAB_EXIT_USAGE;
	}
	until = json_object_get_int64(end);
	json_object_put(report);
	for (side = 0; side < 2; side++) {
		struct lab_trace t = LAB_TRACE_INIT;

		snprintf(path, sizeof(path), "%s/%s.pcap", dir, side ? "server" : "client");
		if (lab_trace_read(&t, path, why, sizeof(why))) {
			fprintf(stderr, "tcplab: facts: %s\n", why);
			return LAB_EXIT_USAGE;
		}
		printf("%s-side capture:\n", side ? "server" : "client");
		lab_trace_facts(&t, until, "  ", stdout);
		lab_trace_free(&t);
	}
	return 0;
}

/* tcplab clean: remove every lab kept with --keep (/run/netns/tcplab-*), and nothing else */
static int cmd_clean(void)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	int n = 0, failed = 0;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "tcplab-", 7))
			continue;
		if (lab_netns_unpin(e->d_name))
			failed++;
		else
			printf("removed %s\n", e->d_name), n++;
	}
	if (d)
		closedir(d);
	printf("%d kept namespace(s) removed%s\n", n, failed ? "; some could not be (root?)" : "");
	return failed ? LAB_EXIT_ERROR : 0;
}

/* after Ctrl-C: say what is left of the run, and that the lab itself is gone */
static void report_interrupted(int sig, const char *dir)
{
	static const char *const files[] = { "client.pcap", "server.pcap" };
	char path[PATH_MAX + 16], why[256];
	size_t i;

	fprintf(stderr,
		"\ntcplab: interrupted (SIG%s): stopped; the lab's namespaces, programs "
		"and rules are gone with it\n",
		sigabbrev_np(sig));
	if (!dir[0])
		return;
	for (i = 0; i < 2; i++) {
		struct lab_trace t = LAB_TRACE_INIT;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, F_OK))
			continue;
		if (lab_trace_read(&t, path, why, sizeof(why)))
			fprintf(stderr, "tcplab: partial capture %s: %s\n", path, why);
		else
			fprintf(stderr,
				"tcplab: partial capture kept, readable: %s (%zu TCP packets)\n",
				path, t.n);
		lab_trace_free(&t);
	}
	snprintf(path, sizeof(path), "%s/INTERRUPTED", dir);
	FILE *f = fopen(path, "w");

	if (f) {
		fprintf(f, "interrupted by SIG%s before the run was judged; captures are partial\n",
			sigabbrev_np(sig));
		fclose(f);
	}
}

/*
 * The lab runs in a child process in its own process group, dying with us (PDEATHSIG). On
 * Ctrl-C (or SIGTERM, SIGHUP) we kill it: everything it built is anonymous and goes with it,
 * the captures on disk stay readable (flushed per packet), and we say what is left.
 */
static int supervised(struct lab_run_opts *o, long reps)
{
	sigset_t sigs, old;
	char dir[PATH_MAX] = "", buf[PATH_MAX];
	int fds[2], status = 0, ret = LAB_EXIT_ERROR, sig = 0;
	pid_t parent = getpid(), child;
	siginfo_t si;
	ssize_t n;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return LAB_EXIT_ERROR;
	sigprocmask(SIG_BLOCK, &sigs, &old);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(LAB_EXIT_ERROR);
		if (o->step) /* it reads Enter from the terminal: stay in the foreground group */
			signal(SIGINT, SIG_IGN);
		else
			setpgid(0, 0); /* the terminal's Ctrl-C reaches us, not the lab */
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(fds[0]);
		o->dir_fd = fds[1];
		ret = reps > 1 ? repeat(o, reps) : lab_run_main(o);
		fflush(NULL);
		_exit(ret);
	}
	close(fds[1]);
	if (child < 0) {
		close(fds[0]);
		return LAB_EXIT_ERROR;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		if (sigwaitinfo(&sigs, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			sig = si.si_signo;
			kill(child, SIGKILL);
		}
		if (waitpid(child, &status, sig ? 0 : WNOHANG) == child)
			break;
	}
	/* the last folder the child announced is the run that was going on */
	while ((n = read(fds[0], buf, sizeof(buf) - 1)) > 0) {
		char *line, *save = NULL;

		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			snprintf(dir, sizeof(dir), "%s", line);
	}
	close(fds[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (sig) {
		report_interrupted(sig, dir);
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : LAB_EXIT_ERROR;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "variant", required_argument, NULL, 'v' },
					      { "set", required_argument, NULL, 's' },
					      { "results", required_argument, NULL, 'r' },
					      { "expect-as", required_argument, NULL, 'e' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "repeat", required_argument, NULL, 'n' },
					      { "impair", required_argument, NULL, 'i' },
					      { "outcomes-only", no_argument, NULL, 'O' },
					      { "server-cmd", required_argument, NULL, 'S' },
					      { "keep", no_argument, NULL, 'K' },
					      { "step", no_argument, NULL, 'P' },
					      { "client-cmd", required_argument, NULL, 'C' },
					      { NULL, 0, NULL, 0 } };
	struct lab_run_opts o = { 0 };
	long reps = 1;
	char *end;
	const char **sets = calloc((size_t)argc, sizeof(*sets));
	const char **impairs = calloc((size_t)argc, sizeof(*impairs));
	int c, ret;

	if (!sets || !impairs) {
		free(sets);
		free(impairs);
		return LAB_EXIT_ERROR;
	}
	o.impairs = impairs;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o.variant = optarg;
			break;
		case 's':
			sets[o.n_sets++] = optarg;
			break;
		case 'i':
			impairs[o.n_impairs++] = optarg;
			break;
		case 'r':
			o.results = optarg;
			break;
		case 'e':
			o.expect_as = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'O':
			o.outcomes_only = true;
			break;
		case 'S':
			o.server_cmd = optarg;
			break;
		case 'K':
			o.keep_lab = true;
			break;
		case 'P':
			o.step = true;
			o.outcomes_only = true; /* a class looking at `ss` is not on the clock */
			break;
		case 'C':
			o.client_cmd = optarg;
			break;
		case 'n':
			reps = strtol(optarg, &end, 10);
			if (*end || end == optarg || reps < 1 || reps > 1000) {
				free(sets);
				free(impairs);
				return usage_error("--repeat %s: wants a count from 1 to 1000",
						   optarg);
			}
			break;
		default:
			free(sets);
			free(impairs);
			return usage_error("%s: bad option for run", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc) {
		free(sets);
		free(impairs);
		return usage_error("%s", optind == argc ? "run needs a scenario name" :
							  "run takes one scenario name");
	}
	o.sc = lab_scenario_find(argv[optind]);
	if (!o.sc) {
		free(sets);
		free(impairs);
		return usage_error("unknown scenario '%s' (see: tcplab list)", argv[optind]);
	}
	o.sets = sets;
	/* without root, an unprivileged user namespace (where the kernel allows it) will do */
	lab_netns_become_root();
	ret = supervised(&o, reps);
	free(sets);
	free(impairs);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "no command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "list") && argc == 2)
		return cmd_list();
	if (!strcmp(argv[1], "explain") && argc == 3)
		return cmd_explain(argv[2]);
	if (!strcmp(argv[1], "show") && argc == 3)
		return cmd_show(argv[2]);
	if (!strcmp(argv[1], "facts") && argc == 3)
		return cmd_facts(argv[2]);
	if (!strcmp(argv[1], "clean") && argc == 2)
		return cmd_clean();
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "explain") || !strcmp(argv[1], "show") ||
	    !strcmp(argv[1], "clean") || !strcmp(argv[1], "facts"))
		return usage_error("%s: wrong number of arguments", argv[1]);
	return usage_error("unknown command '%s'", argv[1]);
}
