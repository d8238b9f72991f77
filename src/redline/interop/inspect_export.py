"""``redline export inspect SUITE --out DIR``: a redline suite as an Inspect task.

The folder holds ``task.py`` (an ``@task`` that calls
:func:`redline.interop.inspect_task.redline_task`), ``samples.jsonl`` (the suite's samples,
drawn with the same seed and size ``redline eval`` uses) and, for a suite file, a copy of
it. ``inspect eval DIR/task.py --model ...`` then runs it with redline's own scorers and
metrics. Nothing here imports inspect_ai: only the written task does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from redline.errors import ConfigError
from redline.evals.suite import get_suite

TASK_FILE = "task.py"
SAMPLES_FILE = "samples.jsonl"

_TASK = '''"""Inspect task for the redline suite '{name}' (version {version}).

Written by `redline export inspect`. It judges replies with redline's scorers
({scorers}) and reports redline's metrics with their 95% intervals
(NAME, NAME.low, NAME.high, NAME.n), which `redline gate --from-inspect LOG` reads.

    inspect eval {task} --model openai-api/redline/MODEL --model-base-url URL/v1
"""

from pathlib import Path

from inspect_ai import task

from redline.interop.inspect_task import redline_task


@task
def {function}():
    return redline_task({suite!r}, {samples!r}, folder=Path(__file__).parent)
'''


def export_inspect_task(suite_ref: str, out: Path, *, seed: int = 0,
                        size: int | None = None) -> Path:
    """Write the task folder at ``out``, all or nothing; returns the task file.

    Raises:
        ConfigError: unknown suite, or ``out`` exists and is not empty.
    """
    suite = get_suite(suite_ref)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} already exists and is not empty; choose a new --out folder.")
    samples = suite.samples(seed=seed, size=size)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        ref = suite.name
        source = Path(suite_ref)
        if source.is_file():
            ref = source.name
            shutil.copyfile(source, staging / ref)
        (staging / SAMPLES_FILE).write_text(
            "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in samples),
            encoding="utf-8")
        function = re.sub(r"\W", "_", suite.name).strip("_") or "redline_suite"
        if function[0].isdigit():
            function = f"suite_{function}"
        (staging / TASK_FILE).write_text(_TASK.format(
            name=suite.name, version=suite.version,
            scorers=", ".join(r.name for r in suite.scorers), task=out / TASK_FILE,
            function=function, suite=ref, samples=SAMPLES_FILE), encoding="utf-8")
        os.chmod(staging, 0o755)
        if out.exists():
            out.rmdir()
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out / TASK_FILE
