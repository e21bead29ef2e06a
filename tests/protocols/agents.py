"""Request bodies shaped like Claude Code 2.1 and Codex 0.171 (see shared/reference/agent-clients.md)."""

from __future__ import annotations

import json
from typing import Any

CLAUDE_CODE: dict[str, Any] = {
    "model": "claude-opus-group",
    "max_tokens": 32000,
    "stream": True,
    "system": [
        {
            "type": "text",
            "text": "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=sdk-cli;",
        },
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Be concise.", "cache_control": {"type": "ephemeral"}},
    ],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>todo list empty</system-reminder>"},
                {"type": "text", "text": "list the files"},
            ],
        },
        {
            "role": "system",
            "content": [
                {
                    "type": "text",
                    "text": "Environment: cwd=/repo",
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should run ls", "signature": "EqQBsig"},
                {"type": "redacted_thinking", "data": "EmwKAhredacted"},
                {"type": "text", "text": "Running ls."},
                {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_02", "name": "Bash", "input": {"command": "pwd"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "content": "a.txt\nb.txt",
                    "is_error": False,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_02",
                    "content": "permission denied",
                    "is_error": True,
                    "cache_control": {"type": "ephemeral"},
                },
            ],
        },
        {"role": "system", "content": "Turn 2 environment"},
    ],
    "tools": [
        {
            "name": "Bash",
            "description": "Run a shell command",
            "input_schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "command": {"type": "string"},
                    "timeout": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 9007199254740991,
                    },
                    "run_in_background": {"type": "boolean"},
                },
                "required": ["command"],
                "additionalProperties": False,
            },
        },
        {
            "name": "DeferredToolPlaceholder",
            "description": "placeholder",
            "input_schema": {"type": "object", "properties": {}},
            "defer_loading": True,
        },
    ],
    "metadata": {"user_id": json.dumps({"device_id": "d", "account_uuid": "a", "session_id": "s"})},
    "thinking": {"type": "adaptive", "display": "omitted"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "output_config": {"effort": "high"},
}

CODEX: dict[str, Any] = {
    "model": "codex-group",
    "stream": True,
    "store": False,
    "include": ["reasoning.encrypted_content"],
    "reasoning": {"summary": "auto"},
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "prompt_cache_key": "session-1",
    "client_metadata": {"session_id": "session-1"},
    "input": [
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "You are Codex."}],
        },
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "Skills: none"}],
        },
        {
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "input_text",
                    "text": "<environment_context>cwd=/repo</environment_context>",
                }
            ],
        },
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "list the files"}],
        },
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Need ls"}],
            "encrypted_content": "gAAAAencrypted",
        },
        {
            "type": "function_call",
            "status": "completed",
            "id": "fc_1",
            "name": "exec_command",
            "arguments": '{"cmd":"ls"}',
            "call_id": "call_1",
        },
        {
            "type": "function_call_output",
            "id": "fco_1",
            "call_id": "call_1",
            "output": "Chunk ID: 1\nProcess exited with code 0\nOutput:\na.txt",
        },
    ],
    "tools": [
        {
            "type": "function",
            "name": "exec_command",
            "description": "Run a command",
            "strict": False,
            "parameters": {
                "type": "object",
                "properties": {"cmd": {"type": "string"}, "workdir": {"type": "string"}},
                "required": ["cmd"],
                "additionalProperties": False,
            },
        },
        {
            "type": "namespace",
            "name": "multi_agent_v1",
            "tools": [
                {
                    "type": "function",
                    "name": "spawn_agent",
                    "description": "Spawn an agent",
                    "strict": False,
                    "parameters": {"type": "object", "properties": {"task": {"type": "string"}}},
                }
            ],
        },
        {"type": "web_search", "external_web_access": True},
    ],
}


def body(shape: dict[str, Any]) -> bytes:
    return json.dumps(shape).encode()
