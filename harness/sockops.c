// SPDX-License-Identifier: MIT
/*
 * The step language of tcplab-server and tcplab-client: parse, then run with an event each.
 *
 * A verb is one row of verbs[] (name, argument counts, help) and one sockops_op_<name>()
 * function that does it on the socket, declared in sockops_priv.h and defined in the
 * sockops_*.c file of its concern. Parsing, argument checks, --help and the run loop all read
 * the table: a new verb is its row, its function and its declaration, nothing else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "sockops.h"
#include "sockops_priv.h"

unsigned char sockops_pattern(long index, long off)
{
	return (unsigned char)('a' + (index * 7 + off) % 26);
}

int sockops_number(const char *text, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return errno || end == text || *end || *out < 0 || *out > (1L << 30) ? -1 : 0;
}

int sockops_parse_addr(const char *text, struct sockaddr_in *sin, char *why, size_t whylen)
{
	const char *colon = strrchr(text, ':');
	char host[64];
	long port;

	if (!colon || (size_t)(colon - text) >= sizeof(host)) {
		snprintf(why, whylen, "wants ADDR:PORT, not '%s'", text);
		return -1;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	if (sockops_number(colon + 1, &port) || port > 65535) {
		snprintf(why, whylen, "bad port '%s'", colon + 1);
		return -1;
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		snprintf(why, whylen, "bad IPv4 address '%s'", host);
		return -1;
	}
	return 0;
}

/* ---- helpers shared by several verbs ------------------------------------------------------ */

/*
 * Every socket call goes through LAB_EVENT_CALL() (event.h): stamped on entry and on return, so
 * that the ladder can draw it before the packets it sends and after those that woke it.
 */
long sockops_recv(FILE *ev, int fd, void *buf, long len)
{
	return LAB_EVENT_CALL(ev, "recv", recv(fd, buf, (size_t)len, 0), NULL);
}

/* accept4(), reported as 0 or -1: the descriptor's number says nothing about TCP */
int sockops_accept(FILE *ev, int listener)
{
	int64_t t0 = lab_now_us();
	int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	int err = conn < 0 ? errno : 0;

	lab_event_emit_call(ev, "accept", t0, lab_now_us(), conn < 0 ? -1 : 0, err, NULL);
	return conn;
}

/* a call whose value was taken before: stamped at its entry @t0_us and now, at its return */
void sockops_emit_at(FILE *ev, const char *call, int64_t t0_us, long ret, const char *detail)
{
	lab_event_emit_call(ev, call, t0_us, lab_now_us(), ret, ret < 0 ? errno : 0, detail);
}

/* ---- the table: a verb is one row here and one function in a sockops_*.c file ------------- */

