"""The demo shop in a process of its own, so the site is not what limits a crawl by several
workers (served from the benchmark's own process, it shares one interpreter with it).

    python -m bench.shop --port PORT [--slow-seconds 0.2]

:func:`running` starts it on a free port and stops it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

from bench import children


@contextlib.contextmanager
def running(slow_seconds: float = 0.2) -> Iterator[str]:
    """The shop served by a child process; yields its base URL (``http://127.0.0.1:PORT``)."""
    port = children.free_port()
    argv = [sys.executable, "-m", "bench.shop", "--port", str(port),
            "--slow-seconds", str(slow_seconds)]  # fmt: skip
    server = subprocess.Popen(argv, env=os.environ.copy())
    try:
        children.wait_answering(server, port, "/shop/", "the demo shop", 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        children.stop(server)


def main(argv: list[str] | None = None) -> None:
    """Serve the demo sites on ``--port`` until terminated."""
    from werkzeug.serving import make_server

    from demo.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow-seconds", type=float, default=0.2, help="the slow page's wait")
    args = parser.parse_args(argv)
    # One access-log line per crawled page would cost the site more than the page.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(slow_seconds=args.slow_seconds)
    make_server("127.0.0.1", args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
