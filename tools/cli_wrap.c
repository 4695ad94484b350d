// SPDX-License-Identifier: MIT
/* Text for people: wrapped prose. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* print @text wrapped at 78 columns with @indent */
void cli_wrap(const char *text, int indent)
{
	int col = indent;
	const char *p = text;

	printf("%*s", indent, "");
	while (*p) {
		size_t word = strcspn(p, " \n");

		if (col > indent && col + (int)word > 78) {
			printf("\n%*s", indent, "");
			col = indent;
		}
		printf("%.*s", (int)word, p);
		col += (int)word;
		p += word;
		if (*p == '\n') {
			printf("\n%*s", indent, "");
			col = indent;
			p++;
		} else if (*p == ' ') {
			if (col > indent) {
				putchar(' ');
				col++;
			}
			p++;
		}
	}
	putchar('\n');
}
