// SPDX-License-Identifier: MIT
/*
 * Where report.html's ladder puts things (html_layout.h): rows on a time axis, labels wrapped
 * to their column by the monospace font's advance, arrows from capture to capture, cuts in long
 * silences, the fold of long ladders; and the check that no label overlaps another, crosses a
 * timeline or leaves the drawing. html_ladder.c only draws what this decided.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_layout.h"
#include "report.h"

#define ADVANCE 0.6021 /* DejaVu Sans Mono: 1233 / 2048 em */
#define ASCENT 0.93 /* ... and its ascent and descent, em */
#define DESCENT 0.24
#define FONT 14
#define LINE 18 /* px per line of a 14 px label */
#define TOP 64 /* the first row's moment: the headings above */
#define PAD 10 /* between a label and a timeline */
#define CUT_PX 44 /* a cut silence: its band, the marker in it */
#define FOLD_ROWS 90 /* a ladder longer than this folds its middle */
#define FOLD_HEAD 40 /* ... keeping about this many rows before the fold */
#define FOLD_TAIL 30 /* ... and this many after it */

/*
 * One line per packet annotation: a flag that trace.c sets (a bool, or a bit of a flag word:
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
	for (k = 0; k < sizeof(pkt_flags) / sizeof(pkt_flags[0]); k++)
		if (pkt_word(p, pkt_flags[k].off, pkt_flags[k].size) & pkt_flags[k].bit)
			NOTE(pkt_flags[k].text);
	/* what the analysis reads from the packet and the one it answers */
	if (!p->win && !(p->flags & (LAB_TH_RST | LAB_TH_SYN | LAB_TH_FIN)))
		NOTE("zero window");
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

static const char *row_color(const struct lab_ladder_row *r)
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

/* a label of @text in column @c, its last line's bottom at @bottom (set later: box.y) */
static void make_label(struct lab_svg_label *lb, enum lab_svg_column c, int font, const char *text)
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
	lb->box.h = (lb->n_lines - 1) * LINE + (int)ceil(font * (ASCENT + DESCENT));
	lb->box.x = c == LAB_SVG_COL_TIME || c == LAB_SVG_COL_CLIENT ? x1 - w :
		    c == LAB_SVG_COL_MIDDLE			     ? (x0 + x1) / 2 - w / 2 :
								       x0;
}

