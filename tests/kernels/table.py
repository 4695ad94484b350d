#!/usr/bin/env python3
"""The kernel matrix's table: case x kernel -> verdict, then every expectation that differs.

usage: table.py OUT LABEL...   (OUT/LABEL/ as left by tests/kernels/run.sh and guest.sh)
Exit status: 0 when every case passed (or was not judged) on every kernel that booted and no
guest failed to boot or hung; 1 otherwise.
"""
import json
import os
import sys

CELLS = {0: "ok", 1: "FAIL", 2: "refused", 77: "skip", 99: "ERROR", 124: "TIMEOUT", 137: "TIMEOUT"}


def read_lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f]
    except OSError:
        return []


def info(path):
    d = {}
    for l in read_lines(path):
        k, _, v = l.partition(" ")
        d[k] = v
    return d


def load(out, label):
    k = {"label": label, "runs": {}, "boot": info(os.path.join(out, label, "boot-info"))}
    k.update({"guest": info(os.path.join(out, label, "guest-info"))})
    k["console"] = read_lines(os.path.join(out, label, "console.log"))
    for l in read_lines(os.path.join(out, label, "status")):
        sc, var, as_, want, rc, ms = l.split()
        name = sc if var == "-" else f"{sc}/{var}" if var == as_ else f"{sc}/{var}~{as_}"
        rep = None
        try:
            with open(os.path.join(out, label, "json", f"{sc}.{var}.{as_}.json")) as f:
                lines = [x for x in f if x.strip()]
                rep = json.loads(lines[-1]) if lines else None
        except (OSError, ValueError):
            rep = None
        k["runs"][name] = {"want": int(want), "rc": int(rc), "ms": int(ms), "rep": rep}
    return k


def cell(run, emulated):
    if run is None:
        return "-"
    rc, want = run["rc"], run["want"]
    if rc == want:
        return "ok" if rc == 0 else "ok(fails)"
    rep = run["rep"]
    if emulated and rep and rc == 0 and want == 1:
        # a remedy judged as the failure that differs from it by timing alone: not judged here
        bad = [e for e in rep["expectations"] if not e["ok"] and e.get("applicable", True)]
        if bad and all(e["timed"] for e in bad):
            return "n/j"
    return CELLS.get(rc, f"exit {rc}")


def boot_problem(k):
    if k["label"] == "host":
        return None
    text = "\n".join(k["console"])
    if "timeout" in k["boot"]:
        return f"GUEST KILLED: after {k['boot']['timeout']} s (hung?)"
    for l in k["console"]:
        if "tcplab-guest: boot failed" in l:
            return "BOOT FAILURE: " + l.split("tcplab-guest: ", 1)[1]
    if "Kernel panic" in text:
        return "BOOT FAILURE: kernel panic: " + next(l for l in k["console"] if "Kernel panic" in l)
    if "tcplab-guest: root ready" not in text:
        return "BOOT FAILURE: did not boot (no 'root ready' on the console)"
    if "tcplab-guest: job ended" not in text:
        return "GUEST FAILURE: the job did not end"
    return None


def main():
    out, labels = sys.argv[1], sys.argv[2:]
    ks = [load(out, l) for l in labels]
    cases = [
        l.split() for l in read_lines(os.path.join(out, "cases")) if l and not l.startswith("#")
    ]
    names = [f"{c[0]}/{c[1]}" if c[1] == c[2] else f"{c[0]}/{c[1]}~{c[2]}" for c in cases]
    for k in ks:  # the test scripts (--tests) after the cases
        names += [n for n in k["runs"] if n.startswith("test:") and n not in names]
    heads = []
    for k in ks:
        rel = k["guest"].get("release", k["label"])
        acc = k["boot"].get("accel", "?")
        heads.append(f"{rel.split('-')[0]} ({acc})" if acc != "none" else f"{rel.split('-')[0]} (host)")
    w0 = max([len(n) for n in names] + [4])
    ws = [max(len(h), 9) for h in heads]
    print()
    print(f"{'case':<{w0}}  " + "  ".join(f"{h:<{w}}" for h, w in zip(heads, ws)))
    bad = False
    diffs = []
    for n in names:
        row = []
        for k, w in zip(ks, ws):
            c = cell(k["runs"].get(n), bool(k["guest"].get("emulated")))
            bad |= c not in ("ok", "ok(fails)", "n/j", "skip")
            row.append(f"{c:<{w}}")
        print(f"{n:<{w0}}  " + "  ".join(row))
        diffs += differing(n, ks)
    print()
    for k in ks:
        prob = boot_problem(k)
        rel = k["guest"].get("release") or k["boot"].get("kernel") or k["label"]
        note = []
        if k["guest"].get("emulated"):
            note.append(f"emulated ({k['guest']['emulated']}): timed expectations shown, not judged")
        if "elapsed" in k["boot"]:
            note.append(f"guest time {k['boot']['elapsed']} s")
        if prob:
            bad = True
            note.append(prob)
        print(f"{rel}: " + ("; ".join(note) if note else "this machine"))
        if prob:  # what the console said last, for a CI log
            for l in k["console"][-12:]:
                print(f"    console: {l}")
    print("ok: as documented; ok(fails): a remedy judged as the failure came out not as "
          "documented, as it must;\nn/j: that remedy differs from the failure by timing alone, "
          "not judged under emulation; skip: exit 77 (e.g. no sch_netem)")
    if diffs:
        print("\nexpectations that differ between kernels (observed; * = did not hold):")
        for d in diffs:
            print(d)
    return 1 if bad else 0


def differing(name, ks):
    """the expectations of @name whose outcome or (untimed) observation differs across kernels"""
    per = []
    for k in ks:
        run = k["runs"].get(name)
        ex = {e["key"]: e for e in (run["rep"]["expectations"] if run and run["rep"] else [])}
        per.append(ex)
    keys = []
    for ex in per:
        keys += [key for key in ex if key not in keys]
    lines = []
    for key in keys:
        es = [ex.get(key) for ex in per]
        present = [e for e in es if e]
        oks = {e["ok"] for e in present}
        obs = {e["observed"] for e in present if not e["timed"]}
        if len(oks) < 2 and len(obs) < 2:
            continue
        what = present[0]["what"]
        # a kernel-aware expectation expects per kernel: then each value says what it expected
        per_kernel = len({e["expected"] for e in present}) > 1
        vals = []
        for k, e in zip(ks, es):
            rel = (k["guest"].get("release") or k["label"]).split("-")[0]
            if e is None:
                vals.append(f"{rel}: -")
                continue
            v = f"{rel}: {e['observed']}{'' if e['ok'] else ' *'}"
            if per_kernel:
                v += f" (expected {e['expected']})"
            if e["timed"] and k["guest"].get("emulated"):
                v += " (timed: not judged)"
            vals.append(v)
        head = "" if per_kernel else f" (expected {present[0]['expected']})"
        lines.append(f"  {name}: {what}{head}\n      " + " | ".join(vals))
    return lines


if __name__ == "__main__":
    sys.exit(main())
