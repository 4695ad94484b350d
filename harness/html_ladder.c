// SPDX-License-Identifier: MIT
/*
 * The ladder of report.html, as SVG: client and server timelines, one arrow per packet, lost
 * packets stopped on the wire, socket calls and states beside the timelines. A call that was
 * woken by packets is drawn as an activation bar on its timeline, from its entry to its return.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "report.h"

#define W 1180
#define X_TIME 86 /* right edge of the time labels */
#define X_CLIENT 380
#define X_WIRE 590
#define X_SERVER 800
#define ROW 30
#define TOP 70

/* the marker heads and the common pieces of the ladder */
static void svg_defs(FILE *f)
{
	fprintf(f, "<defs>"
		   "<marker id='head' markerWidth='10' markerHeight='8' refX='9' refY='4' "
		   "orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='#1565c0'/></marker>"
		   "<marker id='head-r' markerWidth='10' markerHeight='8' refX='9' refY='4' "
		   "orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='#ef6c00'/></marker>"
		   "<marker id='head-x' markerWidth='10' markerHeight='8' refX='9' refY='4' "
		   "orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='#c62828'/></marker>"
		   "</defs>\n");
}

static void svg_packet(FILE *f, const struct lab_ladder_row *r, int y)
{
	const struct lab_pkt *p = r->pkt;
	int x1 = r->to_server ? X_CLIENT : X_SERVER, x2 = r->to_server ? X_SERVER : X_CLIENT;
	const char *color = p->lost	    ? "#c62828" :
			    p->retrans	    ? "#ef6c00" :
			    p->flags & 0x04 ? "#6a1b9a" :
					      "#1565c0";
	const char *head = p->lost ? "head-x" : p->retrans ? "head-r" : "head";
	char text[128];

	lab_ladder_describe(p, text, sizeof(text));
	if (p->lost)
		x2 = X_WIRE;
	fprintf(f, "<g class='pkt%s'><title>", p->lost ? " lost" : "");
	lab_report_esc(f, text);
	fprintf(f, "%s%s</title>", p->retrans ? " (retransmission)" : "",
		p->lost ? " - left the sender, never arrived" : "");
	fprintf(f,
		"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2.5' "
		"marker-end='url(#%s)'%s/>",
		x1, y - 6, x2, y + 10, color, head, p->lost ? " stroke-dasharray='6,3'" : "");
	fprintf(f, "<text x='%d' y='%d' font-size='14' text-anchor='middle' fill='%s'>",
		(X_CLIENT + X_SERVER) / 2, y - 11, color);
	lab_report_esc(f, text);
	fprintf(f, "%s</text>", p->retrans ? " (rtx)" : "");
	if (p->lost)
		fprintf(f,
			"<path d='M%d,%d l12,12 M%d,%d l-12,12' stroke='#c62828' "
			"stroke-width='4'/>",
			X_WIRE - 6, y - 4, X_WIRE + 6, y - 4);
	fprintf(f, "</g>\n");
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

static void svg_event(FILE *f, const struct lab_run *run, const struct lab_ladder_row *r, int y,
		      int64_t t0)
{
	const struct lab_event *ev = r->ev;
	const struct lab_series *series = lab_report_series_of(run, ev);
	bool server = !strcmp(ev->who, "server"), wire = !strcmp(ev->who, "wire");
	bool state = !strcmp(ev->call, "state");
	/* an ICMP message is shown like a note, by its sender (the wire for a router's) */
	bool note = !strcmp(ev->call, "note") || !strcmp(ev->call, "icmp");
	const char *color = r->part == LAB_LADDER_ENTRY	  ? "#666" :
			    ev->err[0] || (wire && !note) ? "#c62828" :
			    state			  ? "#00695c" :
			    note			  ? "#666" :
							    "#111";
	int x = wire ? X_WIRE : server ? X_SERVER + 14 : X_CLIENT - 14;
	const char *anchor = wire ? "middle" : server ? "start" : "end";
	const char *spec = strrchr(ev->detail, '(');
	char text[200];
	size_t o = (size_t)snprintf(text, sizeof(text), "%s: ", ev->who), left = sizeof(text) - o;

	if (state) /* "TIME_WAIT 192.0.2.1:42298-198.51.100.1:7357": the state is what matters */
		snprintf(text + o, left, "%.*s", (int)strcspn(ev->detail, " "), ev->detail);
	else if (wire && !note && spec) /* the packet is the red arrow above: name the rule */
		snprintf(text + o, left, "X dropped by %.48s", spec);
	else if (note || wire)
		snprintf(text + o, left, "%.56s", ev->detail);
	else if (series) /* its value is a measurement, not a return value */
		snprintf(text + o, left, "%s: %.3f ms", series->name, ev->ret / 1e3);
	else /* at its entry; a call that blocked across packets also at its return */
		lab_ladder_call_str(r, 0, text + o, left); /* how long: the bar and the tooltip */
	fprintf(f, "<text class='ev' x='%d' y='%d' font-size='14' text-anchor='%s' fill='%s'%s>", x,
		y + 4, anchor, color, state ? " font-style='italic'" : "");
	lab_report_esc(f, text);
	svg_event_title(f, ev, t0);
	fprintf(f, "</text>\n");
}

/*
 * Each row's y; the drawing's height. A silence between packets long against the round trip
 * gets room of its own, more the longer it is (a row per decade of the gap threshold), so a
 * 40 ms stall and a 1 s timer look like what they are.
 */
static int layout(const struct lab_ladder_row *rows, size_t n, int *y)
{
	int64_t last = 0, gap = lab_ladder_gap_us(rows, n);
	int at = TOP;
	size_t i;

	for (i = 0; i < n; i++, at += ROW) {
		int64_t g = rows[i].pkt && last ? rows[i].t_us - last : 0;

		for (; g >= gap; g /= 10)
			at += ROW;
		if (rows[i].pkt)
			last = rows[i].t_us;
		y[i] = at;
	}
	return at + 40;
}

/* a call woken by packets: a bar on its timeline from its entry row to its return row */
static void svg_activations(FILE *f, const struct lab_ladder_row *rows, size_t n, const int *y,
			    int64_t t0)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (rows[i].part != LAB_LADDER_RETURN)
			continue;
		for (j = i; j > 0 && rows[j - 1].ev != rows[i].ev; j--)
			continue;
		if (!j--) /* no entry row: cannot happen, an entry comes before its return */
			continue;
		fprintf(f,
			"<rect class='call' x='%d' y='%d' width='10' height='%d' fill='#eceff1' "
			"stroke='#607d8b'>",
			(strcmp(rows[i].ev->who, "server") ? X_CLIENT : X_SERVER) - 5, y[j],
			y[i] - y[j]);
		svg_event_title(f, rows[i].ev, t0);
		fprintf(f, "</rect>\n");
	}
}

