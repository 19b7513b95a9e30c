"""The plain-dict form of an EndpointSecond: what spill files and the worker wire carry."""

from __future__ import annotations

import json
from dataclasses import replace

import msgpack

from loadgate.model import Part
from loadgate.store.codec import endpoint_second_dict, endpoint_second_from_dict
from tests.builders import endpoint_second


def test_an_endpoint_second_survives_json_and_msgpack_whole() -> None:
    second = replace(
        endpoint_second(
            100, ok={"200": 2}, failed={"500": 1}, errors={"é": 1}, out_of_range=1,
            parts={Part.CACHE_HIT: [120, 140], Part.GATEWAY: [900]},
        ),
        region="eu",
        key_values=frozenset({"key-1", "ключ-2"}),
    )  # fmt: skip
    assert second.parts
    as_json = json.loads(json.dumps(endpoint_second_dict(second)))
    as_msgpack = msgpack.unpackb(msgpack.packb(endpoint_second_dict(second)), raw=False)
    assert endpoint_second_from_dict(as_json) == second
    assert endpoint_second_from_dict(as_msgpack) == second


def test_a_record_without_a_region_reads_as_one_process() -> None:
    data = endpoint_second_dict(endpoint_second(100))
    del data["region"]  # spill files of version 1
    assert endpoint_second_from_dict(data).region == ""


def test_a_record_without_parts_reads_as_none_said() -> None:
    data = endpoint_second_dict(endpoint_second(100, parts={Part.UPSTREAM: [5000]}))
    del data["parts"]  # spill files before version 4
    assert endpoint_second_from_dict(data).parts == {}
