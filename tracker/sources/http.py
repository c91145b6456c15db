"""The one place for HTTP concerns: timeouts, user agents, retries, per-host limits.

Retries: timeouts, connection errors, 5xx and 429 are retried with exponential backoff
(doubling from ``backoff`` seconds, with jitter); a 429's or 503's ``Retry-After`` is
honoured when it is short enough to wait for within the cycle, otherwise the fetch
fails at once and carries the wait so source health can hold off. Other 4xx are final.
Bodies are capped (``max_bytes``): a runaway or hostile answer is refused while it
streams in, never held whole in memory. The cap holds while decoding too: gzip and
deflate are inflated here a small chunk at a time, so a decompression bomb is refused
after ``max_bytes``, not after it has filled the memory.

Every request has a deadline (``deadline`` seconds) for the whole of it: waiting for a
free slot to the host, every attempt, and the waits between them. The ``timeout`` only
bounds each read, so a server dripping a byte at a time would otherwise hold a poll
forever. Every failure, whatever httpx raises, becomes a SourceError with one line.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import httpx

from tracker import __version__
from tracker.sources.base import PayloadError, SourceError, plain

if TYPE_CHECKING:
    from tracker.config import Settings

# Yahoo refuses non-browser user agents (see shared/research/price-apis.md 1.4).
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_USER_AGENT = f"tracker/{__version__} (prediction tracker)"
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Only what we can inflate within the cap: a server honouring this never sends br or zstd.
ACCEPT_ENCODING = "gzip, deflate"
CHUNK = 64 * 1024  # the most one step of inflating may produce



def host_of(url: str) -> str:
    """The host (and port) a message names, never the userinfo a URL may carry."""
    return urlsplit(url).netloc.rpartition("@")[2]

class HttpStatusError(SourceError):
    """A final HTTP error status; ``body`` holds the start of the response for parsers."""

    def __init__(self, status: int, url: str, body: str, retry_after: float | None = None):
        super().__init__(f"HTTP {status} from {host_of(url)}", retry_after)
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
        deadline: float = 60.0,
    ):
        self.retries = retries
        self.deadline = deadline
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
            headers={"User-Agent": DEFAULT_USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=True,
            transport=transport,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpClient:
        """A client with the timeout, deadline, per-host limit and retries of ``[http]``."""
        from tracker.config import parse_duration

        return cls(
            timeout=parse_duration(settings.http.timeout).total_seconds(),
            per_host=settings.http.per_host_concurrency,
            retries=settings.http.retries,
            max_bytes=settings.http.max_response_mb * 1024 * 1024,
            deadline=parse_duration(settings.http.request_deadline).total_seconds(),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc) -> None:
        await self._client.aclose()

    async def _get_capped(self, url: str, params, headers) -> httpx.Response:
        """One GET whose body is read, and decoded, within the size cap."""
        request = self._client.build_request("GET", url, params=params, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            body = await _read_capped(response, host_of(url), self.max_bytes)
        finally:
            await response.aclose()
        # The body is decoded already (gzip, deflate): drop the headers that describe the wire.
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def get(self, url: str, params=None, headers=None) -> httpx.Response:
        """GET with retries, all within the deadline; returns a 2xx/3xx response or
        raises SourceError."""
        host = host_of(url)
        timer = asyncio.timeout(self.deadline)
        try:
            async with timer:
                return await self._get_retrying(url, host, params, headers, timer)
        except TimeoutError:
            if not timer.expired():
                raise  # not ours: a bug below, which the caller reports
            raise DeadlineExceeded(
                f"no full answer from {host} within the {self.deadline:g} s deadline"
            ) from None

    async def get_json(self, url: str, *, origin: str, params=None, headers=None) -> Any:
        """GET, then the body as JSON; a PayloadError naming ``origin`` (the API, as a
        message names it) when the body is none: an HTML wall, a truncated answer."""
        response = await self.get(url, params=params, headers=headers)
        try:
            return response.json()
        except ValueError:
            raise PayloadError(f"expected JSON from {origin}") from None

    async def _get_retrying(self, url, host, params, headers, timer) -> httpx.Response:
        attempt = 0
        while True:
            wait: float | None
            try:
                async with self._limits[host]:
                    self.requests += 1
                    response = await self._get_capped(url, params, headers)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                failure, retryable = describe(exc, host)
                if not retryable:
                    raise failure from None
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
            if wait >= timer.when() - asyncio.get_running_loop().time():
                raise failure  # the retry could not finish in time: say why now
            attempt += 1
            await asyncio.sleep(wait)


class DeadlineExceeded(SourceError):
    """The whole request took longer than its deadline (a slow drip, endless retries)."""


def describe(exc: Exception, host: str) -> tuple[SourceError, bool]:
    """httpx's exception as one line for the user, and whether another try may help.

    Timeouts, network errors and a server breaking the protocol are often passing; a
    body that will not decode, a redirect loop or a bad URL will fail the same again.
    """
    reason = _reason(exc)
    if isinstance(exc, httpx.TimeoutException):
        return SourceError(f"timed out talking to {host}"), True
    if isinstance(exc, httpx.ProxyError):
        return SourceError(f"the proxy to {host} failed: {reason}"), True
    if isinstance(exc, httpx.UnsupportedProtocol):
        return SourceError(f"cannot fetch from {host}: unsupported URL ({reason})"), False
    if isinstance(exc, httpx.LocalProtocolError):
        return SourceError(f"could not send a valid request to {host}: {reason}"), False
    if isinstance(exc, httpx.RemoteProtocolError):
        return SourceError(f"{host} broke the HTTP protocol: {reason}"), True
    if isinstance(exc, httpx.TransportError):  # the NetworkError family and any new one
        return SourceError(f"cannot reach {host}: {reason}"), True
    if isinstance(exc, httpx.DecodingError):
        return SourceError(f"{host} sent a body that does not decode: {reason}"), False
    if isinstance(exc, httpx.TooManyRedirects):
        return SourceError(f"{host} redirected too many times: {reason}"), False
    if isinstance(exc, httpx.InvalidURL):
        return SourceError(f"invalid URL for {host}: {reason}"), False
    return SourceError(f"request to {host} failed: {type(exc).__name__}: {reason}"), False


class ResponseTooLarge(SourceError):
    """The answer was larger than the cap: refused, not retried."""


async def _read_capped(response: httpx.Response, host: str, max_bytes: int) -> bytes:
    """The decoded body, refused as soon as either what came over the wire or what it
    inflates to passes ``max_bytes``."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(f"{host} sent {int(declared):,} bytes, over the {max_bytes:,} cap")
    if response.is_stream_consumed:  # a transport that built it whole (httpx.MockTransport)
        if len(response.content) > max_bytes:
            raise ResponseTooLarge(f"{host} sent more than the {max_bytes:,}-byte cap")
        return response.content
    layers = _decoders(response.headers.get("Content-Encoding", ""), host)
    body, raw = bytearray(), 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        if raw > max_bytes:
            raise ResponseTooLarge(f"{host} sent more than the {max_bytes:,}-byte cap")
        for piece in _through(layers, chunk):
            body += piece
            if len(body) > max_bytes:
                raise ResponseTooLarge(
                    f"{host} sent a body that inflates past the {max_bytes:,}-byte cap")
    for piece in _flush(layers):
        body += piece
        if len(body) > max_bytes:
            raise ResponseTooLarge(
                f"{host} sent a body that inflates past the {max_bytes:,}-byte cap")
    return bytes(body)


