/* SPDX-License-Identifier: MIT */
#ifndef LAB_SUGGEST_H
#define LAB_SUGGEST_H

#include <stddef.h>

/*
 * "did you mean X?": the known name closest to a mistyped one, by edit distance (insert, delete,
 * substitute, swap two neighbours), case and '-'/'_' ignored. Feed every candidate with
 * lab_suggest_add(), then ask lab_suggest_best().
 */
struct lab_suggest {
	const char *word; /* what the user typed */
	const char *best; /* the closest candidate so far */
	size_t dist; /* its distance */
	const char *prefix_of; /* a candidate @word is the beginning of */
	size_t n_prefix; /* how many candidates it begins */
};

#define LAB_SUGGEST_INIT(w)                                                                     \
	{                                                                                       \
		.word = (w), .best = NULL, .dist = (size_t)-1, .prefix_of = NULL, .n_prefix = 0 \
	}

void lab_suggest_add(struct lab_suggest *s, const char *candidate);

/*
 * lab_suggest_best() - the closest candidate if it is close enough to be a typo (a distance of
 * 1 for words up to 4 characters, 2 up to 8, else 3), or the one candidate @word begins; NULL if
 * there is none
 */
const char *lab_suggest_best(const struct lab_suggest *s);

/* lab_suggest_among() - the same over an array of @n names */
const char *lab_suggest_among(const char *word, const char *const *names, size_t n);

#endif
