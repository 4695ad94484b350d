/* SPDX-License-Identifier: MIT */
#ifndef LAB_SUPERVISE_H
#define LAB_SUPERVISE_H

#include "lab.h"

/*
 * lab_run_supervised() - lab_run_main() (or lab_run_repeat() for @reps > 1) in a child process
 * in its own process group that dies with us. On SIGINT/SIGTERM/SIGHUP the child is killed
 * (everything it built is anonymous and goes with it); if a signal we did not send kills it, we
 * say so. Either way the partial captures are reported, an INTERRUPTED file is written in the
 * run's folder and a half-kept lab (--keep) is removed; returns 128 + our signal, 99 if the lab
 * process was killed, else the child's exit code.
 */
int lab_run_supervised(struct lab_run_opts *o, long reps);

/*
 * lab_run_repeat() - @n runs on fresh labs: how many reproduced, and per expectation (matched
 * across runs by its key, never its label) how often it held and the spread of timed ones
 */
int lab_run_repeat(struct lab_run_opts *o, long n);

#endif
