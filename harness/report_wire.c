// SPDX-License-Identifier: MIT
/* The wire in a report: each impairment, the backend that ran it and why, what it did. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

/* the netem qdiscs under impairment @i: {"c2s": {dev, sent_packets, ...}, "s2c": ...} or NULL */
static struct json_object *netem_json(const struct lab_run *run, size_t i)
{
	static const char *const names[] = { "", "c2s", "s2c" };
	const struct lab_impair *imp = lab_wire_impair(run->wire, i);
	const struct lab_netem_stats *st;
	struct json_object *o, *d;
	const char *dev = "";
	unsigned int dir;

	if (lab_wire_stat(run->wire, i)->backend != LAB_BACKEND_NETEM)
		return NULL;
	o = json_object_new_object();
	for (dir = LAB_DIR_C2S; dir <= LAB_DIR_S2C; dir++) {
		st = (imp->m.dir & dir) ? lab_wire_netem(run->wire, dir, &dev) : NULL;
		if (!st)
			continue;
		d = json_object_new_object();
		json_object_object_add(d, "dev", json_object_new_string(dev));
		json_object_object_add(d, "read", json_object_new_boolean(st->read));
		json_object_object_add(d, "sent_packets",
				       json_object_new_int64((int64_t)st->packets));
		json_object_object_add(d, "sent_bytes", json_object_new_int64((int64_t)st->bytes));
		json_object_object_add(d, "dropped", json_object_new_int64(st->drops));
		json_object_object_add(d, "requeues", json_object_new_int64(st->requeues));
		json_object_object_add(d, "overlimits", json_object_new_int64(st->overlimits));
		json_object_object_add(d, "backlog_bytes", json_object_new_int64(st->backlog));
		json_object_object_add(d, "qlen", json_object_new_int64(st->qlen));
		json_object_object_add(d, "limit", json_object_new_int64(st->limit));
		json_object_object_add(d, "seed_taken", json_object_new_boolean(st->seed_echoed));
		json_object_object_add(o, names[dir], d);
	}
	return o;
}

/* an --impair at= impairment: the extra that became wire impairment @i, or -1 */
static int later_extra(const struct lab_run *run, size_t i)
{
	size_t e;

	for (e = 0; e < run->n_extra; e++)
		if (lab_run_extra_later(run, e) && run->applied_us[e] &&
		    run->applied_idx[e] == (int)i)
			return (int)e;
	return -1;
}

struct json_object *lab_report_wire_json(const struct lab_run *run)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < lab_wire_count(run->wire); i++) {
		const struct lab_wire_stat *st = lab_wire_stat(run->wire, i);
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "spec",
				       json_object_new_string(lab_wire_impair(run->wire, i)->spec));
		json_object_object_add(o, "backend",
				       json_object_new_string(lab_backend_name(st->backend)));
		json_object_object_add(o, "matched",
				       st->matched < 0 ? NULL : json_object_new_int64(st->matched));
		json_object_object_add(o, "dropped",
				       st->dropped < 0 ? NULL : json_object_new_int64(st->dropped));
		json_object_object_add(o, "held",
				       st->held < 0 ? NULL : json_object_new_int64(st->held));
		json_object_object_add(o, "why", json_object_new_string(st->why));
		json_object_object_add(o, "netem", netem_json(run, i));
		if (later_extra(run, i) >= 0)
			json_object_object_add(
				o, "applied_us",
				json_object_new_int64(run->applied_us[later_extra(run, i)]));
		json_object_array_add(a, o);
	}
	return a;
}

/* what impairment @i did: its counts, or its netem qdiscs' statistics (per direction) */
void lab_report_wire_did(const struct lab_run *run, size_t i, char *buf, size_t len)
{
	const struct lab_impair *imp = lab_wire_impair(run->wire, i);
	const struct lab_wire_stat *st = lab_wire_stat(run->wire, i);
	const struct lab_netem_stats *q;
	const char *dev = "";
	unsigned int dir;
	size_t o = 0;

	buf[0] = '\0';
	if (st->backend != LAB_BACKEND_NETEM) {
		snprintf(buf, len, "matched %" PRId64 ", dropped %" PRId64 ", held %" PRId64,
			 st->matched, st->dropped, st->held);
		return;
	}
	for (dir = LAB_DIR_C2S; dir <= LAB_DIR_S2C && o < len; dir++) {
		q = (imp->m.dir & dir) ? lab_wire_netem(run->wire, dir, &dev) : NULL;
		if (!q)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%snetem %s on %s: ", o ? "; " : "",
				      dir == LAB_DIR_C2S ? "c2s" : "s2c", dev);
		if (o >= len)
			break;
		if (!q->read)
			o += (size_t)snprintf(buf + o, len - o, "statistics not read");
		else
			o += (size_t)snprintf(buf + o, len - o,
					      "sent %" PRIu64 " packets (%" PRIu64
					      " bytes), dropped %u, requeues %u, overlimits %u, "
					      "backlog %u bytes",
					      q->packets, q->bytes, q->drops, q->requeues,
					      q->overlimits, q->backlog);
	}
}

/* one line per impairment: what ran it, why, and what it did */
void lab_report_print_wire(FILE *out, const struct lab_run *run)
{
	size_t i;

	for (i = 0; i < run->n_extra; i++)
		if (lab_run_extra_later(run, i) && !run->applied_us[i])
			fprintf(out, "wire: %-40s never applied: the story ended before it\n",
				run->extra[i].spec);
	for (i = 0; i < lab_wire_count(run->wire); i++) {
		const struct lab_wire_stat *st = lab_wire_stat(run->wire, i);
		int e = later_extra(run, i);
		char did[512], *at, *next;

		if (e >= 0) {
			char when[64];

			if (run->extra[e].at[0])
				snprintf(when, sizeof(when), "at moment %s", run->extra[e].at);
			else
				snprintf(when, sizeof(when), "at=%.3f s of story time",
					 (double)run->extra[e].at_us / 1e6);
			fprintf(out, "wire: applied %.3f ms after the story began (%s): %s\n",
				(double)(run->applied_us[e] - run->story_start_us) / 1000.0, when,
				run->extra[e].spec);
		}

		fprintf(out, "wire: %-40s %-8s ", lab_wire_impair(run->wire, i)->spec,
			lab_backend_name(st->backend));
		lab_report_wire_did(run, i, did, sizeof(did));
		if (st->backend != LAB_BACKEND_NETEM) {
			fprintf(out, "%s (%s)\n", did, st->why);
			continue;
		}
		fprintf(out, "(%s)\n", st->why);
		for (at = did; *at; at = next) { /* one line per direction */
			next = strstr(at, "; ");
			fprintf(out, "      %.*s\n", next ? (int)(next - at) : (int)strlen(at), at);
			next = next ? next + 2 : at + strlen(at);
		}
	}
	if (lab_wire_count(run->wire))
		fputc('\n', out);
}
