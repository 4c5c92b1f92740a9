"""Strict JSON request bodies: plain, sane JSON or a 400 envelope, before any view or database sees them.

The standard library's decoder with its hooks: a duplicate key in any object, a number longer than any
field of the platform takes (or past a float's range), NaN and Infinity are refused; nesting is
measured on the raw text first, without recursion, so a deep body never reaches the recursive decoder
(10,000 `[` used to end in a RecursionError, a 500).
"""

import json
import math
import re
from itertools import accumulate

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of the platform nests deeper than 4 (an order's lines); 32 leaves room and stays far
# from the decoder's recursion limit.
MAX_DEPTH = 32
# Characters of one number, sign, point and exponent included: prices and quantities need about 12,
# and 40 stays well under Python's int/str conversion limit (4,300 digits).
MAX_NUMBER_LENGTH = 40

# A complete JSON string (escapes included): its brackets are text, not structure.
# Possessive, so an unterminated string cannot make it backtrack.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
# +1 for an opening bracket, -1 for a closing one, by byte value.
_STEP = [0] * 256
for _char, _step in (("[", 1), ("{", 1), ("]", -1), ("}", -1)):
    _STEP[ord(_char)] = _step


class _Refused(Exception):
    """Raised from inside the decoder's hooks; turned into a ParseError by the parser."""


def json_depth_check(text: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Raises _Refused when arrays and objects nest deeper than max_depth; a scan, not a recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    # The running sum of the steps is the depth after each bracket; map and accumulate run in C.
    if brackets and max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth:
        raise _Refused(f"JSON nested deeper than {max_depth} levels.")


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"Duplicate key in a JSON object: {key[:50]!r}.")
            seen.add(key)
    return result


def _number_length_check(text: str) -> None:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _Refused(f"JSON number longer than {MAX_NUMBER_LENGTH} characters.")


def _parse_int(text: str) -> int:
    _number_length_check(text)
    return int(text)


def _parse_float(text: str) -> float:
    _number_length_check(text)
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("JSON number out of range.")
    return value


def _parse_constant(name: str):
    raise _Refused(f"{name} is not a JSON number.")


def strict_json_loads(text: str, *, max_depth: int = MAX_DEPTH):
    """The value of a JSON text; _Refused for hostile input, ValueError for malformed input."""
    json_depth_check(text, max_depth=max_depth)
    return json.loads(
        text,
        object_pairs_hook=_object_without_duplicates,
        parse_int=_parse_int,
        parse_float=_parse_float,
        parse_constant=_parse_constant,
    )


class StrictJSONParser(JSONParser):
    """DRF's JSONParser, refusing deep nesting, duplicate keys, absurd numbers, NaN and Infinity.

    Every refusal is DRF's ParseError (400, code `parse_error`) with its own message, in the envelope.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from exc
        try:
            return strict_json_loads(text)
        except _Refused as exc:
            raise ParseError(f"JSON refused - {exc}") from exc
        except (ValueError, RecursionError) as exc:
            # RecursionError cannot come past the depth check; kept so that nothing here is ever a 500.
            raise ParseError(f"JSON parse error - {exc}") from exc
