/* SPDX-License-Identifier: MIT */
#ifndef LAB_KERNEL_H
#define LAB_KERNEL_H

#include <stddef.h>

/* Facts about the running kernel that decide what a scenario may expect. */
struct lab_kernel {
	char release[96];
	int hz; /* CONFIG_HZ, 0 if the kernel does not say */
	int netem; /* 1 if sch_netem is built in or loadable, 0 if not, -1 unknown */
};

void lab_kernel_probe(struct lab_kernel *k);

/* lab_kernel_config() - the value of CONFIG_@name from /proc/config.gz or /boot, or -ENOENT */
int lab_kernel_config(const char *name, char *value, size_t len);

#endif
