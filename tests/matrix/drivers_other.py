"""Client drivers for Anthropic Messages (`anthropic` SDK) and Gemini (`google-genai` SDK).

Same contract as drivers_openai: `run(model, turn)` → Answer, SDK exceptions propagate, `last`
keeps what arrived before one.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
from google import genai
from google.genai import types

from tests.matrix import turns as t


class AnthropicDriver:
    def __init__(self, url: str, key: str) -> None:
        self.client = anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0, timeout=20)
        self.last = t.Answer()

    async def aclose(self) -> None:
        await self.client.close()

    def request(self, model: str, turn: t.Turn) -> dict[str, Any]:
        content: Any = t.USER
        if turn.image:
            source: dict[str, str] = {"type": "url", "url": t.IMAGE_URL}
            if turn.image == "base64":
                source = {"type": "base64", "media_type": "image/png", "data": t.PNG_B64}
            content = [{"type": "text", "text": t.USER}, {"type": "image", "source": source}]
        messages: list[Any] = [{"role": "user", "content": content}]
        if turn.history:
            uses = [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.args} for c in t.CALLS
            ]
            results = [
                {"type": "tool_result", "tool_use_id": c.id, "content": t.RESULTS[c.id]}
                for c in t.CALLS
            ]
            messages += [
                {"role": "assistant", "content": uses},
                {"role": "user", "content": results},
            ]
        kw: dict[str, Any] = {"model": model, "max_tokens": 32000, "messages": messages}
        if turn.system:
            kw["system"] = t.SYSTEM
        if turn.tools or turn.history:
            kw["tools"] = [
                {"name": n, "description": d, "input_schema": s} for n, (d, s) in t.TOOLS.items()
            ]
        if turn.reasoning:
            kw["thinking"] = {"type": "enabled", "budget_tokens": t.BUDGET}
        return kw

    async def run(self, model: str, turn: t.Turn) -> t.Answer:
        self.last = answer = t.Answer()
        kw = self.request(model, turn)
        if not turn.stream:
            message = await self.client.messages.create(**kw)
        else:
            async with self.client.messages.stream(**kw) as stream:
                async for event in stream:
                    if event.type == "text":
                        answer.text += event.text
                message = await stream.get_final_message()
        answer.text = ""
        for index, block in enumerate(message.content):
            if block.type == "text":
                answer.text += block.text
            elif block.type == "thinking":
                answer.thinking += block.thinking
            elif block.type == "tool_use":
                assert isinstance(block.input, dict)
                answer.calls.append(t.GotCall(block.id, block.name, block.input, index))
        answer.stop = message.stop_reason
        u = message.usage
        cached, written = u.cache_read_input_tokens or 0, u.cache_creation_input_tokens or 0
        # Anthropic counts no reasoning tokens apart: 0 stands for "not shown"
        answer.usage = t.Usage(u.input_tokens + cached + written, cached, u.output_tokens, 0)
        return answer


class GeminiDriver:
    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.AsyncClient(timeout=20)
        # google-genai over httpx (its aiohttp path warns on import)
        options = types.HttpOptions(base_url=url, timeout=20_000, httpx_async_client=self.http)
        self.client = genai.Client(api_key=key, http_options=options).aio
        self.last = t.Answer()

    async def aclose(self) -> None:
        await self.http.aclose()

    def request(self, turn: t.Turn) -> tuple[list[types.Content], types.GenerateContentConfig]:
        parts = [types.Part(text=t.USER)]
        if turn.image == "base64":
            parts.append(types.Part.from_bytes(data=t.PNG, mime_type="image/png"))
        elif turn.image == "url":
            parts.append(types.Part.from_uri(file_uri=t.IMAGE_URL, mime_type="image/png"))
        contents = [types.Content(role="user", parts=parts)]
        if turn.history:
            calls = [
                types.Part(function_call=types.FunctionCall(name=c.name, args=c.args))
                for c in t.CALLS
            ]
            results = [
                types.Part(
                    function_response=types.FunctionResponse(
                        name=c.name, response={"result": t.RESULTS[c.id]}
                    )
                )
                for c in t.CALLS
            ]
            contents += [
                types.Content(role="model", parts=calls),
                types.Content(role="user", parts=results),
            ]
        config = types.GenerateContentConfig()
        if turn.system:
            config.system_instruction = t.SYSTEM
        if turn.tools or turn.history:
            declarations = [
                types.FunctionDeclaration(
                    name=n, description=d, parameters=types.Schema.model_validate(s)
                )
                for n, (d, s) in t.TOOLS.items()
            ]
            config.tools = [types.Tool(function_declarations=declarations)]
        if turn.reasoning:
            config.thinking_config = types.ThinkingConfig(
                thinking_budget=t.BUDGET, include_thoughts=True
            )
        return contents, config

    async def run(self, model: str, turn: t.Turn) -> t.Answer:
        self.last = answer = t.Answer()
        contents: Any
        contents, config = self.request(turn)
        if not turn.stream:
            reply = await self.client.models.generate_content(
                model=model, contents=contents, config=config
            )
            _fold(answer, reply)
            return answer
        chunks = await self.client.models.generate_content_stream(
            model=model, contents=contents, config=config
        )
        async for chunk in chunks:
            _fold(answer, chunk)
        return answer


def _fold(answer: t.Answer, reply: types.GenerateContentResponse) -> None:
    for candidate in reply.candidates or []:
        for part in (candidate.content.parts if candidate.content else None) or []:
            if part.thought and part.text:
                answer.thinking += part.text
            elif part.text:
                answer.text += part.text
            elif part.function_call is not None:
                call = part.function_call
                # Gemini calls carry an id only when the model sets one; ours never do
                answer.calls.append(
                    t.GotCall(call.id, call.name or "", dict(call.args or {}), len(answer.calls))
                )
        if candidate.finish_reason is not None:
            answer.stop = candidate.finish_reason.value
    meta = reply.usage_metadata
    if meta is not None and meta.prompt_token_count is not None:
        thoughts = meta.thoughts_token_count or 0
        answer.usage = t.Usage(
            meta.prompt_token_count,
            meta.cached_content_token_count or 0,
            (meta.candidates_token_count or 0) + thoughts,
            thoughts,
        )
