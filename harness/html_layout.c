// SPDX-License-Identifier: MIT
/*
 * Where report.html's ladder puts things (html_layout.h): rows on a time axis, their labels
 * (made by html_label.c) just above their moments, arrows from capture to capture, cuts in long
 * silences, the fold of long ladders; and the check that no label overlaps another, crosses a
 * timeline or leaves the drawing. html_ladder.c only draws what this decided.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_layout_priv.h"

#define TOP 64 /* the first row's moment: the headings above */
#define CUT_PX 44 /* a cut silence: its band, the marker in it */
#define FOLD_ROWS 90 /* a ladder longer than this folds its middle */
#define FOLD_HEAD 40 /* ... keeping about this many rows before the fold */
#define FOLD_TAIL 30 /* ... and this many after it */

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
		a->color = svg_row_color(r);
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
		int need = lines[i] * SVG_LINE + 2 + (marked[i] ? SVG_LINE + 4 : 0);
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
	svg_make_label(&t, LAB_SVG_COL_TIME, 13, s);
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
	svg_make_label(&g, LAB_SVG_COL_MIDDLE, 13, s);
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
	svg_make_label(&g, LAB_SVG_COL_MIDDLE, 13, s);
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
		svg_row_label(L, i, run, &text[i]);
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
			int bottom = text[i].box.y - 2 - (marked[i] ? SVG_LINE + 4 : 0);

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
