/* SPDX-License-Identifier: MIT */
#ifndef LAB_HTML_LAYOUT_PRIV_H
#define LAB_HTML_LAYOUT_PRIV_H

/*
 * Inside the ladder's layout; only harness/html_layout.c and harness/html_label.c include this.
 *  html_label.c   what each row says, and its label's box in its column
 *  html_layout.c  the rows on the time axis, the arrows, cuts and fold; the check
 */
#include "html_layout.h"

#define SVG_LINE 18 /* px per line of a 14 px label */

/* svg_make_label() - @text at @font px in column @c: wrapped, its box's size and x (box.y later) */
void svg_make_label(struct lab_svg_label *lb, enum lab_svg_column c, int font, const char *text);
/* svg_row_label() - row @i's own label: its text in its column and colour (box.y set later) */
void svg_row_label(const struct lab_svg_layout *L, size_t i, const struct lab_run *run,
		   struct lab_svg_label *lb);
/* svg_row_color() - a row's colour: a packet's by what happened to it, an event's by its kind */
const char *svg_row_color(const struct lab_ladder_row *r);

#endif
