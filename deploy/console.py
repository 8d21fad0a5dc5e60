"""Printing for the commands: every line is scrubbed of secrets, and changes are confirmed first."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO


class Aborted(Exception):
    pass


class Console:
    def __init__(self, out: TextIO | None = None, secrets: list[str] | None = None, yes: bool = False,
                 ask: Callable[[str], str] | None = None, interactive: bool | None = None):
        self._out = out or sys.stdout
        self._secrets = [s for s in (secrets or []) if s and len(s) >= 4]
        self.yes = yes
        self._ask = ask or input
        self._interactive = sys.stdin.isatty() if interactive is None else interactive

    def scrub(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def say(self, text: str = "") -> None:
        self._out.write(self.scrub(text) + "\n")
        self._out.flush()

    def plan(self, title: str, lines: list[str]) -> None:
        """Say what is about to change, then ask (unless --yes)."""
        self.say(title)
        for ln in lines:
            self.say(f"  {ln}")
        if self.yes:
            return
        if not self._interactive:
            raise Aborted("Nothing changed: not a terminal, so re-run with --yes to confirm.")
        if self._ask("Proceed? [y/N] ").strip().lower() not in ("y", "yes"):
            raise Aborted("Nothing changed.")
