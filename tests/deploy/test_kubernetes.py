"""deploy/kubernetes: its parts agree with each other, with README, the Dockerfile and the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import click
import pytest
import yaml

from loadgate.cli.worker import worker as worker_command
from loadgate.engine.config import DEFAULT_MASTER_PORT
from tests.deploy import manifests as checks
from tests.deploy.dockerfile import DOCKERFILE, final_stage, image_uid, instructions
from tests.deploy.manifests import Manifests, args_of, container, load
from tests.e2e.conftest import SCRIPTS, loadgate_command

README = (checks.REPO / "README.md").read_text()
NAMES = checks.readme_names(README)
IMAGE_UID = image_uid(final_stage(instructions(DOCKERFILE.read_text())))
# `loadgate run` reads --db from it (README, "Where runs are stored").
STORE_VARIABLE = "LOADGATE_DB"


def help_flags(*command: str) -> set[str]:
    result = subprocess.run(
        [str(loadgate_command()), *command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", result.stdout))


@pytest.fixture(scope="module")
def flags() -> tuple[set[str], set[str]]:
    """The flags `loadgate run --help` and `loadgate worker --help` list."""
    return help_flags("run"), help_flags("worker")


def problems(m: Manifests, flags: tuple[set[str], set[str]]) -> list[str]:
    return [
        *checks.kustomization_problems(m),
        *checks.selector_problems(m),
        *checks.port_problems(m, DEFAULT_MASTER_PORT),
        *checks.worker_count_problems(m),
        *checks.script_problems(m, NAMES["configmap"], NAMES["configmap_key"]),
        *checks.env_problems(m, NAMES["secret"], NAMES["secret_key"]),
        *checks.store_url_problems(m, STORE_VARIABLE, NAMES["secret"], NAMES["secret_key"]),
        *checks.user_problems(m, IMAGE_UID),
        *checks.worker_resource_problems(m),
        *checks.flag_problems(m, *flags),
        *checks.readme_problems(m, NAMES),
    ]


def test_the_manifests_agree(flags: tuple[set[str], set[str]]) -> None:
    assert problems(load(), flags) == []


def test_help_lists_the_flags_the_manifests_rely_on(flags: tuple[set[str], set[str]]) -> None:
    run_flags, worker_flags = flags
    assert {"--master", "--master-bind-port", "--expect-workers", "--db"} <= run_flags
    assert {"--master-host", "--master-port", "--region"} <= worker_flags
    assert "--masterr" not in run_flags and "--region" not in run_flags


def _set_arg(component: str, old: str, new: str) -> Callable[[Manifests], None]:
    def mutate(m: Manifests) -> None:
        workload = m.master if component == "master" else m.worker
        args = container(workload)["args"]
        args[args.index(old)] = new

    return mutate


def _set(path: str, value: object, key: str | None = None) -> Callable[[Manifests], None]:
    """Set the field at `path` ("worker.spec.replicas"), or its `key` (a label, dots in it)."""

    def mutate(m: Manifests) -> None:
        first, *keys = path.split(".")
        if key is None:
            *keys, last = keys
        node = getattr(m, first)
        for step in keys:
            node = node[int(step)] if step.isdigit() else node[step]
        node[last if key is None else key] = value

    return mutate


def _rename_volume(m: Manifests) -> None:
    pod = m.worker["spec"]["template"]["spec"]
    pod["volumes"][0]["name"] = "scripts"


def _list_example(m: Manifests) -> None:
    m.kustomization["resources"].append("store-secret.example.yaml")


COMPONENT = "app.kubernetes.io/component"
MISTAKES = {
    "a typo in a master flag": (
        _set_arg("master", "--expect-workers", "--expect-worker"),
        "has no flag --expect-worker",
    ),
    "a typo in a worker flag": (
        _set_arg("worker", "--master-host", "--master-hots"),
        "has no flag --master-hots",
    ),
    "a Service selector that misses the master": (
        _set("service.spec.selector", "mastr", COMPONENT),
        "misses the master's pods",
    ),
    "a Service selector that also takes workers": (
        lambda m: m.service["spec"]["selector"].pop(COMPONENT),
        "also selects the workers",
    ),
    "a worker selector that misses its pods": (
        _set("worker.spec.selector.matchLabels", "workers", COMPONENT),
        "misses its own pods",
    ),
    "a targetPort the master does not have": (
        _set("service.spec.ports.0.targetPort", "worker"),
        "is no port of the master",
    ),
    "a container port that is not the bind port": (
        _set("master.spec.template.spec.containers.0.ports.0.containerPort", 5558),
        "--master-bind-port",
    ),
    "workers pointed at another port": (
        _set_arg("worker", "5557", "5558"),
        "workers connect to 5558",
    ),
    "workers pointed at another host": (
        _set_arg("worker", "loadgate-master", "loadgate"),
        "not the master's Service",
    ),
    "more workers expected than run": (
        _set("worker.spec.replicas", 1),
        "the Deployment runs 1",
    ),
    "another ConfigMap": (
        _set("master.spec.template.spec.volumes.0.configMap.name", "script"),
        "mounts ConfigMap 'script'",
    ),
    "the script at another path": (
        _set_arg("master", "/scripts/locustfile.py", "/script/locustfile.py"),
        "runs ['/script/locustfile.py']",
    ),
    "a mount of no volume": (_rename_volume, "which is no volume"),
    "another Secret key": (
        _set("master.spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.key", "uri"),
        "not loadgate-store/url",
    ),
    "the store URL in another variable": (
        _set("master.spec.template.spec.containers.0.env.0.name", "LOADGATE_DATABASE"),
        "LOADGATE_DB is not taken",
    ),
    "an undefined variable in args": (
        _set("worker.spec.template.spec.containers.0.env.0.name", "REGION"),
        "$(LOADGATE_REGION)",
    ),
    "the example Secret applied": (_list_example, "applies examples"),
    "root": (_set("worker.spec.template.spec.securityContext.runAsUser", 0), "uid"),
    "half a core": (
        _set("worker.spec.template.spec.containers.0.resources.requests.cpu", "500m"),
        "one core",
    ),
    "another image": (_set("master.spec.template.spec.containers.0.image", "locust"), "'locust'"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_is_found(mistake: str, flags: tuple[set[str], set[str]]) -> None:
    mutate, expected = MISTAKES[mistake]
    broken = load()
    mutate(broken)
    found = problems(broken, flags)
    assert any(expected in problem for problem in found), found


def master_command_line(m: Manifests) -> list[str]:
    """The master's args with the mounted script replaced by a local one."""
    return [str(SCRIPTS / "plain.py") if arg.endswith(".py") else arg for arg in args_of(m.master)]


