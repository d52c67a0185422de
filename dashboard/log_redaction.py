"""Credentials never reach the server's log: `?token=…` in a logged URL becomes `?token=[redacted]`.

Uvicorn logs every request line (`uvicorn.access`) and websocket handshake (`uvicorn.error`) with
its query string; a page or an `<img>` opened with `?token=` would put the API token there.
"""
from __future__ import annotations

import logging
import re

CREDENTIAL_PARAMS = ("token", "api_token", "access_token")
REDACTED = "[redacted]"
_CREDENTIAL = re.compile(r"([?&](?:%s)=)[^&#\s\"']*" % "|".join(CREDENTIAL_PARAMS), re.IGNORECASE)
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _CREDENTIAL.sub(r"\1" + REDACTED, text)


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction() -> None:
    """Add the filter to uvicorn's loggers (once; call after uvicorn configured logging)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())
