"""Context values read as what they are made of, whatever their class says.

A context is the caller's data, and its values may be instances of
subclasses of ``str``, ``int``, ``float``, ``list``, ``tuple`` or ``dict``
(a ``StrEnum``, an ``IntEnum``, a custom mapping). Such a subclass can
override every method: ``__eq__`` answering True to everything,
``__len__`` lying, ``__iter__`` never ending, ``isascii`` claiming what is
not so. Conditions must compare the value, not the object's opinion of it.

:func:`plain` returns the exact built-in value, read through the base
class's own methods (``str.__str__``, ``int.__index__``,
``float.__float__``, ``list.copy``, ``dict.items``), which no subclass can
override. The class is read with ``type()``, which an object cannot fake
(``isinstance`` can be fooled by a ``__class__`` property; ``type`` and
``issubclass`` on it cannot). Exact built-ins, and objects of other
classes, come back unchanged at the cost of a ``type()`` lookup.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["PLAIN_TYPES", "plain"]

#: Types whose instances :func:`plain` returns unchanged (their items may still
#: be anything: read them through ``plain`` too).
PLAIN_TYPES: Final = frozenset({str, int, float, bool, type(None), list, tuple, dict})


_BUILT_INS: Final = (str, int, float, list, tuple, dict)


def plain(value: Any) -> Any:
    """Return ``value`` as an exact built-in when it is (a subclass of) one, else unchanged.

    ``str``, ``int`` and ``float`` subclasses become their exact value;
    ``list``, ``tuple`` and ``dict`` subclasses become exact shallow copies
    of their real contents (so iterating or reading them runs no code of
    theirs). Anything else (a datetime, a custom mapping, an arbitrary
    object) is returned as it is: the conditions treat it by its real type.
    """
    kind = type(value)
    if kind in PLAIN_TYPES or not issubclass(kind, _BUILT_INS):
        return value
    if issubclass(kind, str):
        return str.__str__(value)
    if issubclass(kind, int):  # bool cannot be subclassed, so this is a real int
        return int.__index__(value)
    if issubclass(kind, float):
        return float.__float__(value)
    if issubclass(kind, list):
        return list.copy(value)
    if issubclass(kind, tuple):
        return tuple(tuple.__iter__(value))
    if issubclass(kind, dict):
        return dict(dict.items(value))
    return value