def test_the_master_command_parses_and_reads_the_store_url_from_the_secret() -> None:
    m = load()
    url = m.example_secret["stringData"][NAMES["secret_key"]]
    result = subprocess.run(
        [str(loadgate_command()), *master_command_line(m), "--print-config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, STORE_VARIABLE: url},
    )
    assert result.returncode == 0, result.stderr
    settings = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert settings["--db"][-2:] == ["env", STORE_VARIABLE]
    assert settings["--db"][0].startswith("postgresql://")
    assert settings["--master"] == ["True", "command", "line"]
    expected = str(m.worker["spec"]["replicas"])
    assert settings["--expect-workers"] == [expected, "command", "line"]


def test_a_typo_in_the_master_command_is_refused_by_the_cli() -> None:
    """The check above fails on a bad flag: the CLI refuses it, even with --print-config."""
    args = [
        arg.replace("--expect-workers", "--expect-workerz") for arg in master_command_line(load())
    ]
    result = subprocess.run(
        [str(loadgate_command()), *args, "--print-config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--expect-workerz" in result.stderr


def worker_parameters(m: Manifests) -> dict[str, object]:
    """The worker's args as `loadgate worker` parses them, $(VAR)s expanded as the kubelet does."""
    env = {e["name"]: e.get("value", "") for e in container(m.worker).get("env", [])}
    args = [re.sub(r"\$\((\w+)\)", lambda v: env[v.group(1)], arg) for arg in args_of(m.worker)]
    assert args[0] == "worker"
    context = worker_command.make_context("worker", args[1:])
    return dict(context.params)


def test_the_worker_command_parses() -> None:
    m = load()
    params = worker_parameters(m)
    assert params["master_host"] == m.service["metadata"]["name"]
    assert params["master_port"] == m.service["spec"]["ports"][0]["port"]
    assert params["region"] == container(m.worker)["env"][0]["value"]
    assert params["locustfile"] == Path("/scripts/locustfile.py")


def test_a_typo_in_the_worker_command_is_refused_by_the_cli() -> None:
    broken = load()
    _set_arg("worker", "--region", "--regoin")(broken)
    with pytest.raises(click.NoSuchOption):
        worker_parameters(broken)


def test_readme_creates_what_the_manifests_use() -> None:
    assert NAMES["configmap"] == "loadgate-script" and NAMES["configmap_key"] == "locustfile.py"
    assert NAMES["secret"] == "loadgate-store" and NAMES["secret_key"] == "url"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_it() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(checks.KUBERNETES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert sorted(doc["kind"] for doc in built) == ["Deployment", "Job", "Service"]
    images = {
        c["image"] for doc in built if doc["kind"] != "Service"
        for c in doc["spec"]["template"]["spec"]["containers"]
    }  # fmt: skip
    (entry,) = load().kustomization["images"]
    assert images == {f"{entry['newName']}:{entry['newTag']}"}
