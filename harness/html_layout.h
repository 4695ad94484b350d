/* SPDX-License-Identifier: MIT */
#ifndef LAB_HTML_LAYOUT_H
#define LAB_HTML_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ladder.h"

struct lab_run;

/*
 * The layout of report.html's ladder, computed before anything is drawn, so that it can be
 * checked: every label's box (from the monospace font's known advance), every arrow, every cut
 * in the time axis, and which rows are folded.
 *
 * Time runs down at LAB_SVG_PX_PER_MS; where labels need more room than the time they span,
 * the axis stops (nothing happens there), and a silence longer than LAB_SVG_CUT_US is cut to a
 * fixed height with its length written in it. An arrow runs from the sender's capture of the
 * packet to the receiver's capture of it, so a delay slants it and a loss stops it on the wire.
 */
#define LAB_SVG_W 1180 /* the ladder's width, px (report.html's page is 1240 wide) */
#define LAB_SVG_X_TIME 78 /* right edge of the time labels */
#define LAB_SVG_X_CLIENT 390
#define LAB_SVG_X_SERVER 800
#define LAB_SVG_X_WIRE ((LAB_SVG_X_CLIENT + LAB_SVG_X_SERVER) / 2)
#define LAB_SVG_PX_PER_MS 2.5
#define LAB_SVG_CUT_US 100000 /* longer silences are cut: 100 ms, 250 px */
#define LAB_SVG_MAX_LINES 3 /* a label wraps to this many lines, then is cut ("...") */

enum lab_svg_column {
	LAB_SVG_COL_TIME, /* the time of each row, right-aligned */
	LAB_SVG_COL_CLIENT, /* the client's calls, right-aligned against its timeline */
	LAB_SVG_COL_MIDDLE, /* packets, the wire's drops, the harness's notes, gap markers */
	LAB_SVG_COL_SERVER, /* the server's calls, left-aligned after its timeline */
};

struct lab_svg_box {
	int x, y, w, h; /* top left, size */
};

struct lab_svg_label {
	struct lab_svg_box box;
	enum lab_svg_column col;
	int font; /* px */
	size_t row; /* the ladder row it belongs to, or SIZE_MAX (a gap marker) */
	int n_lines;
	char line[LAB_SVG_MAX_LINES][96];
	char full[256]; /* the whole text (the tooltip when it had to be cut) */
	bool cut;
	const char *color;
	bool italic;
};

struct lab_svg_arrow {
	size_t row;
	int x1, y1, x2, y2;
	bool lost;
	const char *color;
};

struct lab_svg_cut {
	int y0, y1; /* the cut band */
	int64_t us; /* how long the silence was */
};

struct lab_svg_layout {
	struct lab_ladder_row *rows;
	size_t n;
	int *y; /* each row's moment on the axis (its label ends just above) */
	struct lab_svg_label *labels;
	size_t n_labels;
	struct lab_svg_arrow *arrows;
	size_t n_arrows;
	struct lab_svg_cut *cuts;
	size_t n_cuts;
	size_t fold_from, fold_to; /* rows [from, to) are folded; from == to: nothing is */
	int fold_y0, fold_y1; /* the folded band */
	int height;
	int64_t t0;
	bool ports; /* more than one connection: labels name the client's port */
};

/* lab_svg_text_px() - the width of @s (UTF-8) at @font px in DejaVu Sans Mono */
int lab_svg_text_px(const char *s, int font);

/*
 * lab_svg_layout() - lay out @l's ladder; @run (may be NULL) names series values as latencies.
 * 0 or -ENOMEM.
 */
int lab_svg_layout(struct lab_svg_layout *L, const struct lab_ladder *l, const struct lab_run *run);
void lab_svg_layout_free(struct lab_svg_layout *L);

/*
 * lab_svg_layout_check() - how many labels overlap another, cross a timeline, or leave the
 * drawing; the first problem described in @why
 */
size_t lab_svg_layout_check(const struct lab_svg_layout *L, char *why, size_t len);

/* lab_svg_pkt_notes() - "retransmission, zero window": what the analysis says of a packet */
void lab_svg_pkt_notes(const struct lab_ladder_row *rows, size_t i, char *buf, size_t len);

#endif
