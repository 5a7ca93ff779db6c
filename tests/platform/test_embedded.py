"""The embedded PostgreSQL allows the connections of every process's full pools."""

from __future__ import annotations

import asyncio

import asyncpg

from crm.platform.embedded import EmbeddedPostgres, connections_for


def test_connections_cover_every_pool_of_every_process_with_room_to_spare():
    assert connections_for(processes=1, services=1, pool_size=10, max_overflow=10) == 200  # the least
    assert connections_for(processes=2, services=5, pool_size=10, max_overflow=10) == 230
    assert connections_for(processes=8, services=5, pool_size=10, max_overflow=10) == 830


def test_the_embedded_server_starts_with_the_connections_it_is_given(tmp_path):
    server = EmbeddedPostgres(tmp_path, max_connections=321)
    url = server.start()
    try:

        async def setting() -> str:
            connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                return str(await connection.fetchval("SHOW max_connections"))
            finally:
                await connection.close()

        assert asyncio.run(setting()) == "321"
    finally:
        server.stop()
