// SPDX-License-Identifier: MIT
/*
 * The labels of report.html's ladder (html_layout.h): what each row says (a packet with its
 * analysis notes, a call, a state, the wire's drops), in which column and colour, wrapped to its
 * column by the monospace font's advance into a box of known size. html_layout.c places them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "html_layout_priv.h"
#include "report.h"

#define ADVANCE 0.6021 /* DejaVu Sans Mono: 1233 / 2048 em */
#define ASCENT 0.93 /* ... and its ascent and descent, em */
#define DESCENT 0.24
#define FONT 14
#define PAD 10 /* between a label and a timeline */

/*
 * One line per packet annotation: a flag that annotate.c sets (a bool, or a bit of a flag word:
 * PKT_BIT(analysis, LAB_AN_ZERO_WINDOW, "zero window")), and what Wireshark's analysis calls it
 */
#define PKT_BIT(field, bit, text)                                                                \
	{                                                                                        \
		offsetof(struct lab_pkt, field), sizeof(((struct lab_pkt *)0)->field), bit, text \
	}
#define PKT_FLAG(field, text) PKT_BIT(field, 1u, text)
static const struct {
	size_t off, size;
	unsigned int bit;
	const char *text;
} pkt_flags[] = {
	PKT_FLAG(retrans, "retransmission"),
	PKT_FLAG(keepalive, "keep-alive"),
	PKT_FLAG(lost, "lost on the wire"),
	PKT_BIT(analysis, LAB_AN_ZERO_WINDOW, "zero window"),
	PKT_BIT(analysis, LAB_AN_WINDOW_PROBE, "window probe"),
	PKT_BIT(analysis, LAB_AN_WINDOW_UPDATE, "window update"),
	PKT_BIT(analysis, LAB_AN_DUP_ACK, "duplicate ACK"),
	PKT_BIT(analysis, LAB_AN_SACK, "SACK"),
	PKT_BIT(analysis, LAB_AN_DSACK, "D-SACK"),
};

/* the flag word or bool at @off of @p, of @size bytes */
static unsigned int pkt_word(const struct lab_pkt *p, size_t off, size_t size)
{
	const unsigned char *at = (const unsigned char *)p + off;
	uint32_t w32 = 0;
	uint16_t w16 = 0;

	if (size == 1)
		return *at;
	if (size == 2) {
		memcpy(&w16, at, 2);
		return w16;
	}
	memcpy(&w32, at, size < 4 ? size : 4);
	return w32;
}

int lab_svg_text_px(const char *s, int font)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return (int)ceil((double)n * font * ADVANCE);
}

/* the packet a row's packet answers, going back: the last one of its connection from the peer */
static const struct lab_pkt *answered(const struct lab_ladder_row *rows, size_t i)
{
	const struct lab_pkt *p = rows[i].pkt;

	while (i--) {
		const struct lab_pkt *q = rows[i].pkt;

		if (q && q->src.s_addr == p->dst.s_addr && q->sport == p->dport &&
		    q->dport == p->sport)
			return q;
	}
	return NULL;
}

void lab_svg_pkt_notes(const struct lab_ladder_row *rows, size_t i, char *buf, size_t len)
{
	const struct lab_pkt *p = rows[i].pkt, *q = answered(rows, i);
	size_t k, o = 0;

	buf[0] = '\0';
#define NOTE(text) \
	(o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? ", " : "", text))
	for (k = 0; k < sizeof(pkt_flags) / sizeof(pkt_flags[0]); k++) {
		/* Linux's window probe has a keep-alive's shape (snd_una - 1): say what it is */
		if (pkt_flags[k].off == offsetof(struct lab_pkt, keepalive) &&
		    p->analysis & LAB_AN_WINDOW_PROBE)
			continue;
		if (pkt_word(p, pkt_flags[k].off, pkt_flags[k].size) & pkt_flags[k].bit)
			NOTE(pkt_flags[k].text);
	}
	/* what the analysis reads from the packet and the one it answers */
	if (q && q->keepalive && p->flags == LAB_TH_ACK && !p->len)
		NOTE("keep-alive ACK");
	/* RFC 5961 4.2: a SYN on an established connection gets an ACK of what it knows */
	if (q && q->flags == LAB_TH_SYN && p->flags == LAB_TH_ACK && !p->len &&
	    p->ack != q->seq + 1)
		NOTE("challenge ACK");
	if (p->flags & LAB_TH_RST && q && q->flags == LAB_TH_SYN)
		NOTE("refused: no socket");
