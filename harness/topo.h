/* SPDX-License-Identifier: MIT */
#ifndef LAB_TOPO_H
#define LAB_TOPO_H

#include <netinet/in.h>
#include <stddef.h>

#include "netns.h"

/*
 * The lab: client -- wire -- server, three namespaces joined by two veth pairs.
 *
 *   client ns            wire ns (forwards; impairments live here)          server ns
 *   c0 192.0.2.1/24 <-> w0 192.0.2.254/24   w1 198.51.100.254/24 <-> s0 198.51.100.1/24
 *
 * Documentation prefixes (RFC 5737): nothing here can ever route to a real host.
 */
enum lab_host { LAB_CLIENT, LAB_WIRE, LAB_SERVER, LAB_NHOSTS };

#define LAB_CLIENT_IF "c0"
#define LAB_SERVER_IF "s0"
#define LAB_WIRE_CLIENT_IF "w0"
#define LAB_WIRE_SERVER_IF "w1"
#define LAB_CLIENT_ADDR "192.0.2.1"
#define LAB_SERVER_ADDR "198.51.100.1"
#define LAB_SYSCTL_MAX 64 /* both endpoints' profiles, then the scenarios' own */
#define LAB_PROFILE_SIZE 23 /* sysctls pinned in each endpoint (topo.c) */

struct lab_sysctl_rec {
	char host[8];
	char key[64];
	char value[64];
};

struct lab_topo {
	struct lab_netns ns[LAB_NHOSTS];
	unsigned int mtu;
	/* the pinned profile as read back from the endpoints, then per-scenario overrides */
	struct lab_sysctl_rec sysctl[LAB_SYSCTL_MAX];
	size_t n_sysctl;
};

#define LAB_TOPO_INIT                                                    \
	{                                                                \
		.ns = { LAB_NETNS_INIT, LAB_NETNS_INIT, LAB_NETNS_INIT } \
	}

const char *lab_host_name(enum lab_host host);

/* lab_topo_new() - build the three namespaces, links, addresses, routes, offloads, profile */
int lab_topo_new(struct lab_topo *t, unsigned int mtu);
void lab_topo_free(struct lab_topo *t);

/* lab_topo_sysctl() - set a sysctl in one host's namespace and record it in the profile */
int lab_topo_sysctl(struct lab_topo *t, enum lab_host host, const char *key, const char *value);

#endif
