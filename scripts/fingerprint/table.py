#!/usr/bin/env python3
"""scripts/fingerprint.sh's judge: reads each peer's `wscope probe --fingerprint --json` document.

Usage: table.py check|regenerate DATA_FILE NAME=FILE...
check: each peer's fingerprint must name NAME (PASS/FAIL lines; exit 1 on any FAIL).
regenerate: writes DATA_FILE (the table `probe --fingerprint` reads) from the signals seen.
Both then print docs/CONFORMANCE.md's table rows: what the default probe says about each peer
(the checks that did not pass) and what --fingerprint names, with its confidence.
"""
import json
import sys


def fingerprint(doc):
    for c in doc.get("checks", []):
        if c["id"] == "fingerprint":
            return c
    return None


def row(name, doc):
    checks = [c for c in doc.get("checks", []) if c["id"] != "fingerprint"]
    counts = {s: sum(1 for c in checks if c["status"] == s) for s in ("pass", "warn", "fail", "n/a")}
    others = {}
    for c in checks:
        if c["status"] != "pass":
            others.setdefault(c["status"], []).append(c["id"])
    said = "; ".join(f"{s}: {', '.join(ids)}" for s, ids in others.items()) or "-"
    fp = fingerprint(doc) or {}
    data = fp.get("fingerprint", {})
    named = data.get("product")
    conf = data.get("confidence")
    named_text = f"{named} ({round(conf * 100)}%)" if named else f"unknown (closest: {data.get('closest')})"
    tally = " / ".join(str(counts[s]) for s in ("pass", "warn", "fail", "n/a"))
    return f"| {name} | {tally} | {said} | {named_text} |"


def main():
    mode, data_file, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    peers, fails = [], 0
    rows = ["| Peer | pass / warn / fail / n/a | Checks that did not pass | `--fingerprint` names |",
            "|---|---|---|---|"]
    for pair in pairs:
        name, path = pair.split("=", 1)
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"FAIL  {name}: no probe document ({e})")
            fails += 1
            continue
        fp = fingerprint(doc)
        if fp is None or "fingerprint" not in fp:
            print(f"FAIL  {name}: no fingerprint in the document: {doc.get('error') or doc}")
            fails += 1
            continue
        data = fp["fingerprint"]
        if mode == "regenerate":
            peers.append({"name": name, "signals": data["signals"]})
        elif data.get("product") == name:
            print(f"PASS  {name}: {fp['detail']}")
        else:
            print(f"FAIL  {name}: {fp['detail']}")
            fails += 1
        rows.append(row(name, doc))
    if mode == "regenerate" and not fails:
        table = {
            "about": "What each known peer answers to probe --fingerprint's questions; "
                     "rewritten by scripts/fingerprint.sh --regenerate, never by hand.",
            "peers": peers,
        }
        with open(data_file, "w") as f:
            json.dump(table, f, indent=1, sort_keys=False, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {data_file} ({len(peers)} peers): rebuild wscope and run the script again to check")
    print("\n".join(rows))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
