/* SPDX-License-Identifier: MIT */
#ifndef LAB_KERNEL_H
#define LAB_KERNEL_H

#include <stddef.h>

/* Facts about the running kernel that decide what a scenario may expect. */
struct lab_kernel {
	char release[96];
	int hz; /* CONFIG_HZ, 0 if the kernel does not say */
	int netem; /* 1 if sch_netem is built in or loadable, 0 if not, -1 unknown */
	unsigned int version; /* LAB_KERNEL_VERSION() of the release, 0 if unreadable */
};

/* as the kernel's own KERNEL_VERSION(): comparable with < and >= */
#define LAB_KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))

/* lab_kernel_version() - "6.1.0-56-amd64" -> LAB_KERNEL_VERSION(6, 1, 0); 0 if not a release */
unsigned int lab_kernel_version(const char *release);

void lab_kernel_probe(struct lab_kernel *k);

/* lab_kernel_config() - the value of CONFIG_@name from /proc/config.gz or /boot, or -ENOENT */
int lab_kernel_config(const char *name, char *value, size_t len);

#endif
