"""The shared HTTP layer: retries with backoff on timeouts, 5xx and 429, Retry-After,
no retry on 404, and the per-host concurrency limit."""

import asyncio
from datetime import UTC

import httpx
import pytest
import respx

from tracker.sources import http as http_module
from tracker.sources.base import SourceError
from tracker.sources.http import HttpClient, HttpStatusError, parse_retry_after

URL = "https://api.example.test/data"


@pytest.fixture
def waits(monkeypatch):
    """Record the backoff waits instead of sleeping through them."""
    recorded = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds):
        recorded.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(http_module.asyncio, "sleep", fake_sleep)
    return recorded


def get(url=URL, **client_args):
    async def go():
        async with HttpClient(**client_args) as client:
            response = await client.get(url)
            return response, client.requests

    return asyncio.run(go())


@respx.mock
def test_5xx_is_retried_with_exponential_backoff(waits):
    route = respx.get(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, text="ok")]
    )
    response, requests = get(retries=3, backoff=0.5)
    assert response.text == "ok"
    assert route.call_count == requests == 3
    assert 0.5 <= waits[0] <= 0.5 * 1.25
    assert 1.0 <= waits[1] <= 1.0 * 1.25


@respx.mock
def test_retry_after_is_honoured(waits):
    respx.get(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    get(retries=3, backoff=0.5)
    assert waits == [7.0]


@respx.mock
def test_long_retry_after_fails_at_once_and_carries_the_wait(waits):
    route = respx.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(HttpStatusError) as err:
        get(retries=3, max_wait=30)
    assert err.value.status == 429
    assert err.value.retry_after == 3600
    assert route.call_count == 1
    assert waits == []


@respx.mock
def test_404_is_not_retried(waits):
    route = respx.get(URL).mock(return_value=httpx.Response(404, json={"error": "nope"}))
    with pytest.raises(HttpStatusError) as err:
        get(retries=3)
    assert route.call_count == 1
    assert err.value.status == 404
    assert '"error"' in err.value.body
    assert waits == []


@respx.mock
def test_timeouts_are_retried_then_reported(waits):
    route = respx.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(SourceError, match="timed out talking to api.example.test"):
        get(retries=2, backoff=0.1)
    assert route.call_count == 3
    assert len(waits) == 2


@respx.mock
def test_connection_errors_are_retried(waits):
    respx.get(URL).mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, text="back")])
    response, _ = get(retries=2, backoff=0.1)
    assert response.text == "back"


@respx.mock
def test_exhausted_retries_report_the_last_status(waits):
    respx.get(URL).mock(return_value=httpx.Response(500))
    with pytest.raises(HttpStatusError, match="HTTP 500 from api.example.test"):
        get(retries=1, backoff=0.1)


@respx.mock
def test_per_host_concurrency_is_limited():
    in_flight = 0
    peak = 0

    async def slow(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200)

    respx.get(URL).mock(side_effect=slow)
    respx.get("https://other.example.test/x").mock(return_value=httpx.Response(200))

    async def go():
        async with HttpClient(per_host=3) as client:
            await asyncio.gather(*(client.get(URL) for _ in range(12)))

    asyncio.run(go())
    assert peak == 3


def test_retry_after_http_date():
    from datetime import datetime

    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("120") == 120
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@respx.mock
def test_a_compressed_body_is_decoded_once():
    import gzip

    respx.get(URL).mock(return_value=httpx.Response(
        200, content=gzip.compress(b'{"ok": true}'), headers={"Content-Encoding": "gzip"}))
    response, _ = get()
    assert response.json() == {"ok": True}


@respx.mock
def test_a_body_over_the_cap_is_refused_and_not_retried(waits):
    route = respx.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 5000))
    with pytest.raises(SourceError, match="cap"):
        get(max_bytes=1000)
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize("wbits", [15, -15], ids=["zlib-wrapped", "raw"])
def test_deflate_is_decoded_wrapped_or_raw(wbits):
    import zlib

    z = zlib.compressobj(6, zlib.DEFLATED, wbits)
    respx.get(URL).mock(return_value=httpx.Response(
        200, content=z.compress(b'{"ok": true}') + z.flush(), headers={"Content-Encoding": "deflate"}))
    response, _ = get()
    assert response.json() == {"ok": True}


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
def test_a_gzip_bomb_is_refused_at_the_cap_while_it_inflates(encoding):
    import gzip
    import tracemalloc

    bomb = gzip.compress(bytes(64 * 1024 * 1024), 9)  # 64 MB of zeros in about 64 KB
    if encoding == "gzip, gzip":
        bomb = gzip.compress(bomb, 9)

    def serve(request):  # a stream, as from the network (respx would hold it decoded)
        return httpx.Response(200, stream=httpx.ByteStream(bomb),
                              headers={"Content-Encoding": encoding})

    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="inflates past the 1,048,576-byte cap"):
            get(max_bytes=1024 * 1024, transport=httpx.MockTransport(serve))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # the cap and a few chunks, never the 64 MB


@respx.mock
def test_an_encoding_we_did_not_ask_for_is_refused():
    respx.get(URL).mock(return_value=httpx.Response(
        200, content=b"\x0b\x02\x80{}\x03", headers={"Content-Encoding": "br"}))
    with pytest.raises(SourceError, match="encoding we did not ask for: br"):
        get()


@respx.mock
def test_only_what_can_be_inflated_within_the_cap_is_asked_for():
    route = respx.get(URL).mock(return_value=httpx.Response(200))
    get()
    assert route.calls[0].request.headers["Accept-Encoding"] == "gzip, deflate"


@respx.mock
def test_the_deadline_covers_the_whole_request():
    async def slow(request):
        await asyncio.sleep(5)
        return httpx.Response(200)

    respx.get(URL).mock(side_effect=slow)
    started = asyncio.run(_now())
    with pytest.raises(SourceError, match="no full answer from api.example.test within the 0.2 s deadline"):
        get(deadline=0.2)
    assert asyncio.run(_now()) - started < 2


async def _now() -> float:
    return asyncio.get_running_loop().time()


@respx.mock
def test_a_retry_that_cannot_finish_before_the_deadline_is_not_waited_for(waits):
    respx.get(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "20"}))
    with pytest.raises(HttpStatusError) as caught:
        get(retries=3, deadline=10)
    assert waits == []
    assert caught.value.retry_after == 20  # health still holds off for the server's wait


@respx.mock
@pytest.mark.parametrize("error, said, tries", [
    (httpx.DecodingError, "does not decode", 1),
    (httpx.TooManyRedirects, "redirected too many times", 1),
    (httpx.InvalidURL, "invalid URL", 1),
    (httpx.UnsupportedProtocol, "unsupported URL", 1),
    (httpx.LocalProtocolError, "could not send a valid request", 1),
    (httpx.RemoteProtocolError, "broke the HTTP protocol", 3),
    (httpx.ProxyError, "the proxy to api.example.test failed", 3),
    (httpx.ReadError, "cannot reach", 3),
])
def test_every_httpx_error_is_one_line_and_retried_only_when_it_may_pass(waits, error, said, tries):
    route = respx.get(URL).mock(side_effect=error("first line\nsecond line"))
    with pytest.raises(SourceError, match=said) as caught:
        get(retries=2)
    assert "\n" not in str(caught.value)
    assert route.call_count == tries
