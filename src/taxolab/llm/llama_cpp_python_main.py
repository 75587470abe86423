"""Entry point for the ``llama-cpp-python`` backend: its OpenAI server, with one knob it lacks.

llama-cpp-python's server has no flag to turn off ggml's extra weight buffers
(the repacked/AMX kernels that crash on some AMX CPUs, see
``taxolab.llm.backends.repack_safe``). When taxolab asks for that through
``TAXOLAB_LLAMA_NO_EXTRA_BUFTS=1``, the model's default load parameters are
wrapped before the server creates the model; everything else is the stock
``python -m llama_cpp.server``.
"""

from __future__ import annotations

import os
from typing import Any


def main() -> None:
    if os.environ.get("TAXOLAB_LLAMA_NO_EXTRA_BUFTS") == "1":
        import llama_cpp.llama_cpp as bindings

        original = bindings.llama_model_default_params

        def without_extra_buffers() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        bindings.llama_model_default_params = without_extra_buffers

    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
