#!/usr/bin/env python3
"""The permessage-deflate message sequence of the interop scenarios (issue 26 item 1): empty
messages between others, 1 byte, and each length-form boundary (125/126, 65535/65536).

Usage:
  sequence.py lines              the sequence as stdin lines for `wscope URL` (one message each)
  sequence.py check FILE KIND    FILE is wscope's --json output; exit 0 when the received
                                 messages are the sequence, in order (KIND: text or binary),
                                 and at least one came compressed
"""
import json
import sys

SIZES = [0, 1, 125, 126, 0, 65535, 65536, 0, 1]


def message(i, n):
    # Letters from a small LCG: valid text, not trivially compressible; a line never holds "\n".
    x = i * 7919 + 1
    out = []
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(chr(ord("a") + (x >> 16) % 26))
    return "".join(out)


def sequence():
    return [message(i, n) for i, n in enumerate(SIZES)]


def main():
    if sys.argv[1] == "lines":
        sys.stdout.write("".join(m + "\n" for m in sequence()))
        return 0
    path, kind = sys.argv[2], sys.argv[3]
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    got = [r for r in rows if r.get("event") == "received"]
    want = sequence()
    if kind == "binary":
        shown = [r.get("hex") for r in got]
        want = [m.encode().hex() for m in want]
    else:
        shown = [r.get("data") for r in got]
    if shown != want:
        print("got", [len(s or "") for s in shown], "want", [len(w) for w in want])
        return 1
    if not any(r.get("compressed") for r in got):
        print("nothing came compressed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
