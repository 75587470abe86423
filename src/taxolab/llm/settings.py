"""Settings for serving models and talking to OpenAI-compatible endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from taxolab.config.affects import speed_only
from taxolab.config.sections import Section


class ServeSettings(Section):
    backend: Literal["auto", "llama-cpp", "llama-cpp-python", "vllm"] = Field(
        "auto",
        description="Engine: `auto` (GGUF -> llama.cpp server, HF folder -> vLLM), `llama-cpp` (llama-server, parallel slots), `llama-cpp-python`, `vllm`.",
    )
    host: str = speed_only("127.0.0.1", description="Address to bind; only loopback unless you mean to expose it.")
    port: int = speed_only(8000, ge=0, le=65535, description="Port for `model serve` (0 = any free port).")
    max_ctx_size: int = Field(
        4096,
        ge=256,
        description="Context window of each request slot, in tokens (every --parallel slot gets this much).",
    )
    parallel: int = speed_only(4, ge=1, description="Concurrent request slots of the server (continuous batching).")
    threads: int | None = speed_only(None, ge=1, description="CPU threads for the server (default: all cores).")
    api_key: str | None = speed_only(None, description="Require this API key from clients of `model serve`.")
    startup_timeout: float = speed_only(180.0, gt=0, description="Seconds to wait for a started server to answer.")
    gpu_layers: int | None = speed_only(
        None,
        ge=-1,
        description="Model layers llama.cpp offloads to the GPU (its -ngl; -1 = all; default: the engine's choice). vLLM always puts all on the GPU.",
    )
    chat_template: str | None = Field(
        None,
        description="Chat template: a Jinja file, or a llama.cpp built-in template name (e.g. `chatml`); empty, `auto` or `tokenizer`: the model's own.",
    )

    def start_options(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``llm.server.start_server`` taken from these settings (``llm.opener`` uses them).

        Host, port and API key are left to the caller: servers taxolab starts for
        its own use bind a free loopback port and need no key.
        """
        options: dict[str, Any] = {
            "backend": self.backend,
            "ctx_size": self.max_ctx_size,
            "parallel": self.parallel,
            "threads": self.threads,
            "startup_timeout": self.startup_timeout,
            "gpu_layers": self.gpu_layers,
            "chat_template": self.chat_template,
        }
        options.update(overrides)
        return options


class ClientSettings(Section):
    timeout: float = speed_only(300.0, gt=0, description="Seconds before one request to a model server gives up.")
    max_retries: int = speed_only(
        5, ge=0, description="Retries on connection errors, 429 and 5xx, with exponential backoff."
    )
    api_key_env: str = speed_only(
        "OPENAI_API_KEY", description="Environment variable holding the API key for remote endpoints."
    )
