"""Optional query translation to English with Google Cloud Translation (v2 REST, the official
`google-cloud-translate` client). Never required: with no key, no network or a slow answer the
original query is used and the result says why.
"""
from __future__ import annotations

import concurrent.futures
import logging
import re
import threading
from dataclasses import dataclass

import requests

from engine.i18n import N_

log = logging.getLogger(__name__)

_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]", re.UNICODE)


@dataclass(frozen=True)
class Translation:
    original: str
    text: str
    """What to search with: the translation, or the original when none was made."""
    translated: bool
    source_language: str | None = None
    note: str | None = None


class _KeyedSession(requests.Session):
    """The API key as the `key` query parameter (Translation v2's API-key auth) and a short timeout."""

    def __init__(self, api_key: str, timeout: float) -> None:
        super().__init__()
        self.params = {"key": api_key}
        self._timeout = timeout
        self.trust_env = False

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs["timeout"] = self._timeout
        return super().request(method, url, *args, **kwargs)


class Translator:
    def __init__(self, api_key: str | None, base_url: str | None = None, timeout_s: float = 3.0,
                 target: str = "en") -> None:
        self.api_key = (api_key or "").strip() or None
        self.base_url = (base_url or "").rstrip("/") or None
        self.timeout_s = timeout_s
        self.target = target
        self._client = None
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="translate")

    @property
    def configured(self) -> bool:
        return self.api_key is not None

    def _get_client(self):
        with self._lock:
            if self._client is None:
                from google.auth.credentials import AnonymousCredentials
                from google.cloud import translate_v2

                options = {"api_endpoint": self.base_url} if self.base_url else None
                self._client = translate_v2.Client(
                    target_language=self.target, credentials=AnonymousCredentials(),
                    _http=_KeyedSession(self.api_key or "", self.timeout_s), client_options=options)
            return self._client

    def translate(self, text: str) -> Translation:
        if not _NON_ASCII_LETTER.search(text):
            return Translation(text, text, False, None, None)  # plain ASCII: already English enough
        if not self.configured:
            return Translation(text, text, False, None,
                               N_("translation is off: TRANSLATE_API_KEY is not set; searched with the original query"))
        future = self._pool.submit(self._call, text)
        try:
            answer = future.result(timeout=self.timeout_s + 0.5)
        except concurrent.futures.TimeoutError:
            seconds = format(self.timeout_s, "g")
            return Translation(text, text, False, None,
                               N_("translation did not answer within {seconds} s; searched with the original query",
                                  seconds=seconds))
        except Exception as exc:  # network down, bad key, quota: degrade, say so
            log.info("translation failed: %s", exc)
            return Translation(text, text, False, None,
                               N_("translation failed ({error}); searched with the original query",
                                  error=type(exc).__name__))
        translated = (answer.get("translatedText") or "").strip()
        source = answer.get("detectedSourceLanguage")
        if not translated:
            return Translation(text, text, False, source, N_("translation came back empty; searched with the original query"))
        import html

        translated = html.unescape(translated)
        return Translation(text, translated, translated != text, source, None)

    def _call(self, text: str) -> dict:
        return self._get_client().translate(text, target_language=self.target, format_="text")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
