"""What `pip install .` puts into site-packages: only the `stecheck` package and its metadata."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _top_level(names) -> set[str]:
    return {str(n).replace("\\", "/").split("/")[0] for n in names}


def _installed():
    """The installed stecheck distribution (a ``*.dist-info`` outside the source tree, not a build's egg-info)."""
    found = [d for d in distributions(name="stecheck")
             if str(getattr(d, "_path", "")).endswith(".dist-info") and ROOT not in Path(d._path).resolve().parents]
    if not found:
        pytest.skip("stecheck is not installed as a distribution here")
    return found[0]


def _editable(dist) -> bool:
    text = dist.read_text("direct_url.json")
    return bool(text) and json.loads(text).get("dir_info", {}).get("editable", False)


def test_installed_distribution_holds_only_stecheck():
    dist = _installed()
    top = _top_level(dist.files or [])
    info = f"stecheck-{dist.version}.dist-info"
    assert info in top
    if _editable(dist):
        # an editable install adds a .pth and a finder; the finder must map exactly one package
        finders = [f for f in dist.files if re.fullmatch(r"__editable___stecheck_.*_finder\.py", str(f))]
        assert len(finders) == 1
        text = Path(dist.locate_file(finders[0])).read_text()
        mapping = re.search(r"MAPPING\s*(?::[^=]*)?=\s*(\{.*?\})", text, re.S).group(1)
        keys = set(re.findall(r"'([^']+)':", mapping))
        assert "stecheck" in keys and all(k == "stecheck" or k.startswith("stecheck.") for k in keys), keys
        top -= {f"__editable__.stecheck-{dist.version}.pth", str(finders[0]), "__pycache__"}
    # ".." holds the console script (bin/stecheck), outside site-packages
    assert top - {"..", info} == {"stecheck"} or top - {"..", info} == set(), top


@pytest.mark.slow
def test_the_wheel_holds_only_stecheck_its_metadata_license_and_schema(tmp_path):
    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and *.egg-info into the tree it builds
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", "reports",
                                                               ".hypothesis", "benchmarks"))
    out = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
                           capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend reachable): {build.stderr.strip()[-200:]}")
    (wheel,) = out.glob("stecheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert _top_level(names) == {"stecheck", re.sub(r"-py3.*", ".dist-info", wheel.name)}
    assert "stecheck/proofs_check/report/report.schema.json" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    for sub in ("theory", "numerics", "proofs_check"):
        assert f"stecheck/{sub}/__init__.py" in names
