#!/bin/sh
# report.html: well-formed (parsed as XML), a ladder with packet arrows and the lost packet
# marked, the expectations table and the latency chart above the ladder, a delay drawn as
# slanted arrows; then rendered by headless Chromium, which must load it without errors and
# paint a real screenshot, and in which every label's box is read back (report-boxes.sh): no two
# overlap, none crosses a timeline or passes the drawing's edge.
# usage: report-html.sh TCPLAB
set -u
tcplab=$1
results=$(mktemp -d /tmp/report-html.XXXXXX)
tracefs_before=$(grep -c tracefs /proc/self/mounts)
trap 'rm -rf "$results"' EXIT
"$tcplab" run lost-final-ack --results "$results" --quiet >/dev/null 2>&1
rc=$?
[ "$rc" = 77 ] && { echo "cannot build labs here: skipped"; exit 77; }
"$tcplab" run nagle-delayed-ack --set requests=5 --results "$results" --quiet >/dev/null 2>&1
"$tcplab" run accept-overflow --results "$results" --quiet >/dev/null 2>&1
"$tcplab" run rst-on-close --impair delay=20ms,dir=both --results "$results" --quiet >/dev/null 2>&1
fail=0
# the state trace leaves nothing on the host: no tracefs mount (its perf events were fds)
if [ "$(grep -c tracefs /proc/self/mounts)" != "$tracefs_before" ]; then
	echo "FAIL: a run left tracefs mounted on the host"
	fail=1
fi
for page in "$results"/*/*/report.html; do
	python3 - "$page" <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
path = sys.argv[1]
ns = {'s': 'http://www.w3.org/2000/svg', 'h': 'http://www.w3.org/1999/xhtml'}
root = ET.parse(path).getroot()          # raises on a malformed page
ladder = root.find(".//s:svg[@id='ladder']", ns)
pkts = [g for g in ladder.findall(".//s:g", ns) if g.get('class', '').startswith('pkt')] if ladder is not None else []
rows = root.findall(".//h:table[@id='expectations']/h:tr", ns)
lost = [g for g in pkts if 'lost' in g.get('class', '')]
bars = root.findall(".//s:svg[@id='series0']/s:rect[@class='bar']", ns)
problems = []
body = list(root.find('h:body', ns).iter())
where = {id(e): k for k, e in enumerate(body)}
table = root.find(".//h:table[@id='expectations']", ns)
if table is None or ladder is None or where[id(table)] > where[id(ladder)]:
    problems.append("the expectations are not above the ladder")
series = root.find(".//s:svg[@id='series0']", ns)
if series is not None and where[id(series)] > where[id(ladder)]:
    problems.append("the latency chart is not above the ladder")
arrows = [l for g in pkts for l in g.findall("s:line", ns)]
if 'rst-on-close' in path:
    # 20 ms each way at 2.5 px/ms: every arrow drops ~50 px from sender to receiver
    flat = [a for a in arrows if int(a.get('y2')) - int(a.get('y1')) < 40]
    if not arrows or flat: problems.append(f"{len(flat)} of {len(arrows)} arrows not slanted by the 20 ms delay")
if 'accept-overflow' in path:
    ports = {t.text.split(':')[0] for t in ladder.iter('{http://www.w3.org/2000/svg}text')
             if t.text and t.text.startswith('port ')}
    if len(ports) < 6: problems.append(f"{len(ports)} client ports named on the arrows")
if len(pkts) < 4: problems.append(f"{len(pkts)} packet arrows")
if len(rows) < 3: problems.append(f"{len(rows) - 1} expectation rows")
if 'lost-final-ack' in path and len(lost) != 1: problems.append(f"{len(lost)} lost packets marked")
if 'lost-final-ack' in path:
    # the server's states from the kernel's tracepoint, at the packets that changed them: LAST_ACK
    # from its close() until the client's ACK of the re-sent FIN arrives (server-side capture)
    import json, subprocess
    report = json.load(open(path.replace('report.html', 'report.json')))
    states = [(e['t_us'], e['detail'].split(' ')[0] + ' -> ' + e['detail'].split(' ')[2])
              for e in report['events'] if e['call'] == 'tcp_state' and e['who'] == 'server']
    if report['tcp_states'] != 'sock:inet_sock_set_state (perf)':
        problems.append("no state trace: " + report['tcp_states'])
    seq = [s for _, s in states]
    for want in ('LISTEN -> SYN_RECV', 'SYN_RECV -> ESTABLISHED', 'ESTABLISHED -> CLOSE_WAIT',
                 'CLOSE_WAIT -> LAST_ACK', 'LAST_ACK -> CLOSE'):
        if want not in seq: problems.append(f"server {want} not traced (got {seq})")
    acks = subprocess.run(['tshark', '-r', path.replace('report.html', 'server.pcap'), '-Y',
                           'ip.src==192.0.2.1 && tcp.flags==0x010 && tcp.len==0', '-T', 'fields',
                           '-e', 'frame.time_epoch'], capture_output=True, text=True).stdout.split()
    closed = [t for t, s in states if s == 'LAST_ACK -> CLOSE']
    if acks and closed and not (0 <= closed[0] - float(acks[-1]) * 1e6 < 5000):
        problems.append(f"LAST_ACK -> CLOSE {closed[0]} is not at the final ACK's arrival {acks[-1]}")
    if sum('LAST_ACK' in t.text for t in ladder.iter('{http://www.w3.org/2000/svg}text') if t.text) < 2:
        problems.append("the ladder does not show LAST_ACK where it began and ended")
for g in lost:
    line = g.find("s:line", ns)
    if line is None or int(line.get('x2')) != (390 + 800) // 2: problems.append("a lost packet does not stop on the wire")
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
# every label's box as Chromium lays the pages out (report-boxes.sh)
sh "$(dirname "$0")/report-boxes.sh" "$results"/*/*/report.html || fail=1
exit "$fail"
