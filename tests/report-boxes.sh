#!/bin/sh
# Every label of report.html's ladder as headless Chromium lays it out: each page is copied with
# report-boxes.js added (it opens every <details>, reads each label's getBoundingClientRect() and
# writes what it found into the DOM), read back with --dump-dom, and must have no two labels
# overlapping, none across a timeline, none past the drawing's edge. Then the first page again
# with one label moved onto another: that must be caught, or the measurement proves nothing.
# usage: report-boxes.sh PAGE.html...      (no root; 77 without chromium)
set -u
js=$(dirname "$0")/report-boxes.js
command -v chromium >/dev/null || {
	echo "chromium is not installed: skipped (apt-get install chromium)"
	exit 77
}
[ $# -gt 0 ] || { echo "usage: report-boxes.sh PAGE.html..." >&2; exit 2; }
work=$(mktemp -d /tmp/report-boxes.XXXXXX)
trap 'rm -rf "$work"' EXIT

# measure PAGE PLANTED: "labels N" and one line per flaw, as Chromium saw them
measure() {
	python3 - "$1" "$js" "$2" "$work/page.html" <<'PY'
import re, sys
page, js, planted, out = sys.argv[1:]
html = open(page).read()
if planted == 'yes':  # the second label of the ladder drawn where the first is
    boxes = re.findall(r"<g class='label' data-box='\d+ \d+ \d+ \d+'>(?:<title>.*?</title>)?<text x='(\d+)' y='(\d+)'", html)
    (tx0, ty0), (tx1, ty1) = boxes[1], boxes[2]
    html = html.replace(f"<text x='{tx1}' y='{ty1}'", f"<text x='{tx0}' y='{ty0}'", 1)
html = html.replace('</body>', '<script>' + open(js).read() + '</script></body>')
open(out, 'w').write(html)
PY
	timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$work/page.html" \
		2>/dev/null | sed -n '/<pre id="measured">/,/<\/pre>/p' | sed 's/<[^>]*>//g'
}

fail=0 first=
for page in "$@"; do
	name=$(echo "$page" | sed 's#.*/\([^/]*/[^/]*\)/report.html$#\1#')
	found=$(measure "$page" no)
	labels=$(printf '%s\n' "$found" | sed -n 's/^labels //p')
	flaws=$(printf '%s\n' "$found" | grep -E '^(overlap|beyond|crosses)')
	if [ -z "$labels" ] || [ "$labels" -lt 5 ]; then
		echo "FAIL: $name: Chromium measured ${labels:-no} labels"
		fail=1
	elif [ -n "$flaws" ]; then
		echo "FAIL: $name: as Chromium lays it out:"
		printf '%s\n' "$flaws" | head -5
		fail=1
	else
		echo "ok: $name: $labels label boxes read back, none overlapping, across a timeline or past the edge"
	fi
	first=${first:-$page}
done
found=$(measure "$first" yes)
if ! printf '%s\n' "$found" | grep -q '^overlap'; then
	echo "FAIL: a label planted onto another in $first was not measured as an overlap"
	fail=1
else
	echo "ok: a label planted onto another is measured as an overlap"
fi
exit "$fail"
