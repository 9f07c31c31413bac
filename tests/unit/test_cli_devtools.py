"""The development commands (vawg sample, demo, bench) need vawg-devtools, which the wheel does
not ship: without it they say so and how to get it, with no traceback."""

from __future__ import annotations

import sys

import pytest

from vawg_warehouse import cli


@pytest.mark.parametrize("command", [["sample"], ["demo"], ["bench", "--no-write"]])
def test_a_dev_command_without_the_dev_package_says_how_to_install_it(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m == "vawg_devtools" or m.startswith("vawg_devtools.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "vawg_devtools", None)  # import fails: not installed
    assert cli.main(command) == 2
    out = capsys.readouterr().out
    assert "vawg-devtools" in out and "python3 dev.py setup" in out


def test_production_modules_never_import_the_dev_package() -> None:
    import ast
    from pathlib import Path

    package = Path(cli.__file__).parent
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "vawg_devtools" for n in names), path
