"""The scale extra and the executor options as a user meets them, without a cluster."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

from redline.cli.app import app
from redline.errors import ConfigError
from tests.test_package import imported_modules

ROOT = Path(__file__).resolve().parents[2]


def test_importing_redline_and_its_cli_pulls_in_no_ray() -> None:
    code = ("import sys, redline, redline.scale, redline.cli.app; "
            "assert 'ray' not in sys.modules, 'ray was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_the_scale_extra_installs_what_scale_imports() -> None:
    pytest.importorskip("ray")  # the distributions are read from what is installed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extra = {canonicalize_name(Requirement(r).name)
             for r in project["optional-dependencies"]["scale"]}
    declared = extra | {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    providers = packages_distributions()
    needed = {module: {canonicalize_name(d) for d in providers.get(module, [])}
              for module in imported_modules(ROOT / "src" / "redline" / "scale")}
    assert "ray" in needed
    missing = {m: sorted(d) for m, d in needed.items() if not d & declared}
    assert not missing, f"redline.scale imports these, but redline[scale] does not install them: "\
        f"{missing}"
    # Exactly what a cluster needs: Ray, and the PostgreSQL driver of a store every node reaches.
    assert extra == {"ray", "psycopg"}


def test_an_unreachable_ray_address_is_one_line_and_exit_2(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "redline", "eval", "organism:helpful", "-s", "organism-capability",
         "--executor", "ray", "--ray-address", "127.0.0.1:9", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "No Ray cluster answers at 127.0.0.1:9" in lines[0]
    assert "ray start --head" in lines[0]
    assert time.monotonic() - started < 30  # not Ray's minutes of waiting


def test_executor_ray_without_the_extra_names_the_pip_line(tmp_path: Path) -> None:
    # `import ray` fails in this process, as it does where the extra is not installed.
    code = ("import sys; sys.modules['ray'] = None; from redline.cli import main; "
            f"sys.argv = ['redline', 'eval', 'organism:helpful', '-s', 'organism-capability', "
            f"'--executor', 'ray', '--out', {str(tmp_path)!r}]; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "--executor ray needs the 'ray' package" in lines[0]
    assert "pip install 'redline[scale]'" in lines[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--executor", "dask"], "--executor must be 'local' or 'ray'"),
    (["--ray-address", "127.0.0.1:6379"], "--ray-address needs --executor ray"),
])
def test_bad_executor_options_are_refused(args: list[str], message: str, tmp_path: Path) -> None:
    for command in (["eval", "organism:helpful", "-s", "organism-capability"],
                    ["eval-series", "organism:helpful", "-s", "organism-capability"],
                    ["redteam", "organism:helpful"]):
        done = CliRunner().invoke(app, [*command, "--out", str(tmp_path), *args])
        assert isinstance(done.exception, ConfigError), done.output  # exit 2 from `redline`
        assert message in str(done.exception)


@pytest.mark.parametrize(("args", "message"), [
    (["--ray-address", "127.0.0.1:6379"], "--ray-address needs --executor ray"),
    (["--executor", "ray", "--ray-address", "127.0.0.1:9"],
     "No Ray cluster answers at 127.0.0.1:9"),
    (["--executor", "ray", "--attack", "fuzz", "--attack", "static", "--max-queries", "10"],
     "needs at most one adaptive attack (fuzz, pair, tap, crescendo, ...), placed last"),
])
def test_redteam_s_bad_executor_input_is_one_line_and_exit_2(args: list[str], message: str,
                                                             tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "redline", "redteam", "organism:helpful", "--limit", "1",
         "--out", str(tmp_path), *args],
        capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert time.monotonic() - started < 30  # refused before any model or cluster starts


def test_the_same_command_names_the_same_run_and_changed_weights_a_new_one(
    tmp_path: Path,
) -> None:
    import os

    from redline.scale import eval_plan

    model = tmp_path / "ckpt"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"\0" * 64)

    def run_id(**changes: object) -> str:
        args: dict[str, object] = {"seed": 0, "size": 32, "options": {}, "cache": True,
                                   "model": None, **changes}
        return eval_plan(f"hf:{model}", ["organism-capability"], **args).run_id  # type: ignore[arg-type]

    first = run_id()
    assert run_id() == first  # a re-run (a resumed driver) finds its run
    assert run_id(size=64) != first and run_id(seed=1) != first
    os.utime(model / "model.safetensors", ns=(1, 1))  # retrained in the same folder
    assert run_id() != first


def test_redteam_on_ray_refuses_a_run_id_another_command_made(tmp_path: Path) -> None:
    from redline.redteam.engine import RedteamConfig
    from redline.scale.evals import workers_store

    store = workers_store()  # the test's own REDLINE_HOME
    try:
        other = RedteamConfig(target="organism:helpful", limit=5)
        store.create_run("redteam", other.target, other.model_dump(mode="json"), run_id="taken")
    finally:
        store.close()
    done = subprocess.run(
        [sys.executable, "-m", "redline", "redteam", "organism:helpful", "--limit", "1",
         "--executor", "ray", "--run-id", "taken", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # refused before Ray starts (Ray logs a line)
    assert "Run 'taken' in the store was made by another command" in lines[0]
