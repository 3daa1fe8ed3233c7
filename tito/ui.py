"""Console output: rich tables and messages that never break a path across lines."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def say(text: str, style: str | None = None) -> None:
    """Print plain text (no markup), wrapped by the terminal only."""
    console.print(escape(text), style=style, soft_wrap=True)


def fail(text: str) -> None:
    """Print an error for the student on stderr."""
    errors.print(f"[bold red]error:[/bold red] {escape(text)}", soft_wrap=True)


def ok_mark(ok: bool) -> str:
    return "[green]passed[/green]" if ok else "[bold red]FAILED[/bold red]"
