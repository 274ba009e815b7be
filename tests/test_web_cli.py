"""``chainrule hiker``: loopback by default, the browser on --open, one clear line without the
web extra."""

from __future__ import annotations

import importlib.util

import pytest

from chainrule import cli, cli_hiker


@pytest.fixture
def served(monkeypatch):
    """Record what the server would have been asked to do, without serving."""
    calls = []
    monkeypatch.setattr("chainrule.web.server.serve", lambda **kw: calls.append(kw))
    return calls


@pytest.fixture
def free_address(monkeypatch):
    """Every address is free (port 8000 may be in use on the machine running the tests)."""
    monkeypatch.setattr(cli_hiker, "_check_listenable", lambda host, port: None)


def test_hiker_serves_on_loopback_port_8000_by_default(served, free_address):
    assert cli.main(["hiker"]) == 0
    assert served == [{"host": "127.0.0.1", "port": 8000}]


def test_hiker_takes_host_and_port(served, free_address):
    assert cli.main(["hiker", "--host", "0.0.0.0", "--port", "8123"]) == 0
    assert served == [{"host": "0.0.0.0", "port": 8123}]


def test_open_opens_the_page_in_a_browser(served, free_address, monkeypatch):
    opened = []

    class NowTimer:  # run the delayed call at once
        def __init__(self, delay, function, args):
            self.call = lambda: function(*args)

        def start(self):
            self.call()

    monkeypatch.setattr(cli_hiker.threading, "Timer", NowTimer)
    monkeypatch.setattr(cli_hiker.webbrowser, "open", opened.append)
    assert cli.main(["hiker", "--open", "--port", "8200"]) == 0
    assert opened == ["http://127.0.0.1:8200/"]


def test_without_the_web_extra_it_exits_2_naming_the_install(
    served, free_address, monkeypatch, capsys
):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        cli_hiker.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "uvicorn" else real(name, *a),
    )
    assert cli.main(["hiker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install chainrule[web]" in err and "uvicorn" in err
    assert served == []


def test_a_port_out_of_range_exits_2(served, capsys):
    assert cli.main(["hiker", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    assert served == []


def test_a_port_in_use_exits_2_in_one_line(served, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert cli.main(["hiker", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err
    assert served == []


def test_a_host_that_is_not_this_machines_exits_2(served, capsys):
    assert cli.main(["hiker", "--host", "192.0.2.1", "--port", "8000"]) == 2  # TEST-NET-1
    assert "192.0.2.1" in capsys.readouterr().err
    assert served == []
