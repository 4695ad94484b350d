// SPDX-License-Identifier: MIT
/*
 * The ladder of report.html, as SVG, drawn from its layout (html_layout.c): client and server
 * timelines on a time axis, one arrow per packet from its capture at the sender to its capture
 * at the receiver, lost packets stopped on the wire, calls and states beside the timelines, long
 * silences cut, and the middle of a long ladder folded into a <details> a reader can open.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_layout.h"
#include "ladder.h"
#include "report.h"

/* an arrowhead per colour: a head the colour of its line */
static const char *const colors[] = { "#1565c0", "#ef6c00", "#6a1b9a", "#c62828" };

static void svg_defs(FILE *f, int part)
{
	size_t k;

	fprintf(f, "<defs>");
	for (k = 0; k < sizeof(colors) / sizeof(colors[0]); k++)
		fprintf(f,
			"<marker id='p%d-head-%s' markerWidth='12' markerHeight='10' refX='11' "
			"refY='5' orient='auto' markerUnits='userSpaceOnUse'><path d='M0,0 L12,5 L0,10 z' fill='%s'/></marker>",
			part, colors[k] + 1, colors[k]);
	fprintf(f, "</defs>\n");
}

/* the tooltip of an event: its detail and, for a call, when it was entered and returned */
static void svg_event_title(FILE *f, const struct lab_event *ev, int64_t t0)
{
	fprintf(f, "<title>");
	lab_report_esc(f, ev->detail);
	if (ev->t0_us)
		fprintf(f, "%sin the call from %.3f to %.3f ms (%.3f ms)",
			ev->detail[0] ? "; " : "", (double)(ev->t0_us - t0) / 1e3,
			(double)(ev->t_us - t0) / 1e3, (double)(ev->t_us - ev->t0_us) / 1e3);
	fprintf(f, "</title>");
}

static void svg_label(FILE *f, const struct lab_svg_layout *L, const struct lab_svg_label *lb)
{
	const struct lab_ladder_row *r = lb->row < L->n ? &L->rows[lb->row] : NULL;
	int k;

	fprintf(f, "<g class='label' data-box='%d %d %d %d'>", lb->box.x, lb->box.y, lb->box.w,
		lb->box.h);
	if (lb->cut || (r && lb->col != LAB_SVG_COL_TIME)) {
		if (r && r->ev && !lb->cut) {
			svg_event_title(f, r->ev, L->t0);
		} else {
			fprintf(f, "<title>");
			lab_report_esc(f, lb->full);
			fprintf(f, "</title>");
		}
	}
	for (k = 0; k < lb->n_lines; k++) {
		int w = lab_svg_text_px(lb->line[k], lb->font);
		int x = lb->col == LAB_SVG_COL_TIME || lb->col == LAB_SVG_COL_CLIENT ?
				lb->box.x + lb->box.w - w :
			lb->col == LAB_SVG_COL_MIDDLE ? lb->box.x + (lb->box.w - w) / 2 :
							lb->box.x;

		if (!lb->line[k][0])
			continue;
		/* textLength: the width the layout counted, whatever monospace font draws it */
		fprintf(f,
			"<text x='%d' y='%d' font-size='%d' fill='%s' textLength='%d' "
			"lengthAdjust='spacingAndGlyphs' stroke='#fff' stroke-width='4' "
			"paint-order='stroke'%s>",
			x, lb->box.y + (int)(lb->font * 0.93 + 0.5) + k * 18, lb->font, lb->color,
			w, lb->italic ? " font-style='italic'" : "");
		lab_report_esc(f, lb->line[k]);
		fprintf(f, "</text>");
	}
	fprintf(f, "</g>\n");
}

static void svg_arrow(FILE *f, const struct lab_svg_layout *L, const struct lab_svg_arrow *a,
		      int part)
{
	const struct lab_pkt *p = L->rows[a->row].pkt;

	fprintf(f, "<g class='pkt%s'>", p->lost ? " lost" : "");
	fprintf(f,
		"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2.5' "
		"marker-end='url(#p%d-head-%s)'%s/>",
		a->x1, a->y1, a->x2, a->y2, a->color, part, a->color + 1,
		p->lost ? " stroke-dasharray='6,3'" : "");
	if (p->lost)
		fprintf(f,
			"<path d='M%d,%d l12,12 M%d,%d l-12,12' stroke='#c62828' "
			"stroke-width='4'/>",
			a->x2 - 6, a->y2 - 6, a->x2 + 6, a->y2 - 6);
	fprintf(f, "</g>\n");
}

/* a call woken by packets: a bar on its timeline from its entry row to its return row */
static void svg_activations(FILE *f, const struct lab_svg_layout *L, int y0, int y1)
{
	size_t i, j;

	for (i = 0; i < L->n; i++) {
		if (L->rows[i].part != LAB_LADDER_RETURN)
			continue;
		for (j = i; j > 0 && L->rows[j - 1].ev != L->rows[i].ev; j--)
			continue;
		if (!j-- || L->y[i] < y0 || L->y[j] > y1)
			continue;
		fprintf(f,
			"<rect class='call' x='%d' y='%d' width='10' height='%d' fill='#eceff1' "
			"stroke='#607d8b'>",
			(strcmp(L->rows[i].ev->who, "server") ? LAB_SVG_X_CLIENT :
								LAB_SVG_X_SERVER) -
				5,
			L->y[j], L->y[i] - L->y[j]);
		svg_event_title(f, L->rows[i].ev, L->t0);
		fprintf(f, "</rect>\n");
	}
}

