"""The files the programme hands out (spreadsheets, PDFs, ZIP archives), rendered at the edge from
the facts services return, in the reader's language. The chat edge sends the bytes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    file_name: str
    data: bytes
