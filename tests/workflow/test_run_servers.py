"""`taxolab run` starts one server when the teacher is also the judge (counted, with stand-in servers).

Generation and evaluation open their models the real way (the teacher through
``sdg.generate``, the judge and base model through ``evaluation.serving``);
only ``start_server`` is replaced, by scripted fake servers, and the other
stage bodies by the quick stand-ins of ``test_run_skipping``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from taxolab.evaluation.api import judge_target
from taxolab.evaluation.serving import ModelTarget, open_endpoint
from taxolab.llm import opener
from taxolab.llm.endpoint import Endpoint
from taxolab.workflow.profiles import load_run_config, resolve_profile
from taxolab.workflow.run import RunOptions, run_workflow

from .test_run_skipping import StandIns


class Servers(StandIns):
    """Stand-ins whose generation and evaluation really open their models, and a count of server starts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        self.started: list[Any] = []
        self.served: list[str] = []
        monkeypatch.setattr(opener, "start_server", self.start_server)

    def start_server(self, path: Path, **_: Any) -> Any:
        from taxolab.testing.fake_openai import FakeOpenAIServer

        fake = FakeOpenAIServer(model=path.stem).start()

        class Handle:
            endpoint = Endpoint(fake.url, fake.model, 4, 2048)
            running = staticmethod(lambda: not fake.stopped)
            stop = staticmethod(fake.stop)

            def __enter__(self) -> Any:
                return self

            def __exit__(self, *exc: object) -> None:
                fake.stop()

        self.started.append(fake)
        return Handle()

    def generate_leaf(self, teacher: Any, leaf: Any, folder: Path, **kwargs: Any) -> dict[str, Any]:
        from taxolab.sdg.generate import _teacher

        with _teacher(teacher.generation_config(), None) as opened:
            self.served.append(f"teacher:{opened.spec.model}")
            self.ask(opened.spec.endpoints[0])
        return super().generate_leaf(teacher, leaf, folder, **kwargs)

    def evaluate_models(self, config: Any, trained: Path, *, out_dir: Path, **kwargs: Any) -> dict[str, Any]:
        models_dir = config.paths.resolved("models")
        base = ModelTarget(config.evaluate.base_model or config.models.student)  # as `evaluate_models` sets it
        for role, target in [("base", base), ("judge", judge_target(config))]:
            with open_endpoint(target, config.serve, models_dir, client=config.client) as endpoint:
                self.served.append(f"{role}:{endpoint.model}")
                self.ask(endpoint)
        return super().evaluate_models(config, trained, out_dir=out_dir, **kwargs)

    @staticmethod
    def ask(endpoint: Endpoint) -> None:
        async def go() -> None:
            async with endpoint.client() as client:
                await client.chat([{"role": "user", "content": "are you there"}])

        asyncio.run(go())


def gguf(folder: Path, name: str) -> str:
    path = folder / f"{name}.gguf"
    path.write_bytes(b"GGUF" + bytes(28))
    return str(path)


def run(taxonomy: Path, models: dict[str, str]) -> None:
    profile = resolve_profile("cpu-small")
    sections = {"models": models, "evaluate": {"benchmarks": ["mmlu_branch", "mt_bench_branch"]}}
    config = load_run_config(None, profile, sections)
    run_workflow(config, RunOptions(taxonomy, "auto", profile, show_progress=False))


def test_teacher_and_judge_the_same_model_share_one_server(
    taxonomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = Servers(monkeypatch)
    teacher = gguf(tmp_path, "teacher")
    run(taxonomy, {"teacher": teacher, "judge": teacher, "student": teacher})
    # two leaves generated, then base answers and judging: all from the one server started for the first leaf
    assert servers.served == ["teacher:teacher"] * 2 + ["base:teacher", "judge:teacher"]
    assert len(servers.started) == 1
    assert servers.started[0].stopped  # and it is gone when the run ends


def test_a_different_judge_gets_its_own_server_and_the_teacher_stops_after_generation(
    taxonomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = Servers(monkeypatch)
    teacher, judge = gguf(tmp_path, "teacher"), gguf(tmp_path, "judge")
    run(taxonomy, {"teacher": teacher, "judge": judge, "student": judge})
    assert servers.served == ["teacher:teacher"] * 2 + ["base:judge", "judge:judge"]
    # teacher once for both leaves; base and judge not kept across evaluation blocks: one each
    assert len(servers.started) == 3
    assert all(server.stopped for server in servers.started)


def test_a_run_with_nothing_to_judge_keeps_no_server_through_training(
    taxonomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taxolab.workflow.data import reused_models

    teacher = gguf(tmp_path, "teacher")
    config = load_run_config(None, resolve_profile("cpu-small"), {"models": {"teacher": teacher, "judge": teacher}})
    assert reused_models(config, ["mt_bench_branch"]) == [teacher]
    assert reused_models(config, ["mmlu_branch"]) == []
    remote = load_run_config(
        None,
        resolve_profile("cpu-small"),
        {"models": {"teacher": teacher, "judge": teacher}, "generate": {"endpoint_urls": ["http://127.0.0.1:1/v1"]}},
    )
    assert reused_models(remote, ["mt_bench_branch"]) == []
