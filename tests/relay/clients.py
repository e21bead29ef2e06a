"""One call per client protocol through its official SDK (no retries), for parametrized tests."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import openai
from google import genai
from google.genai import types

PROTOCOLS = ("openai", "responses", "anthropic", "gemini")
MESSAGES: Any = [{"role": "user", "content": "hi"}]


def gemini_client(url: str, key: str, http: httpx.AsyncClient) -> genai.Client:
    """google-genai over the given httpx client (its aiohttp path warns on import)."""
    options = types.HttpOptions(base_url=url, timeout=20_000, httpx_async_client=http)
    return genai.Client(api_key=key, http_options=options)


def _openai(url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def _anthropic(url: str, key: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0)


async def sdk_text(protocol: str, url: str, key: str, model: str = "m") -> str:
    """The answer's text; raises the SDK's own exception on an error status."""
    if protocol == "openai":
        async with _openai(url, key) as client:
            chat = await client.chat.completions.create(model=model, messages=MESSAGES)
            return chat.choices[0].message.content or ""
    if protocol == "responses":
        async with _openai(url, key) as client:
            response = await client.responses.create(model=model, input="hi")
            return response.output_text
    if protocol == "anthropic":
        async with _anthropic(url, key) as client:
            message = await client.messages.create(model=model, max_tokens=16, messages=MESSAGES)
            return "".join(b.text for b in message.content if b.type == "text")
    async with httpx.AsyncClient(timeout=20) as http:
        aio = gemini_client(url, key, http).aio
        reply = await aio.models.generate_content(model=model, contents="hi")
        return reply.text or ""


async def sdk_stream_text(protocol: str, url: str, key: str, model: str = "m") -> str:
    """The streamed answer's text, assembled from the SDK's own stream events."""
    return "".join(await sdk_stream_pieces(protocol, url, key, model))


async def sdk_stream_pieces(protocol: str, url: str, key: str, model: str = "m") -> list[str]:
    """The text of each of the SDK's stream events that carried text, in order."""
    if protocol == "openai":
        async with _openai(url, key) as client:
            stream = await client.chat.completions.create(
                model=model, messages=MESSAGES, stream=True
            )
            return [c.choices[0].delta.content or "" async for c in stream if _chat_text(c)]
    if protocol == "responses":
        async with _openai(url, key) as client:
            events = await client.responses.create(model=model, input="hi", stream=True)
            return [e.delta async for e in events if e.type == "response.output_text.delta"]
    if protocol == "anthropic":
        claude = _anthropic(url, key)
        async with (
            claude,
            claude.messages.stream(model=model, max_tokens=16, messages=MESSAGES) as s,
        ):
            return [t async for t in s.text_stream]
    async with httpx.AsyncClient(timeout=20) as http:
        aio = gemini_client(url, key, http).aio
        chunks = await aio.models.generate_content_stream(model=model, contents="hi")
        return [c.text async for c in chunks if c.text]


def _chat_text(chunk: Any) -> bool:
    return bool(chunk.choices and chunk.choices[0].delta.content)
