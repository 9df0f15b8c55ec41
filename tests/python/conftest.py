"""Shared fixtures: one moto server for the whole session (started only when a test asks for it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto server on 127.0.0.1 (a free port), stopped at the end of the session; its log in a temp dir."""
    with MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto_server.log") as server:
        yield server


@pytest.fixture
def fresh_moto(moto_server: MotoServer) -> MotoServer:
    """The session's moto server, emptied of every resource."""
    moto_server.reset()
    return moto_server
