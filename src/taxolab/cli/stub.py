"""Commands whose engine has not landed yet say so clearly instead of pretending."""

from __future__ import annotations

from typing import NoReturn

from taxolab.errors import NotAvailableError


def not_available(command: str, issue: int) -> NoReturn:
    raise NotAvailableError(f"`taxolab {command}` is not available yet (tracked in issue {issue})")
