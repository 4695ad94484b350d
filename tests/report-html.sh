#!/bin/sh
# report.html: well-formed (parsed as XML), a ladder with packet arrows and the lost packet
# marked, the expectations table, a latency chart for a timing scenario; then rendered by
# headless Chromium, which must load it without errors and paint a real screenshot.
# usage: report-html.sh TCPLAB
set -u
tcplab=$1
results=$(mktemp -d /tmp/report-html.XXXXXX)
trap 'rm -rf "$results"' EXIT
"$tcplab" run lost-final-ack --results "$results" --quiet >/dev/null 2>&1
rc=$?
[ "$rc" = 77 ] && { echo "cannot build labs here: skipped"; exit 77; }
"$tcplab" run nagle-delayed-ack --set requests=5 --results "$results" --quiet >/dev/null 2>&1
fail=0
for page in "$results"/*/*/report.html; do
	python3 - "$page" <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
path = sys.argv[1]
ns = {'s': 'http://www.w3.org/2000/svg', 'h': 'http://www.w3.org/1999/xhtml'}
root = ET.parse(path).getroot()          # raises on a malformed page
ladder = root.find(".//s:svg[@id='ladder']", ns)
pkts = ladder.findall(".//s:g", ns) if ladder is not None else []
rows = root.findall(".//h:table[@id='expectations']/h:tr", ns)
lost = [g for g in pkts if 'lost' in g.get('class', '')]
bars = root.findall(".//s:svg[@id='series0']/s:rect[@class='bar']", ns)
problems = []
if len(pkts) < 4: problems.append(f"{len(pkts)} packet arrows")
if len(rows) < 3: problems.append(f"{len(rows) - 1} expectation rows")
if 'lost-final-ack' in path and len(lost) != 1: problems.append(f"{len(lost)} lost packets marked")
if 'nagle' in path and len(bars) != 5: problems.append(f"{len(bars)} latency bars")
print(("FAIL: " if problems else "ok: ") + path.split('/')[-3] + ": " +
      (", ".join(problems) if problems else f"{len(pkts)} arrows, {len(rows) - 1} expectations, {len(bars)} bars"))
sys.exit(1 if problems else 0)
PY
done
if ! command -v chromium >/dev/null; then
	echo "chromium is not installed: the rendering check did not run (apt-get install chromium)"
	exit $([ "$fail" = 0 ] && echo 77 || echo 1)
fi
for page in "$results"/*/*/report.html; do
	shot="${page%.html}.png"
	log=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--enable-logging=stderr --v=0 --window-size=1280,1600 --screenshot="$shot" \
		"file://$page" 2>&1)
	size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
	if printf '%s' "$log" | grep -E -q "Uncaught|CONSOLE.*(rror|arning)|Failed to load"; then
		echo "FAIL: chromium reported errors for $page:"
		printf '%s\n' "$log" | grep -E "Uncaught|CONSOLE|Failed to load"
		fail=1
	elif [ "$size" -lt 20000 ]; then
		echo "FAIL: chromium painted $size bytes for $page"
		fail=1
	else
		echo "ok: chromium rendered $(basename "$(dirname "$page")"): $size-byte screenshot"
	fi
done
exit "$fail"
