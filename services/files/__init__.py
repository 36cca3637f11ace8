"""Uploaded materials: recognised by content, checked for hostile content, kept once under their sha256."""
