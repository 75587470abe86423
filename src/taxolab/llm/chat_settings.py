"""Settings of ``taxolab model chat``: which model to talk to and how it answers.

The system prompt is not here: it is ``mix.system_prompt``, the one prompt
that training mixes, chat and evaluation share.
"""

from __future__ import annotations

from pydantic import Field

from taxolab.config.sections import Section


class ChatSettings(Section):
    model: str = Field(
        "default", description="Model to chat with: `default`, a GGUF, an HF folder (vLLM) or a name from `model list`."
    )
    endpoint_url: str | None = Field(
        None, description="Chat with this OpenAI-compatible server instead of starting one for `chat.model`."
    )
    max_tokens: int = Field(512, ge=1, description="Longest answer, in tokens.")
    temperature: float = Field(
        0.0,
        ge=0,
        description="Sampling temperature; 0 (greedy) gives reproducible answers and keeps small models on topic.",
    )
