"""supervisord configuration rendered from service programs."""

from __future__ import annotations

import configparser
import shlex
import tempfile
from pathlib import Path

from sluice.stack.services.base import Program
from sluice.stack.supervisor import MAX_SOCKET_PATH, render_config, socket_path_for


def parse(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def test_programs_are_rendered_with_their_user_signal_and_log(tmp_path):
    programs = [
        Program(
            "postgres",
            ["/bin/postgres", "-D", "/d"],
            tmp_path,
            user="postgres",
            stopsignal="INT",
            stopwaitsecs=60,
        ),
        Program("redis", ["redis-server", "/r.conf"], tmp_path),
    ]
    conf = parse(render_config(tmp_path, tmp_path / "s.sock", programs))
    pg = conf["program:postgres"]
    assert pg["user"] == "postgres"
    assert pg["stopsignal"] == "INT"
    assert pg["stopwaitsecs"] == "60"
    assert pg["autostart"] == "false"
    assert pg["stdout_logfile"] == str(tmp_path / "logs" / "postgres.log")
    assert "user" not in conf["program:redis"]
    assert conf["unix_http_server"]["file"] == str(tmp_path / "s.sock")


def test_arguments_with_spaces_and_percent_survive_supervisors_parsing(tmp_path):
    argv = ["/bin/x", "-c", "log_line_prefix=%m [%p] ", "it's"]
    conf = parse(render_config(tmp_path, tmp_path / "s.sock", [Program("x", argv, tmp_path)]))
    command = conf["program:x"]["command"]
    # supervisord expands %(...)s-style escapes ('%%' -> '%') and then splits with shlex.
    assert shlex.split(command.replace("%%", "%")) == argv


def test_a_long_stack_path_moves_the_socket_to_tmp(tmp_path):
    short = socket_path_for(tmp_path)
    assert short == tmp_path.resolve() / "supervisor.sock"
    deep = tmp_path / ("d" * MAX_SOCKET_PATH)
    moved = socket_path_for(deep)
    assert moved.parent == Path(tempfile.gettempdir()) and len(str(moved)) < MAX_SOCKET_PATH
    assert moved == socket_path_for(deep)  # stable, so a later call finds the same socket
