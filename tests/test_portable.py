"""The job on Beam's PortableRunner with an external worker pool on loopback.

This is the Fn API harness that Dataflow Runner v2 also uses: the pipeline is pickled, sent
to separate SDK worker processes, which import htlm there; `--setup_file` makes Beam build and
stage our sdist as it would for Dataflow. Bounded: the pool and the job are killed on timeout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, WARC_DATA


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_portable_runner_with_external_worker_pool(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    pool = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and pool.poll() is None, "worker pool did not start"
                time.sleep(0.2)
        job = subprocess.run(
            [sys.executable, "-m", "htlm.pipeline",
             "--input", str(WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz"),
             "--input", str(WARC_DATA / "resiliparse-fastwarc" / "warcfile.warc.gz"),
             "--output", str(tmp_path / "out"), "--no_progress",
             "--runner=PortableRunner", "--job_endpoint=embed",
             "--environment_type=EXTERNAL", f"--environment_config=127.0.0.1:{port}",
             "--setup_file", str(ROOT / "setup.py")],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        pool.kill()
        pool.wait(timeout=30)
    assert job.returncode == 0, job.stderr[-3000:]
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["records_in"] == 4 + 50 and stats["invariant"]["holds"]
    assert stats["kept"] > 0
    assert "invariant records_in == kept + dropped + dead-lettered: True" in job.stderr
