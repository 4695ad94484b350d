// SPDX-License-Identifier: MIT
/*
 * The wire's nftables backend: exact K-th drops, blackholes and rejects, a chain per impairment
 * entered from a forward-hook chain at priority -10, named counters, and nflog reports of each
 * drop (a rejected packet is dropped too, and answered).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <nftables/libnftables.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>

#include "topo.h"
#include "wire_priv.h"

#define NFLOG_GROUP 7
#define NTH_MODULUS 2000000000u

/* one nft script (commands one a line) in the wire namespace; a failure's text in w->error */
int wire_nft_cmd(struct lab_wire *w, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int saved = -1, err, rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	err = lab_netns_enter(w->ns, &saved);
	if (err)
		return err;
	rc = nft_run_cmd_from_buffer(w->nft, cmd);
	lab_netns_leave(&saved);
	if (rc) {
		const char *why = nft_ctx_get_error_buffer(w->nft);

		snprintf(w->error, sizeof(w->error), "nft: %.120s", why && *why ? why : cmd);
		return -EINVAL;
	}
	return 0;
}

static void classifier(const struct lab_match *m, char *buf, size_t len)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg" };
	size_t o = 0;
	int i;

	buf[0] = '\0';
	if (m->dir == LAB_DIR_C2S)
		o += (size_t)snprintf(buf + o, len - o, "iifname \"%s\" ", LAB_WIRE_CLIENT_IF);
	else if (m->dir == LAB_DIR_S2C)
		o += (size_t)snprintf(buf + o, len - o, "iifname \"%s\" ", LAB_WIRE_SERVER_IF);
	o += (size_t)snprintf(buf + o, len - o, "meta l4proto tcp ");
	if (m->flags >= 0) {
		o += (size_t)snprintf(buf + o, len - o,
				      "tcp flags & (fin|syn|rst|psh|ack|urg) == ");
		if (!m->flags)
			o += (size_t)snprintf(buf + o, len - o, "0x0");
		for (i = 0; i < 6; i++)
			if (m->flags & (1 << i))
				o += (size_t)snprintf(buf + o, len - o, "%s%s",
						      (m->flags & ((1 << i) - 1)) ? "|" : "",
						      names[i]);
		o += (size_t)snprintf(buf + o, len - o, " ");
	}
	if (m->sport)
		o += (size_t)snprintf(buf + o, len - o, "tcp sport %d ", m->sport);
	if (m->dport)
		snprintf(buf + o, len - o, "tcp dport %d ", m->dport);
}

/*
 * What a reject says, as nftables writes it: ICMP from the wire's own address on the way back
 * (nf_send_unreach()), or a RST forged from the destination (nf_send_reset())
 */
static const char *const reject_with[] = {
	[LAB_REJECT_NET_UNREACH] = "meta nfproto ipv4 reject with icmp type net-unreachable",
	[LAB_REJECT_HOST_UNREACH] = "meta nfproto ipv4 reject with icmp type host-unreachable",
	[LAB_REJECT_PORT_UNREACH] = "meta nfproto ipv4 reject with icmp type port-unreachable",
	[LAB_REJECT_ADMIN_PROHIBITED] = "meta nfproto ipv4 reject with icmp type admin-prohibited",
	[LAB_REJECT_TCP_RESET] = "meta l4proto tcp reject with tcp reset",
};

static int nft_action(struct lab_wire *w, int i)
{
	const struct lab_impair *imp = &w->imp[i];
	char nth[96] = "";

	/* the generator starts at modulus - 1: the first match reads 0, the K-th K - 1 */
	if (imp->kind == LAB_IMP_DROP)
		snprintf(nth, sizeof(nth), "numgen inc mod %u %ld-%ld ", NTH_MODULUS, imp->nth - 1,
			 imp->nth + imp->count - 2);
	if (imp->kind == LAB_IMP_REJECT)
		return wire_nft_cmd(w,
				    "add rule inet tcplab imp%d log group %d prefix \"imp%d\" "
				    "counter name d%d %s",
				    i, NFLOG_GROUP, i, i, reject_with[imp->reject]);
	return wire_nft_cmd(
		w,
		"add rule inet tcplab imp%d %slog group %d prefix \"imp%d\" counter name "
		"d%d drop",
		i, nth, NFLOG_GROUP, i, i);
}

