"""The Dockerfile and .dockerignore read as data: instructions, and which context paths are sent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """The instructions, continuation lines joined, comments dropped."""
    found: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return found


def final_stage(all_instructions: list[Instruction]) -> list[Instruction]:
    """The instructions of the last stage (the image that is run), its FROM first."""
    starts = [i for i, instruction in enumerate(all_instructions) if instruction.keyword == "FROM"]
    return all_instructions[starts[-1] :]


def one(stage: list[Instruction], keyword: str) -> Instruction:
    found = [instruction for instruction in stage if instruction.keyword == keyword]
    assert len(found) == 1, f"{len(found)} {keyword} instructions in the final stage"
    return found[0]


def image_uid(stage: list[Instruction]) -> int:
    """The numeric uid of USER (Kubernetes' runAsNonRoot can only check a number)."""
    user = one(stage, "USER").arguments
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is not numeric"
    return int(user.partition(":")[0])


def exec_form(instruction: Instruction) -> list[str]:
    """ENTRYPOINT ["a", "b"] as a list; the shell form would wrap it in /bin/sh (no signals)."""
    value = json.loads(instruction.arguments)
    assert isinstance(value, list), f"{instruction.keyword} is not in exec form"
    return [str(item) for item in value]


def context_sources(all_instructions: list[Instruction]) -> list[str]:
    """The paths COPY takes from the build context (not from another stage)."""
    sources: list[str] = []
    for instruction in all_instructions:
        if instruction.keyword != "COPY" or "--from=" in instruction.arguments:
            continue
        words = [word for word in instruction.arguments.split() if not word.startswith("--")]
        sources.extend(word.rstrip("/") for word in words[:-1])
    return sources


def _pattern(line: str) -> re.Pattern[str]:
    """A .dockerignore pattern: `*` stays within one path segment, `**` crosses them."""
    parts = re.split(r"(\*\*/?|\*|\?)", line.strip("/"))
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def ignored(path: str, dockerignore: str) -> bool:
    """Whether Docker leaves `path` (relative to the context) out: the last matching line wins.

    A line matches a path or any folder above it, so excluding a folder excludes
    what is in it.
    """
    segments = path.split("/")
    prefixes = ["/".join(segments[: n + 1]) for n in range(len(segments))]
    result = False
    for raw in dockerignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = _pattern(line.removeprefix("!"))
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            result = not negated
    return result