static const struct sockop_verb verbs[] = {
	{ "accept", 0, 0, "accept", "accept one connection; the listener is closed (server)",
	  sockops_op_accept },
	{ "listen", 0, 1, "listen[:N]",
	  "listen() (tcplab-server --bind-only); with N, listen() again with backlog N: a new "
	  "accept-queue limit (server)",
	  sockops_op_listen },
	{ "ping", 1, 1, "ping:MS",
	  "one ICMP echo request to the server, its reply awaited at most MS (client)",
	  sockops_op_ping },
	{ "bind", 1, 1, "bind:PORT", "bind() to source port PORT (client: before a connect step)",
	  sockops_op_bind },
	{ "connect", 0, 0, "connect",
	  "connect() to the server (client); if the script has one, the client does not "
	  "connect before the steps",
	  sockops_op_connect },
	{ "nbconnect", 0, 0, "nbconnect", "O_NONBLOCK, then connect(): EINPROGRESS (client)",
	  sockops_op_nbconnect },
	{ "acceptloop", 2, 3, "acceptloop:NOFILE:MIN_MS[:1]",
	  "LT epoll accept loop at RLIMIT_NOFILE = NOFILE, every fd taken (EMFILE); :1 keeps a "
	  "reserve fd to accept and shed; until go and MIN_MS (server)",
	  sockops_op_acceptloop },
	{ "epollout", 0, 1, "epollout[:MS]",
	  "epoll_wait() for EPOLLOUT, at most MS ms (default: no limit); the events as detail",
	  sockops_op_epollout },
	{ "soerror", 0, 0, "soerror", "getsockopt(SO_ERROR): the pending error, as the errno",
	  sockops_op_soerror },
	{ "recv", 0, 1, "recv[:BUF]",
	  "one recv() with a BUF-byte buffer (default 65536; 0 reads nothing)", sockops_op_recv },
	{ "queued", 1, 1, "queued:N",
	  "wait until N bytes are queued to read (or EOF); read none of them", sockops_op_queued },
	{ "drain", 0, 1, "drain[:N]",
	  "recv() until N bytes in all (0 or absent: until EOF or error)", sockops_op_drain },
	{ "send", 1, 1, "send:N", "one send() of N bytes (MSG_NOSIGNAL: EPIPE is reported)",
	  sockops_op_send },
	{ "sigsend", 1, 1, "sigsend:N",
	  "one send() of N bytes without MSG_NOSIGNAL: EPIPE comes with SIGPIPE (kills by default)",
	  sockops_op_sigsend },
	{ "close", 0, 0, "close", "close() the socket", sockops_op_close },
	{ "shutdown", 1, 1, "shutdown:wr|rd|rdwr", "shutdown() one or both directions",
	  sockops_op_shutdown },
	{ "rcvlowat", 1, 1, "rcvlowat:N", "SO_RCVLOWAT: recv() waits for N bytes (a busy reader)",
	  sockops_op_rcvlowat },
	{ "msgs", 2, 2, "msgs:COUNT:SIZE",
	  "COUNT messages of SIZE bytes, one send() each, no framing", sockops_op_msgs },
	{ "fmsgs", 2, 2, "fmsgs:COUNT:SIZE", "as msgs, each with a 4-byte big-endian length prefix",
	  sockops_op_fmsgs },
	{ "naive", 2, 3, "naive:COUNT:SIZE[:BUF]",
	  "read COUNT*SIZE bytes taking each recv() as one message (the bug)", sockops_op_naive },
	{ "framed", 1, 1, "framed:COUNT",
	  "read COUNT length-prefixed messages, reassembling across recv()s", sockops_op_framed },
	{ "request", 4, 5, "request:N:HDR:BODY:REPLY[:1]",
	  "N timed rounds: send HDR, send BODY (:1 one writev()), read REPLY", sockops_op_request },
	{ "serve", 3, 4, "serve:N:REQ:REPLY[:1]",
	  "N times: read REQ bytes, send REPLY bytes (:1 re-arm TCP_QUICKACK)", sockops_op_serve },
	{ "cork", 0, 0, "cork", "TCP_CORK on", sockops_op_cork },
	{ "nodelay", 0, 0, "nodelay", "TCP_NODELAY on (Nagle off)", sockops_op_nodelay },
	{ "quickack", 0, 0, "quickack", "TCP_QUICKACK on (the kernel turns it off again)",
	  sockops_op_quickack },
	{ "keepalive", 3, 3, "keepalive:IDLE:INTVL:CNT",
	  "SO_KEEPALIVE; TCP_KEEPIDLE, TCP_KEEPINTVL in seconds; TCP_KEEPCNT",
	  sockops_op_keepalive },
	{ "user_timeout", 1, 1, "user_timeout:MS", "TCP_USER_TIMEOUT in milliseconds",
	  sockops_op_user_timeout },
	{ "rcvtimeo", 1, 1, "rcvtimeo:MS", "SO_RCVTIMEO: recv() gives up after MS with EAGAIN",
	  sockops_op_rcvtimeo },
	{ "linger", 1, 1, "linger:SECS",
	  "SO_LINGER on with SECS (0: the next close() sends a RST, not a FIN)",
	  sockops_op_linger },
	{ "mark", 0, 0, "mark",
	  "report that the steps before it are done (the harness waits for it)", sockops_op_mark },
	{ "wait", 0, 0, "wait", "block until a line or EOF on stdin: the harness's \"go\" (Enter)",
	  sockops_op_wait },
	{ "accepts", 2, 2, "accepts:N:REPLY",
	  "accept N connections, each: one recv(), a send() of REPLY bytes", sockops_op_accepts },
	{ "fork", 0, 1, "fork[:wr|rd|rdwr]",
	  "a child holds the socket until this program ends; with HOW it first calls "
	  "shutdown(HOW)",
	  sockops_op_fork },
	/* buffers (Catalogue II, C1-C4) */
	{ "sndbuf", 1, 1, "sndbuf:N", "SO_SNDBUF N (the kernel doubles it; no autotuning)",
	  sockops_op_sndbuf },
	{ "sndtimeo", 1, 1, "sndtimeo:MS", "SO_SNDTIMEO: a blocking send() waits at most MS ms",
	  sockops_op_sndtimeo },
	{ "nbwrite", 2, 2, "nbwrite:N:MS",
	  "send(MSG_DONTWAIT) of N bytes until EAGAIN, epoll_wait() for EPOLLOUT at most MS, "
	  "again until a wait times out (an event loop's writer)",
	  sockops_op_nbwrite },
	{ "sends", 2, 3, "sends:N:COUNT[:1]",
	  "up to COUNT send()s of N bytes, until one fails; :1 with MSG_DONTWAIT",
	  sockops_op_sends },
	/* ports (Catalogue I): more sockets, bind(), ephemeral ports, restarts */
	{ "connects", 1, 3, "connects:N[:MODE[:PORT]]",
	  "N more connect()s to the peer (or its PORT), kept; MODE 1 bind() first, "
	  "2 with IP_BIND_ADDRESS_NO_PORT, 4 close() each",
	  sockops_op_connects },
	{ "idle", 1, 1, "idle:MS", "let MS milliseconds pass (a TIME_WAIT grows older)",
	  sockops_op_idle },
	{ "drains", 1, 1, "drains:N", "accept N connections in turn, each read to EOF and close()d",
	  sockops_op_drains },
	{ "closes", 1, 1, "closes:N",
	  "accept N connections, close() them all (server first), then the listener",
	  sockops_op_closes },
	{ "relisten", 1, 1, "relisten:OPTS",
	  "a new listener on the same address (OPTS as bindto), then the old one closed",
	  sockops_op_relisten },
	{ "bindto", 2, 3, "bindto:ADDR:PORT[:OPTS]",
	  "another socket bound to ADDR (0 any, 1 own) and PORT (0 own); OPTS 1 SO_REUSEADDR, "
	  "2 SO_REUSEPORT, 4 listen()",
	  sockops_op_bindto },
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

const struct sockop_verb *sockops_verb(size_t i)
{
	return i < N_VERBS ? &verbs[i] : NULL;
}

void sockops_help(FILE *out, const char *indent)
{
	int width = 0;
	size_t i;

	for (i = 0; i < N_VERBS; i++)
		if ((int)strlen(verbs[i].args) > width)
			width = (int)strlen(verbs[i].args);
	for (i = 0; i < N_VERBS; i++)
		fprintf(out, "%s%-*s  %s\n", indent, width, verbs[i].args, verbs[i].help);
}

/* ---- parse and run, generic over the table ------------------------------------------------ */

static int parse_arg(const char *text, long *out)
{
	if (!strcmp(text, "wr"))
		*out = SHUT_WR;
	else if (!strcmp(text, "rd"))
		*out = SHUT_RD;
	else if (!strcmp(text, "rdwr"))
		*out = SHUT_RDWR;
	else if (sockops_number(text, out) || *out > SOCKOPS_MAX_MSG)
		return -1;
	return 0;
}

static int parse_step(char *step, struct sockop *op, char *why, size_t whylen)
{
	char *name = strtok_r(step, ":", &step), *arg;
	const struct sockop_verb *v = NULL;
	size_t i;

	for (i = 0; name && i < N_VERBS && !v; i++)
		if (!strcmp(name, verbs[i].name))
			v = &verbs[i];
	if (!v) {
		snprintf(why, whylen, "unknown step '%s'", name ? name : "");
		return -1;
	}
	op->verb = v;
	op->nargs = 0;
	memset(op->arg, 0, sizeof(op->arg));
	while ((arg = strtok_r(NULL, ":", &step))) {
		if (op->nargs == v->max_args || op->nargs == SOCKOPS_MAX_ARGS ||
		    parse_arg(arg, &op->arg[op->nargs])) {
			snprintf(why, whylen, "step '%s': bad or extra argument '%s'", name, arg);
			return -1;
		}
		op->nargs++;
	}
	if (op->nargs < v->min_args) {
		snprintf(why, whylen, "step '%s' needs %d argument(s)", name, v->min_args);
		return -1;
	}
	return 0;
}

int sockops_parse(const char *script, struct sockop *ops, size_t max, char *why, size_t whylen)
{
	char *copy = strdup(script), *save = NULL, *step;
	int n = 0;

	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (step = strtok_r(copy, ",", &save); step; step = strtok_r(NULL, ",", &save)) {
		if ((size_t)n == max) {
			snprintf(why, whylen, "more than %zu steps", max);
			n = -1;
			break;
		}
		if (parse_step(step, &ops[n], why, whylen) < 0) {
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

int sockops_run(const struct sockop *ops, int n, int fd, FILE *events)
{
	return sockops_run_to(ops, n, fd, NULL, events);
}

bool sockops_connects(const struct sockop *ops, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ops[i].verb->run == sockops_op_connect ||
		    ops[i].verb->run == sockops_op_nbconnect)
			return true;
	return false;
}

int sockops_run_to(const struct sockop *ops, int n, int fd, const struct sockaddr_in *peer,
		   FILE *events)
{
	struct sockop_ctx c = { .fd = fd, .events = events, .target = peer };
	socklen_t len = sizeof(c.self);
	int i, err = 0;

	getsockname(fd, (struct sockaddr *)&c.self, &len);
	len = sizeof(c.peer);
	getpeername(fd, (struct sockaddr *)&c.peer, &len);
	for (i = 0; i < n && !err; i++)
		err = ops[i].verb->run(&c, ops[i].arg, ops[i].nargs);
	for (i = 0; i < c.n_kept; i++)
		close(c.kept[i]);
	if (c.fd >= 0)
		close(c.fd);
	return err;
}
