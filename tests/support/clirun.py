"""Run the `penspec` CLI in-process, as a user would, and collect its exit code and output."""

import pytest

from penspec.runtime.cli import main


def run_cli(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out = capsys.readouterr()
    return exit_info.value.code, out.out + out.err
