"""Shell completion: `photoindex completion bash|zsh|fish` prints a script; bash runs it and completes."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

DRIVE = r'''
source "$1"
complete_words() {
  COMP_WORDS=("${@}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
  COMPREPLY=(); _shtab_photoindex; printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '; }
complete_words photoindex dup
complete_words photoindex duplicates --de
complete_words photoindex duplicates --method ""
complete_words photoindex --ser
complete_words photoindex trash ""
'''


def script(shell: str) -> str:
    done = subprocess.run([sys.executable, "-m", "photoindex", "completion", shell], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_subcommands_options_and_choices(tmp_path) -> None:
    path = tmp_path / "photoindex.bash"
    path.write_text(script("bash"))
    drive = tmp_path / "drive.sh"
    drive.write_text(DRIVE)
    done = subprocess.run(["bash", "--norc", str(drive), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.splitlines() == ["duplicates", "--delete", "all clip phash", "--server", "empty list restore"]


def test_zsh_and_fish_scripts() -> None:
    assert script("zsh").startswith("#compdef photoindex")
    fish = script("fish")
    assert "complete -c photoindex" in fish and "auto-assign" in fish
    bad = subprocess.run([sys.executable, "-m", "photoindex", "completion", "tcsh"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