#undef NOTE
	if (o >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

/*
 * The client's port in a socket's "local:port-remote:port" (the detail's last word): the
 * first port at the client, the second at the server; NULL without one
 */
static const char *client_port(const struct lab_event *ev)
{
	const char *tuple = strrchr(ev->detail, ' '), *port;

	if (!tuple || !strchr(tuple, '-'))
		return NULL;
	port = strcmp(ev->who, "server") ? strchr(tuple, ':') : strrchr(tuple, ':');
	return port && port[1] >= '1' && port[1] <= '9' ? port + 1 : NULL;
}

/* a drop note's rule: "(drop dir=to-client ...)" */
static void event_text(const struct lab_ladder_row *r, const struct lab_run *run, bool ports,
		       char *text, size_t len)
{
	const struct lab_event *ev = r->ev;
	const struct lab_series *series = run ? lab_report_series_of(run, ev) : NULL;
	bool wire = !strcmp(ev->who, "wire"), note = !strcmp(ev->call, "note");
	/* the column names the client and the server; a second client, the wire... say who */
	bool named = !strcmp(ev->who, "client") || !strcmp(ev->who, "server");
	size_t o = named ? 0 : (size_t)snprintf(text, len, "%s: ", ev->who), left = len - o;
	const char *spec = strrchr(ev->detail, '(');

	if (!strcmp(ev->call, "state")) {
		/* "TIME_WAIT 192.0.2.1:42298-198.51.100.1:7357": the state is what matters */
		size_t word = strcspn(ev->detail, " ");
		bool state = word && ev->detail[0] >= 'A' && ev->detail[0] <= 'Z' &&
			     strspn(ev->detail, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") == word;

		const char *port = client_port(ev);

		/* several connections: whose state ("ESTABLISHED :44292") */
		if (state && ports && port)
			snprintf(text + o, left, "%.*s :%.*s (sampled)", (int)word, ev->detail,
				 (int)strspn(port, "0123456789"), port);
		else
			snprintf(text + o, left, "%.*s (sampled)", state ? (int)word : 80,
				 ev->detail);
	} else if (!strcmp(ev->call, "tcp_state")) {
		/* "SYN_SENT -> ESTABLISHED 192.0.2.1:42298-...": the change, whose if several */
		const char *tuple = strrchr(ev->detail, ' '), *port = client_port(ev);

		snprintf(text + o, left, "%.*s", tuple ? (int)(tuple - ev->detail) : 80,
			 ev->detail);
		if (ports && port)
			snprintf(text + strlen(text), len - strlen(text), " :%.*s",
				 (int)strspn(port, "0123456789"), port);
	} else if (wire && !note && !strcmp(ev->call, "drop") && spec) {
		snprintf(text + o, left, "X dropped by %s", spec); /* the packet: the red arrow */
	} else if (note || wire || !strcmp(ev->call, "icmp")) {
		snprintf(text + o, left, "%s", ev->detail);
	} else if (series) { /* its value is a measurement, not a return value */
		snprintf(text + o, left, "%s: %.3f ms", series->name, ev->ret / 1e3);
	} else { /* at its entry; a call that blocked across packets also at its return */
		lab_ladder_call_str(r, 0, text + o, left);
	}
}

static void row_text(const struct lab_svg_layout *L, size_t i, const struct lab_run *run,
		     char *text, size_t len)
{
	const struct lab_pkt *p = L->rows[i].pkt;
	char notes[96];
	size_t o = 0;

	if (!p) {
		event_text(&L->rows[i], run, L->ports, text, len);
		return;
	}
	if (L->ports)
		o = (size_t)snprintf(text, len,
				     "port %u: ", L->rows[i].to_server ? p->sport : p->dport);
	lab_ladder_describe(p, text + o, len - o);
	if (p->keepalive && strlen(text) > 11 && !strcmp(text + strlen(text) - 11, " keep-alive"))
		text[strlen(text) - 11] = '\0'; /* said once, with the other notes below */
	lab_svg_pkt_notes(L->rows, i, notes, sizeof(notes));
	if (notes[0])
		snprintf(text + strlen(text), len - strlen(text), " (%s)", notes);
}

static enum lab_svg_column column_of(const struct lab_ladder_row *r)
{
	if (r->pkt || !strcmp(r->ev->who, "wire") || !strcmp(r->ev->who, "harness"))
		return LAB_SVG_COL_MIDDLE;
	return strcmp(r->ev->who, "server") ? LAB_SVG_COL_CLIENT : LAB_SVG_COL_SERVER;
}

/* the x range a column's labels may use */
static void column_span(enum lab_svg_column c, int *x0, int *x1)
{
	static const int span[][2] = {
		[LAB_SVG_COL_TIME] = { 2, LAB_SVG_X_TIME },
		[LAB_SVG_COL_CLIENT] = { LAB_SVG_X_TIME + PAD, LAB_SVG_X_CLIENT - PAD },
		[LAB_SVG_COL_MIDDLE] = { LAB_SVG_X_CLIENT + 16, LAB_SVG_X_SERVER - 16 },
		[LAB_SVG_COL_SERVER] = { LAB_SVG_X_SERVER + PAD, LAB_SVG_W - 4 },
	};

	*x0 = span[c][0];
	*x1 = span[c][1];
}

/* @text wrapped at spaces into lines of at most @cap characters; cut with "..." past the last */
static void wrap(struct lab_svg_label *lb, const char *text, int cap)
{
	const char *s = text;

	snprintf(lb->full, sizeof(lb->full), "%s", text);
	lb->n_lines = 0;
	cap = cap < 8 ? 8 : cap > (int)sizeof(lb->line[0]) - 4 ? (int)sizeof(lb->line[0]) - 4 : cap;
	while (*s && lb->n_lines < LAB_SVG_MAX_LINES) {
		int n = (int)strlen(s), take = n;
		char *line = lb->line[lb->n_lines++];

		if (n > cap) {
			if (lb->n_lines == LAB_SVG_MAX_LINES) { /* the last line: cut, say so */
				snprintf(line, sizeof(lb->line[0]), "%.*s...", cap - 3, s);
				lb->cut = true;
				return;
			}
			for (take = cap; take > cap / 2 && s[take] != ' '; take--)
				continue;
			if (s[take] != ' ')
				take = cap; /* one long word: broken where the line ends */
		}
		snprintf(line, sizeof(lb->line[0]), "%.*s", take, s);
		s += take;
		while (*s == ' ')
			s++;
	}
	if (!lb->n_lines)
		lb->line[lb->n_lines++][0] = '\0';
}

const char *svg_row_color(const struct lab_ladder_row *r)
{
	const struct lab_event *ev = r->ev;

	if (r->pkt)
		return r->pkt->lost		  ? "#c62828" :
		       r->pkt->retrans		  ? "#ef6c00" :
		       r->pkt->flags & LAB_TH_RST ? "#6a1b9a" :
						    "#1565c0";
	if (r->part == LAB_LADDER_ENTRY || !strcmp(ev->call, "note") || !strcmp(ev->call, "icmp"))
		return "#555";
	if (ev->err[0] || !strcmp(ev->who, "wire"))
		return "#c62828";
	return !strcmp(ev->call, "state") || !strcmp(ev->call, "tcp_state") ? "#00695c" : "#111";
}

void svg_make_label(struct lab_svg_label *lb, enum lab_svg_column c, int font, const char *text)
{
	int x0, x1, w = 0, k;

	column_span(c, &x0, &x1);
	memset(lb, 0, sizeof(*lb));
	lb->col = c;
	lb->font = font;
	wrap(lb, text, (int)((x1 - x0) / (font * ADVANCE)));
	for (k = 0; k < lb->n_lines; k++) {
		int lw = lab_svg_text_px(lb->line[k], font);

		w = lw > w ? lw : w;
	}
	lb->box.w = w;
	lb->box.h = (lb->n_lines - 1) * SVG_LINE + (int)ceil(font * (ASCENT + DESCENT));
	lb->box.x = c == LAB_SVG_COL_TIME || c == LAB_SVG_COL_CLIENT ? x1 - w :
		    c == LAB_SVG_COL_MIDDLE			     ? (x0 + x1) / 2 - w / 2 :
								       x0;
}

void svg_row_label(const struct lab_svg_layout *L, size_t i, const struct lab_run *run,
		   struct lab_svg_label *lb)
{
	char s[320];

	row_text(L, i, run, s, sizeof(s));
	svg_make_label(lb, column_of(&L->rows[i]), FONT, s);
	lb->color = svg_row_color(&L->rows[i]);
	lb->italic = !L->rows[i].pkt && !strcmp(L->rows[i].ev->call, "state");
}
