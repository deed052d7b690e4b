"""deploy/kuberay and docs/ray.md stay runnable: nobody can apply them to a cluster in CI, so
what can be checked without one is checked here. Every YAML document parses; every ``loadtui``
command line in the manifests (entrypoints, container commands, the usage in their comments)
and in docs/ray.md's shell blocks is accepted by loadtui's own parser; the RayJob's run with
its ConfigMap's control file resolves to a valid run; and the image, Ray and Python versions
agree with each other, with the Dockerfile and with pyproject.toml."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO
from loadtui.cli.parser import build_parser
from loadtui.run.options import Overrides, check_controls, resolve
from loadtui.storage.presets import load_control_file

yaml = pytest.importorskip("yaml", reason="pyyaml comes with the ray extra")
specifiers = pytest.importorskip("packaging.specifiers")
requirements = pytest.importorskip("packaging.requirements")

DEPLOY = REPO / "deploy" / "kuberay"
MANIFESTS = sorted(DEPLOY.glob("*.yaml"))
DOCS = REPO / "docs" / "ray.md"
IMAGE = re.compile(r"^loadtui-ray:(?P<loadtui>[^-]+)-ray(?P<ray>[\d.]+)$")


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, doc) for p in MANIFESTS for doc in yaml.safe_load_all(p.read_text()) if doc]


def _walk(node: Any) -> list[Any]:
    """Every dict and list inside ``node``, itself included."""
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found += _walk(child)
    return found


def _containers() -> list[dict[str, Any]]:
    return [
        c
        for _, doc in _documents()
        for node in _walk(doc)
        if isinstance(node, dict)
        for c in node.get("containers", [])
    ]


def _shell_lines(text: str) -> list[str]:
    """Lines of shell, ``\\`` continuations joined, comment markers and prompts stripped."""
    joined = re.sub(r"\\\n\s*(#\s*)?", " ", text)
    return [re.sub(r"^\s*#?\s*(\$\s+)?", "", line) for line in joined.splitlines()]


def _commands_in(text: str) -> list[list[str]]:
    commands = []
    for line in _shell_lines(text):
        if line.startswith("loadtui "):
            # a trailing shell comment is not part of the command
            commands.append(shlex.split(line, comments=True))
    return commands


def _doc_blocks() -> str:
    return "\n".join(re.findall(r"```(?:sh|bash|console)\n(.*?)```", DOCS.read_text(), re.S))


def _comments(path: Path) -> str:
    return "\n".join(
        line for line in path.read_text().splitlines() if line.lstrip().startswith("#")
    )


def _all_commands() -> list[tuple[str, list[str]]]:
    found = [
        (f"{p.name} (comment)", argv) for p in MANIFESTS for argv in _commands_in(_comments(p))
    ]
    for path, doc in _documents():
        if doc["kind"] == "RayJob":
            found.append((f"{path.name} entrypoint", shlex.split(doc["spec"]["entrypoint"])))
    found += [("container command", c["command"]) for c in _containers() if "command" in c]
    found += [("docs/ray.md", argv) for argv in _commands_in(_doc_blocks())]
    return found


def test_manifests_parse_as_kubernetes_objects() -> None:
    docs = _documents()
    assert {doc["kind"] for _, doc in docs} >= {"RayCluster", "RayJob", "ConfigMap", "Service"}
    for path, doc in docs:
        assert doc.get("apiVersion") and doc.get("metadata", {}).get("name"), path.name


def test_every_loadtui_command_is_accepted_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = _all_commands()
    # the RayJob's entrypoint, the mock's container, the usage comments and the docs' examples
    assert len(commands) >= 8, commands
    parser = build_parser()
    for where, argv in commands:
        assert argv[0] == "loadtui", (where, argv)
        try:
            parser.parse_args(argv[1:])
        except SystemExit:
            pytest.fail(f"{where}: {shlex.join(argv)}: {capsys.readouterr().err.strip()}")


def test_the_rayjob_run_and_its_control_file_resolve(tmp_path: Path) -> None:
    """The job would fail in the cluster, minutes after it was applied, on a preset option or
    a control the run refuses; here it fails at once."""
    (job,) = [doc for _, doc in _documents() if doc["kind"] == "RayJob"]
    (configmap,) = [doc for _, doc in _documents() if doc["kind"] == "ConfigMap"]
    argv = shlex.split(job["spec"]["entrypoint"])
    args = build_parser().parse_args(argv[1:])
    mounted = Path(args.control_file)
    assert mounted.name in configmap["data"]
    local = tmp_path / mounted.name
    local.write_text(configmap["data"][mounted.name])
    config = resolve(Overrides.from_namespace(args)).config
    schedule = load_control_file(str(local))
    assert schedule, "the ConfigMap's control file holds no control"
    check_controls(config, schedule, str(local))
    assert args.headless and args.backend == "ray" and args.url


def test_images_and_versions_agree_with_the_dockerfile_and_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    ray_version = re.search(r"^ARG RAY_VERSION=([\d.]+)$", dockerfile, re.M)
    python_tag = re.search(r"^FROM rayproject/ray:\$\{RAY_VERSION\}-py(\d)(\d+)$", dockerfile, re.M)
    assert ray_version and python_tag, "the Dockerfile's base image is not rayproject/ray"
    python = f"{python_tag[1]}.{python_tag[2]}"
    assert python in specifiers.SpecifierSet(project["requires-python"])

    images = {c["image"] for c in _containers()}
    assert len(images) == 1, f"every pod should run the one loadtui image: {images}"
    tag = IMAGE.match(images.pop())
    assert tag, "image is not loadtui-ray:<loadtui version>-ray<ray version>"
    assert tag["loadtui"] == project["version"]
    assert tag["ray"] == ray_version[1]
    assert f"loadtui-ray:{project['version']}-ray{ray_version[1]}" in dockerfile

    ray_versions = {
        node["rayVersion"]
        for _, doc in _documents()
        for node in _walk(doc)
        if isinstance(node, dict) and "rayVersion" in node
    }
    assert ray_versions == {ray_version[1]}
    (extra,) = [
        r
        for r in map(requirements.Requirement, project["optional-dependencies"]["ray"])
        if r.name == "ray"
    ]
    assert ray_version[1] in extra.specifier, f"the image's Ray is outside the extra {extra}"
