"""The bus's connection settings: ``NATS_URL`` naming a cluster's nodes, ``CRM_NATS_REPLICAS`` for
every stream (a 3-node cluster itself is in ``tests/cluster``)."""

from __future__ import annotations

import nats
import pytest
from nats.js.api import StreamConfig
from pydantic import ValidationError

from crm.platform.bus import Bus, nats_servers
from crm.platform.embedded import EmbeddedNats, free_port
from crm.platform.events import DEAD_LETTER_STREAM, STREAMS
from crm.platform.settings import PlatformSettings


def test_nats_url_names_one_server_or_a_clusters_nodes():
    assert nats_servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]
    assert nats_servers("nats://a:4222, nats://b:4222,nats://c:4222,") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]
    with pytest.raises(ValueError, match="no server"):
        nats_servers(" , ")


def test_stream_replicas_come_from_the_setting(monkeypatch):
    assert PlatformSettings().nats_replicas == 1
    monkeypatch.setenv("CRM_NATS_REPLICAS", "3")
    assert PlatformSettings().nats_replicas == 3
    bus = Bus("nats://127.0.0.1:4222", name="test", replicas=PlatformSettings().nats_replicas)
    configs = bus.stream_configs()
    assert [c.name for c in configs] == [*STREAMS, DEAD_LETTER_STREAM[0]]
    assert {c.num_replicas for c in configs} == {3}
    monkeypatch.setenv("CRM_NATS_REPLICAS", "0")
    with pytest.raises(ValidationError):
        PlatformSettings()


async def test_the_bus_connects_to_any_listed_server_and_updates_a_stream_configured_otherwise(tmp_path):
    server = EmbeddedNats(tmp_path)  # its own server: the test changes streams the session shares
    server.start()
    try:
        payment = "CRM_PAYMENT"
        assert payment in STREAMS
        client = await nats.connect(server.url())
        try:
            js = client.jetstream()
            # As an earlier release (or an operator) left it: another duplicate window.
            await js.add_stream(StreamConfig(name=payment, subjects=["crm.payment.>"], duplicate_window=5))
            nowhere = f"nats://127.0.0.1:{free_port()}"  # a node that is down
            bus = Bus(f"{nowhere},{server.url()}", name="test-bus", duplicate_window=600, replicas=1)
            assert bus.servers == [nowhere, server.url()]
            bus.start()
            try:
                await bus.wait_connected(within=20)
                for name in [*STREAMS, DEAD_LETTER_STREAM[0]]:
                    config = (await js.stream_info(name)).config
                    assert config.num_replicas == 1, name
                    assert config.duplicate_window == 600, name
            finally:
                await bus.close()
        finally:
            await client.close()
    finally:
        server.stop()
