/* SPDX-License-Identifier: MIT */
#ifndef LAB_NETNS_H
#define LAB_NETNS_H

#include <stdbool.h>

/*
 * Network namespaces held as file descriptors. Anonymous by default: a namespace lives as long
 * as its fd or a process inside it, so nothing outlives the run, even after kill -9.
 */
struct lab_netns {
	char name[16];
	int fd;
	int cpu; /* the lab's CPU: programs started in it run there (topo.c), or -1 */
};

#define LAB_NETNS_INIT                          \
	{                                       \
		.name = "", .fd = -1, .cpu = -1 \
	}

/* lab_netns_new() - create an anonymous namespace without leaving the current one */
int lab_netns_new(struct lab_netns *ns, const char *name);
void lab_netns_close(struct lab_netns *ns);

/*
 * lab_netns_enter() - move the calling thread into @ns; *saved receives an fd of the namespace
 * it was in, for lab_netns_leave(). Sockets and /proc/sys files opened in between belong to @ns.
 */
int lab_netns_enter(const struct lab_netns *ns, int *saved);
int lab_netns_leave(int *saved);

/* lab_netns_socket() - a socket(AF_INET, @type) that belongs to @ns; -errno on failure */
int lab_netns_socket(const struct lab_netns *ns, int type);

/*
 * lab_netns_become_root() - if not root, move this (single-threaded) process into a new user
 * namespace where it is root, so that the lab can be built without privilege on kernels that
 * allow unprivileged user namespaces. 0 (already root, or now root there), or -errno.
 */
int lab_netns_become_root(void);

#define LAB_NETNS_RUN_DIR "/run/netns"

/*
 * lab_netns_pin() - keep @ns after the run under /run/netns/@name (what `ip netns` reads),
 * by a bind mount of its fd; lab_netns_unpin() removes such a name. Root only.
 */
int lab_netns_pin(const struct lab_netns *ns, const char *name);
int lab_netns_unpin(const char *name);

/* lab_netns_probe() - 0 if this process may create namespaces, else -errno (no side effects) */
int lab_netns_probe(void);

/*
 * lab_netns_in_child() - run @fn(@arg) in a forked child and wait for it: @fn's result (0 or
 * -errno), -ECHILD if the child did not exit. With @own_mounts the child first gets a mount
 * namespace of its own with every mount private: what @fn mounts never reaches the host and is
 * gone when the child exits. @fn runs after fork(): system calls only, and its writes to memory
 * stay in the child.
 */
int lab_netns_in_child(int (*fn)(void *arg), void *arg, bool own_mounts);

#endif
