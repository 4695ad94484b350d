/* SPDX-License-Identifier: MIT */
#ifndef LAB_REGISTRY_H
#define LAB_REGISTRY_H

#include <stddef.h>

#include "lab.h"

/*
 * Every scenario tcplab knows, in the order of the list in scenarios/meson.build (registry.c is
 * generated from it at build time). The command line and the tests use it; the harness does not.
 */
extern const struct lab_scenario *const lab_scenarios[];
extern const size_t lab_n_scenarios;

/* lab_scenario_find() - the scenario named @name ("rst-on-close"), or NULL */
const struct lab_scenario *lab_scenario_find(const char *name);

#endif
