"""A write the machine refuses (full disk, file size limit, no permission) is one located line, never a crash.

A full disk is made real per process with ``RLIMIT_FSIZE`` (``ulimit -f``) in a
subprocess that ignores SIGXFSZ: a write past the limit then fails with
``OSError: [Errno 27] File too large``, the path ENOSPC takes too. Permission
errors cannot be made here (the tests run as root, which ignores modes; a
read-only mount needs privileges), so those are raised as the OSError the OS
would give, inside the real writer.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from taxolab import fsio
from taxolab.sdg.runs import read_manifest

LIMIT_BYTES = 16 * 1024


def limited(limit_bytes: int = LIMIT_BYTES):  # type: ignore[no-untyped-def]
    """A ``preexec_fn`` that caps every file the child writes at ``limit_bytes``."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def run_python(code: str, limit_bytes: int = LIMIT_BYTES) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limited(limit_bytes),
        timeout=300,
        check=False,
    )


def test_atomic_write_past_the_limit_names_the_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "rows.jsonl"
    fsio.write_jsonl(target, [{"old": True}])
    done = run_python(
        f"""
        from pathlib import Path
        from taxolab import fsio
        try:
            fsio.write_jsonl(Path({str(target)!r}), ({{"text": "x" * 100}} for _ in range(1000)))
        except fsio.WriteError as exc:
            print(exc.errno, exc)
        """
    )
    assert done.returncode == 0, done.stderr
    code, message = done.stdout.strip().split(" ", 1)
    assert int(code) == errno.EFBIG
    assert message.startswith(f"cannot write {target}: file too large")
    assert "free space or use another --output-dir, then rerun the same command to resume" in message
    assert fsio.read_jsonl(target) == [{"old": True}]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.jsonl"]  # no temporary file left behind


