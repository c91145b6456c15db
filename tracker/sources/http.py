"""The one place for HTTP concerns: timeouts, user agents, retries, per-host limits.

Retries: timeouts, connection errors, 5xx and 429 are retried with exponential backoff
(doubling from ``backoff`` seconds, with jitter); a 429's or 503's ``Retry-After`` is
honoured when it is short enough to wait for within the cycle, otherwise the fetch
fails at once and carries the wait so source health can hold off. Other 4xx are final.
Bodies are capped (``max_bytes``): a runaway or hostile answer is refused while it
streams in, never held whole in memory.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self
from urllib.parse import urlsplit

import httpx

from tracker import __version__
from tracker.sources.base import SourceError

# Yahoo refuses non-browser user agents (see shared/research/price-apis.md 1.4).
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_USER_AGENT = f"tracker/{__version__} (prediction tracker)"
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class HttpStatusError(SourceError):
    """A final HTTP error status; ``body`` holds the start of the response for parsers."""

    def __init__(self, status: int, url: str, body: str, retry_after: float | None = None):
        super().__init__(f"HTTP {status} from {urlsplit(url).netloc}", retry_after)
        self.status = status
        self.body = body


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class HttpClient:
    """An async HTTP client for one poll cycle, shared by all sources.

    Create it inside the running event loop (the per-host semaphores belong to it).
    """

    def __init__(
        self,
        timeout: float = 20.0,
        per_host: int = 4,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_bytes: int = 16 * 1024 * 1024,
    ):
        self.retries = retries
        self.max_bytes = max_bytes
        self.backoff = backoff
        self.max_wait = max_wait
        self.requests = 0  # requests sent, retries included (benchmarks count them)
        self._per_host = per_host
        self._limits: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self._per_host)
        )
        self._client = httpx.AsyncClient(
            timeout=timeout,
            headers={"User-Agent": DEFAULT_USER_AGENT},
            follow_redirects=True,
            transport=transport,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
        )

    @classmethod
    def from_settings(cls, settings) -> HttpClient:
        """A client with the timeout, per-host limit and retries of ``[http]``."""
        from tracker.config import parse_duration

        return cls(
            timeout=parse_duration(settings.http.timeout).total_seconds(),
            per_host=settings.http.per_host_concurrency,
            retries=settings.http.retries,
            max_bytes=settings.http.max_response_mb * 1024 * 1024,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc) -> None:
        await self._client.aclose()

    async def _get_capped(self, url: str, params, headers) -> httpx.Response:
        """One GET whose body is read within the size cap."""
        request = self._client.build_request("GET", url, params=params, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            body = await _read_capped(response, urlsplit(url).netloc, self.max_bytes)
        finally:
            await response.aclose()
        # The body is decoded already (gzip, br): drop the headers that describe the wire.
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def get(self, url: str, params=None, headers=None) -> httpx.Response:
        """GET with retries; returns a 2xx/3xx response or raises SourceError."""
        host = urlsplit(url).netloc
        attempt = 0
        while True:
            wait: float | None
            try:
                async with self._limits[host]:
                    self.requests += 1
                    response = await self._get_capped(url, params, headers)
            except httpx.TimeoutException:
                failure: SourceError = SourceError(f"timed out talking to {host}")
                wait = None
            except httpx.TransportError as exc:
                failure = SourceError(f"cannot reach {host}: {_reason(exc)}")
                wait = None
            else:
                if response.status_code < 400:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure = HttpStatusError(
                    response.status_code, url, response.text[:2000], retry_after
                )
                if response.status_code not in RETRYABLE_STATUS:
                    raise failure
                wait = retry_after
                if wait is not None and wait > self.max_wait:
                    raise failure  # too long to wait inside a cycle: health holds off
            if attempt >= self.retries:
                raise failure
            if wait is None:
                wait = self.backoff * (2**attempt) * (1 + random.random() / 4)
            attempt += 1
            await asyncio.sleep(wait)


class ResponseTooLarge(SourceError):
    """The answer was larger than the cap: refused, not retried."""


async def _read_capped(response: httpx.Response, host: str, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(f"{host} sent {int(declared):,} bytes, over the {max_bytes:,} cap")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise ResponseTooLarge(f"{host} sent more than the {max_bytes:,}-byte cap")
    return bytes(body)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
