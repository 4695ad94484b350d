/* SPDX-License-Identifier: MIT */
#ifndef LAB_REPORT_H
#define LAB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "ladder.h"
#include "run.h"

/*
 * The version of report.json's layout (doc/report.schema.json): raised when a key is removed
 * or changes meaning; new keys keep it
 */
#define LAB_REPORT_SCHEMA 1

/*
 * ladder.txt, the programs' logs, report.html and, last, report.json in run->dir: 0, or -errno
 * with the file that failed as the reason (lab_fail()); the summary on @out
 */
int lab_report_write(const struct lab_run *run, const char *verdict);

void lab_report_print(FILE *out, const struct lab_run *run, const char *verdict, bool ladder);
void lab_report_ladder(FILE *out, const struct lab_run *run);

/* lab_report_ladder_of() - the ladder of a run: both captures and every event */
struct lab_ladder lab_report_ladder_of(const struct lab_run *run);

/* lab_report_series_of() - the series (lab_series) @ev's value belongs to, or NULL */
const struct lab_series *lab_report_series_of(const struct lab_run *run,
					      const struct lab_event *ev);

/*
 * lab_results_latest() - point @base/latest at @run_dir (relative to @base: "NAME/RUN-ID"):
 * 0 or -errno (a results folder without symlinks only lacks the convenience)
 */
int lab_results_latest(const char *base, const char *run_dir);

/* report_wire.c: the impairments as report.json's "impairments", and as lines on @out */
struct json_object *lab_report_wire_json(const struct lab_run *run);
void lab_report_print_wire(FILE *out, const struct lab_run *run);
/* lab_report_wire_did() - what impairment @i did, as one line of text */
void lab_report_wire_did(const struct lab_run *run, size_t i, char *buf, size_t len);

/* lab_report_html() - the self-contained report.html of a run: 0 or -errno */
int lab_report_html(const struct lab_run *run, const char *verdict, const char *path);

/* lab_report_svg_ladder() - the ladder of report.html, as an inline SVG element */
void lab_report_svg_ladder(FILE *f, const struct lab_run *run);

/* lab_report_esc() - @s as XML text (control bytes become '?') */
void lab_report_esc(FILE *f, const char *s);

#endif
