"""``adm <command>``: one entry point listing every command, each built the same way."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from adm.commands import COMMANDS, RAW_ARGV, main, run

ROOT = Path(__file__).resolve().parents[1]


def test_adm_alone_lists_every_command_with_its_line(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name, command in COMMANDS.items():
        assert f"  {name} " in out and command.summary in out


def test_listing_the_commands_imports_nothing_heavy():
    code = (
        "import sys; from adm.commands import main; main(['--help']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'librosa')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - RAW_ARGV))
def test_every_command_has_its_parser_and_its_run_function(name, capsys):
    module = importlib.import_module(COMMANDS[name].module)
    function = COMMANDS[name].function(name)
    assert callable(getattr(module, function))
    with pytest.raises(SystemExit) as exit_:
        run(name, ["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: adm {name} ")


def test_an_unknown_command_is_one_line_and_status_2(capsys):
    assert main(["trian"]) == 2
    assert "error: unknown command 'trian'" in capsys.readouterr().err


def test_python_dash_m_adm_is_the_same_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "adm", "norm-stats", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("usage: adm norm-stats ")
