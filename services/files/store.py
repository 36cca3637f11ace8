"""Stored files, kept once under their sha256."""

import hashlib
import os
import re
import tempfile
from pathlib import Path


class FileStore:
    """Content-addressed: root/ab/abcdef…; the same content twice is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, target)  # atomic: readers never see half a file
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
