"""Python client for Dudao (督导): send feeds to ``dudao-ingest`` over mutual TLS.

Standard library only. See :class:`Client`, :func:`make_envelope` and the ``dudao-send-py``
command (:mod:`dudao_client.cli`).
"""
from .client import (DEFAULT_MAX_FRAME_BYTES, DEFAULT_PORT, DEFAULT_SERVER_NAME, Client, ConnectionFailed,
                     DudaoError, Outcome, ProtocolError, TLSError, WrongServerError, make_envelope, stable_id)

__version__ = "0.1.0"

__all__ = ["Client", "Outcome", "DudaoError", "TLSError", "WrongServerError", "ConnectionFailed", "ProtocolError",
           "make_envelope", "stable_id", "DEFAULT_PORT", "DEFAULT_SERVER_NAME", "DEFAULT_MAX_FRAME_BYTES",
           "__version__"]
