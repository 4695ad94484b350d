/* SPDX-License-Identifier: MIT */
#ifndef LAB_KEPT_H
#define LAB_KEPT_H

#include <stdbool.h>
#include <stdio.h>

#include "topo.h"

/*
 * Labs kept after a run (--keep): the three namespaces pinned as /run/netns/tcplab-ID-HOST (what
 * `ip netns` reads), and who kept them in /run/tcplab/tcplab-ID.owner, written before the pins
 * and removed after them. `tcplab clean` removes the caller's own labs only: another user's, or
 * another test suite's running at the same time, stay.
 */
#define LAB_TAG_ENV "TCPLAB_TAG" /* who is running: tests/meson.build sets one per suite */
#define LAB_KEPT_OWNER_DIR "/run/tcplab"
#define LAB_KEPT_NAME_MAX 48

struct lab_owner {
	unsigned int uid; /* who asked: $SUDO_UID when root under sudo, else the real uid */
	char tag[160]; /* $TCPLAB_TAG ("" when unset), control characters replaced */
};

/* lab_owner_self() - the owner a lab kept now would have, and whose labs `clean` removes */
void lab_owner_self(struct lab_owner *o);
bool lab_owner_same(const struct lab_owner *a, const struct lab_owner *b);
/* lab_owner_read() - who kept the lab tcplab-@id (@lab: "tcplab-ID"); -ENOENT: no record */
int lab_owner_read(const char *lab, struct lab_owner *o);

/*
 * lab_kept_pin() - keep @t's namespaces as tcplab-@id-{client,wire,server} for @owner (the run's
 * folder @results goes into the record); the names in @names. All or nothing. Root only.
 */
int lab_kept_pin(const struct lab_topo *t, const char *id, const struct lab_owner *owner,
		 const char *results, char names[LAB_NHOSTS][LAB_KEPT_NAME_MAX]);

struct lab_kept_clean {
	int removed; /* namespaces unpinned */
	int others; /* namespaces of other owners (or of none recorded) left in place */
	int failed; /* namespaces that could not be unpinned */
};

/*
 * lab_kept_clean() - unpin every kept namespace of @self, or of anyone with @all, naming each
 * on @out, then drop the owner records left without namespaces. 0, or -errno if /run/netns
 * cannot be read; per-namespace failures are counted in @res.
 */
int lab_kept_clean(const struct lab_owner *self, bool all, FILE *out, struct lab_kept_clean *res);

#endif