class _Inflater:
    """One gzip or deflate layer, inflated at most CHUNK bytes at a time."""

    def __init__(self, encoding: str, host: str):
        self.encoding, self.host = encoding, host
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16) if encoding != "deflate" else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:  # "deflate" is zlib-wrapped by the RFC, raw by some servers
            self._z = zlib.decompressobj(zlib.MAX_WBITS if _zlib_header(data) else -zlib.MAX_WBITS)
        try:
            while True:
                out = self._z.decompress(data, CHUNK)
                if out:
                    yield out
                data = self._z.unconsumed_tail
                if not data and len(out) < CHUNK:  # a full CHUNK may leave output pending
                    return
        except zlib.error as exc:
            raise SourceError(f"{self.host} sent a body that does not decode as "
                              f"{self.encoding}: {exc}") from None

    def flush(self) -> Iterator[bytes]:
        if self._z is not None:
            yield from self.feed(b"")


def _zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _decoders(header: str, host: str) -> list[_Inflater]:
    """The layers to undo, outermost (the last applied) first."""
    names = [n.strip().lower() for n in header.split(",") if n.strip()]
    layers = []
    for name in reversed(names):
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            raise SourceError(f"{host} sent a body in an encoding we did not ask for: {plain(name)[:40]}")
        layers.append(_Inflater(name, host))
    return layers


def _through(layers: list[_Inflater], data: bytes) -> Iterator[bytes]:
    """``data`` through every layer, each step a bounded piece."""
    if not layers:
        yield data
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)


def _flush(layers: list[_Inflater]) -> Iterator[bytes]:
    """What each layer still holds at the end, through the layers after it."""
    for i, layer in enumerate(layers):
        for piece in layer.flush():
            yield from _through(layers[i + 1:], piece)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return plain(text.splitlines()[0])[:200] if text else type(exc).__name__
