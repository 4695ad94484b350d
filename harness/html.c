// SPDX-License-Identifier: MIT
/*
 * report.html: one self-contained page (no script, no network) an instructor can put on a
 * projector: the ladder as SVG (html_ladder.c), the expectations, a latency chart for timing
 * scenarios, the parameters, the kernel, the explanation. Written as XHTML so that any XML
 * parser can check it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "report.h"

void lab_report_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			/* control bytes are not allowed in XML: a program's odd output stays readable */
			fputc((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? '?' : *s, f);
		}
	}
}

static const char style[] =
	"body{font-family:DejaVu Sans,Verdana,sans-serif;font-size:18px;margin:24px 40px;"
	"color:#111;background:#fff;max-width:1240px}"
	"h1{font-size:30px;margin:0 0 4px}h2{font-size:24px;margin:28px 0 8px;"
	"border-bottom:2px solid #ccc}"
	".verdict{display:inline-block;padding:4px 14px;border-radius:6px;color:#fff;"
	"font-weight:bold}.ok{background:#1a7f37}.fail{background:#c62828}"
	".error{background:#6a1b9a}"
	"table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #bbb;"
	"padding:4px 10px;text-align:left;vertical-align:top}th{background:#eee}"
	"td.pass{color:#1a7f37;font-weight:bold}td.failed{color:#c62828;font-weight:bold}"
	"td.na{color:#777}pre{background:#f5f5f5;padding:10px;white-space:pre-wrap;"
	"font-size:15px}p.text{max-width:1100px;line-height:1.4}"
	"svg text{font-family:DejaVu Sans Mono,monospace}";

/* a series' bars, with the window of the expectation that summarises it as a band */
static void svg_series(FILE *f, const struct lab_run *run, size_t k)
{
	const struct lab_series *s = &run->series[k];
	const struct lab_expect *win = NULL;
	int cw = 1000, ch = 300, x0 = 70, bw;
	int64_t max = 1;
	size_t n = s->n, i;

	if (!n)
		return;
	for (i = 0; i < run->ex.n; i++)
		if (run->ex.v[i].series == (int)k && run->ex.v[i].kind == LAB_EXPECT_WINDOW)
			win = &run->ex.v[i];
	for (i = 0; i < n; i++)
		max = s->v[i] > max ? s->v[i] : max;
	max = max * 11 / 10 + 1;
	bw = (cw - x0 - 20) / (int)n;
	bw = bw < 2 ? 2 : bw;
	fprintf(f, "<h2>");
	lab_report_esc(f, s->name);
	fprintf(f,
		"</h2>\n<svg xmlns='http://www.w3.org/2000/svg' id='series%zu' width='%d' "
		"height='%d'>\n",
		k, cw, ch + 50);
	if (win) {
		int ylo = ch - (int)(win->lo_us * ch / (double)max);
		int yhi = ch - (int)(win->hi_us * ch / (double)max);

		yhi = yhi < 0 ? 0 : yhi;
		fprintf(f,
			"<rect x='%d' y='%d' width='%d' height='%d' fill='#c8e6c9'/>"
			"<text x='%d' y='%d' font-size='13' fill='#1a7f37'>expected window ",
			x0, yhi, cw - x0, ylo - yhi, x0 + 6, yhi + 14);
		lab_report_esc(f, win->expected);
		fprintf(f, "</text>\n");
	}
	for (i = 0; i < n; i++) {
		int h = (int)(s->v[i] * ch / max);

		fprintf(f,
			"<rect class='bar' x='%d' y='%d' width='%d' height='%d' fill='%s'><title>%s "
			"%zu: %.3f ms</title></rect>\n",
			x0 + (int)i * bw, ch - h, bw > 3 ? bw - 2 : bw, h > 0 ? h : 1,
			i >= s->skip ? "#1565c0" : "#90a4ae", s->call, i, s->v[i] / 1e3);
	}
	fprintf(f,
		"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333'/>"
		"<line x1='%d' y1='0' x2='%d' y2='%d' stroke='#333'/>"
		"<text x='%d' y='14' font-size='13' text-anchor='end'>%.1f ms</text>"
		"<text x='%d' y='%d' font-size='13' text-anchor='end'>0</text>"
		"<text x='%d' y='%d' font-size='14'>%s 0 .. %zu%s</text></svg>\n",
		x0, ch, cw, ch, x0, x0, ch, x0 - 4, max / 1e3, x0 - 4, ch, x0, ch + 30, s->call,
		n - 1, s->skip ? " (grey: not summarised)" : "");
}

