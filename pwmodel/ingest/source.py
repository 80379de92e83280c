"""The bytes of one input file: read once, decompressed, without a byte-order mark.

Reading polls a non-blocking descriptor, so Ctrl-C stops it even when the
input is a named pipe whose writer never finishes (or never starts), and a pipe is read only
once (format detection and parsing share the bytes, see :func:`held`).
Compressed inputs are recognised by their magic number: gzip, xz, bzip2 and
zstd (the ``zstd`` program, when no Python module is at hand) are read; zip
archives and anything else compressed are named in the error.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import stat
import subprocess
from typing import Iterator

from pwmodel.errors import PwmodelError

MAGIC = ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"),
         (b"\x28\xb5\x2f\xfd", "zstd"), (b"PK\x03\x04", "zip"), (b"7z\xbc\xaf\x27\x1c", "7z"))
BOM = b"\xef\xbb\xbf"
#: largest input read into memory (a trace of this size is hours of tracing)
MAX_BYTES = 8 << 30
_held: dict[str, bytes] = {}


def raw_bytes(path: str | os.PathLike) -> bytes:
    """All bytes of ``path`` (a regular file or a named pipe), one-line errors."""
    file = str(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise PwmodelError("cannot read: it is a folder", file=file)
        # non-blocking, so neither the open (a pipe without writer) nor a read ever blocks
        # the main thread for long: a Ctrl-C that the kernel hands to one of the worker
        # threads of polars or BLAS is then still acted on, at the next poll timeout
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise PwmodelError(f"cannot read: {exc.strerror}", file=file) from None
    chunks, total = [], 0
    poll = select.poll()
    poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    try:
        while True:
            if not poll.poll(200):
                continue
            try:
                b = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not b:
                break
            chunks.append(b)
            total += len(b)
            if total > MAX_BYTES:
                raise PwmodelError(f"input larger than {MAX_BYTES >> 30} GiB; split it", file=file)
    except OSError as exc:
        raise PwmodelError(f"cannot read: {exc.strerror}", file=file) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decompress(data: bytes, file: str) -> bytes:
    """``data`` decompressed when its magic number names gzip, xz, bzip2 or zstd."""
    kind = next((k for m, k in MAGIC if data.startswith(m)), None)
    if kind is None:
        return data
    try:
        if kind == "gzip":
            import gzip
            return gzip.decompress(data)
        if kind == "xz":
            import lzma
            return lzma.decompress(data)
        if kind == "bzip2":
            import bz2
            return bz2.decompress(data)
        if kind == "zstd":
            return _unzstd(data, file)
    except PwmodelError:
        raise
    except Exception as exc:  # noqa: BLE001 - OSError, EOFError, lzma.LZMAError, zlib.error
        raise PwmodelError(f"bad {kind} data: {exc}", file=file) from None
    raise PwmodelError(f"a {kind} archive, not a text or parquet file: extract it first", file=file)


def _unzstd(data: bytes, file: str) -> bytes:
    try:
        import zstandard  # type: ignore[import-not-found]
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    except ImportError:
        pass
    exe = shutil.which("zstd")
    if exe is None:
        raise PwmodelError("zstd-compressed: decompress it first (zstd -d), or install zstd",
                           file=file)
    r = subprocess.run([exe, "-d", "-q", "-c"], input=data, capture_output=True)
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        raise PwmodelError(f"bad zstd data: {msg[-1] if msg else 'zstd failed'}", file=file)
    return r.stdout


def load(path: str | os.PathLike) -> bytes:
    """Decompressed bytes of ``path`` without a UTF-8 byte-order mark (held bytes if any)."""
    key = str(path)
    if key in _held:
        return _held[key]
    data = decompress(raw_bytes(path), key)
    return data[len(BOM):] if data.startswith(BOM) else data


@contextlib.contextmanager
def held(path: str | os.PathLike) -> Iterator[bytes]:
    """Read ``path`` once; inside the block every :func:`load` of it returns these bytes."""
    key = str(path)
    if key in _held:
        yield _held[key]
        return
    data = load(path)
    _held[key] = data
    try:
        yield data
    finally:
        _held.pop(key, None)

