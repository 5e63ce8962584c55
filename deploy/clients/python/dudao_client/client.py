"""A mutual-TLS client for Dudao's wire protocol (SPEC section 2), Python standard library only.

Frames are a 4-byte unsigned big-endian length followed by that many bytes of UTF-8 JSON holding
one object. Every ``feed`` frame gets exactly one reply (``ack`` with a status, or ``nack``), in
the order the feeds arrived on the connection; :class:`Client` relies on that order to pair
replies with feeds, pipelines up to ``window`` feeds, and after a lost connection reconnects
with backoff and re-sends every feed not yet answered, with the same ids (the server answers
the ones it had already stored ``duplicate``).
"""
from __future__ import annotations

import hashlib
import json
import random
import socket
import ssl
import struct
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Mapping, Optional

__all__ = [
    "Client",
    "Outcome",
    "DudaoError",
    "TLSError",
    "WrongServerError",
    "ConnectionFailed",
    "ProtocolError",
    "make_envelope",
    "stable_id",
    "DEFAULT_PORT",
    "DEFAULT_SERVER_NAME",
    "DEFAULT_MAX_FRAME_BYTES",
]

DEFAULT_PORT = 7401
DEFAULT_SERVER_NAME = "dudao-ingest"
DEFAULT_MAX_FRAME_BYTES = 1_048_576
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
_MAX_REPLY_BYTES = 64 * 1024 * 1024
_STATUSES = ("accepted", "duplicate", "stale")


class DudaoError(Exception):
    """Base class of the errors this client raises."""


class TLSError(DudaoError):
    """The TLS handshake failed for good: the server's certificate did not verify (chain, purpose,
    host name) or the server refused this client's certificate. Not retried."""


class WrongServerError(TLSError):
    """The server presented a valid certificate of another identity (CN) than the one expected."""


