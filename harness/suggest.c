// SPDX-License-Identifier: MIT
/* "did you mean X?": optimal string alignment distance between a typo and the known names. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"

#define WORD_MAX 64 /* longer words get no suggestion */

/* 'Rst_On' and 'rst-on' are the same word */
static int fold(char c)
{
	return c == '_' ? '-' : tolower((unsigned char)c);
}

/* edits to turn @a into @b: insert, delete, substitute, or swap two neighbours */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[WORD_MAX + 1][WORD_MAX + 1];

	if (la > WORD_MAX || lb > WORD_MAX)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (fold(a[i - 1]) != fold(b[j - 1]));

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
			    fold(a[i - 2]) == fold(b[j - 1]) && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static int begins(const char *word, const char *candidate)
{
	size_t i;

	for (i = 0; word[i]; i++)
		if (!candidate[i] || fold(word[i]) != fold(candidate[i]))
			return 0;
	return 1;
}

void lab_suggest_add(struct lab_suggest *s, const char *candidate)
{
	size_t d;

	if (!candidate || !s->word || !*s->word)
		return;
	d = distance(s->word, candidate);
	if (d < s->dist) {
		s->dist = d;
		s->best = candidate;
	}
	if (begins(s->word, candidate)) {
		s->prefix_of = candidate;
		s->n_prefix++;
	}
}

const char *lab_suggest_best(const struct lab_suggest *s)
{
	size_t len = s->word ? strlen(s->word) : 0;
	size_t max = len <= 4 ? 1 : len <= 8 ? 2 : 3;

	if (s->best && s->dist <= max && s->dist < len)
		return s->best;
	return s->n_prefix == 1 && len >= 2 ? s->prefix_of : NULL;
}

const char *lab_suggest_among(const char *word, const char *const *names, size_t n)
{
	struct lab_suggest s = LAB_SUGGEST_INIT(word);
	size_t i;

	for (i = 0; i < n; i++)
		lab_suggest_add(&s, names[i]);
	return lab_suggest_best(&s);
}
