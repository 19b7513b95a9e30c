"""Write a ready-to-run nginx or HAProxy folder in front of loadgate's mock upstreams.

    loadgate gateway --upstreams-only --admin-port 0 --json > upstreams.json &
    python3 examples/gateways/render.py nginx upstreams.json /tmp/lg-nginx --port 8090
    python3 examples/gateways/render.py haproxy upstreams.json /tmp/lg-haproxy --port 8091

UPSTREAMS is the line `loadgate gateway --upstreams-only --json` prints once
ready (`-` reads it from standard input): where each mock upstream listens.
OUT_DIR receives the example's files, with `@PORT@` in the main config replaced
by --port, and one generated file of upstream addresses that the main config
includes (nginx: `upstreams.conf`, HAProxy: `upstreams.cfg`, a second `-f`).
Nothing else is templated: the rest is the example's own config, unchanged.
The command that starts the gateway in the foreground is printed last.

Standard library only, and nothing of loadgate's: copy it with the example.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
PORT_MARK = "@PORT@"

Addresses = dict[str, list[tuple[str, int]]]


class RenderError(Exception):
    """The upstreams document or an argument cannot be used; the message says which."""


def read_addresses(text: str, source: str) -> Addresses:
    """`{"upstreams": {NAME: ["http://HOST:PORT", ...]}}` as host and port pairs by name."""
    try:
        document = json.loads(text)
        upstreams = document["upstreams"]
        addresses = {
            name: [_host_port(url) for url in urls] for name, urls in sorted(upstreams.items())
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RenderError(
            f"{source}: expected the JSON line of `loadgate gateway --upstreams-only --json` "
            f'({{"upstreams": {{"catalog": ["http://127.0.0.1:PORT", ...], ...}}}}): {exc}'
        ) from None
    empty = [name for name, pairs in addresses.items() if not pairs]
    if not addresses or empty:
        raise RenderError(f"{source}: no addresses for {', '.join(empty) or 'any upstream'}")
    return addresses


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"{url!r} is not http://HOST:PORT")
    return parts.hostname, parts.port


def nginx_upstreams(addresses: Addresses) -> str:
    blocks = []
    for name, pairs in addresses.items():
        servers = "".join(f"    server {host}:{port};\n" for host, port in pairs)
        blocks.append(f"upstream {name} {{\n{servers}    keepalive 16;\n}}\n")
    return "".join(blocks)


def haproxy_upstreams(addresses: Addresses) -> str:
    blocks = []
    for name, pairs in addresses.items():
        servers = "".join(
            f"    server {name}-{i} {host}:{port}\n" for i, (host, port) in enumerate(pairs)
        )
        blocks.append(f"backend {name}\n    balance roundrobin\n{servers}")
    return "\n".join(blocks)


GATEWAYS: dict[str, tuple[str, str, Callable[[Addresses], str]]] = {
    # name: (main config, generated upstreams file, its writer)
    "nginx": ("nginx.conf", "upstreams.conf", nginx_upstreams),
    "haproxy": ("haproxy.cfg", "upstreams.cfg", haproxy_upstreams),
}


def render(gateway: str, addresses: Addresses, out_dir: Path, port: int) -> list[str]:
    """Fill `out_dir` for `gateway`; return the command that starts it in the foreground."""
    main, generated, write_upstreams = GATEWAYS[gateway]
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted((HERE / gateway).iterdir()):
        text = source.read_text(encoding="utf-8")
        if source.name == main:
            text = text.replace(PORT_MARK, str(port))
        (out_dir / source.name).write_text(text, encoding="utf-8")
    (out_dir / generated).write_text(write_upstreams(addresses), encoding="utf-8")
    root = out_dir.resolve()
    if gateway == "nginx":
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return [nginx, "-p", f"{root}/", "-c", str(root / main), "-e", str(root / "error.log"),
                "-g", "daemon off;"]  # fmt: skip
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return [haproxy, "-db", "-f", str(root / main), "-f", str(root / generated)]


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gateway", choices=sorted(GATEWAYS))
    parser.add_argument("upstreams", help="the JSON of `loadgate gateway --upstreams-only --json`")
    parser.add_argument("out_dir", type=Path, help="folder to write (created if missing)")
    parser.add_argument("--port", type=_port, default=8090, help="port on 127.0.0.1 (8090)")
    args = parser.parse_args(argv)
    try:
        if args.upstreams == "-":
            text, source = sys.stdin.read(), "standard input"
        else:
            text, source = Path(args.upstreams).read_text(encoding="utf-8"), args.upstreams
        command = render(args.gateway, read_addresses(text, source), args.out_dir, args.port)
    except (RenderError, OSError) as exc:
        print(f"render.py: error: {exc}", file=sys.stderr)
        return 2
    print(" ".join(f"'{part}'" if " " in part else part for part in command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
