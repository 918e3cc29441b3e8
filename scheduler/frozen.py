"""A faster ``__init__`` for the frozen dataclasses the planner builds by the thousand.

A frozen dataclass's own ``__init__`` sets each field through
``object.__setattr__`` (its ``__setattr__`` refuses): about 0.1 µs a field,
so a row of eight fields costs four times what a plain one does. A tick of
500 people builds thousands of them (the snapshot's rows, the verdicts, their
reasons). :func:`direct_init` gives such a class an ``__init__`` that writes
the instance's ``__dict__`` instead, with the same parameters, defaults and
default factories, in the same order; the class stays frozen (assignment
still raises), and equality, hashing, ``repr`` and ``dataclasses.replace``
are the dataclass's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")
_FACTORY = object()  # a parameter left to its default factory


def direct_init(cls: type[_T]) -> type[_T]:
    """Replace the frozen dataclass ``cls``'s ``__init__`` (see the module's docstring).

    Only plain fields are supported (no ``init=False``, keyword-only fields,
    ``InitVar`` or ``__post_init__``): anything else is refused here, at
    import, rather than built wrongly.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__}: a frozen dataclass without slots is expected")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: __post_init__ is not supported")
    names: dict[str, Any] = {"_FACTORY": _FACTORY}
    args: list[str] = []
    body: list[str] = ["    d = self.__dict__"]
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init or f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name}: only plain fields are supported")
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            args.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            args.append(f"{f.name}=_FACTORY")
            body.append(f"    if {f.name} is _FACTORY:")
            body.append(f"        {f.name} = _factory_{f.name}()")
        else:
            args.append(f.name)
        body.append(f"    d[{f.name!r}] = {f.name}")
    source = f"def __init__(self, {', '.join(args)}) -> None:\n" + "\n".join(body)
    exec(source, names)  # generated from the class's own field names
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    setattr(cls, "__init__", init)  # noqa: B010 - a method replaced on purpose
    return cls
