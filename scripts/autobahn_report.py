#!/usr/bin/env python3
"""Summarise an Autobahn|Testsuite client report for wscope and decide pass/fail.

Usage: autobahn_report.py INDEX_JSON FUZZINGSERVER_LOG EXIT_CODES

Prints verdict counts per case group, then every case that is not OK with its behaviour, close
behaviour, the close code wscope sent and wscope's exit code. Exits 1 when a case of groups 1-7,
10, 12 or 13 is anything but OK/INFORMATIONAL (behaviour or close behaviour); group 9 is only
reported.
NON-STRICT fails too unless AUTOBAHN_ALLOW_NONSTRICT=1.
"""
import ast
import json
import os
import sys
from collections import Counter, defaultdict

GATED_OK = {"OK", "INFORMATIONAL"}
if os.environ.get("AUTOBAHN_ALLOW_NONSTRICT") == "1":
    GATED_OK.add("NON-STRICT")
ORDER = ["OK", "INFORMATIONAL", "NON-STRICT", "UNIMPLEMENTED", "WRONG CODE", "FAILED", "MISSING"]


def case_key(case_id):
    return tuple(int(p) for p in case_id.split("."))


def main():
    index_path, log_path, codes_path = sys.argv[1:4]
    with open(index_path) as f:
        results = json.load(f).get("wscope", {})
    # The server numbers its cases 1..N in the order it logged them.
    case_ids = []
    with open(log_path) as f:
        for line in f:
            if line.startswith("Cases = "):
                case_ids = ast.literal_eval(line[len("Cases = "):].strip())
    exit_codes = {}
    with open(codes_path) as f:
        for line in f:
            n, rc = line.split()
            if int(n) <= len(case_ids):
                exit_codes[case_ids[int(n) - 1]] = int(rc)

    groups = defaultdict(Counter)
    bad, notable = [], []
    for cid in sorted(set(case_ids) | set(results), key=case_key):
        r = results.get(cid)
        behavior = r["behavior"] if r else "MISSING"
        close = r["behaviorClose"] if r else "MISSING"
        group = cid.split(".")[0]
        groups[group][behavior] += 1
        gated = group != "9"
        fails = behavior not in GATED_OK or close not in GATED_OK
        if behavior != "OK" or close != "OK":
            row = (cid, behavior, close, r.get("remoteCloseCode") if r else None,
                   exit_codes.get(cid), r.get("duration") if r else None)
            (bad if gated and fails else notable).append(row)

    cols = [v for v in ORDER if any(groups[g][v] for g in groups)]
    print("\n%-7s %6s " % ("group", "cases") + " ".join("%14s" % c for c in cols))
    total = Counter()
    for g in sorted(groups, key=int):
        total.update(groups[g])
        print("%-7s %6d " % (g, sum(groups[g].values())) + " ".join("%14d" % groups[g][c] for c in cols))
    print("%-7s %6d " % ("all", sum(total.values())) + " ".join("%14d" % total[c] for c in cols))

    def show(title, rows):
        if rows:
            print("\n" + title)
            print("  %-10s %-14s %-14s %-10s %-6s %s" % ("case", "behavior", "close", "wscope-close", "exit", "ms"))
            for row in rows:
                print("  %-10s %-14s %-14s %-10s %-6s %s" % tuple("-" if v is None else v for v in row))

    show("Not OK, reported only (group 9, or INFORMATIONAL):", notable)
    show("FAILING (groups 1-7, 10, 12, 13):", bad)
    print("\nautobahn: %s" % ("FAIL, %d case(s) above" % len(bad) if bad else "PASS"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
