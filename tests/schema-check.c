// SPDX-License-Identifier: MIT
/*
 * schema-check SCHEMA FILE...: every JSON document in each FILE (a pretty report.json, or the
 * lines of `tcplab run --json`) is valid under SCHEMA, a JSON Schema (draft 2020-12) that uses
 * only the keywords implemented here. A keyword not implemented is an error, not ignored, so
 * the schema cannot promise what this check does not check. No python, no jq: json-c only.
 */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check {
	struct json_object *root; /* the schema, for $ref */
	const char *file;
	int errors;
};

static void fail(struct check *c, const char *at, const char *fmt, const char *what)
{
	fprintf(stderr, "%s: %s: ", c->file, at[0] ? at : "/");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	c->errors++;
}

static bool is_type(struct json_object *v, const char *type)
{
	enum json_type t = json_object_get_type(v);

	if (!strcmp(type, "null"))
		return t == json_type_null;
	if (!strcmp(type, "boolean"))
		return t == json_type_boolean;
	if (!strcmp(type, "integer"))
		return t == json_type_int;
	if (!strcmp(type, "number"))
		return t == json_type_int || t == json_type_double;
	if (!strcmp(type, "string"))
		return t == json_type_string;
	if (!strcmp(type, "array"))
		return t == json_type_array;
	if (!strcmp(type, "object"))
		return t == json_type_object;
	return false;
}

static bool type_ok(struct json_object *v, struct json_object *type)
{
	size_t i;

	if (json_object_is_type(type, json_type_string))
		return is_type(v, json_object_get_string(type));
	for (i = 0; i < json_object_array_length(type); i++)
		if (is_type(v, json_object_get_string(json_object_array_get_idx(type, i))))
			return true;
	return false;
}

static bool matches(const char *text, const char *pattern)
{
	regex_t re;
	bool ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return false;
	ok = !regexec(&re, text, 0, NULL, 0);
	regfree(&re);
	return ok;
}

static void validate(struct check *c, struct json_object *v, struct json_object *s, const char *at);

/* "#/$defs/NAME" */
static struct json_object *resolve(struct check *c, const char *ref)
{
	struct json_object *defs, *target = NULL;

	if (strncmp(ref, "#/$defs/", 8) || !json_object_object_get_ex(c->root, "$defs", &defs) ||
	    !json_object_object_get_ex(defs, ref + 8, &target))
		return NULL;
	return target;
}

static void object_keywords(struct check *c, struct json_object *v, struct json_object *s,
			    const char *at)
{
	struct json_object *props = NULL, *extra = NULL, *names = NULL, *req = NULL, *sub;
	char path[512];
	size_t i;

	json_object_object_get_ex(s, "properties", &props);
	json_object_object_get_ex(s, "additionalProperties", &extra);
	json_object_object_get_ex(s, "propertyNames", &names);
	if (json_object_object_get_ex(s, "required", &req))
		for (i = 0; i < json_object_array_length(req); i++) {
			const char *k = json_object_get_string(json_object_array_get_idx(req, i));

			if (!json_object_object_get_ex(v, k, NULL))
				fail(c, at, "required key '%s' is missing", k);
		}
	json_object_object_foreach(v, key, val)
	{
		snprintf(path, sizeof(path), "%s/%s", at, key);
		if (names) {
			struct json_object *name = json_object_new_string(key);

			validate(c, name, names, path);
			json_object_put(name);
		}
		if (props && json_object_object_get_ex(props, key, &sub))
			validate(c, val, sub, path);
		else if (extra && json_object_is_type(extra, json_type_boolean)) {
			if (!json_object_get_boolean(extra))
				fail(c, path, "%s", "a key the schema does not know");
		} else if (extra) {
			validate(c, val, extra, path);
		}
	}
}

