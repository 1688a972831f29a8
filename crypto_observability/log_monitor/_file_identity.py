"""What a followed file *is*, read from an open descriptor: device, inode and a fingerprint of its head.

Everything here works on a descriptor that is already open, never on a path: a path may name
another file a microsecond later (rename rotation, copytruncate, compression), the descriptor may not.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import zlib
from dataclasses import dataclass

HEAD_BYTES = 1024
_GZIP_WBITS = 31  # zlib wbits for a gzip header and trailer
_GZ_READ = 64 * 1024

GZIP_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


def digest(data: bytes) -> str:
    """Fingerprint of a file's head (blake2b, 12 bytes, hex)."""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


@dataclass(frozen=True)
class Opened:
    """A file opened and identified in one step: its descriptor, identity and head at that moment."""

    fd: int
    dev: int
    inode: int
    size: int
    nlink: int
    head: bytes
    gz: bool

    def has_whole_first_line(self) -> bool:
        """A file is identified by at least its whole first line (records share long prefixes)."""
        return b"\n" in self.head or len(self.head) >= HEAD_BYTES


def first_line_len(head: bytes) -> int:
    """Length of the first line with its newline (HEAD_BYTES at most): the least a file is identified by."""
    nl = head.find(b"\n", 0, HEAD_BYTES)
    return nl + 1 if nl >= 0 else min(len(head), HEAD_BYTES)


def open_identified(path: str, gz: bool) -> Opened | None:
    """Open ``path`` read-only, then identify what was opened; None when it is no regular file.

    Raises OSError (ENOENT, ELOOP, EACCES, ...) for the caller to count; a gzip file whose head
    cannot be decompressed raises too (it may still be being written, or be corrupt).
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)  # NONBLOCK: a FIFO must not hang us
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        head = gz_head(fd) if gz else os.pread(fd, HEAD_BYTES, 0)
    except BaseException:
        os.close(fd)
        raise
    return Opened(fd, st.st_dev, st.st_ino, st.st_size, st.st_nlink, head, gz)


def gz_head(fd: int) -> bytes:
    """Decompress the first HEAD_BYTES of the gzip file open as ``fd`` without moving its offset."""
    unpack = zlib.decompressobj(_GZIP_WBITS)
    out = b""
    pos = 0
    while len(out) < HEAD_BYTES:
        chunk = os.pread(fd, _GZ_READ, pos)
        if not chunk:
            if not out and pos:
                raise EOFError("gzip file ends before its first byte of content")
            return out
        pos += len(chunk)
        out += unpack.decompress(chunk, HEAD_BYTES - len(out))
        if unpack.eof:
            return out
    return out[:HEAD_BYTES]


def open_gzip_reader(fd: int, offset: int) -> gzip.GzipFile:
    """Wrap the gzip file open as ``fd`` (ownership passes to the reader) positioned at ``offset``."""
    raw = open(fd, "rb", buffering=0, closefd=True)  # noqa: SIM115 - owned by the returned reader, closed with it
    reader = gzip.GzipFile(fileobj=raw, mode="rb")
    reader.myfileobj = raw  # GzipFile.close() closes myfileobj: the descriptor goes with the reader
    try:
        reader.seek(offset)
    except BaseException:
        reader.close()
        raise
    return reader