void lab_report_svg_ladder(FILE *f, const struct lab_run *run)
{
	struct lab_ladder l = lab_report_ladder_of(run);
	struct lab_ladder_row *rows;
	struct in_addr client;
	size_t n = lab_ladder_rows(&l, &rows, &client), i;
	int64_t t0 = n ? rows[0].t_us : 0, last = 0;
	int *y = calloc(n ? n : 1, sizeof(*y)), height;

	if (!y) {
		free(rows);
		return;
	}
	height = layout(rows, n, y);
	fprintf(f,
		"<svg xmlns='http://www.w3.org/2000/svg' id='ladder' width='%d' height='%d' "
		"viewBox='0 0 %d %d'>\n",
		W, height, W, height);
	svg_defs(f);
	fprintf(f,
		"<text x='%d' y='24' font-size='18' text-anchor='middle' font-weight='bold'>client "
		"%s</text><text x='%d' y='24' font-size='18' text-anchor='middle' "
		"font-weight='bold'>server %s</text><text x='%d' y='24' font-size='15' "
		"text-anchor='middle' fill='#777'>wire</text><text x='%d' y='24' font-size='14' "
		"text-anchor='end' fill='#555'>t (ms)</text>\n",
		X_CLIENT, LAB_CLIENT_ADDR, X_SERVER, LAB_SERVER_ADDR, X_WIRE, X_TIME);
	fprintf(f,
		"<line x1='%d' y1='40' x2='%d' y2='%d' stroke='#333' stroke-width='3'/>"
		"<line x1='%d' y1='40' x2='%d' y2='%d' stroke='#333' stroke-width='3'/>"
		"<line x1='%d' y1='40' x2='%d' y2='%d' stroke='#bbb' stroke-dasharray='4,6'/>\n",
		X_CLIENT, X_CLIENT, height - 20, X_SERVER, X_SERVER, height - 20, X_WIRE, X_WIRE,
		height - 20);
	svg_activations(f, rows, n, y, t0); /* under the arrows */
	for (i = 0; i < n; i++) {
		if (i && y[i] - y[i - 1] > ROW)
			fprintf(f,
				"<text class='gap' x='%d' y='%d' font-size='15' text-anchor='middle' "
				"fill='#777'>... +%.1f ms without a packet ...</text>\n",
				X_WIRE, y[i] - ROW + 4, (double)(rows[i].t_us - last) / 1e3);
		if (rows[i].pkt)
			last = rows[i].t_us;
		fprintf(f,
			"<text x='%d' y='%d' font-size='13' text-anchor='end' fill='#555'>%.3f</text>",
			X_TIME, y[i] + 4, (double)(rows[i].t_us - t0) / 1e3);
		if (rows[i].pkt)
			svg_packet(f, &rows[i], y[i]);
		else
			svg_event(f, run, &rows[i], y[i], t0);
	}
	if (!n)
		fprintf(f,
			"<text x='%d' y='%d' font-size='16' text-anchor='middle'>(no TCP packets "
			"captured)</text>\n",
			X_WIRE, TOP);
	fprintf(f, "</svg>\n");
	free(y);
	free(rows);
}
