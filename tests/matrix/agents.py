"""Claude Code 2.1.332 and Codex 0.171.0 requests, headers and bodies, as
shared/reference/agent-clients.md records them (turn 1 and the tool round-trip turn 2)."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_2020 = "https://json-schema.org/draft/2020-12/schema"
MAX_SAFE = 9007199254740991
CLAUDE_BETAS = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,"
    "mid-conversation-tool-changes-2026-07-01,thinking-token-count-2026-05-13,"
    "advanced-tool-use-2025-11-20,effort-2025-11-24"
)
CLAUDE_PATH = "/v1/messages?beta=true"
CODEX_PATH = "/v1/responses"
CLAUDE_PROMPT = "list the files in this directory"
CODEX_PROMPT = "list the files"
ENVIRONMENT = "Environment: cwd=/repo, platform=linux. Deferred tools: none. Agents: general."


def claude_headers(key: str) -> dict[str, str]:
    return {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": CLAUDE_BETAS,
        "x-api-key": key,
        "x-app": "cli",
        "anthropic-dangerous-direct-browser-access": "true",
        "X-Claude-Code-Session-Id": "5b0c6a8e-1d2f-4c3b-9e8a-7f6d5c4b3a21",
        "User-Agent": "claude-cli/2.1.332 (external, sdk-cli)",
        "X-Stainless-Lang": "js",
        "X-Stainless-Package-Version": "0.128.0",
        "X-Stainless-Retry-Count": "0",
        "X-Stainless-Timeout": "600",
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate, br, zstd",
        "Content-Type": "application/json",
    }


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_2020,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_TIMEOUT = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SAFE}


def _tool(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"The {name} tool.",
        "input_schema": _schema(properties, required),
    }


def claude_tools() -> list[dict[str, Any]]:
    """The 12 tools, JSON Schema 2020-12, one with the advanced-tool-use `defer_loading`."""
    bash = {
        "command": _STR,
        "timeout": _TIMEOUT,
        "description": _STR,
        "run_in_background": _BOOL,
        "dangerouslyDisableSandbox": _BOOL,
    }
    placeholder = _tool("DeferredToolPlaceholder", {}, [])
    placeholder["defer_loading"] = True
    return [
        _tool("Agent", {"description": _STR, "prompt": _STR, "subagent_type": _STR}, ["prompt"]),
        _tool("Bash", bash, ["command"]),
        _tool("Edit", {"file_path": _STR, "old_string": _STR, "new_string": _STR}, ["file_path"]),
        _tool("ListAgents", {}, []),
        _tool("Read", {"file_path": _STR, "offset": _TIMEOUT, "limit": _TIMEOUT}, ["file_path"]),
        _tool("ReportFindings", {"findings": {"type": "array", "items": _STR}}, ["findings"]),
        _tool("ScheduleWakeup", {"seconds": _TIMEOUT}, ["seconds"]),
        _tool("Skill", {"skill": _STR}, ["skill"]),
        _tool("ToolSearch", {"query": _STR, "max_results": _TIMEOUT}, ["query"]),
        _tool("Workflow", {"steps": {"type": "array", "items": _STR}}, ["steps"]),
        placeholder,
        _tool("Write", {"file_path": _STR, "content": _STR}, ["file_path", "content"]),
    ]


_EPHEMERAL = {"type": "ephemeral"}


def claude_body(model: str, later: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Turn 1; turn 2 passes the assistant turn and the tool result as `later`."""
    first_user = {
        "role": "user",
        "content": [
            {"type": "text", "text": "<system-reminder>todo list is empty</system-reminder>"},
            {"type": "text", "text": "<system-reminder>cwd is /repo</system-reminder>"},
            {"type": "text", "text": CLAUDE_PROMPT},
        ],
    }
    # a block list with cache_control in turn 1, a plain string in turn 2
    environment: Any = ENVIRONMENT
    if later is None:
        environment = [{"type": "text", "text": ENVIRONMENT, "cache_control": _EPHEMERAL}]
    user_id = {"device_id": "dev-1", "account_uuid": "acct-1", "session_id": "sess-1"}
    return {
        "model": model,
        "messages": [first_user, {"role": "system", "content": environment}, *(later or [])],
        "system": [
            {
                "type": "text",
                "text": "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=sdk-cli;",
            },
            {"type": "text", "text": "You are Claude Code.", "cache_control": _EPHEMERAL},
            {"type": "text", "text": "Be concise.", "cache_control": _EPHEMERAL},
        ],
        "tools": claude_tools(),
        "metadata": {"user_id": json.dumps(user_id)},
        "max_tokens": 32000,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
        "stream": True,
    }