static int add_label(struct lab_svg_layout *L, const struct lab_svg_label *lb)
{
	struct lab_svg_label *grown = realloc(L->labels, (L->n_labels + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	L->labels = grown;
	L->labels[L->n_labels++] = *lb;
	return 0;
}

/* where the other capture saw each packet: -1 lost or unmatched */
static void arrivals(const struct lab_ladder *l, const struct lab_svg_layout *L, int64_t *at)
{
	size_t i, next[2] = { 0, 0 };

	for (i = 0; i < L->n; i++) {
		const struct lab_pkt *p = L->rows[i].pkt;
		const struct lab_trace *other = L->rows[i].to_server ? l->server_side :
								       l->client_side;
		size_t *j = &next[L->rows[i].to_server], k;

		at[i] = -1;
		if (!p || p->lost || !other || !l->server_side)
			continue;
		for (k = *j; k < other->n && !lab_trace_same_packet(p, &other->v[k]); k++)
			continue;
		if (k < other->n) {
			at[i] = other->v[k].t_us > p->t_us ? other->v[k].t_us : p->t_us;
			*j = k + 1; /* a wire without reordering keeps the order */
		}
	}
}

/* the y of moment @t: at the axis' pace from the row before it, up to the next row */
static int y_of(const struct lab_svg_layout *L, int64_t t)
{
	size_t lo = 0, hi = L->n, i;
	int64_t dt;

	while (lo < hi) { /* the last row at or before @t */
		size_t mid = (lo + hi) / 2;

		if (L->rows[mid].t_us <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return L->n ? L->y[0] : TOP;
	i = lo - 1;
	dt = t - L->rows[i].t_us;
	if (i + 1 < L->n && L->rows[i + 1].t_us - L->rows[i].t_us > LAB_SVG_CUT_US)
		return L->y[i] +
		       (int)((double)dt / (double)(L->rows[i + 1].t_us - L->rows[i].t_us) *
			     (L->y[i + 1] - L->y[i]));
	if (i + 1 < L->n && L->y[i] + dt * LAB_SVG_PX_PER_MS / 1e3 > L->y[i + 1])
		return L->y[i + 1];
	return L->y[i] + (int)(dt * LAB_SVG_PX_PER_MS / 1e3);
}

/* no arrow between rows @a-1 and @a: the ladder may be cut there */
static bool clean_cut(const struct lab_svg_layout *L, size_t a)
{
	size_t k;

	for (k = 0; k < L->n_arrows; k++)
		if (L->arrows[k].row < a && L->arrows[k].y2 > L->y[a - 1])
			return false;
	return true;
}

/* a long ladder: fold its middle, between two rows where no packet is in flight */
static void fold(struct lab_svg_layout *L, const int *lines)
{
	size_t a, b;

	L->fold_from = L->fold_to = 0;
	if (L->n <= FOLD_ROWS)
		return;
	for (a = FOLD_HEAD; a < L->n - FOLD_TAIL && !clean_cut(L, a); a++)
		continue;
	for (b = L->n - FOLD_TAIL; b > a && !clean_cut(L, b); b--)
		continue;
	if (b < a + 20)
		return;
	L->fold_from = a;
	L->fold_to = b;
	/* the bands: from under row a-1's moment to under row b-1's */
	L->fold_y0 = L->y[a - 1] + 1;
	L->fold_y1 = L->y[b - 1] + 1;
	(void)lines;
}

static int arrows(struct lab_svg_layout *L, const struct lab_ladder *l)
{
	int64_t *at = calloc(L->n ? L->n : 1, sizeof(*at)), transit[2] = { 0, 0 };
	size_t i, n_transit[2] = { 0, 0 };

	if (!at)
		return -ENOMEM;
	arrivals(l, L, at);
	for (i = 0; i < L->n; i++)
		if (at[i] >= 0) {
			transit[L->rows[i].to_server] += at[i] - L->rows[i].t_us;
			n_transit[L->rows[i].to_server]++;
		}
	L->arrows = calloc(L->n ? L->n : 1, sizeof(*L->arrows));
	if (!L->arrows) {
		free(at);
		return -ENOMEM;
	}
	for (i = 0; i < L->n; i++) {
		const struct lab_ladder_row *r = &L->rows[i];
		struct lab_svg_arrow *a = &L->arrows[L->n_arrows];
		bool up = r->to_server;

		if (!r->pkt)
			continue;
		a->row = i;
		a->color = row_color(r);
		a->lost = r->pkt->lost;
		a->x1 = up ? LAB_SVG_X_CLIENT : LAB_SVG_X_SERVER;
		a->y1 = L->y[i];
		if (a->lost) { /* half way, at the pace of the others in its direction */
			int64_t half = n_transit[up] ? transit[up] / (int64_t)n_transit[up] / 2 : 0;

			a->x2 = LAB_SVG_X_WIRE;
			a->y2 = a->y1 + (int)(half * LAB_SVG_PX_PER_MS / 1e3);
		} else {
			int64_t trip = at[i] >= 0 ? at[i] - r->t_us : 0;
			int pace = a->y1 + (int)(trip * LAB_SVG_PX_PER_MS / 1e3);
			int cut = y_of(L, r->t_us + trip);

			/*
			 * At the axis' pace from its departure: rows stretched apart for their
			 * labels do not make a 20 us trip look long. Every row after its arrival
			 * is at least that far down; a cut axis may bring it nearer.
			 */
			a->x2 = up ? LAB_SVG_X_SERVER : LAB_SVG_X_CLIENT;
			a->y2 = pace < cut ? pace : cut;
		}
		if (a->y2 > L->height - 30)
			L->height = a->y2 + 30;
		L->n_arrows++;
	}
	free(at);
	return 0;
}

/*
 * Each row's moment on the axis: after the row before it, by the time between them at the
 * axis' pace, or by the room its label needs (and a gap marker's), or by a cut's band.
 */
static void place_rows(struct lab_svg_layout *L, const int *lines, const bool *marked)
{
	size_t i;
	int at = TOP;

	for (i = 0; i < L->n; i++) {
		int need = lines[i] * LINE + 2 + (marked[i] ? LINE + 4 : 0);
		int64_t dt = i ? L->rows[i].t_us - L->rows[i - 1].t_us : 0;
		int pace = (int)(dt * LAB_SVG_PX_PER_MS / 1e3);

		if (i && dt > LAB_SVG_CUT_US)
			pace = CUT_PX + need;
		at += i ? (pace > need ? pace : need) : need;
		L->y[i] = at;
	}
	L->height = at + 30;
}

/* a row's labels: its time, and its text in its column, ending just above its moment */
static int row_labels(struct lab_svg_layout *L, size_t i, const struct lab_run *run,
		      struct lab_svg_label *text)
{
	struct lab_svg_label t;
	char s[32];

	snprintf(s, sizeof(s), "%.3f", (double)(L->rows[i].t_us - L->t0) / 1e3);
	make_label(&t, LAB_SVG_COL_TIME, 13, s);
	t.row = i;
	t.color = "#555";
	t.box.y = L->y[i] - 2 - t.box.h;
	text->row = i;
	text->box.y = L->y[i] - 2 - text->box.h;
	return add_label(L, &t) ?: add_label(L, text);
}

/* the marker of a silence: "+42.1 ms without a packet", centred on the wire above row @i */
static int gap_label(struct lab_svg_layout *L, size_t i, int64_t us, int bottom)
{
	struct lab_svg_label g;
	char s[64];

	snprintf(s, sizeof(s), "... +%.1f ms without a packet ...", us / 1e3);
	make_label(&g, LAB_SVG_COL_MIDDLE, 13, s);
	g.row = SIZE_MAX;
	g.color = "#777";
	g.box.y = bottom - g.box.h;
	(void)i;
	return add_label(L, &g);
}

/* the length of a cut silence, written across its band */
static int cut_label(struct lab_svg_layout *L, const struct lab_svg_cut *c)
{
	struct lab_svg_label g;
	char s[64];

	if (c->us >= 1000000)
		snprintf(s, sizeof(s), "+%.3f s (time axis cut)", c->us / 1e6);
	else
		snprintf(s, sizeof(s), "+%.1f ms (time axis cut)", c->us / 1e3);
	make_label(&g, LAB_SVG_COL_MIDDLE, 13, s);
	g.row = SIZE_MAX;
	g.color = "#333";
	g.box.y = (c->y0 + c->y1) / 2 - g.box.h / 2;
	return add_label(L, &g);
}

int lab_svg_layout(struct lab_svg_layout *L, const struct lab_ladder *l, const struct lab_run *run)
{
	struct lab_svg_label *text = NULL;
	int *lines = NULL, err = -ENOMEM;
	bool *marked = NULL;
	int64_t *silence = NULL, last = 0, gap;
	struct in_addr client;
	unsigned int first_port = 0;
	size_t i;

	memset(L, 0, sizeof(*L));
	L->n = lab_ladder_rows(l, &L->rows, &client);
	if (!L->rows)
		return -ENOMEM;
	L->y = calloc(L->n + 1, sizeof(*L->y));
	lines = calloc(L->n + 1, sizeof(*lines));
	marked = calloc(L->n + 1, sizeof(*marked));
	silence = calloc(L->n + 1, sizeof(*silence));
	text = calloc(L->n + 1, sizeof(*text));
	L->cuts = calloc(L->n + 1, sizeof(*L->cuts));
	if (!L->y || !lines || !marked || !silence || !text || !L->cuts)
		goto out;
	L->t0 = L->n ? L->rows[0].t_us : 0;
	for (i = 0; i < L->n; i++) { /* one connection, or several: the client's ports */
		const struct lab_pkt *p = L->rows[i].pkt;
		unsigned int port = !p ? 0 : L->rows[i].to_server ? p->sport : p->dport;

		if (port && !first_port)
			first_port = port;
		L->ports |= port && port != first_port;
	}
	gap = lab_ladder_gap_us(L->rows, L->n);
	for (i = 0; i < L->n; i++) {
		char s[320];

		row_text(L, i, run, s, sizeof(s));
		make_label(&text[i], column_of(&L->rows[i]), FONT, s);
		text[i].color = row_color(&L->rows[i]);
		text[i].italic = !L->rows[i].pkt && !strcmp(L->rows[i].ev->call, "state");
		lines[i] = text[i].n_lines;
		/* a silence between packets long against the round trip: marked where it ends */
		if (L->rows[i].pkt && last && L->rows[i].t_us - last >= gap &&
		    !(i && L->rows[i].t_us - L->rows[i - 1].t_us > LAB_SVG_CUT_US)) {
			marked[i] = true;
			silence[i] = L->rows[i].t_us - last;
		}
		if (L->rows[i].pkt)
			last = L->rows[i].t_us;
	}
	place_rows(L, lines, marked);
	for (i = 0; i < L->n; i++) {
		if (row_labels(L, i, run, &text[i]))
			goto out;
		if (i && L->rows[i].t_us - L->rows[i - 1].t_us > LAB_SVG_CUT_US) {
			int bottom = text[i].box.y - 2 - (marked[i] ? LINE + 4 : 0);

			L->cuts[L->n_cuts] = (struct lab_svg_cut){
				.y0 = bottom - CUT_PX + 4,
				.y1 = bottom - 4,
				.us = L->rows[i].t_us - L->rows[i - 1].t_us,
			};
			if (cut_label(L, &L->cuts[L->n_cuts++]))
				goto out;
		}
		if (marked[i] && gap_label(L, i, silence[i], text[i].box.y - 4))
			goto out;
	}
	if (arrows(L, l))
		goto out;
	fold(L, lines);
	err = 0;
out:
	free(text);
	free(lines);
	free(marked);
	free(silence);
	if (err)
		lab_svg_layout_free(L);
	return err;
}

void lab_svg_layout_free(struct lab_svg_layout *L)
{
	free(L->rows);
	free(L->y);
	free(L->labels);
	free(L->arrows);
	free(L->cuts);
	memset(L, 0, sizeof(*L));
}

static bool overlap(const struct lab_svg_box *a, const struct lab_svg_box *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

size_t lab_svg_layout_check(const struct lab_svg_layout *L, char *why, size_t len)
{
	static const int timelines[] = { LAB_SVG_X_CLIENT, LAB_SVG_X_SERVER };
	size_t i, j, k, bad = 0;

	if (len)
		why[0] = '\0';
#define PROBLEM(...) (bad++ ? 0 : snprintf(why, len, __VA_ARGS__))
	for (i = 0; i < L->n_labels; i++) {
		const struct lab_svg_box *a = &L->labels[i].box;

		if (a->x < 0 || a->x + a->w > LAB_SVG_W || a->y < 0 || a->y + a->h > L->height)
			PROBLEM("\"%s\" leaves the drawing (x %d..%d of %d)", L->labels[i].full,
				a->x, a->x + a->w, LAB_SVG_W);
		for (k = 0; k < 2; k++)
			if (a->x <= timelines[k] + 2 && a->x + a->w >= timelines[k] - 2)
				PROBLEM("\"%s\" crosses a timeline (x %d..%d, timeline %d)",
					L->labels[i].full, a->x, a->x + a->w, timelines[k]);
		/* sorted by row: a label can only meet the next few */
		for (j = i + 1; j < L->n_labels && L->labels[j].box.y < a->y + a->h + 200; j++)
			if (overlap(a, &L->labels[j].box))
				PROBLEM("\"%s\" overlaps \"%s\"", L->labels[i].full,
					L->labels[j].full);
	}
#undef PROBLEM
	return bad;
}
