// SPDX-License-Identifier: MIT
/* For people in front of a lab: --step pauses with the commands to look inside, --keep. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "kept.h"
#include "run.h"

/* in a user namespace of our own (not root): nsenter must join it too */
static bool own_userns(void)
{
	struct stat self, init;

	return !stat("/proc/self/ns/user", &self) && !stat("/proc/1/ns/user", &init) &&
	       self.st_ino != init.st_ino;
}

/* stop here until Enter, saying how to look inside; the story's clocks stop meanwhile */
static void stop_here(struct lab_run *run, const char *what)
{
	static const char *const look[] = { "ss -tanoi", "nft list ruleset",
					    "ss -tanoi; nstat -az" };
	FILE *out = run->opts->out ? run->opts->out : stdout, *tty;
	char line[16], user[64] = "", self[PATH_MAX] = "tcplab", dir[PATH_MAX];
	int64_t paused;
	ssize_t n;
	enum lab_host h;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = '\0';
	if (!realpath(run->dir, dir))
		snprintf(dir, sizeof(dir), "%s", run->dir);
	lab_run_note(run, "harness", "note", what);
	if (own_userns())
		snprintf(user, sizeof(user), "--user=/proc/%d/ns/user ", (int)getpid());
	fprintf(out, "\n== step: %s\n   look inside (another terminal):\n", what);
	for (h = 0; h < LAB_NHOSTS; h++)
		fprintf(out, "     nsenter %s--net=/proc/%d/fd/%d sh -c '%s'   # %s\n", user,
			(int)getpid(), run->topo.ns[h].fd, look[h], lab_host_name(h));
	fprintf(out, "     %s show %s/client.pcap   # the capture so far\n", self, dir);
	fprintf(out, "   Enter goes on > ");
	fflush(out);
	paused = lab_mono_us();
	lab_run_clock_pause(run, true);
	tty = fopen("/dev/tty", "r");
	if (!fgets(line, sizeof(line), tty ? tty : stdin))
		fprintf(out, "\n");
	if (tty)
		fclose(tty);
	/* the story's clocks stop while the class looks: no time spent paused becomes an ERROR */
	run->deadline_us += lab_mono_us() - paused;
	lab_run_clock_pause(run, false);
}

/* plain --step stops at every phase of the lab; --step NAME only at its moment */
void lab_run_phase(struct lab_run *run, const char *what)
{
	if (run->opts->step && !run->opts->step_at && !run->dry)
		stop_here(run, what);
}

void lab_run_pause(struct lab_run *run, const char *name, const char *what)
{
	char text[256];

	if (!run->opts->step || run->dry ||
	    (run->opts->step_at && strcmp(run->opts->step_at, name)))
		return;
	snprintf(text, sizeof(text), "moment %s: %s", name, what);
	stop_here(run, text);
}

/*
 * --keep: pin the three namespaces under predictable names, record who kept them (kept.c), and
 * say how to look inside. The wire's NFQUEUE rules go (nobody holds their verdicts any more); its
 * nftables rules stay.
 */
void lab_run_keep(struct lab_run *run)
{
	char *flush[] = { "iptables", "-w", "-F", "FORWARD", NULL };
	const char *id = strrchr(run->dir, '-') + 1;
	struct lab_proc p = LAB_PROC_INIT;
	char name[LAB_NHOSTS][LAB_KEPT_NAME_MAX];
	struct lab_owner owner;

	if (!lab_proc_spawn(&p, "iptables", &run->topo.ns[LAB_WIRE], flush, false))
		lab_proc_wait(&p, lab_mono_us() + 5000000);
	lab_proc_free(&p);
	lab_owner_self(&owner);
	if (lab_kept_pin(&run->topo, id, &owner, run->dir, name)) {
		fprintf(stderr, "tcplab: --keep: cannot keep the lab: %s (root only)\n",
			lab_error_last());
		return;
	}
	snprintf(run->kept, sizeof(run->kept),
		 "\nkept: the lab stays until `tcplab clean`. Look inside:\n"
		 "  ip netns exec %s ss -tanoi            # the client's sockets\n"
		 "  ip netns exec %s ss -tanoi            # the server's\n"
		 "  ip netns exec %s nstat -az | grep -i tcp\n"
		 "  ip netns exec %s nft list ruleset     # the wire's rules and counters\n"
		 "  ip netns exec %s tcpdump -nn -i c0 tcp # watch it live\n",
		 name[LAB_CLIENT], name[LAB_SERVER], name[LAB_SERVER], name[LAB_WIRE],
		 name[LAB_CLIENT]);
}
