// SPDX-License-Identifier: MIT
/* inet_diag dumps over libmnl, with the socket opened inside the target namespace. */
#define _GNU_SOURCE
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "event.h"
#include "tcpdiag.h"

#define POLL_INTERVAL_US 1000
/* where linux/tcp.h's struct tcp_info keeps fields glibc's lacks (the UAPI only appends) */
#define TCPI_RCV_OOOPACK_OFFSET 224
#define TCPI_SND_WND_OFFSET 228

const char *lab_tcp_state_name(int state)
{
	static const char *const names[] = {
		"?",	     "ESTABLISHED", "SYN_SENT",	    "SYN_RECV",	  "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT",   "CLOSE",	    "CLOSE_WAIT", "LAST_ACK",
		"LISTEN",    "CLOSING",	    "NEW_SYN_RECV",
	};

	return state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state] : "?";
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct lab_sock *sk = data;

	if (mnl_attr_get_type(attr) == INET_DIAG_INFO) {
		size_t len = mnl_attr_get_payload_len(attr);
		const uint8_t *raw = mnl_attr_get_payload(attr);
		uint32_t v;

		memcpy(&sk->info, raw, len < sizeof(sk->info) ? len : sizeof(sk->info));
		sk->has_info = true;
		if (len >= TCPI_SND_WND_OFFSET + 4) {
			memcpy(&v, raw + TCPI_SND_WND_OFFSET, 4);
			sk->snd_wnd = v;
			memcpy(&v, raw + TCPI_RCV_OOOPACK_OFFSET, 4);
			sk->rcv_ooopack = v;
		}
	}
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lab_socks *out = data;
	struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct lab_sock *sk, *grown;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
		return MNL_CB_OK;
	grown = realloc(out->v, (out->n + 1) * sizeof(*out->v));
	if (!grown)
		return MNL_CB_ERROR;
	out->v = grown;
	sk = &out->v[out->n++];
	memset(sk, 0, sizeof(*sk));
	sk->snd_wnd = -1;
	sk->rcv_ooopack = -1;
	sk->state = m->idiag_state;
	memcpy(&sk->local, m->id.idiag_src, 4);
	memcpy(&sk->remote, m->id.idiag_dst, 4);
	sk->lport = ntohs(m->id.idiag_sport);
	sk->rport = ntohs(m->id.idiag_dport);
	sk->rqueue = m->idiag_rqueue;
	sk->wqueue = m->idiag_wqueue;
	sk->timer = m->idiag_timer;
	sk->timer_ms = m->idiag_expires;
	sk->retrans = m->idiag_retrans;
	mnl_attr_parse(nlh, sizeof(*m), attr_cb, sk);
	return MNL_CB_OK;
}

int lab_tcpdiag_dump(const struct lab_netns *ns, uint32_t state_mask, struct lab_socks *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = NULL;
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned int seq = (unsigned int)time(NULL), portid;
	int saved = -1, err, ret;
	ssize_t n;

	err = lab_netns_enter(ns, &saved);
	if (err)
		return err;
	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	err = nl ? 0 : lab_fail(-errno, "%s: open sock_diag", ns->name);
	lab_netns_leave(&saved);
	if (err)
		return err;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = lab_fail(-errno, "%s: bind sock_diag", ns->name);
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_INET;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = state_mask;
	req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = lab_fail(-errno, "%s: sock_diag request", ns->name);
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			err = lab_fail(-errno, "%s: sock_diag receive", ns->name);
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, msg_cb, out);
	} while (ret > 0);
	if (ret < 0)
		err = lab_fail(-errno, "%s: sock_diag dump", ns->name);
out:
	mnl_socket_close(nl);
	return err;
}

void lab_socks_free(struct lab_socks *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool matches(const struct lab_sock *sk, uint16_t port, int state)
{
	return (!port || sk->lport == port || sk->rport == port) &&
	       (state < 0 || sk->state == state);
}

size_t lab_socks_count(const struct lab_socks *s, uint16_t port, int state)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += matches(&s->v[i], port, state);
	return n;
}

const struct lab_sock *lab_socks_find(const struct lab_socks *s, uint16_t port, int state)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (matches(&s->v[i], port, state))
			return &s->v[i];
	return NULL;
}

static bool transient(const struct lab_socks *s, uint16_t port)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		int st = s->v[i].state;

		if (matches(&s->v[i], port, -1) && st != TCP_LISTEN && st != TCP_ESTABLISHED &&
		    st != TCP_CLOSE_WAIT && st != TCP_TIME_WAIT)
			return true;
	}
	return false;
}

void lab_socks_keep_port(struct lab_socks *s, uint16_t port)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (matches(&s->v[i], port, -1))
			s->v[n++] = s->v[i];
	s->n = n;
}

int lab_tcpdiag_wait_for(const struct lab_netns *ns, uint16_t port, lab_socks_pred pred,
			 const void *arg, int64_t deadline_us)
{
	struct timespec tick = { .tv_nsec = POLL_INTERVAL_US * 1000 };

	for (;;) {
		struct lab_socks s = LAB_SOCKS_INIT;
		bool done;
		int err = lab_tcpdiag_dump(ns, LAB_TCPF_ALL, &s);

		if (err)
			return err;
		lab_socks_keep_port(&s, port);
		done = pred(&s, arg);
		lab_socks_free(&s);
		if (done)
			return 0;
		if (lab_mono_us() >= deadline_us)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL); /* a polling interval, not a guess at when it is done */
	}
}

bool lab_socks_have_state(const struct lab_socks *s, const void *arg)
{
	const struct lab_socks_state *w = arg;

	return lab_socks_count(s, w->port, w->state) > 0;
}

bool lab_socks_settled(const struct lab_socks *s, const void *arg)
{
	return !transient(s, *(const uint16_t *)arg);
}

bool lab_socks_lack_state(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_have_state(s, arg);
}

bool lab_socks_queued(const struct lab_socks *s, const void *arg)
{
	const struct lab_socks_queue *q = arg;
	const struct lab_sock *sk = lab_socks_find(s, q->port, TCP_ESTABLISHED);

	return sk && sk->rqueue >= q->unread && sk->wqueue <= q->unacked;
}
