"""The PIN key: one key however many processes create it at once, and a short key is refused."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from dialconf.config import SECRET_FILE_NAME, ConfigError, Settings, load_or_create_key
from tests.conftest import ENABLE_ADA, Cli

PROCESSES = 6
ROUNDS = 15


def _create_keys(folders: list[str], barrier: Barrier) -> list[bytes]:
    """In a child process: in each folder, start at the same moment as the others and read or create the key."""
    keys = []
    for folder in folders:
        barrier.wait()
        keys.append(load_or_create_key(Path(folder) / SECRET_FILE_NAME))
    return keys


def test_processes_creating_the_key_at_the_same_moment_all_get_the_same_key(tmp_path: Path) -> None:
    folders = [str(tmp_path / f"round{i}") for i in range(ROUNDS)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(PROCESSES)
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(_create_keys, [(folders, barrier)] * PROCESSES, chunksize=1)
    for i, folder in enumerate(folders):
        keys = {keys_of_one[i] for keys_of_one in results}
        stored = (Path(folder) / SECRET_FILE_NAME).read_bytes().strip()
        assert keys == {stored}, f"round {i}: {len(keys)} different keys"
        assert len(stored) == 64
        assert stat.S_IMODE((Path(folder) / SECRET_FILE_NAME).stat().st_mode) == 0o600
        assert sorted(p.name for p in Path(folder).iterdir()) == [SECRET_FILE_NAME]  # no temporary file left


@pytest.mark.parametrize("content", [b"", b"\n", b"short-key\n", b"x" * 31 + b"\n"])
def test_an_empty_or_short_key_file_is_refused_with_its_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / SECRET_FILE_NAME
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        Settings(database_url=f"sqlite:///{tmp_path / 'dialconf.db'}").pin_key()
    assert str(path) in refused.value.message and "shorter than 32 characters" in refused.value.message
    assert path.read_bytes() == content  # left for the operator to restore or delete


def test_a_secret_key_of_32_characters_is_used() -> None:
    key = "k" * 32
    assert Settings(secret_key=key).pin_key() == key.encode()


def test_a_short_secret_key_variable_is_refused_with_exit_1(
    sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_cli.ok("tenant", "create", "contoso", "--domain", "contoso.com")
    sqlite_cli.ok("bridge", "create", "contoso", "main")
    monkeypatch.setenv("DIALCONF_SECRET_KEY", "too-short-0123456789")
    result = sqlite_cli(*ENABLE_ADA)
    assert result.code == 1
    assert result.err.startswith("dialconf: DIALCONF_SECRET_KEY has 20 characters; it must have at least 32")
    assert len(result.err.strip().splitlines()) == 1
    assert sqlite_cli.ok("user", "list", "--tenant", "contoso") == []
