"""Dask by its conventions: DASK_SCHEDULER_ADDRESS / dask config, an existing Client, the cluster's size, jobqueue."""

from __future__ import annotations

import re
from pathlib import Path

import dask
import pytest

from stecheck.errors import InvalidArgument
from stecheck.proofs_check.cli import EXIT_ENVIRONMENT, EXIT_OK, EXIT_USAGE, main
from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.runner import configured_scheduler, run_claims

DOC = Path(__file__).resolve().parents[2] / "docs" / "dask.md"


@pytest.fixture
def dask_env(monkeypatch):
    """Set DASK_* variables for one test; Dask's configuration is re-read before and after."""
    def set_env(**env):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        dask.config.refresh()
    yield set_env
    monkeypatch.undo()
    dask.config.refresh()


def test_no_configured_scheduler_by_default(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with dask.config.set({"scheduler-address": None}):
        assert configured_scheduler() is None


def test_environment_variable_and_config_key_name_the_scheduler(dask_env):
    dask_env(DASK_SCHEDULER_ADDRESS="tcp://10.1.2.3:8786")
    assert configured_scheduler() == "tcp://10.1.2.3:8786"
    with dask.config.set({"scheduler-address": "tcp://example:8786"}):
        assert configured_scheduler() == "tcp://example:8786"
    with dask.config.set({"scheduler-address": 8786}):
        with pytest.raises(InvalidArgument, match="must be an address string"):
            configured_scheduler()


def test_unreachable_scheduler_from_the_environment_is_one_line_exit_4(capsys, dask_env, tmp_path):
    # an unreachable scheduler is an environment failure (exit 4) wherever its address came from:
    # --scheduler, DASK_SCHEDULER_ADDRESS or the Dask config
    dask_env(DASK_SCHEDULER_ADDRESS="tcp://127.0.0.1:9")
    code = main(["run", "SBN-EX1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.strip()]
    assert code == EXIT_ENVIRONMENT and len(lines) == 1 and "Traceback" not in err
    assert "tcp://127.0.0.1:9" in lines[0] and "DASK_SCHEDULER_ADDRESS" in lines[0]
    assert not (tmp_path / "r" / "report.json").exists()


def test_explicit_workers_win_over_the_environment(capsys, dask_env, tmp_path):
    dask_env(DASK_SCHEDULER_ADDRESS="tcp://127.0.0.1:9")
    assert main(["run", "SBN-EX1", "--workers", "0", "--out", str(tmp_path), "--quiet"]) == EXIT_OK


def test_closed_client_is_refused_in_one_line():
    class Closed:
        status = "closed"

        def submit(self, *a, **k):  # pragma: no cover - never reached
            raise AssertionError

    claims = default_registry().select(["SBN-EX1"])
    with pytest.raises(InvalidArgument) as info:
        run_claims(claims, client=Closed())
    assert "\n" not in str(info.value) and "closed" in str(info.value) and "open Client" in str(info.value)
    with pytest.raises(InvalidArgument, match="not several"):
        run_claims(claims, client=Closed(), workers=2)


def test_stecheck_run_refuses_a_client_with_workers():
    import stecheck

    with pytest.raises(InvalidArgument, match="not several"):
        stecheck.run(["SBN-EX1"], workers=2, client=object())


@pytest.mark.cluster
def test_an_existing_client_is_used_left_open_and_its_size_recorded():
    import stecheck
    from stecheck.numerics.distributed import local_client

    with local_client(1) as client:
        run = stecheck.run(["SBN-EX1"], seed=3, client=client)
        assert client.status == "running"
        address = client.scheduler.address
    assert run.environment["cluster"] == {"workers": 1, "threads": 1, "kind": "client"}
    assert run.workers == address
    same = stecheck.run(["SBN-EX1"], seed=3, workers=0)
    assert same.environment["cluster"] == {"workers": 0, "threads": 1, "kind": "in-process"}
    assert [m.evidence for m in same.claims[0].methods] == [m.evidence for m in run.claims[0].methods]


def _doc_yaml() -> dict:
    import yaml

    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    return yaml.safe_load(block)


def test_the_documented_jobqueue_config_parses():
    config = _doc_yaml()
    for system in ("slurm", "pbs"):
        section = config["jobqueue"][system]
        assert section["cores"] == section["processes"]  # single-threaded workers, as stecheck's tasks are


@pytest.mark.parametrize(("name", "expected"), [
    ("SLURMCluster", ["#SBATCH -p normal", "#SBATCH -A my-project", "#SBATCH --cpus-per-task=8", "#SBATCH -t 02:00:00",
                      "--nworkers 8", "--nthreads 1"]),
    ("PBSCluster", ["#PBS -q workq", "#PBS -A my-project", "#PBS -l select=1:ncpus=8:mem=32GB",
                    "#PBS -l walltime=02:00:00", "--nworkers 8", "--nthreads 1"]),
])
def test_the_documented_jobqueue_config_gives_the_expected_batch_script(name, expected):
    jobqueue = pytest.importorskip("dask_jobqueue")
    config = _doc_yaml()
    system = "slurm" if name == "SLURMCluster" else "pbs"
    settings = {f"jobqueue.{system}.{k}": v for k, v in config["jobqueue"][system].items() if k != "interface"}
    with dask.config.set(settings):
        cluster = getattr(jobqueue, name)(scheduler_options={"dashboard_address": None})
        try:
            script = cluster.job_script()
        finally:
            cluster.close()
    for line in expected:
        assert line in script, (line, script)