static void expectations(FILE *f, const struct lab_run *run)
{
	size_t i;

	fprintf(f, "<h2>Expectations</h2>\n<table id='expectations'><tr><th></th><th>what"
		   "</th><th>expected</th><th>observed</th></tr>\n");
	for (i = 0; i < run->ex.n; i++) {
		const struct lab_expect *e = &run->ex.v[i];
		const char *cls = e->na ? "na" : e->ok ? "pass" : "failed";

		fprintf(f, "<tr><td class='%s'>%s</td><td>", cls,
			e->na ? "n/a" :
			e->ok ? "pass" :
				"FAIL");
		lab_report_esc(f, e->what);
		fprintf(f, "</td><td>");
		lab_report_esc(f, e->expected);
		fprintf(f, "</td><td class='%s'>", cls);
		lab_report_esc(f, e->observed);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table>\n");
}

static void facts(FILE *f, const struct lab_run *run)
{
	size_t i;

	fprintf(f, "<h2>Parameters</h2>\n<table><tr><th>name</th><th>value</th><th>range"
		   "</th><th>meaning</th></tr>\n");
	for (i = 0; i < run->sc->n_params; i++) {
		const struct lab_param *p = &run->sc->params[i];

		fprintf(f, "<tr><td>%s</td><td>%ld %s</td><td>%ld..%ld</td><td>", p->name,
			run->param[i], p->unit, p->min, p->max);
		lab_report_esc(f, p->help);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table>\n");
	if (lab_wire_count(run->wire)) {
		fprintf(f, "<h2>The wire</h2>\n<table><tr><th>impairment</th><th>backend</th>"
			   "<th>what it did</th><th>why that backend</th></tr>\n");
		for (i = 0; i < lab_wire_count(run->wire); i++) {
			const struct lab_wire_stat *st = lab_wire_stat(run->wire, i);
			char did[512];

			lab_report_wire_did(run, i, did, sizeof(did));
			fprintf(f, "<tr><td>");
			lab_report_esc(f, lab_wire_impair(run->wire, i)->spec);
			fprintf(f, "</td><td>%s</td><td>", lab_backend_name(st->backend));
			lab_report_esc(f, did);
			fprintf(f, "</td><td>");
			lab_report_esc(f, st->why);
			fprintf(f, "</td></tr>\n");
		}
		fprintf(f, "</table>\n");
	}
	fprintf(f, "<h2>Kernel</h2>\n<p>tcplab ");
	lab_report_esc(f, lab_version());
	fprintf(f, " on Linux ");
	lab_report_esc(f, run->kernel.release);
	fprintf(f,
		", HZ %d, sch_netem %s. Sysctls pinned in the lab:</p>\n<table><tr><th>host"
		"</th><th>sysctl</th><th>value</th></tr>\n",
		run->kernel.hz, run->kernel.netem == 1 ? "yes" : "no");
	for (i = 0; i < run->topo.n_sysctl; i++) {
		const struct lab_sysctl_rec *r = &run->topo.sysctl[i];

		fprintf(f, "<tr><td>%s</td><td>", r->host);
		lab_report_esc(f, r->key);
		fprintf(f, "</td><td>");
		lab_report_esc(f, r->value);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table>\n");
}

static void story(FILE *f, const struct lab_run *run)
{
	const struct lab_scenario *sc = run->sc;
	static const char *const titles[] = { "Symptom", "Mechanism", "In the capture", "Remedy" };
	const char *texts[] = { sc->symptom, sc->mechanism, run->variant->capture, sc->remedy };
	size_t i;

	fprintf(f, "<h2>The story</h2>\n");
	for (i = 0; i < 4; i++) {
		fprintf(f, "<h3>%s</h3><p class='text'>", titles[i]);
		if (i == 2 && sc->capture) {
			lab_report_esc(f, sc->capture);
			fprintf(f, " ");
		}
		lab_report_esc(f, texts[i] ? texts[i] : "");
		fprintf(f, "</p>\n");
	}
	if (sc->seen_on) {
		fprintf(f,
			"<p class='text'>Seen on (kernels where every variant ran as documented): ");
		lab_report_esc(f, sc->seen_on);
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<h3>By hand (what this run started, in namespaces you make)</h3><pre>");
	lab_report_esc(f, run->by_hand ? run->by_hand : "");
	fprintf(f, "</pre>\n");
}

int lab_report_html(const struct lab_run *run, const char *verdict, const char *path)
{
	FILE *f = fopen(path, "w");
	const char *cls = run->error[0]						   ? "error" :
			  lab_expects_all_ok(&run->ex, lab_run_outcomes_only(run)) ? "ok" :
										     "fail";
	size_t i;
	int err;

	if (!f)
		return -errno;
	fprintf(f,
		"<!DOCTYPE html>\n<html xmlns='http://www.w3.org/1999/xhtml' lang='en'><head>"
		"<meta charset='utf-8'/><title>tcplab: %s / %s</title><style>%s</style></head>"
		"<body>\n",
		run->sc->name, run->variant->name, style);
	fprintf(f, "<h1>%s, variant %s</h1>\n<p class='text'>", run->sc->name, run->variant->name);
	lab_report_esc(f, run->variant->summary);
	fprintf(f, "</p>\n<p><span class='verdict %s'>%s</span>", cls, verdict);
	if (run->expect_as != run->variant)
		fprintf(f, " judged by the expectations of variant <b>%s</b>",
			run->expect_as->name);
	if (run->error[0]) {
		fprintf(f, " ");
		lab_report_esc(f, run->error);
	}
	fprintf(f, "</p>\n<p>Captures next to this page: <a href='client.pcap'>client.pcap</a>, "
		   "<a href='server.pcap'>server.pcap</a> (open them in Wireshark).");
	for (i = 0; i < 2; i++) {
		const char *cmd = i ? run->opts->client_cmd : run->opts->server_cmd;

		if (!cmd)
			continue;
		fprintf(f, " %s: <code>", i ? "client" : "server");
		lab_report_esc(f, cmd);
		fprintf(f, "</code>");
	}
	fprintf(f, "</p>\n");
	expectations(f, run);
	for (size_t k = 0; k < run->n_series; k++)
		svg_series(f, run, k);
	fprintf(f,
		"<h2>On the wire</h2>\n<p class='text'>Time runs down, 2.5 px per millisecond: "
		"a stall is empty space, and a silence over 100 ms is cut (a white band, its "
		"length written in it). Each packet is an arrow from the moment the sender's "
		"capture saw it to the moment the receiver's did, so a delayed packet slants; "
		"one that never arrived stops on the wire at a red X (blue: data and ACKs; "
		"orange: retransmission; purple: RST; red: lost). A packet's notes in brackets "
		"are what Wireshark's analysis would say (retransmission, keep-alive, zero "
		"window, challenge ACK). Beside the timelines: the programs' calls where they "
		"began (red: an error); each endpoint's TCP state where it "
		"changed (green: the kernel's sock:inet_sock_set_state tracepoint), and socket "
		"states sampled through inet_diag (green, italic, \"sampled\"); in the middle, the wire's drops and the harness's own steps "
		"(grey). A call still in progress when packets arrived is drawn twice: grey "
		"\"...\" where it began, its value where it returned, and a bar on its timeline "
		"between the two (hover: how long). When more than one connection is drawn, "
		"each packet names its client port.</p>\n");
	lab_report_svg_ladder(f, run);
	facts(f, run);
	story(f, run);
	fprintf(f, "</body></html>\n");
	err = fflush(f) || ferror(f) ? -(errno ? errno : EIO) : 0;
	if (fclose(f) && !err)
		err = -(errno ? errno : EIO);
	return err;
}
