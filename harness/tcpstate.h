/* SPDX-License-Identifier: MIT */
#ifndef LAB_TCPSTATE_H
#define LAB_TCPSTATE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every TCP state change of the lab's connections, from the kernel's sock:inet_sock_set_state
 * tracepoint (tcp_set_state() and inet_sk_state_store() fire it), read through perf_event_open():
 * one event per CPU, filtered in the kernel to the lab's port, its ring buffers read after the
 * story. Nothing is left on the host: perf events are file descriptors, gone when closed or
 * when the process dies (no tracefs instance, no ftrace buffer, tracing never switched on).
 * tracefs is only read, for the tracepoint's id and record layout, in a mount namespace of a
 * short-lived child that mounts it there when the host has it unmounted.
 *
 * The tracepoint does not say which network namespace a socket is in, and every lab uses the
 * same addresses: a change is the lab's when its ports are the lab port and a client port of
 * the lab's own captures, within the story (run_states.c).
 */
#define LAB_TCPSTATE_CPUS 64

struct lab_tcpstate_change {
	int64_t t_us; /* CLOCK_REALTIME */
	int oldstate, newstate; /* TCP_ESTABLISHED ... (the kernel's numbering) */
	struct in_addr saddr, daddr; /* the socket's own address first */
	uint16_t sport, dport;
};

struct lab_tcpstate {
	int fd[LAB_TCPSTATE_CPUS];
	void *ring[LAB_TCPSTATE_CPUS];
	size_t n_cpu, ring_len;
	int64_t real_minus_mono_ns; /* the samples are stamped with CLOCK_MONOTONIC */
	int off_old, off_new, off_sport, off_dport, off_family, off_saddr, off_daddr;
	struct lab_tcpstate_change *v;
	size_t n;
	uint64_t lost; /* records the ring buffers had no room for */
	char why[160]; /* why there is no trace, when there is none */
};

#define LAB_TCPSTATE_INIT  \
	{                  \
		.n_cpu = 0 \
	}

/*
 * lab_tcpstate_start() - trace the state changes of sockets on @port (either end): 0, or -errno
 * with the reason in @ts->why (no perf events, no tracepoint, no privilege)
 */
int lab_tcpstate_start(struct lab_tcpstate *ts, uint16_t port);
/* lab_tcpstate_stop() - stop tracing and read every change into @ts->v, in time order */
void lab_tcpstate_stop(struct lab_tcpstate *ts);
/*
 * lab_tcpstate_free() - release everything (safe on INIT, safe twice); closing the events
 * takes tens of ms (the tracepoint's unregistering waits for RCU), so it is not done at stop
 */
void lab_tcpstate_free(struct lab_tcpstate *ts);

#endif