static void validate(struct check *c, struct json_object *v, struct json_object *s, const char *at)
{
	static const char *const annotations[] = { "$schema",	  "$id",      "title",
						   "description", "$comment", "$defs" };
	struct json_object *k;
	char path[512];
	size_t i;

	json_object_object_foreach(s, kw, arg)
	{
		bool known = false;

		for (i = 0; i < sizeof(annotations) / sizeof(annotations[0]); i++)
			known |= !strcmp(kw, annotations[i]);
		if (known || !strcmp(kw, "properties") || !strcmp(kw, "additionalProperties") ||
		    !strcmp(kw, "required") || !strcmp(kw, "propertyNames"))
			continue;
		if (!strcmp(kw, "$ref")) {
			k = resolve(c, json_object_get_string(arg));
			if (!k)
				fail(c, at, "schema: cannot resolve $ref %s",
				     json_object_get_string(arg));
			else
				validate(c, v, k, at);
		} else if (!strcmp(kw, "type")) {
			if (!type_ok(v, arg))
				fail(c, at, "is not of type %s", json_object_to_json_string(arg));
		} else if (!strcmp(kw, "const")) {
			if (!json_object_equal(v, arg))
				fail(c, at, "is not %s", json_object_to_json_string(arg));
		} else if (!strcmp(kw, "enum")) {
			bool any = false;

			for (i = 0; i < json_object_array_length(arg); i++)
				any |= json_object_equal(v, json_object_array_get_idx(arg, i)) != 0;
			if (!any)
				fail(c, at, "is not one of %s", json_object_to_json_string(arg));
		} else if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum")) {
			double x = json_object_get_double(v), lim = json_object_get_double(arg);

			if (is_type(v, "number") && (kw[1] == 'i' ? x < lim : x > lim))
				fail(c, at, "is out of range (%s)", kw);
		} else if (!strcmp(kw, "pattern")) {
			if (is_type(v, "string") &&
			    !matches(json_object_get_string(v), json_object_get_string(arg)))
				fail(c, at, "does not match %s", json_object_get_string(arg));
		} else if (!strcmp(kw, "items")) {
			for (i = 0; is_type(v, "array") && i < json_object_array_length(v); i++) {
				snprintf(path, sizeof(path), "%s/%zu", at, i);
				validate(c, json_object_array_get_idx(v, i), arg, path);
			}
		} else {
			fail(c, at, "schema keyword '%s' is not implemented by schema-check", kw);
		}
	}
	if (is_type(v, "object"))
		object_keywords(c, v, s, at);
}

/* every document in @path: one pretty object, or one per line */
static int check_file(struct check *c, const char *path)
{
	struct json_tokener *tok = json_tokener_new();
	char *text = NULL;
	size_t len = 0, off = 0;
	int docs = 0;
	FILE *f = fopen(path, "r");

	if (!f || !tok || getdelim(&text, &len, '\0', f) < 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		c->errors++;
		goto out;
	}
	len = strlen(text);
	while (off < len) {
		struct json_object *doc;

		off += strspn(text + off, " \t\r\n");
		if (off == len)
			break;
		json_tokener_reset(tok);
		doc = json_tokener_parse_ex(tok, text + off, (int)(len - off));
		if (!doc) {
			fprintf(stderr, "%s: not JSON at byte %zu: %s\n", path, off,
				json_tokener_error_desc(json_tokener_get_error(tok)));
			c->errors++;
			break;
		}
		off += (size_t)json_tokener_get_parse_end(tok);
		validate(c, doc, c->root, "");
		json_object_put(doc);
		docs++;
	}
	if (!docs && !c->errors) {
		fprintf(stderr, "%s: no JSON document\n", path);
		c->errors++;
	}
	printf("%s: %d document(s)\n", path, docs);
out:
	if (f)
		fclose(f);
	free(text);
	json_tokener_free(tok);
	return c->errors;
}

int main(int argc, char **argv)
{
	struct check c = { 0 };
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: schema-check SCHEMA FILE...\n");
		return 2;
	}
	c.root = json_object_from_file(argv[1]);
	if (!c.root) {
		fprintf(stderr, "%s: %s\n", argv[1], json_util_get_last_err());
		return 2;
	}
	for (i = 2; i < argc; i++) {
		c.file = argv[i];
		check_file(&c, argv[i]);
	}
	json_object_put(c.root);
	return c.errors ? 1 : 0;
}
