"""``dudao-send-py``: send JSON Lines feed files to dudao-ingest and print what happened to each line.

Each line of a file is one envelope ``{"v":1,"kind":"feed","id":...,"type":...,"body":{...}}``
(``v`` and ``kind`` may be left out), or, with ``--type``, one bare body (its id is then derived
from type and body, so re-running the same file is answered ``duplicate``). Blank lines are
skipped. Output: one tab-separated line per feed, ``FILE:LINE  ID  STATUS`` and, for a nack,
``CODE  PATH  MESSAGE``; then a summary line.

Exit status: 0 every feed acknowledged (accepted, duplicate or stale), 1 at least one nack,
2 the server could not be reached or was not the one expected (nothing more was sent).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Iterator, List, Optional, TextIO

from . import __version__
from .client import (DEFAULT_PORT, DEFAULT_SERVER_NAME, Client, ConnectionFailed, DudaoError, TLSError,
                     make_envelope)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dudao-send-py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", metavar="FILE.jsonl", nargs="+", help="JSON Lines files to send, in order ('-': stdin)")
    p.add_argument("--host", default="127.0.0.1", help="host of dudao-ingest (default: %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="its port (default: %(default)s)")
    p.add_argument("--ca", required=True, help="PEM file of the Dudao CA (ca.pem)")
    p.add_argument("--cert", required=True, help="this integrator's certificate (NAME.pem)")
    p.add_argument("--key", required=True, help="its private key (NAME.key)")
    p.add_argument("--server-name", default=DEFAULT_SERVER_NAME,
                   help="identity (certificate CN) the server must present; '*': any CA-signed server "
                        "(default: %(default)s)")
    p.add_argument("--no-check-host", action="store_true",
                   help="do not require --host to be in the server certificate's SAN (the CN is still checked)")
    p.add_argument("--window", type=int, default=32, help="feeds in flight at most (default: %(default)s)")
    p.add_argument("--type", dest="feed_type", help="every line is a bare body of this feed type, e.g. safety.heartbeat")
    p.add_argument("--retries", type=int, default=10,
                   help="reconnect attempts in a row without progress before giving up (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a reply (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="print only nacks and the summary")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


class _Lines:
    """Reads the files lazily; remembers FILE:LINE per feed until its outcome is printed."""

    def __init__(self, files: List[str], feed_type: Optional[str]) -> None:
        self.files, self.feed_type = files, feed_type
        self.where: Dict[int, str] = {}
        self.malformed: Dict[int, str] = {}

    def __iter__(self) -> Iterator[Any]:
        index = 0
        for name in self.files:
            stream: TextIO = sys.stdin if name == "-" else open(name, encoding="utf-8")
            try:
                for number, line in enumerate(stream, 1):
                    if not line.strip():
                        continue
                    self.where[index] = f"{name}:{number}"
                    try:
                        value = json.loads(line)
                    except ValueError as exc:
                        self.malformed[index] = f"line is not JSON: {exc}"
                        value = None
                    if self.feed_type is not None and isinstance(value, dict):
                        value = make_envelope(self.feed_type, value)
                    index += 1
                    yield value
            finally:
                if stream is not sys.stdin:
                    stream.close()


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.window < 1:
        print("dudao-send-py: --window must be at least 1", file=sys.stderr)
        return 2
    for name in args.files:
        if name != "-" and not os.path.isfile(name):
            print(f"dudao-send-py: {name}: no such file", file=sys.stderr)
            return 2
    try:
        client = Client(args.host, args.port, ca=args.ca, cert=args.cert, key=args.key, server_name=args.server_name,
                        check_host=not args.no_check_host, timeout=args.timeout, retries=args.retries,
                        log=lambda text: print(f"dudao-send-py: {text}", file=sys.stderr, flush=True))
    except (OSError, ValueError) as exc:
        print(f"dudao-send-py: cannot load the certificates: {exc}", file=sys.stderr)
        return 2
    lines = _Lines(args.files, args.feed_type)
    counts = {"accepted": 0, "duplicate": 0, "stale": 0, "nack": 0}
    status = 0
    try:
        with client:
            for outcome in client.stream(lines, window=args.window):
                where = lines.where.pop(outcome.index, f"#{outcome.index + 1}")
                counts[outcome.status] += 1
                if outcome.ok:
                    if not args.quiet:
                        print(f"{where}\t{outcome.id}\t{outcome.status}", flush=False)
                    continue
                code, message = outcome.code, outcome.message
                if outcome.index in lines.malformed:
                    code, message = "malformed_json", lines.malformed.pop(outcome.index)
                print(f"{where}\t{outcome.id}\tnack\t{code}\t{outcome.path or '-'}\t{message}")
    except (TLSError, ConnectionFailed) as exc:
        print(f"dudao-send-py: {exc}", file=sys.stderr)
        status = 2
    except (DudaoError, OSError) as exc:
        print(f"dudao-send-py: {exc}", file=sys.stderr)
        status = 2
    total = sum(counts.values())
    extra = ""
    if client.reconnects or client.resent:
        extra = f" (reconnects {client.reconnects}, re-sent {client.resent})"
    unanswered = len(lines.where)
    if unanswered:
        extra += f"; {unanswered} line(s) read but not answered"
    print(f"summary: {total} lines: {counts['accepted']} accepted, {counts['duplicate']} duplicate, "
          f"{counts['stale']} stale, {counts['nack']} nack{extra}", flush=True)
    if status:
        return status
    return 1 if counts["nack"] else 0


if __name__ == "__main__":
    sys.exit(main())
