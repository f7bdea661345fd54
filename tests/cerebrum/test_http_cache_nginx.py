"""deploy/nginx.conf.template renders to a configuration nginx accepts, with the report's §6.1 limits."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def render(run_dir: Path, **overrides: str) -> str:
    values = {
        "NGINX_WORKERS": "1",
        "RUN_DIR": str(run_dir),
        "ACCESS_LOG": "off",
        "UNLIMITED_CIDR": "127.0.0.0/8",
        "API_RATE": "100r/m",
        "AUTH_RATE": "10r/m",
        "UPSTREAM_SERVERS": "        server 127.0.0.1:8001 max_fails=3 fail_timeout=30s;\n"
        "        server 127.0.0.1:8002 max_fails=3 fail_timeout=30s;",
        "LISTEN": "127.0.0.1:18088",
        "STATIC_ROOT": str(run_dir / "static"),
        "PROXY_CACHE": "off",
        "EDGE_REFRESH_FROM": "127.0.0.0/8",
        **overrides,
    }
    return re.sub(r"@@([A-Z_]+)@@", lambda match: values[match.group(1)], TEMPLATE.read_text())


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
@pytest.mark.parametrize("proxy_cache", ["off", "pages"])
def test_rendered_template_passes_nginx_t(tmp_path, proxy_cache):
    config = tmp_path / "nginx.conf"
    config.write_text(render(tmp_path, PROXY_CACHE=proxy_cache))

    result = subprocess.run(
        ["nginx", "-t", "-c", str(config), "-p", str(tmp_path), "-g", f"error_log {tmp_path}/error.log;"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_template_has_the_reports_limits_headers_and_balancing(tmp_path):
    text = render(tmp_path)

    assert "@@" not in text
    assert "least_conn;" in text
    assert "limit_req_zone $limit_key zone=api:10m rate=100r/m;" in text
    assert "limit_req_zone $limit_key zone=auth:10m rate=10r/m;" in text
    assert "limit_req zone=auth burst=5 nodelay;" in text
    assert "limit_req zone=api burst=20 nodelay;" in text
    assert "add_header X-Frame-Options DENY always;" in text
    assert 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;' in text
    assert "gzip on;" in text
    assert "expires 1y;" in text
    assert re.search(r"location = /metrics \{\s+allow 127\.0\.0\.1;", text)
