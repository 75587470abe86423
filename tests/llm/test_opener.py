"""The one way to open a model: probe a URL, or start (and reuse inside a scope) a local server.

Local servers are stood in for by scripted fake servers, so these tests count
server starts exactly and run in well under a second each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from taxolab.config import load_config
from taxolab.llm import opener
from taxolab.llm.endpoint import DEFAULT_SLOTS, Endpoint, probe
from taxolab.llm.errors import EndpointDownError
from taxolab.llm.opener import ServerScope, model_sources, open_model, open_models
from taxolab.llm.process import free_port
from taxolab.models.resolve import is_default, served_name
from taxolab.testing.fake_openai import FakeOpenAIServer


class FakeHandle:
    """What ``start_server`` returns, backed by a scripted server instead of llama.cpp."""

    def __init__(self, path: Path, parallel: int) -> None:
        self.path = path
        self.server = FakeOpenAIServer(model=path.stem).start()
        self.parallel = parallel
        self.stopped = False

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.server.url, self.server.model, self.parallel, 1024)

    def running(self) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True
        self.server.stop()

    def __enter__(self) -> FakeHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeHandle]]:
    """Every server the opener starts, in order (stopped at the end whatever the test did)."""
    started: list[FakeHandle] = []

    def fake_start(path: Path, *, parallel: int = 4, **_: object) -> FakeHandle:
        started.append(FakeHandle(path, parallel))
        return started[-1]

    monkeypatch.setattr(opener, "start_server", fake_start)
    yield started
    for handle in started:
        handle.stop()


def gguf(folder: Path, name: str) -> Path:
    path = folder / f"{name}.gguf"
    path.write_bytes(b"GGUF" + bytes(28))
    return path


def settings(tmp_path: Path) -> dict[str, object]:
    config = load_config(None, {"client": {"timeout": 7.0, "max_retries": 2}})
    return {"serve": config.serve, "client": config.client, "models_dir": tmp_path / "models"}


def test_a_url_is_probed_for_model_slots_and_limits(fake_teacher: FakeOpenAIServer, tmp_path: Path) -> None:
    with open_model("default", fake_teacher.url, **settings(tmp_path)) as endpoint:  # type: ignore[arg-type]
        assert endpoint == Endpoint(fake_teacher.url, "fake-teacher", DEFAULT_SLOTS, None, None, 7.0, 2)
    with open_model("served-name", fake_teacher.url, slots=2, **settings(tmp_path)) as endpoint:  # type: ignore[arg-type]
        assert (endpoint.model, endpoint.slots) == ("served-name", 2)


def test_a_silent_url_is_one_line_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EndpointDownError) as info:
        probe(url, wait=2)
    assert url in str(info.value) and "\n" not in str(info.value)


def test_a_fleet_carries_on_without_an_endpoint_that_is_down(fake_teacher: FakeOpenAIServer, tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    with open_models(None, [down, fake_teacher.url], **settings(tmp_path)) as endpoints:  # type: ignore[arg-type]
        assert [e.url for e in endpoints] == [down, fake_teacher.url]
        assert {e.model for e in endpoints} == {"fake-teacher"}
    with pytest.raises(EndpointDownError), open_models(None, [down], **settings(tmp_path)):  # type: ignore[arg-type]
        pass


def test_without_a_scope_each_block_starts_and_stops_its_server(starts: list[FakeHandle], tmp_path: Path) -> None:
    model = gguf(tmp_path, "teacher")
    for _ in range(2):
        with open_model(str(model), **settings(tmp_path)) as endpoint:  # type: ignore[arg-type]
            assert endpoint.model == "teacher" and endpoint.timeout == 7.0
    assert len(starts) == 2 and all(handle.stopped for handle in starts)


def test_a_scope_reuses_its_server_and_stops_it_at_the_end(starts: list[FakeHandle], tmp_path: Path) -> None:
    model = gguf(tmp_path, "teacher")
    with ServerScope():
        for _ in range(3):
            with open_model(str(model), slots=2, **settings(tmp_path)) as endpoint:  # type: ignore[arg-type]
                assert endpoint.slots == 2
        assert len(starts) == 1 and not starts[0].stopped
    assert starts[0].stopped


def test_an_enclosing_scope_takes_over_only_the_models_it_keeps(starts: list[FakeHandle], tmp_path: Path) -> None:
    """The shape of `taxolab run`: the teacher's session ends, the run keeps its server for the judge."""
    teacher, other = gguf(tmp_path, "teacher"), gguf(tmp_path, "other")
    options = settings(tmp_path)
    with ServerScope(model_sources([str(teacher)], tmp_path)):
        with ServerScope():
            for model in (teacher, other):
                with open_model(str(model), **options):  # type: ignore[arg-type]
                    pass
        assert [h.stopped for h in starts] == [False, True]
        with open_model(str(teacher), **options):  # type: ignore[arg-type]
            pass
        assert len(starts) == 2
    assert all(handle.stopped for handle in starts)


def test_different_server_settings_are_different_servers(starts: list[FakeHandle], tmp_path: Path) -> None:
    model = gguf(tmp_path, "teacher")
    with ServerScope():
        with open_model(str(model), **settings(tmp_path)):  # type: ignore[arg-type]
            pass
        with open_model(str(model), parallel=1, **settings(tmp_path)) as endpoint:  # type: ignore[arg-type]
            assert endpoint.slots == 1
    assert len(starts) == 2


def test_resolve_alone_knows_what_default_means(tmp_path: Path) -> None:
    assert is_default("default") and is_default(" default-hf ") and not is_default("my-model")
    assert served_name("default") is None and served_name(str(gguf(tmp_path, "m"))) is None
    assert served_name("gpt-4o-mini") == "gpt-4o-mini" and served_name(None) is None