class ConnectionFailed(DudaoError):
    """The server could not be reached (or kept dropping the connection) ``retries`` times in a
    row without answering a frame. Feeds not yet answered are in :attr:`unanswered`."""

    def __init__(self, message: str, unanswered: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.unanswered: List[Dict[str, Any]] = unanswered or []


class ProtocolError(DudaoError):
    """The server sent something the protocol does not allow (a reply out of order, a frame
    that is not a JSON object, ...)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one feed.

    ``status`` is ``accepted``, ``duplicate``, ``stale`` (the three acks) or ``nack``; a nack
    carries ``code`` (e.g. ``invalid_field``), ``message`` (a sentence for a person), ``message_zh``
    (the same sentence in Chinese) and, when the server names the offending field, ``path`` (e.g.
    ``body.classes[0].children``).
    """

    index: int
    """Position of the feed in the iterable given to :meth:`Client.send` (0-based)."""
    id: Optional[str]
    type: Optional[str]
    status: str
    code: Optional[str] = None
    message: Optional[str] = None
    path: Optional[str] = None
    attempts: int = 1
    """How many times the frame was sent (more than 1 after a reconnect or an ``overloaded``)."""
    local: bool = False
    """True when the client refused the feed itself and never sent it (e.g. a frame too large)."""
    message_zh: Optional[str] = None
    """A nack's ``message`` in Chinese (``error.message_zh``), also naming the field."""

    @property
    def ok(self) -> bool:
        """True for the three acks (accepted, duplicate, stale)."""
        return self.status != "nack"

    def __str__(self) -> str:
        if self.ok:
            return f"{self.id}\t{self.status}"
        return f"{self.id}\tnack\t{self.code}\t{self.path or '-'}\t{self.message}"


def stable_id(feed_type: str, body: Mapping[str, Any], prefix: Optional[str] = None) -> str:
    """An id derived from the feed's type and body: the same record always gets the same id, so
    sending it again (a re-run of a job, a retry after a crash) is answered ``duplicate`` instead
    of being stored twice. ``prefix`` (default: the feed type) comes first, e.g.
    ``preschool.census:3f1c...``. Two feeds with identical type and body get the same id."""
    canonical = json.dumps({"type": feed_type, "body": body}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]
    head = feed_type if prefix is None else prefix
    fid = f"{head}:{digest}"
    if not head or len(fid) > 128 or not set(head) <= _ID_CHARS:
        raise ValueError(f"id prefix {head!r} must be 1-87 characters of A-Z a-z 0-9 . _ : -")
    return fid


def make_envelope(feed_type: str, body: Mapping[str, Any], id: Optional[str] = None, *,
                  prefix: Optional[str] = None, sent_at: Optional[str] = None) -> Dict[str, Any]:
    """Build a ``feed`` envelope ``{"v":1,"kind":"feed","id":...,"type":...,"body":...}``.

    Without ``id`` the id is :func:`stable_id` of type and body (``prefix`` as there).
    ``sent_at`` is an optional RFC 3339 timestamp."""
    env: Dict[str, Any] = {"v": 1, "kind": "feed", "id": id if id is not None else stable_id(feed_type, body, prefix),
                           "type": feed_type}
    if sent_at is not None:
        env["sent_at"] = sent_at
    env["body"] = dict(body)
    return env


class _Closed(ConnectionError):
    """The server closed the connection."""


class _SourceError(Exception):
    """The caller's iterable of feeds raised: passed through as it is, never taken for a lost connection."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Item:
    __slots__ = ("index", "id", "type", "frame", "envelope", "attempts", "overloaded", "local")

    def __init__(self, index: int, envelope: Dict[str, Any], frame: bytes, local: Optional[Outcome] = None) -> None:
        self.index = index
        self.envelope = envelope
        self.id = envelope.get("id") if isinstance(envelope.get("id"), str) else None
        self.type = envelope.get("type") if isinstance(envelope.get("type"), str) else None
        self.frame = frame
        self.attempts = 0
        self.overloaded = 0
        self.local = local  # refused by the client: reported in its turn, never sent


def _common_name(cert: Mapping[str, Any]) -> Optional[str]:
    cn = None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
    return cn


def _fatal(exc: BaseException) -> bool:
    """A TLS failure that a retry cannot fix (certificate checks, an alert from the server)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLWantReadError, ssl.SSLWantWriteError,
                        ssl.SSLSyscallError)):
        return False
    if isinstance(exc, ssl.SSLError):
        text = f"{exc.reason or ''} {exc}".upper()
        return "ALERT" in text or "CERTIFICATE" in text
    return False