/* a cut in the time axis: a white band with a break on each timeline */
static void svg_cut(FILE *f, const struct lab_svg_cut *c)
{
	int x[] = { LAB_SVG_X_CLIENT, LAB_SVG_X_SERVER }, k;

	fprintf(f, "<rect class='cut' x='0' y='%d' width='%d' height='%d' fill='#fff'/>", c->y0,
		LAB_SVG_W, c->y1 - c->y0);
	for (k = 0; k < 2; k++)
		fprintf(f, "<path d='M%d,%d l16,-6 M%d,%d l16,-6' stroke='#333' stroke-width='2'/>",
			x[k] - 8, c->y0 + 3, x[k] - 8, c->y1 + 3);
	fprintf(f, "\n");
}

/* one <svg> showing the band [y0, y1) of the ladder */
static void svg_part(FILE *f, const struct lab_svg_layout *L, int part, int y0, int y1,
		     const char *client, const char *server)
{
	size_t i;

	fprintf(f,
		"<svg xmlns='http://www.w3.org/2000/svg' id='ladder%.0d' class='ladder' "
		"width='%d' height='%d' viewBox='0 %d %d %d'>\n",
		part, LAB_SVG_W, y1 - y0, y0, LAB_SVG_W, y1 - y0);
	svg_defs(f, part);
	if (!part)
		fprintf(f,
			"<text x='%d' y='22' font-size='17' text-anchor='middle' "
			"font-weight='bold'>client %s</text><text x='%d' y='22' font-size='17' "
			"text-anchor='middle' font-weight='bold'>server %s</text><text x='%d' "
			"y='22' font-size='14' text-anchor='middle' fill='#777'>wire</text><text "
			"x='%d' y='22' font-size='13' text-anchor='end' fill='#555'>t (ms)</text>\n",
			LAB_SVG_X_CLIENT, client, LAB_SVG_X_SERVER, server, LAB_SVG_X_WIRE,
			LAB_SVG_X_TIME);
	fprintf(f,
		"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333' stroke-width='3'/>"
		"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333' stroke-width='3'/>"
		"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#bbb' stroke-dasharray='4,6'/>\n",
		LAB_SVG_X_CLIENT, part ? y0 : 32, LAB_SVG_X_CLIENT, y1, LAB_SVG_X_SERVER,
		part ? y0 : 32, LAB_SVG_X_SERVER, y1, LAB_SVG_X_WIRE, part ? y0 : 32,
		LAB_SVG_X_WIRE, y1);
	svg_activations(f, L, y0, y1); /* under the arrows */
	for (i = 0; i < L->n_cuts; i++)
		if (L->cuts[i].y1 > y0 && L->cuts[i].y0 < y1)
			svg_cut(f, &L->cuts[i]);
	for (i = 0; i < L->n_arrows; i++) /* an arrow across a part's edge is in both */
		if (L->arrows[i].y2 >= y0 && L->arrows[i].y1 < y1)
			svg_arrow(f, L, &L->arrows[i], part);
	for (i = 0; i < L->n_labels; i++)
		if (L->labels[i].box.y >= y0 && L->labels[i].box.y < y1)
			svg_label(f, L, &L->labels[i]);
	if (!L->n)
		fprintf(f,
			"<text x='%d' y='80' font-size='16' text-anchor='middle'>(no TCP packets "
			"captured)</text>\n",
			LAB_SVG_X_WIRE);
	fprintf(f, "</svg>\n");
}

/* what the fold hides: so many rows, packets, calls, over so long */
static void fold_summary(FILE *f, const struct lab_svg_layout *L)
{
	size_t i, pkts = 0, lost = 0, rtx = 0;

	for (i = L->fold_from; i < L->fold_to; i++) {
		pkts += !!L->rows[i].pkt;
		lost += L->rows[i].pkt && L->rows[i].pkt->lost;
		rtx += L->rows[i].pkt && L->rows[i].pkt->retrans;
	}
	fprintf(f,
		"<details class='fold'><summary>%zu more rows folded (%zu packets, %zu lost, "
		"%zu retransmitted; %zu calls and notes) from %.3f to %.3f ms: click to "
		"unfold.</summary>\n",
		L->fold_to - L->fold_from, pkts, lost, rtx, L->fold_to - L->fold_from - pkts,
		(double)(L->rows[L->fold_from].t_us - L->t0) / 1e3,
		(double)(L->rows[L->fold_to - 1].t_us - L->t0) / 1e3);
}

void lab_report_svg_ladder(FILE *f, const struct lab_run *run)
{
	struct lab_ladder l = lab_report_ladder_of(run);
	struct lab_svg_layout L;
	char why[256];

	if (lab_svg_layout(&L, &l, run)) {
		fprintf(f, "<p>(out of memory drawing the ladder: see ladder.txt)</p>\n");
		return;
	}
	if (lab_svg_layout_check(&L, why, sizeof(why)))
		fprintf(f, "<p class='text'>(the layout of this ladder has a flaw: ");
	if (why[0]) {
		lab_report_esc(f, why);
		fprintf(f, ")</p>\n");
	}
	if (L.fold_from == L.fold_to) {
		svg_part(f, &L, 0, 0, L.height, LAB_CLIENT_ADDR, LAB_SERVER_ADDR);
	} else {
		svg_part(f, &L, 0, 0, L.fold_y0, LAB_CLIENT_ADDR, LAB_SERVER_ADDR);
		fold_summary(f, &L);
		svg_part(f, &L, 1, L.fold_y0, L.fold_y1, LAB_CLIENT_ADDR, LAB_SERVER_ADDR);
		fprintf(f, "</details>\n");
		svg_part(f, &L, 2, L.fold_y1, L.height, LAB_CLIENT_ADDR, LAB_SERVER_ADDR);
	}
	lab_svg_layout_free(&L);
}
