"""deploy/kubernetes read as data, and every way its parts can disagree, as a list of problems.

Each check returns the problems it finds (empty when the parts agree), so that
tests/deploy/test_kubernetes.py can assert the shipped manifests have none and
that a deliberate typo in a copy of them is found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
KUSTOMIZATION = "kustomization.yaml"
EXAMPLE_SUFFIX = ".example.yaml"  # shown to users, never applied

Doc = dict[str, Any]


@dataclass
class Manifests:
    """Every YAML document of the folder, by file, and the kustomization."""

    files: dict[str, list[Doc]]
    kustomization: Doc

    def documents(self) -> Iterator[Doc]:
        for documents in self.files.values():
            yield from documents

    def one(self, kind: str, component: str | None = None) -> Doc:
        """The only document of `kind` (and app.kubernetes.io/component), or an AssertionError."""
        found = [
            doc
            for doc in self.documents()
            if doc["kind"] == kind
            and (component is None or labels(doc).get("app.kubernetes.io/component") == component)
        ]
        assert len(found) == 1, f"{len(found)} {kind} documents for {component!r}, expected one"
        return found[0]

    @property
    def master(self) -> Doc:
        return self.one("Job", "master")

    @property
    def worker(self) -> Doc:
        return self.one("Deployment", "worker")

    @property
    def service(self) -> Doc:
        return self.one("Service", "master")

    @property
    def example_secret(self) -> Doc:
        return self.one("Secret")


def load(folder: Path = KUBERNETES) -> Manifests:
    files = {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        for path in sorted(folder.glob("*.yaml"))
    }
    (kustomization,) = files.pop(KUSTOMIZATION)
    return Manifests(files=files, kustomization=kustomization)


def labels(doc: Doc) -> dict[str, str]:
    found: dict[str, str] = doc["metadata"].get("labels", {})
    return found


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Doc) -> dict[str, str]:
    found: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return found


def container(workload: Doc) -> Doc:
    (only,) = pod_spec(workload)["containers"]
    found: Doc = only
    return found


def args_of(workload: Doc) -> list[str]:
    return [str(arg) for arg in container(workload)["args"]]


def option(args: list[str], flag: str) -> str | None:
    """The value after `flag` in a command line (None if the flag is absent)."""
    return args[args.index(flag) + 1] if flag in args else None


def flags_in(args: list[str]) -> list[str]:
    return [arg for arg in args if arg.startswith("--")]


def selects(selector: Mapping[str, str], pod: Mapping[str, str]) -> bool:
    return bool(selector) and all(pod.get(key) == value for key, value in selector.items())


# --- the checks --------------------------------------------------------------------------


def kustomization_problems(m: Manifests) -> list[str]:
    problems = []
    listed = set(m.kustomization["resources"])
    applied = {name for name in m.files if not name.endswith(EXAMPLE_SUFFIX)}
    if missing := listed - set(m.files):
        problems.append(f"kustomization lists files that do not exist: {sorted(missing)}")
    if unlisted := applied - listed:
        problems.append(f"manifests not in the kustomization: {sorted(unlisted)}")
    if examples := {name for name in listed if name.endswith(EXAMPLE_SUFFIX)}:
        problems.append(f"the kustomization applies examples (placeholders): {sorted(examples)}")
    images = {image["name"] for image in m.kustomization.get("images", [])}
    for workload in (m.master, m.worker):
        if container(workload)["image"] not in images:
            problems.append(f"{container(workload)['image']!r} is not in the images: {images}")
    return problems


def selector_problems(m: Manifests) -> list[str]:
    problems = []
    selector = m.service["spec"]["selector"]
    if not selects(selector, pod_labels(m.master)):
        problems.append(f"the Service selector {selector} misses the master's pods")
    if selects(selector, pod_labels(m.worker)):
        problems.append(f"the Service selector {selector} also selects the workers")
    match = m.worker["spec"]["selector"]["matchLabels"]
    if not selects(match, pod_labels(m.worker)):
        problems.append(f"the worker Deployment's selector {match} misses its own pods")
    if selects(match, pod_labels(m.master)):
        problems.append(f"the worker Deployment's selector {match} also selects the master")
    return problems


def port_problems(m: Manifests, default_master_port: int) -> list[str]:
    problems = []
    (service_port,) = m.service["spec"]["ports"]
    target = service_port["targetPort"]
    ports = container(m.master).get("ports", [])
    matching = [p for p in ports if target in (p.get("name"), p["containerPort"])]
    bind_port = int(option(args_of(m.master), "--master-bind-port") or default_master_port)
    if not matching:
        problems.append(f"the Service's targetPort {target!r} is no port of the master: {ports}")
    elif matching[0]["containerPort"] != bind_port:
        problems.append(
            f"the master listens on {bind_port} (--master-bind-port) but its container port "
            f"{target!r} is {matching[0]['containerPort']}"
        )
    worker_args = args_of(m.worker)
    master_port = int(option(worker_args, "--master-port") or default_master_port)
    if master_port != service_port["port"]:
        problems.append(f"workers connect to {master_port}, the Service is on {service_port}")
    host = option(worker_args, "--master-host")
    if host != m.service["metadata"]["name"]:
        problems.append(f"workers connect to {host!r}, not the master's Service")
    return problems


def worker_count_problems(m: Manifests) -> list[str]:
    expected = option(args_of(m.master), "--expect-workers")
    replicas = m.worker["spec"]["replicas"]
    if expected is None or int(expected) != replicas:
        return [f"the master expects {expected} workers, the Deployment runs {replicas}"]
    return []


def script_problems(m: Manifests, configmap: str, key: str) -> list[str]:
    """Both pods mount the ConfigMap `configmap` so that its `key` is the script they run."""
    problems = []
    for workload in (m.master, m.worker):
        name = workload["metadata"]["name"]
        volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
        paths = set()
        for mount in container(workload).get("volumeMounts", []):
            volume = volumes.get(mount["name"])
            if volume is None:
                problems.append(f"{name} mounts {mount['name']!r}, which is no volume of its pod")
                continue
            source = volume.get("configMap")
            if source is None:
                continue
            if source["name"] != configmap:
                problems.append(f"{name} mounts ConfigMap {source['name']!r}, not {configmap!r}")
            for item in source.get("items", [{"key": key, "path": key}]):
                if item["key"] == key:
                    paths.add(f"{mount['mountPath'].rstrip('/')}/{item['path']}")
        scripts = [arg for arg in args_of(workload) if arg.endswith(".py")]
        if not scripts or scripts[0] not in paths:
            problems.append(f"{name} runs {scripts}, but ConfigMap key {key!r} is at {paths}")
    return problems


def env_problems(m: Manifests, secret: str, secret_key: str) -> list[str]:
    """$(VAR) in args are defined; secret references name the Secret and key users create."""
    problems = []
    for workload in (m.master, m.worker):
        name = workload["metadata"]["name"]
        env = {e["name"]: e for e in container(workload).get("env", [])}
        for variable in re.findall(r"\$\((\w+)\)", " ".join(args_of(workload))):
            if variable not in env:
                problems.append(f"{name} uses $({variable}) in its args but does not define it")
        for entry in env.values():
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref and (ref["name"], ref["key"]) != (secret, secret_key):
                problems.append(
                    f"{name} reads Secret {ref['name']}/{ref['key']}, not {secret}/{secret_key}"
                )
    example = m.example_secret
    if example["metadata"]["name"] != secret or secret_key not in example.get("stringData", {}):
        problems.append(f"the example Secret is not {secret} with key {secret_key!r}")
    return problems


def store_url_problems(m: Manifests, variable: str, secret: str, secret_key: str) -> list[str]:
    """The master reads the store URL from `variable`, taken from the Secret."""
    env = {e["name"]: e for e in container(m.master).get("env", [])}
    ref = env.get(variable, {}).get("valueFrom", {}).get("secretKeyRef")
    if ref is None or (ref["name"], ref["key"]) != (secret, secret_key):
        return [f"the master's {variable} is not taken from Secret {secret}/{secret_key}"]
    return []


def user_problems(m: Manifests, uid: int) -> list[str]:
    problems = []
    for workload in (m.master, m.worker):
        context = pod_spec(workload).get("securityContext", {})
        if context.get("runAsUser") != uid or context.get("runAsNonRoot") is not True:
            problems.append(f"{workload['metadata']['name']} does not run as the image's uid {uid}")
    return problems


def worker_resource_problems(m: Manifests) -> list[str]:
    resources = container(m.worker)["resources"]
    cpu = (resources["requests"]["cpu"], resources["limits"]["cpu"])
    if cpu != ("1", "1"):
        return [f"a worker is one process, one core: its cpu request and limit are {cpu}"]
    return []


def flag_problems(m: Manifests, run_flags: set[str], worker_flags: set[str]) -> list[str]:
    """Every flag in the command lines, spelt in full, is one `--help` lists."""
    problems = []
    for workload, known in ((m.master, run_flags), (m.worker, worker_flags)):
        args = args_of(workload)
        for flag in flags_in(args):
            if flag not in known:
                problems.append(f"`loadgate {args[0]}` has no flag {flag}")
    return problems


def commands(readme: str) -> Iterator[str]:
    """Every kubectl and docker command of README's code blocks."""
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith(("kubectl ", "docker ")):
                yield line


def readme_names(readme: str) -> dict[str, str]:
    """The names and keys README's commands create or use."""
    patterns = {
        "configmap": r"kubectl create configmap (\S+)",
        "configmap_key": r"kubectl create configmap \S+ --from-file=([^=\s]+)=",
        "secret": r"kubectl create secret generic (\S+)",
        "secret_key": r"kubectl create secret generic \S+ --from-literal=([^=\s]+)=",
        "scaled": r"kubectl scale deployment/(\S+)",
        "logs": r"kubectl logs (?:-f )?job/(\S+)",
    }
    found = {}
    text = "\n".join(commands(readme))
    for what, pattern in patterns.items():
        match = re.search(pattern, text)
        assert match, f"README has no command matching {pattern!r}"
        found[what] = match.group(1)
    return found


def readme_problems(m: Manifests, names: Mapping[str, str]) -> list[str]:
    problems = []
    if names["scaled"] != m.worker["metadata"]["name"]:
        problems.append(f"README scales {names['scaled']!r}, not the worker Deployment")
    if names["logs"] != m.master["metadata"]["name"]:
        problems.append(f"README reads the logs of {names['logs']!r}, not the master Job")
    return problems
