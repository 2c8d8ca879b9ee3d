"""The limits of Helm's --set syntax, at their edges: `helm flower validate` refuses exactly what
both Helms refuse, with Helm's words (an off-by-one in the list index limit passed every other test).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helm_flower import strvals
from helm_flower.strvals import MAX_INDEX, StrvalsError

REPO = Path(__file__).resolve().parents[2]
HELMS = {"4": REPO / ".tools" / "bin" / "helm4", "3": REPO / ".tools" / "bin" / "helm3"}

# Helm's strvals: setIndex refuses index > MaxIndex (65536); parseIndex refuses a negative index.
EDGES = [
    ("a[65536]=1", None),
    ("a[0][65536]=1", None),
    ("a[65537]=1", "index of 65537 is greater than maximum supported index of 65536"),
    ("a[0][65537]=1", "index of 65537 is greater than maximum supported index of 65536"),
    ("a[65537].b=1", "index of 65537 is greater than maximum supported index of 65536"),
    ("a[-1]=1", "negative -1 index not allowed"),
]


def test_the_limit_is_helms() -> None:
    assert MAX_INDEX == 65536


@pytest.mark.parametrize(("text", "refusal"), EDGES, ids=[e[0] for e in EDGES])
def test_index_limit_edges(text: str, refusal: str | None) -> None:
    if refusal is None:
        parsed = strvals.parse(text)
        inner = parsed["a"] if text.startswith("a[6") else parsed["a"][0]
        assert len(inner) == 65537 and inner[-1] == 1
    else:
        with pytest.raises(StrvalsError) as err:
            strvals.parse(text)
        assert str(err.value) == refusal


@pytest.fixture(scope="module")
def empty_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chart = tmp_path_factory.mktemp("edges") / "edges"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: edges\nversion: 0.1.0\n")
    (chart / "templates" / "n.yaml").write_text("# {{ toJson .Values | len }}\n")
    return chart


@pytest.mark.helm
@pytest.mark.parametrize("helm", sorted(HELMS), ids=lambda v: f"helm{v}")
@pytest.mark.parametrize(("text", "refusal"), EDGES, ids=[e[0] for e in EDGES])
def test_helm_draws_the_same_line(helm: str, empty_chart: Path, text: str, refusal: str | None) -> None:
    proc = subprocess.run([str(HELMS[helm]), "template", "r", str(empty_chart), "--set", text],
                          capture_output=True, text=True, timeout=120)
    if refusal is None:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0 and refusal in proc.stderr, proc.stderr


@pytest.mark.parametrize("text", ["hubAddon.clusters[65537].name=c", "clientApp.apps[65537].name=x"])
def test_validate_refuses_the_index_as_input(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    from helm_flower import cli

    code = cli.main(["validate", str(REPO / "charts" / "flower-federation"), "--set", text, "-o", "json"])
    out = capsys.readouterr().out
    assert code == 2, out  # unusable input, as helm refuses it
    assert "index of 65537 is greater than maximum supported index of 65536" in out and "FLW012" in out
