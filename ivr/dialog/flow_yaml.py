"""The YAML dialect of ``flow.yaml``: YAML 1.1 narrowed where it would bite.

In a call flow ``yes``, ``no`` and ``on`` are intents and keys, not the
booleans YAML 1.1 reads them as; and a key written twice would silently drop a
branch. Both are settled here, before the loader sees the document.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ivr.dialog.flow_model import FlowError


class _Loader(yaml.SafeLoader):
    """YAML without the 1.1 booleans yes/no/on/off: in a call flow ``yes``, ``no``
    and ``on`` are intents and keys, not True/False."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _no_duplicate_keys(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """A key written twice would silently drop a branch: refuse it."""
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # "<<: *base" merges; the keys written here override it
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise FlowError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def parse_yaml(text: str) -> Any:
    """Parse a flow document (``yes``/``no``/``on`` stay strings)."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
