/* SPDX-License-Identifier: MIT */
#ifndef LAB_SYSCTL_H
#define LAB_SYSCTL_H

#include <stddef.h>

/*
 * Sysctls of the namespace the calling thread is in: /proc/sys/net is resolved per namespace
 * when the file is opened. Keys are dotted ("net.ipv4.tcp_syncookies").
 */
int lab_sysctl_set(const char *key, const char *value);
int lab_sysctl_get(const char *key, char *buf, size_t len);

#endif
