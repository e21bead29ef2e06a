"""What a matrix cell asks (Turn) and what the client SDK handed back (Answer), SDK-neutral.

Every client driver builds the same conversation from a Turn in its own SDK's terms, and
reduces the SDK's result to an Answer, so one assertion can check all four clients.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.replies import Call

SYSTEM = "You are a terse weather assistant."
USER = "What is the weather in Paris right now?"
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
PNG = base64.b64decode(PNG_B64)
IMAGE_URL = "https://images.example.com/paris.png"
BUDGET = 24576  # the thinking budget the effort table maps "high" to (and back)

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
TIME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"zone": {"type": "string", "description": "IANA time zone"}},
    "required": ["zone"],
}
TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "get_weather": ("Current weather for a city", WEATHER_SCHEMA),
    "get_time": ("Local time in a time zone", TIME_SCHEMA),
}
# the model's calls (what fakes answer) and the client's second turn (what it sends back)
CALLS = (
    Call("call_w1", "get_weather", {"city": "Paris", "units": "celsius"}),
    Call("call_t2", "get_time", {"zone": "Europe/Paris"}),
)
RESULTS = {"call_w1": "18C and sunny", "call_t2": "14:05"}


@dataclass(frozen=True)
class Turn:
    stream: bool = False
    system: bool = False
    tools: bool = False
    history: bool = False  # the second turn: the two calls and their results
    image: str = ""  # "", "base64" or "url"
    reasoning: bool = False  # ask for effort "high" / a BUDGET-token thinking budget
    usage: bool = False  # ask for usage in the stream where the format needs asking (Chat)


@dataclass(frozen=True)
class Usage:
    """Normalised from the client's own shape: input includes cached, output includes reasoning."""

    input: int
    cached: int
    output: int
    reasoning: int


@dataclass
class GotCall:
    id: str | None  # None where the client format has no call ids (Gemini)
    name: str
    args: dict[str, Any]
    index: int | None = None  # the wire index / output index where the format shows one


@dataclass
class Answer:
    text: str = ""
    thinking: str = ""
    calls: list[GotCall] = field(default_factory=list)
    usage: Usage | None = None
    stop: str | None = None
    error: str | None = None  # an in-band error the SDK reported as an event, not an exception
