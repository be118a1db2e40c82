#!/usr/bin/env python3
"""Check what an interop server saw: check.py LOG PATH EXPECTED_JSON...

Finds the connection whose "open" event has the given path in LOG (server.py / server.js output)
and passes when, for every EXPECTED_JSON object, one event of that connection (the open event
included) holds all of its keys with equal values. Dict values are matched as subsets.
Retries for up to 3 s, since a server may log a message after the client has gone.
"""
import json
import sys
import time


def matches(event, expected):
    for key, want in expected.items():
        got = event.get(key)
        if isinstance(want, dict):
            if not isinstance(got, dict) or not matches(got, want):
                return False
        elif got != want:
            return False
    return True


def connection_events(log, path):
    events, inside = [], False
    with open(log) as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "open":
                inside = event.get("path") == path
            if inside:
                events.append(event)
    return events


def main():
    log, path, expected = sys.argv[1], sys.argv[2], [json.loads(e) for e in sys.argv[3:]]
    deadline = time.time() + 3
    while True:
        events = connection_events(log, path)
        missing = [e for e in expected if not any(matches(ev, e) for ev in events)]
        if not missing or time.time() > deadline:
            break
        time.sleep(0.1)
    for e in missing:
        print("    server did not see %s (saw: %s)" % (json.dumps(e), json.dumps(events)[:400]))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
