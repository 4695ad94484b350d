/* SPDX-License-Identifier: MIT */
#ifndef LAB_REPORT_H
#define LAB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"

/* report.json, ladder.txt and the programs' logs in run->dir; the summary on @out */
int lab_report_write(const struct lab_run *run, const char *verdict);
void lab_report_print(FILE *out, const struct lab_run *run, const char *verdict, bool ladder);
void lab_report_ladder(FILE *out, const struct lab_run *run);

#endif
