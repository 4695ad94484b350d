// SPDX-License-Identifier: MIT
/* The event line format shared by the programs (writers) and the harness (reader). */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "event.h"

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lab_now_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

int64_t lab_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

void lab_event_emit_call(FILE *out, const char *call, int64_t t0_us, int64_t t_us, long ret,
			 int err, const char *detail)
{
	struct json_object *o = json_object_new_object();
	const char *name = err ? strerrorname_np(err) : NULL;

	if (t0_us)
		json_object_object_add(o, "t0_us", json_object_new_int64(t0_us));
	json_object_object_add(o, "t_us", json_object_new_int64(t_us));
	json_object_object_add(o, "call", json_object_new_string(call));
	json_object_object_add(o, "ret", json_object_new_int64(ret));
	json_object_object_add(o, "errno", name ? json_object_new_string(name) : NULL);
	if (detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(out);
	json_object_put(o);
}

void lab_event_emit(FILE *out, const char *call, long ret, int err, const char *detail)
{
	lab_event_emit_call(out, call, 0, lab_now_us(), ret, err, detail);
}

static void copy_str(struct json_object *o, const char *key, char *dst, size_t len)
{
	struct json_object *v;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(dst, len, "%s", json_object_get_string(v));
}

int lab_event_parse(const char *line, struct lab_event *ev)
{
	struct json_object *o = json_tokener_parse(line), *v;
	int err = -EINVAL;

	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	if (!json_object_object_get_ex(o, "t_us", &v) || !json_object_is_type(v, json_type_int))
		goto out;
	ev->t_us = json_object_get_int64(v);
	/* no entry stamp (an instant, or an older program): drawn at its only stamp */
	ev->t0_us = 0;
	if (json_object_object_get_ex(o, "t0_us", &v) && json_object_is_type(v, json_type_int))
		ev->t0_us = json_object_get_int64(v);
	if (ev->t0_us < 0 || ev->t0_us > ev->t_us)
		ev->t0_us = 0; /* a call cannot return before it began: keep only its return */
	copy_str(o, "call", ev->call, sizeof(ev->call));
	if (!ev->call[0])
		goto out;
	ev->ret = json_object_object_get_ex(o, "ret", &v) ? (long)json_object_get_int64(v) : 0;
	copy_str(o, "errno", ev->err, sizeof(ev->err));
	copy_str(o, "detail", ev->detail, sizeof(ev->detail));
	err = 0;
out:
	json_object_put(o);
	return err;
}
