"""Every `market-pulse` command shown in the README and the user guide exists and parses.

Commands are parsed by the real CLI (typer/click), without running them, so a renamed command
or option, or a missing argument, fails here instead of in a reader's terminal. What the
commands do is covered by the tests of each feature.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from cli.main import app
from infra.settings import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "docs" / "guide.md", PROJECT_ROOT / "docs" / "security.md",
        PROJECT_ROOT / "pipelines" / "alerts" / "README.md"]
BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in BLOCK.findall(doc.read_text()):
            for line in block.replace("\\\n", " ").splitlines():
                for part in re.split(r"&&|;|\$\(", line.split(" #")[0]):
                    part = part.strip().rstrip(")")
                    match = re.match(r"(?:uv run |\.venv/bin/)?market-pulse (.*)", part)
                    if match:
                        found.append((doc.name, match.group(1)))
    return found


COMMANDS = documented_commands()


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) > 25


@pytest.mark.parametrize(("doc", "command"), COMMANDS, ids=[f"{d}: {c}"[:80] for d, c in COMMANDS])
def test_documented_command_parses(doc: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = re.sub(r"\[[^\]]*\]", "", command)  # optional parts shown as [--flag VALUE]
    args = [a.split("|")[0] for a in shlex.split(command)]  # alternatives shown as pause|resume: the first
    monkeypatch.chdir(tmp_path)
    for arg in args:  # files the reader would have: the parser checks they exist
        if re.fullmatch(r"[\w./-]+\.(yaml|json|dump|txt)", arg):
            (tmp_path / arg).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / arg).touch()
    group = typer.main.get_command(app)  # typer ships its own click: duck-type groups by `commands`
    path = []
    while hasattr(group, "commands") and args and args[0] in group.commands:
        path.append(args[0])
        group = group.commands[args.pop(0)]
    assert path, f"{doc}: `market-pulse {command}`: unknown command"
    assert not hasattr(group, "commands"), f"{doc}: `market-pulse {command}`: incomplete command"
    with group.make_context(" ".join(["market-pulse", *path]), args) as context:
        assert context.command is group
