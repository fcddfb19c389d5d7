"""Client-side signing lives in the SDK (facegate.client); these names stay importable from here."""
from facegate.client import signed_headers, signed_request

__all__ = ["signed_headers", "signed_request"]
