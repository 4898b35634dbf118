"""A chunked job's commits as its fault tests watch them while it runs (local or s3:// output).

    first = wait_for(lambda: markers(out), 300, "the first commit")[0]
    os.kill(first["pid"], signal.SIGKILL)      # the actor that committed it (markers name their pid)
"""

import json
import time

import pyarrow.fs as pafs

from rayscore.io import filesystem


def listing(out, folder: str = "") -> tuple:
    """(filesystem, sorted files) of an output folder, local or s3://."""
    fs, root = filesystem(str(out))
    info = fs.get_file_info(pafs.FileSelector(f"{root}/{folder}".rstrip("/"), allow_not_found=True))
    return fs, sorted(i.path for i in info if i.type == pafs.FileType.File)


def markers(out) -> list[dict]:
    """The commit records in _committed/ (each with the chunk's name and the committing actor's pid)."""
    fs, files = listing(out, "_committed")
    found = []
    for path in files:
        try:
            with fs.open_input_stream(path) as f:
                found.append(json.loads(f.read().decode()))
        except (OSError, json.JSONDecodeError):
            pass  # moved into place while we listed: read it next time
    return found


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
