"""Client drivers for the two OpenAI APIs, through the official `openai` SDK (no retries).

`run(model, turn)` sends the Turn's conversation and reduces the SDK's result to an Answer;
it raises the SDK's own exceptions. `last` keeps what arrived before an exception.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from tests.matrix import turns as t


def _image_url(kind: str) -> str:
    return f"data:image/png;base64,{t.PNG_B64}" if kind == "base64" else t.IMAGE_URL


class ChatDriver:
    def __init__(self, url: str, key: str) -> None:
        self.client = openai.AsyncOpenAI(
            base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=20
        )
        self.last = t.Answer()

    async def aclose(self) -> None:
        await self.client.close()

    def request(self, model: str, turn: t.Turn) -> dict[str, Any]:
        content: Any = t.USER
        if turn.image:
            image = {"type": "image_url", "image_url": {"url": _image_url(turn.image)}}
            content = [{"type": "text", "text": t.USER}, image]
        messages: list[Any] = [{"role": "system", "content": t.SYSTEM}] if turn.system else []
        messages.append({"role": "user", "content": content})
        if turn.history:
            calls = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in t.CALLS
            ]
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            messages += [
                {"role": "tool", "tool_call_id": c.id, "content": t.RESULTS[c.id]} for c in t.CALLS
            ]
        kw: dict[str, Any] = {"model": model, "messages": messages}
        if turn.tools or turn.history:
            kw["tools"] = [
                {"type": "function", "function": {"name": n, "description": d, "parameters": s}}
                for n, (d, s) in t.TOOLS.items()
            ]
        if turn.reasoning:
            kw["reasoning_effort"] = "high"
        if turn.stream and turn.usage:
            kw["stream_options"] = {"include_usage": True}
        return kw

    async def run(self, model: str, turn: t.Turn) -> t.Answer:
        self.last = answer = t.Answer()
        kw = self.request(model, turn)
        if not turn.stream:
            reply = await self.client.chat.completions.create(**kw)
            message = reply.choices[0].message
            answer.text = message.content or ""
            # the SDK has no reasoning field: DeepSeek-style reasoning_content is an extra
            answer.thinking = (message.model_extra or {}).get("reasoning_content") or ""
            answer.calls = [
                t.GotCall(c.id, c.function.name, json.loads(c.function.arguments), i)
                for i, c in enumerate(message.tool_calls or [])
                if c.type == "function"
            ]
            answer.stop = reply.choices[0].finish_reason
            answer.usage = _chat_usage(reply.usage)
            return answer
        calls: dict[int, dict[str, str]] = {}
        async for chunk in await self.client.chat.completions.create(stream=True, **kw):
            answer.usage = _chat_usage(chunk.usage) or answer.usage
            for choice in chunk.choices:
                delta = choice.delta
                answer.text += delta.content or ""
                answer.thinking += (delta.model_extra or {}).get("reasoning_content") or ""
                for piece in delta.tool_calls or []:
                    call = calls.setdefault(piece.index, {"id": "", "name": "", "args": ""})
                    call["id"] = piece.id or call["id"]
                    if piece.function is not None:
                        call["name"] += piece.function.name or ""
                        call["args"] += piece.function.arguments or ""
                answer.stop = choice.finish_reason or answer.stop
        answer.calls = [
            t.GotCall(c["id"], c["name"], json.loads(c["args"]), i)
            for i, c in sorted(calls.items())
        ]
        return answer


def _chat_usage(usage: Any) -> t.Usage | None:
    if usage is None:
        return None
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    details = usage.completion_tokens_details
    return t.Usage(
        usage.prompt_tokens,
        cached or 0,
        usage.completion_tokens,
        (details.reasoning_tokens if details else 0) or 0,
    )


class ResponsesDriver:
    def __init__(self, url: str, key: str) -> None:
        self.client = openai.AsyncOpenAI(
            base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=20
        )
        self.last = t.Answer()

    async def aclose(self) -> None:
        await self.client.close()

    def request(self, model: str, turn: t.Turn) -> dict[str, Any]:
        content: Any = t.USER
        if turn.image:
            image = {"type": "input_image", "image_url": _image_url(turn.image), "detail": "auto"}
            content = [{"type": "input_text", "text": t.USER}, image]
        items: list[Any] = [{"role": "user", "content": content}]
        if turn.history:
            items += [
                {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}
                for c in t.CALLS
            ]
            items += [
                {"type": "function_call_output", "call_id": c.id, "output": t.RESULTS[c.id]}
                for c in t.CALLS
            ]
        kw: dict[str, Any] = {"model": model, "input": items}
        if turn.system:
            kw["instructions"] = t.SYSTEM
        if turn.tools or turn.history:
            kw["tools"] = [
                {"type": "function", "name": n, "description": d, "parameters": s, "strict": False}
                for n, (d, s) in t.TOOLS.items()
            ]
        if turn.reasoning:
            kw["reasoning"] = {"effort": "high", "summary": "auto"}
        return kw

    async def run(self, model: str, turn: t.Turn) -> t.Answer:
        self.last = answer = t.Answer()
        kw = self.request(model, turn)
        if not turn.stream:
            reply = await self.client.responses.create(**kw)
            _fold_output(answer, reply.output)
            answer.stop = reply.status
            answer.usage = _responses_usage(reply.usage)
            return answer
        await self._stream(answer, kw)
        return answer

    async def _stream(self, answer: t.Answer, kw: dict[str, Any]) -> None:
        added: list[str] = []
        done: list[str] = []
        kinds: list[str] = []
        async for event in await self.client.responses.create(stream=True, **kw):
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                answer.text += event.delta
            elif event.type == "response.reasoning_summary_text.delta":
                answer.thinking += event.delta
            elif event.type == "response.output_item.added":
                added.append(event.item.id or "")
            elif event.type == "response.output_item.done":
                done.append(event.item.id or "")
                _fold_output(answer, [event.item], text=False, offset=event.output_index)
            elif event.type == "response.completed":
                answer.usage = _responses_usage(event.response.usage)
                answer.stop = event.response.status
            elif event.type in ("error", "response.failed"):
                answer.error = _error_text(event)
        if answer.error is None:  # a finished stream: completed last, every item added and done
            assert kinds[-1] == "response.completed", kinds
            assert added == done, (added, done)


def _error_text(event: Any) -> str:
    if event.type == "error":
        return str(event.message)
    error = event.response.error
    return str(error.message if error is not None else "response.failed")


def _fold_output(answer: t.Answer, output: Any, *, text: bool = True, offset: int = 0) -> None:
    for position, item in enumerate(output):
        if item.type == "message" and text:
            answer.text += "".join(p.text for p in item.content if p.type == "output_text")
        elif item.type == "reasoning" and text:
            answer.thinking += "".join(s.text for s in item.summary)
        elif item.type == "function_call":
            args = json.loads(item.arguments)
            answer.calls.append(t.GotCall(item.call_id, item.name, args, offset + position))


def _responses_usage(usage: Any) -> t.Usage | None:
    if usage is None:
        return None
    return t.Usage(
        usage.input_tokens,
        usage.input_tokens_details.cached_tokens,
        usage.output_tokens,
        usage.output_tokens_details.reasoning_tokens,
    )
