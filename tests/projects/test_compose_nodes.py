"""docker-compose.yml past one machine (issue 19): two app nodes behind nginx's upstream,
two workers, and the folders the worker writes (photos, background exports) shared with
the nodes that hand them out. No Docker engine here: the file is read as YAML and checked
against the code it names (the failover itself: tests/integration/test_two_nodes.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from campaign.nginx import site_render, upstream_servers

BASE_DIR = Path(settings.BASE_DIR)
NODES = ["web", "web2"]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return dict(data["services"]) | {"volumes": data["volumes"]}


def test_two_app_nodes_alike_and_only_one_migrates(services: dict[str, Any]) -> None:
    web, web2 = services["web"], services["web2"]
    for key in ("build", "environment", "volumes", "expose", "healthcheck"):
        assert web2[key] == web[key], key
    assert "migrate" in web["command"]
    command = web2["command"]
    assert command == [
        "gunicorn",
        "-c",
        "python:campaign.gunicorn_conf",
        "campaign.wsgi:application",
    ]
    # web2 starts once web has migrated (healthy).
    assert web2["depends_on"]["web"] == {"condition": "service_healthy"}
    assert "ports" not in web2
    assert services["worker"]["deploy"]["replicas"] == 2


def test_nginx_upstream_names_both_nodes_with_passive_failover(services: dict[str, Any]) -> None:
    proxy = services["proxy"]
    env = proxy["environment"]
    servers = env["CAMPAIGN_UPSTREAM_SERVERS"]
    assert servers == upstream_servers(NODES[0] + ":8000, " + NODES[1] + ":8000")
    for node in NODES:
        assert proxy["depends_on"][node] == {"condition": "service_healthy"}
        assert re.search(rf"server {node}:8000 max_fails=\d+ fail_timeout=\d+s;", servers)
    text = site_render(
        **{
            k.removeprefix("CAMPAIGN_").lower(): re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v))
            for k, v in env.items()
            if k.startswith("CAMPAIGN_")
        }
    )
    assert f"upstream campaign_web {{\n    {servers}\n" in text
    assert "proxy_next_upstream error timeout http_502 http_503;" in text
    assert "non_idempotent" not in text.split("location = /stripe/webhook/")[0]


def test_exports_and_media_are_shared_by_the_worker_and_the_nodes(
    services: dict[str, Any],
) -> None:
    """A background export is written by a worker and downloaded from any node (else 410)."""
    export_root = services["web"]["environment"]["EXPORT_ROOT"]
    media_root = services["web"]["environment"]["MEDIA_ROOT"]
    for name in [*NODES, "worker"]:
        env = services[name]["environment"]
        assert env["EXPORT_ROOT"] == export_root and env["MEDIA_ROOT"] == media_root, name
        assert f"exports:{export_root}" in services[name]["volumes"], name
        assert f"media:{media_root}" in services[name]["volumes"], name
    assert {"exports", "media"} <= set(services["volumes"])
    # The image creates both folders for its user: a new named volume copies their owner.
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(rf"mkdir -p [^\n]*{export_root}", dockerfile)
    assert re.search(rf"chown -R app [^\n]*{export_root}", dockerfile)
    assert re.search(rf"chown -R app [^\n]*{media_root}", dockerfile)


def test_nginx_keeps_stale_copies_as_long_as_the_app_allows() -> None:
    text = (BASE_DIR / "campaign" / "nginx.conf").read_text()
    inactive = re.search(r"inactive=(\d+)([smhd])", text)
    assert inactive
    seconds = int(inactive.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[inactive.group(2)]
    assert seconds >= settings.PAGE_STALE_SECONDS


def test_upstream_and_balancer_lists_are_checked() -> None:
    from campaign.nginx import trusted_balancers

    assert upstream_servers("a:1,b:2") == upstream_servers(["a:1", "b:2"])
    assert trusted_balancers("10.0.0.0/8, 192.168.1.5") == "10.0.0.0/8 1; 192.168.1.5 1;"
    assert trusted_balancers("") == ""
    for bad in ("", "web:8000; include /etc/passwd"):
        with pytest.raises(ValueError, match=r"app node|not an address"):
            upstream_servers(bad)
