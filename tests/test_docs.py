"""The repository documents itself: nothing points outside it, and the README links the domain."""

import re
import subprocess
from pathlib import Path

import pytest

from portal.portability import REASONS

ROOT = Path(__file__).resolve().parent.parent
# Built from parts so that this file does not name the place it forbids.
OUTSIDE = "../" + "shared"


def _repository_files():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    names = [name for name in listed.decode().split("\0") if name]
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def test_no_file_points_outside_the_repository():
    files = _repository_files()
    assert ROOT / "docs" / "domain.md" in files
    pointing = [
        str(path.relative_to(ROOT)) for path in files if OUTSIDE.encode() in path.read_bytes()
    ]
    assert pointing == []


def test_the_readme_links_the_domain_reference():
    assert "](docs/domain.md)" in (ROOT / "README.md").read_text()


def test_the_domain_reference_explains_every_reason_code_in_rule_order():
    text = (ROOT / "docs" / "domain.md").read_text()
    section = text.split("## Why a number is refused", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `([a-z_]+)` \|", section, re.M) == list(REASONS)
