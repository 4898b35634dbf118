"""Model directories in object storage, read through a local cache.

    local = local_model_dir("s3://bucket/out/train_reward/model")   # a local directory to load from
    local_model_dir("out/train_reward/model") == "out/train_reward/model"   # local paths pass through

A model dir under an s3:// or gs:// URI is downloaded once per machine into
<cache>/<key>/ and loaded from there. The key is the URI and the name, size and modification time
of every object under it: a model written again under the same URI (retrained, replaced) gets a
new entry and is never read from the old one's files. Looking the key up is one listing request;
a download happens only for a key not in the cache. Processes on one machine (a node's scoring
actors, the driver) share the cache: the first to need an entry downloads it under a file lock
while the others wait, then all load the same files. An entry is complete once it is there: it is
downloaded beside it and renamed into place.

The cache is $RAYSCORE_MODEL_CACHE, else ~/.cache/rayscore/models; older entries stay until
deleted (any entry is safe to delete while no job is loading it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from rayscore.io import download_dir, files, is_uri

logger = logging.getLogger(__name__)

CACHE_ENV = "RAYSCORE_MODEL_CACHE"
DOWNLOAD_RECORD = ".rayscore-download.json"
"""In each entry: where it came from, what it holds, and which process downloaded it when."""


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rayscore" / "models")


def local_model_dir(location: str | Path) -> str:
    """A local directory holding the model dir at `location`: the location itself when it is a
    local path; for a URI its entry in the cache, downloaded first when the cache lacks it."""
    location = str(location)
    if not is_uri(location):
        return location
    location = location.rstrip("/")
    listing = files(location)
    if not listing:
        raise FileNotFoundError(f"{location}: no model here (nothing under this location)")
    key = hashlib.sha256(json.dumps([location, listing]).encode()).hexdigest()[:24]
    root = cache_root()
    entry = root / key
    if entry.is_dir():
        return str(entry)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not entry.is_dir():
            _download(location, listing, entry)
    return str(entry)


def _download(location: str, listing: list, entry: Path) -> None:
    started = time.time()
    partial = Path(tempfile.mkdtemp(prefix=f"{entry.name}.partial-", dir=entry.parent))
    try:
        download_dir(location, partial)
        size = sum(f[1] for f in listing)
        (partial / DOWNLOAD_RECORD).write_text(json.dumps(
            {"uri": location, "files": len(listing), "bytes": size, "pid": os.getpid(), "at": time.time()}))
        partial.rename(entry)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    logger.info("model %s: downloaded %d files (%.1f MB) in %.1f s to %s", location, len(listing), size / 1e6,
                time.time() - started, entry)


def download_record(model_dir: str | Path) -> dict | None:
    """The download record of a cache entry (None for a directory that is not one)."""
    path = Path(model_dir, DOWNLOAD_RECORD)
    return json.loads(path.read_text()) if path.exists() else None
