// SPDX-License-Identifier: MIT
/* Text for people: wrapped prose. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* print @text wrapped at 78 columns with @indent; no line ends in a space */
void cli_wrap(const char *text, int indent)
{
	int col = indent;
	const char *p = text;

	printf("%*s", indent, "");
	while (*p) {
		size_t word = strcspn(p, " \n");

		if (word) {
			if (col > indent && col + 1 + (int)word > 78) {
				printf("\n%*s", indent, "");
				col = indent;
			} else if (col > indent) {
				putchar(' ');
				col++;
			}
			printf("%.*s", (int)word, p);
			col += (int)word;
			p += word;
		}
		if (*p == '\n') {
			printf("\n%*s", indent, "");
			col = indent;
		}
		if (*p)
			p++;
	}
	putchar('\n');
}
