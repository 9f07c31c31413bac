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


def test_the_demo_force_is_checked_recorded_and_set(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vawg demo --force NAME`: a force of seed forces, recorded in VAWG_HOME and set for the
    run; a warehouse that holds another force's data is refused with what to do instead."""
    from vawg_devtools import demo
    from vawg_warehouse import forces

    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path / "landing"))
    # set, then unset: monkeypatch restores the variable's first state after the test (the
    # demo sets it in os.environ, for the run it starts)
    monkeypatch.setenv("VAWG_HOME_FORCE", "lancashire")
    monkeypatch.delenv("VAWG_HOME_FORCE")
    assert forces.home_force_code() == "lancashire"  # nothing recorded: the default

    assert demo.choose_force("cumbria").name == "Cumbria"
    assert (tmp_path / "home" / "home_force").read_text().strip() == "cumbria"
    monkeypatch.delenv("VAWG_HOME_FORCE")
    assert forces.home_force_code() == "cumbria"  # later commands: the recorded force

    with pytest.raises(demo.OtherForceError, match="holds cumbria's data.*VAWG_HOME=.vawg-"):
        demo.choose_force("lancashire")
    assert cli.main(["demo", "--force", "atlantis"]) == 2
    assert "known forces are cumbria, lancashire" in capsys.readouterr().out

    # a warehouse from before forces were recorded, with files: Lancashire's
    (tmp_path / "home" / "home_force").unlink()
    monkeypatch.delenv("VAWG_HOME_FORCE", raising=False)
    (tmp_path / "landing" / "force").mkdir(parents=True)
    (tmp_path / "landing" / "force" / "crimes_2025-01-01.csv").write_text("x\n")
    with pytest.raises(demo.OtherForceError, match="holds lancashire's data"):
        demo.choose_force("cumbria")
    monkeypatch.delenv("VAWG_HOME_FORCE", raising=False)


def test_the_home_force_is_left_as_it_was() -> None:
    """The test above leaves no force in this process's environment (a later test in the same
    worker would make Cumbria's files)."""
    import os

    assert os.environ.get("VAWG_HOME_FORCE") in (None, "lancashire")
