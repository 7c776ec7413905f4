"""Task tokens: unguessable, bound to one task attempt, verifiable without a table scan.

A token carries the execution id, the frame and the id of the task's TaskScheduled event,
signed with HMAC-SHA256 under a secret kept in the database (DESIGN.md §4). Verifying a
token checks the signature first; only then is the execution looked up, by its key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from shared.errors import InvalidArgument

__all__ = ["TaskTokens", "TokenClaims"]

_VERSION = "t1"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    execution_id: int
    frame: str
    task_id: int
    """The event id of the task's TaskScheduled event: unique per attempt."""


class TaskTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, claims: TokenClaims) -> str:
        payload = json.dumps(
            [claims.execution_id, claims.frame, claims.task_id], separators=(",", ":")
        ).encode()
        body = _b64(payload)
        signature = _b64(
            hmac.new(self._secret, f"{_VERSION}.{body}".encode(), hashlib.sha256).digest()
        )
        return f"{_VERSION}.{body}.{signature}"

    def verify(self, token: str) -> TokenClaims:
        """The claims of a genuine token; raises InvalidArgument for anything else."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION or len(token) > 4096:
            raise InvalidArgument(
                "the task token is malformed; use the token from $Context.Current.TaskToken"
            )
        expected = _b64(
            hmac.new(self._secret, f"{_VERSION}.{parts[1]}".encode(), hashlib.sha256).digest()
        )
        if not hmac.compare_digest(expected, parts[2]):
            raise InvalidArgument("the task token is not valid: its signature does not match")
        try:
            execution_id, frame, task_id = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            raise InvalidArgument("the task token is malformed") from None
        return TokenClaims(int(execution_id), str(frame), int(task_id))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