int wire_nft_add(struct lab_wire *w, int i)
{
	const struct lab_impair *imp = &w->imp[i];
	/* a router answers what reaches it: after the link's delays (NFQUEUE, priority 0) */
	const char *chain = imp->kind == LAB_IMP_REJECT ? "router" : "wire";
	char match[256];
	int err, doff;

	err = wire_nft_cmd(
		w,
		"add counter inet tcplab m%d\nadd counter inet tcplab d%d\n"
		"add chain inet tcplab imp%d\nadd rule inet tcplab imp%d counter name m%d",
		i, i, i, i, i);
	if (!err && (imp->kind == LAB_IMP_DROP || imp->armed))
		err = nft_action(w, i);
	classifier(&imp->m, match, sizeof(match));
	if (!err && imp->m.len < 0)
		err = wire_nft_cmd(w, "add rule inet tcplab %s %sjump imp%d", chain, match, i);
	/* payload length = IP total length - IP header - TCP header: one rule per data offset */
	for (doff = 5; !err && imp->m.len >= 0 && doff <= 15; doff++)
		err = wire_nft_cmd(
			w,
			"add rule inet tcplab %s %sip hdrlength 5 tcp doff %d ip length %ld "
			"jump imp%d",
			chain, match, doff, 20 + 4 * doff + imp->m.len, i);
	return err;
}

static int64_t json_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

int lab_wire_refresh(struct lab_wire *w)
{
	struct json_object *root, *list, *item, *counter, *name;
	const char *text;
	size_t i;
	int err, idx;

	if (!w->nft)
		return 0;
	nft_ctx_output_set_flags(w->nft, NFT_CTX_OUTPUT_JSON);
	err = wire_nft_cmd(w, "list counters table inet tcplab");
	nft_ctx_output_set_flags(w->nft, 0);
	if (err)
		return err;
	text = nft_ctx_get_output_buffer(w->nft);
	root = json_tokener_parse(text ? text : "");
	if (!root || !json_object_object_get_ex(root, "nftables", &list)) {
		json_object_put(root);
		return -EPROTO;
	}
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < json_object_array_length(list); i++) {
		item = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(item, "counter", &counter) ||
		    !json_object_object_get_ex(counter, "name", &name))
			continue;
		text = json_object_get_string(name);
		if ((text[0] != 'm' && text[0] != 'd') || sscanf(text + 1, "%d", &idx) != 1 ||
		    idx < 0 || (size_t)idx >= w->n || w->stat[idx].backend != LAB_BACKEND_NFTABLES)
			continue;
		if (text[0] == 'm')
			w->stat[idx].matched = json_int(counter, "packets");
		else
			w->stat[idx].dropped = json_int(counter, "packets");
	}
	pthread_mutex_unlock(&w->lock);
	json_object_put(root);
	return 0;
}

/*
 * The table and its classifier chains; each impairment adds a chain of its own. Drops and
 * blackholes are classified in "wire" (priority -10: before anything is held), rejects in
 * "router" (priority 10: after NFQUEUE's holds at 0). A reject delayed that way answers like a
 * router a link away; one with no delay before it answers inside the sender's own transmit
 * (veth delivers in the sending task's softirq), while its socket may still be locked.
 */
int wire_nft_table(struct lab_wire *w)
{
	nft_ctx_buffer_output(w->nft);
	nft_ctx_buffer_error(w->nft);
	return wire_nft_cmd(w,
			    "add table inet tcplab\n"
			    "add chain inet tcplab wire { type filter hook forward priority -10; "
			    "policy accept; }\n"
			    "add chain inet tcplab router { type filter hook forward priority 10; "
			    "policy accept; }");
}

/* a blackhole armed drops (and reports) what it matches; released, it only counts */
int wire_nft_arm(struct lab_wire *w, int i, bool on)
{
	int err;

	if (on)
		return nft_action(w, i);
	err = wire_nft_cmd(w, "flush chain inet tcplab imp%d", i);
	return err ? err : wire_nft_cmd(w, "add rule inet tcplab imp%d counter name m%d", i, i);
}

/* ---- nflog: each drop reported with the packet ---------------------------------------------- */

static int nflog_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFULA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int nflog_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lab_wire *w = data;
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	struct lab_pkt p;
	int idx;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nflog_attr, tb);
	if (!tb[NFULA_PAYLOAD] || !tb[NFULA_PREFIX] ||
	    sscanf(mnl_attr_get_str(tb[NFULA_PREFIX]), "imp%d", &idx) != 1 ||
	    lab_trace_parse(DLT_RAW, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &p))
		return MNL_CB_OK;
	pthread_mutex_lock(&w->lock);
	wire_log_packet(w, idx, true, 0, &p);
	pthread_mutex_unlock(&w->lock);
	return MNL_CB_OK;
}

void wire_nflog_drain(struct lab_wire *w)
{
	wire_nl_drain(w->nflog, nflog_cb, w);
}

int wire_nflog_bind(struct mnl_socket *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(WIRE_COPY_RANGE),
					       .copy_mode = NFULNL_COPY_PACKET };

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = 1;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFLOG_GROUP);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH,
			 htonl(1)); /* each report at once, not 100 or 1 s */
	return wire_nl_talk(s, nlh);
}