class Client:
    """A connection to a Dudao service over mutual TLS (by default to ``dudao-ingest``).

    The server is authenticated three ways before any frame is sent: its certificate chain must
    verify against ``ca`` (with the serverAuth purpose), the host dialled must be in its SAN
    (``check_host``; an IP address is checked against the SAN's addresses), and its subject CN
    must be ``server_name`` (the identity SPEC section 2 uses; ``"*"`` accepts any CA-signed
    server). TLS 1.2 is the minimum; 1.3 is used when the server offers it.

    >>> with Client("127.0.0.1", 7401, ca="ca.pem", cert="me.pem", key="me.key") as c:
    ...     for outcome in c.stream(envelopes, window=32):
    ...         print(outcome)

    One client is one connection and is not thread-safe; use one per thread.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, ca: str, cert: str, key: str,
                 server_name: str = DEFAULT_SERVER_NAME, check_host: bool = True, timeout: float = 30.0,
                 connect_timeout: float = 10.0, retries: int = 10, backoff_initial: float = 0.2,
                 backoff_max: float = 5.0, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
                 log: Optional[Callable[[str], None]] = None) -> None:
        """
        :param host: host name or IP address of the service.
        :param port: its port (dudao-ingest: 7401).
        :param ca: PEM file of the Dudao CA (``ca.pem`` from ``dudao certs init``).
        :param cert: this client's certificate (PEM); its CN is the identity the access file knows.
        :param key: its private key (PEM).
        :param server_name: the identity (certificate CN) the server must present; ``"*"``: any.
        :param check_host: also require ``host`` to be in the server certificate's SAN.
        :param timeout: seconds to wait for a reply before the connection is treated as lost.
        :param connect_timeout: seconds for the TCP connect and the TLS handshake.
        :param retries: connection attempts (and ``overloaded`` re-sends of one feed) in a row
            without progress before giving up with :class:`ConnectionFailed`.
        :param backoff_initial: first pause before a reconnect, doubled each time up to ``backoff_max``.
        :param max_frame_bytes: frames above this size are refused locally (the server's limit).
        :param log: called with a line of text on reconnects (e.g. ``print`` to stderr).
        """
        if not server_name:
            raise ValueError("server_name must not be empty ('*' accepts any CA-signed server)")
        self.host, self.port = host, int(port)
        self.server_name = server_name
        self.check_host = check_host
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.retries = max(0, int(retries))
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.max_frame_bytes = max_frame_bytes
        self._log = log
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = check_host
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=ca)
        ctx.load_cert_chain(cert, key)
        self._ctx = ctx
        self._sock: Optional[ssl.SSLSocket] = None
        self._buf = bytearray()
        self._failures = 0
        # Statistics, for reports and tests.
        self.connections = 0
        """Connections established."""
        self.reconnects = 0
        """Connections lost while frames were outstanding (each followed by a reconnect)."""
        self.resent = 0
        """Frames sent more than once."""
        self.peer_identity: Optional[str] = None
        """CN of the server's certificate on the current connection."""
        self.tls_version: Optional[str] = None

    # -- connection ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect now (otherwise the first send connects). Raises :class:`TLSError` /
        :class:`WrongServerError` when the server is not the one expected, ``OSError`` when it
        cannot be reached."""
        if self._sock is not None:
            return
        raw = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        try:
            sock = self._ctx.wrap_socket(raw, server_hostname=self.host)
        except BaseException as exc:
            raw.close()
            if _fatal(exc):
                raise TLSError(f"TLS with {self.host}:{self.port} failed: {exc}") from exc
            raise
        cn = _common_name(sock.getpeercert() or {})
        if self.server_name != "*" and cn != self.server_name:
            sock.close()
            raise WrongServerError(f"wrong server at {self.host}:{self.port}: expected identity {self.server_name}, "
                                   f"it presented {cn}; refusing it")
        sock.settimeout(self.timeout)
        self._sock, self.peer_identity, self.tls_version = sock, cn, sock.version()
        self._buf = bytearray()
        self.connections += 1

    def close(self) -> None:
        """Close the connection (a later send reconnects)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _backoff(self, n: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * (2 ** max(0, n - 1)))
        return base * (0.75 + 0.5 * random.random())

    def _ensure_connected(self, unanswered: Callable[[], List[Dict[str, Any]]]) -> None:
        """Connect, retrying with backoff; ``self._failures`` counts attempts without progress."""
        while self._sock is None:
            if self._failures:
                if self._failures > self.retries:
                    raise ConnectionFailed(f"{self.host}:{self.port} unreachable: gave up after {self.retries} "
                                           f"attempts without progress", unanswered())
                time.sleep(self._backoff(self._failures))
            try:
                self.connect()
            except TLSError:
                raise
            except OSError as exc:
                if _fatal(exc):
                    raise TLSError(f"TLS with {self.host}:{self.port} failed: {exc}") from exc
                self._failures += 1
                self._say(f"connect to {self.host}:{self.port} failed ({exc}); attempt {self._failures} of {self.retries}")

    def _say(self, text: str) -> None:
        if self._log is not None:
            self._log(text)

    # -- frames -------------------------------------------------------------------------------

    def _recv_frame(self) -> Dict[str, Any]:
        assert self._sock is not None
        buf = self._buf
        while True:
            if len(buf) >= 4:
                n = struct.unpack(">I", buf[:4])[0]
                if n == 0 or n > _MAX_REPLY_BYTES:
                    raise ProtocolError(f"the server sent a frame of {n} bytes")
                if len(buf) >= 4 + n:
                    data = bytes(buf[4:4 + n])
                    del buf[:4 + n]
                    break
            chunk = self._sock.recv(65536)
            if not chunk:
                raise _Closed("the server closed the connection")
            buf += chunk
        try:
            frame = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ProtocolError(f"the server sent a frame that is not JSON: {exc}") from exc
        if not isinstance(frame, dict):
            raise ProtocolError("the server sent a frame that is not a JSON object")
        return frame

    @staticmethod
    def encode(frame: Mapping[str, Any]) -> bytes:
        """One frame on the wire: 4-byte big-endian length + compact UTF-8 JSON."""
        data = json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return struct.pack(">I", len(data)) + data

    def _prepare(self, index: int, feed: Any) -> _Item:
        if not isinstance(feed, Mapping):
            return _Item(index, {}, b"", Outcome(index, None, None, "nack", "invalid_envelope",
                                                 "the feed is not a JSON object", None, 0, True))
        env = dict(feed)
        env.setdefault("v", 1)
        env.setdefault("kind", "feed")
        fid = env.get("id") if isinstance(env.get("id"), str) else None
        ftype = env.get("type") if isinstance(env.get("type"), str) else None
        try:
            frame = self.encode(env)
        except (TypeError, ValueError) as exc:
            return _Item(index, env, b"", Outcome(index, fid, ftype, "nack", "invalid_envelope",
                                                  f"the feed cannot be written as JSON: {exc}", None, 0, True))
        if len(frame) - 4 > self.max_frame_bytes:
            return _Item(index, env, b"", Outcome(
                index, fid, ftype, "nack", "frame_too_large",
                f"the frame is {len(frame) - 4} bytes, above the limit of {self.max_frame_bytes}; not sent", None, 0, True))
        return _Item(index, env, frame)

    # -- sending ------------------------------------------------------------------------------

    def stream(self, feeds: Iterable[Mapping[str, Any]], window: int = 32) -> Iterator[Outcome]:
        """Send ``feeds`` (envelopes; ``v`` and ``kind`` default to 1 and ``feed``) and yield one
        :class:`Outcome` per feed as the replies arrive.

        At most ``window`` feeds are unanswered at any time; ``feeds`` is read lazily, so a
        generator over a large file is fine. Outcomes come in input order, except that a feed
        answered ``overloaded`` is re-sent after a pause and reported later (``index`` says
        which feed an outcome is for). Feeds the client refuses itself (not an object, not
        JSON-serialisable, above ``max_frame_bytes``) get a ``nack`` with ``local=True`` in their turn. When the connection is lost, the client reconnects with
        backoff and re-sends, in order and with the same ids, every feed not yet answered;
        those the server had stored before the loss come back ``duplicate``.

        Raises :class:`TLSError` / :class:`WrongServerError` (server not the one expected),
        :class:`ConnectionFailed` (gave up reconnecting) or :class:`ProtocolError`.
        """
        if window < 1:
            raise ValueError("window must be at least 1")
        self._failures = 0
        source = iter(enumerate(feeds))
        exhausted = False
        unsent: Deque[_Item] = deque()    # to send (again) before taking more from the source
        inflight: Deque[_Item] = deque()  # sent on this connection, awaiting their replies, in order
        later: List[_Item] = []           # answered overloaded: re-sent after a pause
        cooling = 0                       # > 0: an overloaded came back; drain, pause, then re-send

        def unanswered() -> List[Dict[str, Any]]:
            items = sorted(list(inflight) + list(unsent) + later, key=lambda i: i.index)
            return [i.envelope for i in items if i.local is None]

        while True:
            if not inflight and cooling:
                time.sleep(self._backoff(cooling))
                unsent = deque(sorted(list(unsent) + later, key=lambda i: i.index))
                later, cooling = [], 0
            if not inflight and not unsent and not later and exhausted:
                return
            try:
                self._ensure_connected(unanswered)
                assert self._sock is not None
                batch = bytearray()
                while len(inflight) < window and not cooling:
                    if unsent:
                        item = unsent.popleft()
                    elif not exhausted:
                        try:
                            index, feed = next(source)
                        except StopIteration:
                            exhausted = True
                            continue
                        except Exception as exc:
                            raise _SourceError(exc) from exc
                        item = self._prepare(index, feed)
                    else:
                        break
                    if item.local is not None:  # reported when its turn comes, in order
                        inflight.append(item)
                        continue
                    item.attempts += 1
                    if item.attempts > 1:
                        self.resent += 1
                    batch += item.frame
                    inflight.append(item)
                    if len(batch) >= 1 << 20:
                        self._sock.sendall(batch)
                        batch = bytearray()
                if batch:
                    self._sock.sendall(batch)
                if not inflight:
                    continue
                if inflight[0].local is not None:
                    yield inflight.popleft().local
                    continue
                reply = self._recv_frame()
                item = inflight.popleft()
                self._failures = 0
                outcome = self._outcome(item, reply)
                if outcome is None:  # overloaded: try again after a pause
                    later.append(item)
                    cooling = max(cooling, item.overloaded)
                    continue
                yield outcome
                if reply.get("kind") == "error":  # a frame error: the server closes the connection
                    self.close()
                    unsent = deque(sorted(list(inflight) + list(unsent), key=lambda i: i.index))
                    inflight.clear()
            except _SourceError as exc:
                raise exc.error
            except (OSError, ConnectionError) as exc:
                if _fatal(exc):
                    self.close()
                    raise TLSError(f"TLS with {self.host}:{self.port} failed: {exc}") from exc
                self.close()
                if inflight:
                    self.reconnects += 1
                    self._say(f"connection to {self.host}:{self.port} lost ({str(exc) or type(exc).__name__}); "
                              f"reconnecting and re-sending {len(inflight)} unanswered feed(s)")
                self._failures += 1
                unsent = deque(sorted(list(inflight) + list(unsent), key=lambda i: i.index))
                inflight.clear()

    def send(self, feeds: Iterable[Mapping[str, Any]], window: int = 32) -> List[Outcome]:
        """Like :meth:`stream`, but returns every outcome as a list, sorted by input position."""
        return sorted(self.stream(feeds, window), key=lambda o: o.index)

    def _outcome(self, item: _Item, reply: Dict[str, Any]) -> Optional[Outcome]:
        kind, rid = reply.get("kind"), reply.get("id")
        if rid is not None and item.id is not None and rid != item.id:
            raise ProtocolError(f"reply for id {rid!r} where the reply for {item.id!r} was due (out of order)")
        if kind == "ack":
            status = reply.get("status", "accepted")
            if status not in _STATUSES:
                raise ProtocolError(f"ack with unknown status {status!r} for {item.id!r}")
            return Outcome(item.index, item.id, item.type, status, attempts=item.attempts)
        if kind in ("nack", "error"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            code = error.get("code")
            if code == "overloaded" and kind == "nack":
                item.overloaded += 1
                if item.overloaded <= self.retries:
                    self._say(f"{item.id}: server overloaded ({error.get('message')}); re-sending after a pause")
                    return None
            return Outcome(item.index, item.id, item.type, "nack", code, error.get("message"), error.get("path"),
                           item.attempts, message_zh=error.get("message_zh"))
        raise ProtocolError(f"unexpected reply of kind {kind!r} to feed {item.id!r}")

    # -- queries ------------------------------------------------------------------------------

    def query(self, query_type: str, body: Optional[Mapping[str, Any]] = None, id: str = "q") -> Dict[str, Any]:
        """Send one ``query`` frame and return its reply (a ``result`` or a ``nack`` frame).
        Queries change nothing, so one lost on a dropped connection is asked again."""
        frame = self.encode({"v": 1, "kind": "query", "id": id, "type": query_type, "body": dict(body or {})})
        self._failures = 0
        while True:
            try:
                self._ensure_connected(lambda: [])
                assert self._sock is not None
                self._sock.sendall(frame)
                reply = self._recv_frame()
                self._failures = 0
                return reply
            except (OSError, ConnectionError) as exc:
                self.close()
                if _fatal(exc):
                    raise TLSError(f"TLS with {self.host}:{self.port} failed: {exc}") from exc
                self._failures += 1