def test_safetensors_and_torch_save_failures_are_recognised(tmp_path: Path) -> None:
    done = run_python(
        f"""
        import torch
        from pathlib import Path
        from safetensors.torch import save_file
        from taxolab import fsio
        tensors = {{"w": torch.zeros(100_000)}}
        def torch_save(path):  # taxolab's torch.save writes to an atomic_open handle (checkpoint, dataset cache)
            with open(path, "wb") as handle:
                torch.save(tensors, handle)
        for name, save in (("st", lambda p: save_file(tensors, str(p))), ("pt", torch_save)):
            path = Path({str(tmp_path)!r}) / name
            try:
                save(path)
            except Exception as exc:
                error = fsio.write_error(exc, path)
                print(type(exc).__name__, error.errno if error else None)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [f"SafetensorError {errno.EFBIG}", f"RuntimeError {errno.EFBIG}"]


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.EACCES, "permission denied"), (errno.EROFS, "read-only file system")]
)
def test_a_folder_that_cannot_be_written_names_path_and_remedy(tmp_path: Path, code: int, reason: str) -> None:
    target = tmp_path / "out" / "results.json"
    with pytest.raises(fsio.WriteError) as info, fsio.atomic_open(target) as handle:
        handle.write("{}")
        raise OSError(code, os.strerror(code))  # what the OS answers for such a folder (see the module doc)
    assert str(info.value) == (
        f"cannot write {target}: {reason}; make the folder writable or use another --output-dir, "
        "then rerun the same command to resume"
    )
    assert not target.exists()


def test_other_errors_pass_through_unchanged(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a disk fault"), fsio.writing(tmp_path):
        raise ValueError("not a disk fault")
    with pytest.raises(FileNotFoundError), fsio.writing(tmp_path):
        raise FileNotFoundError(errno.ENOENT, "missing")


def test_no_space_says_how_much_is_free(tmp_path: Path) -> None:
    error = fsio.write_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "x")
    assert error is not None and "no space left on the device (" in str(error) and "GB free there)" in str(error)
    # a tool's own words (llama.cpp's GGUF writer checks space before writing)
    assert fsio.os_code("OSError: Not enough free space to write 67108864 bytes") == errno.ENOSPC
    assert fsio.os_code("OSError: [Errno 28] No space left on device") == errno.ENOSPC


FIXTURE_TEACHER = """
import sys, time
from taxolab.testing.fake_openai import FakeOpenAIServer
server = FakeOpenAIServer().start()
print(server.url, flush=True)
time.sleep(600)
"""


def cli(args: list[str], env: dict[str, str], limit_bytes: int | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taxolab.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limited(limit_bytes) if limit_bytes else None,
        timeout=300,
        check=False,
    )


HAIKU_QNA = (
    "version: 3\ncreated_by: tests\ntask_description: Write a haiku about the topic.\nseed_examples:\n"
    + "".join(
        f"  - question: Write a haiku about {topic}.\n    answer: |\n      {topic} line one\n      line two\n      line three\n"
        for topic in ("autumn", "the sea", "snow", "a train", "bees")
    )
)


def test_generate_on_a_full_disk_stops_with_one_line_and_a_rerun_resumes(tmp_path: Path) -> None:
    leaf = tmp_path / "taxonomy" / "compositional_skills" / "writing" / "freeform" / "haiku"
    leaf.mkdir(parents=True)
    (leaf / "qna.yaml").write_text(HAIKU_QNA, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "NO_PROXY": "127.0.0.1"}
    teacher = subprocess.Popen([sys.executable, "-c", FIXTURE_TEACHER], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert teacher.stdout is not None
        url = teacher.stdout.readline().strip()
        out = tmp_path / "run"
        args = ["data", "generate", "--taxonomy-path", str(tmp_path / "taxonomy"), "--taxonomy-base", "empty"]
        args += ["--endpoint-url", url, "--sdg-scale-factor", "20", "--batch-size", "2", "--output-dir", str(out)]
        full = cli(args, env, limit_bytes=6 * 1024)
        assert full.returncode == 1, full.stdout + full.stderr
        lines = [line for line in full.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, full.stderr
        assert "cannot write " + str(out) in lines[0] and "file too large" in lines[0]
        assert "then rerun the same command to resume" in lines[0]
        assert "Traceback" not in full.stderr and "internal error" not in full.stderr
        assert not list(out.glob("skills_train_msgs_*.jsonl"))  # no final mix that looks complete
        saved = len(list((out / "checkpoints").rglob("batch-*.json")))
        assert saved > 0

        again = cli([*args, "--resume"], env, limit_bytes=None)
        assert again.returncode == 0, again.stderr
        manifest = read_manifest(out) or {}
        counts = manifest["counts"]["leaves"]["compositional_skills_writing_freeform_haiku"]
        assert counts["resumed_batches"] == saved
        (mix,) = out.glob("skills_train_msgs_*.jsonl")
        assert all(json.loads(line) for line in mix.read_text(encoding="utf-8").splitlines())
    finally:
        teacher.kill()
        teacher.wait()


def test_config_init_on_a_full_disk_names_the_config_file(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TAXOLAB_CONFIG_DIR": str(tmp_path / "config")}
    done = cli(["config", "init", "--non-interactive"], env, limit_bytes=1024)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: cannot write {tmp_path / 'config' / 'config.yaml'}: file too large")
    assert "TAXOLAB_CONFIG_DIR" in done.stderr
    assert not (tmp_path / "config" / "config.yaml").exists()


def test_the_cli_safety_net_names_what_the_os_named() -> None:
    """For writers that do not name their file (server logs, lock files), the OS's own filename is used."""
    denied = fsio.write_error(PermissionError(errno.EACCES, "Permission denied", "/srv/logs/x.log"), None)
    assert denied is not None and str(denied).startswith("cannot access /srv/logs/x.log: permission denied;")
    full = fsio.write_error(OSError(errno.ENOSPC, "No space left on device", "/srv/x"), None)
    assert full is not None and str(full).startswith("cannot write /srv/x: no space left on the device")
    assert fsio.write_error(FileNotFoundError(errno.ENOENT, "No such file", "/srv/x"), None) is None