def claude_tool_result(tool_use_id: str, output: str) -> dict[str, Any]:
    block = {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": output,
        "is_error": False,
        "cache_control": _EPHEMERAL,
    }
    return {"role": "user", "content": [block]}


def codex_headers(key: str) -> dict[str, str]:
    turn = {
        "installation_id": "inst-1",
        "session_id": "sess-1",
        "thread_id": "thread-1",
        "turn_id": "turn-1",
        "sandbox": "workspace-write",
        "model": "codex-group",
        "analytics_enabled": False,
    }
    return {
        "Authorization": f"Bearer {key}",
        "Accept": "text/event-stream",
        "Accept-Encoding": "zstd,gzip",
        "Content-Type": "application/json",
        "originator": "codex_exec",
        "User-Agent": "codex_exec/0.171.0 (Linux 6.8; x86_64) xterm",
        "session-id": "sess-1",
        "thread-id": "thread-1",
        "x-client-request-id": "req-1",
        "x-codex-window-id": "win-1",
        "x-codex-beta-features": "remote_compaction_v2",
        "x-codex-turn-metadata": json.dumps(turn),
    }


def _function(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    parameters = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return {
        "type": "function",
        "name": name,
        "description": f"The {name} tool.",
        "strict": False,
        "parameters": parameters,
    }


def codex_tools() -> list[dict[str, Any]]:
    """7 functions, a `namespace` of nested functions and the hosted `web_search`."""
    exec_params = dict.fromkeys(
        ("cmd", "justification", "prefix_rule", "sandbox_permissions", "shell"), _STR
    )
    exec_params |= {"login": _BOOL, "tty": _BOOL, "workdir": _STR}
    exec_params |= {"max_output_tokens": {"type": "number"}, "yield_time_ms": {"type": "number"}}
    spawn = _function("spawn_agent", {"task": _STR}, ["task"])
    wait = _function("wait_agent", {"agent_id": _STR}, ["agent_id"])
    return [
        _function("exec_command", exec_params, ["cmd"]),
        _function("write_stdin", {"session_id": _STR, "chars": _STR}, ["session_id"]),
        _function("request_user_input", {"question": _STR}, ["question"]),
        _function("view_image", {"path": _STR}, ["path"]),
        _function("get_goal", {}, []),
        _function("create_goal", {"goal": _STR}, ["goal"]),
        _function("update_goal", {"goal": _STR}, ["goal"]),
        {"type": "namespace", "name": "multi_agent_v1", "tools": [spawn, wait]},
        {"type": "web_search", "external_web_access": True},
    ]


def _message(role: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def codex_body(model: str, later: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Turn 1; turn 2 (store=false) resends it all plus the echoed items as `later`."""
    metadata = {"session_id": "sess-1", "turn_metadata": json.dumps({"turn_id": "turn-1"})}
    return {
        "model": model,
        "stream": True,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "reasoning": {"summary": "auto"},
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "prompt_cache_key": "sess-1",
        "client_metadata": metadata,
        "input": [
            _message("developer", "You are Codex, a coding agent."),
            _message("developer", "Skills available: none."),
            _message("user", "<environment_context>cwd=/repo shell=bash</environment_context>"),
            _message("user", CODEX_PROMPT),
            *(later or []),
        ],
        "tools": codex_tools(),
    }


def codex_output(call_id: str, stdout: str) -> dict[str, Any]:
    output = (
        f"Chunk ID: 1\nWall time: 0.01 seconds\nProcess exited with code 0\n"
        f"Original token count: 3\nOutput:\n{stdout}"
    )
    return {"type": "function_call_output", "id": "fco_1", "call_id": call_id, "output": output}
