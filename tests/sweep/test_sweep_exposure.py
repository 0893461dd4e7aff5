"""A local sweep cluster listens on this machine only: dashboard included (it bound 0.0.0.0 while printing 127.0.0.1)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psutil
import pytest

from landscape.sweep.engine import DASHBOARD_ADDRESS, dashboard_bind, start_local_client


def test_a_bare_port_binds_loopback():
    assert DASHBOARD_ADDRESS == "127.0.0.1:8787"
    assert dashboard_bind(":8787") == "127.0.0.1:8787" and dashboard_bind("0") == "127.0.0.1:0"
    assert dashboard_bind("0.0.0.0:8787") == "0.0.0.0:8787" and dashboard_bind(None) is None


@pytest.mark.slow
def test_dashboard_scheduler_and_workers_listen_on_loopback_only():
    client = start_local_client(1, dashboard_address=":0")
    try:
        port = urlsplit(client.dashboard_link).port
        # the scheduler, the nannies and the dashboard live in this process; the workers in their own
        procs = [psutil.Process(), *(psutil.Process(pid) for pid in client.run(os.getpid).values())]
        listening = {(c.laddr.ip, c.laddr.port) for p in procs
                     for c in p.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    finally:
        client.close()
        client.cluster.close()
    assert urlsplit(client.dashboard_link).hostname == "127.0.0.1"
    assert ("127.0.0.1", port) in listening, listening  # the dashboard's own socket
    assert len(procs) == 2 and all(ip == "127.0.0.1" for ip, _ in listening), listening
