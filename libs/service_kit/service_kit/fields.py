"""Serializer fields that take JSON types at their word, and say in the schema what they refuse.

DRF turns `0` into `"0"` and `"5"` into 5; an API whose schema says `string` or `integer` should
refuse both, as Schemathesis's negative checks expect.
"""

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# Text as the schema states it: no NUL character (PostgreSQL stores none), and not blank unless allowed.
# Blank is what DRF's trimming (Python's str.strip) leaves empty: exactly Python's whitespace, which is
# not a regex's \s (Python's holds \x1c-\x1f and \x85; ECMA's \s holds \ufeff, Python's does not).
NUL = r"\x00"
PYTHON_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NON_BLANK_TEXT_PATTERN = rf"^[^\x00]*[^\x00{PYTHON_WHITESPACE}][^\x00]*$"


class TextOnlyMixin:
    """Refuses numbers, which DRF would turn into text: the schema says `string`. Its `maxLength` counts the
    text as sent, as the schema's does, not what is left once DRF has trimmed its white space."""

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(TextOnlyMixin, serializers.CharField):
    pass


class EmailTextField(TextOnlyMixin, serializers.EmailField):
    pass


class WholeNumberField(serializers.IntegerField):
    """An integer as JSON writes it: not a string of digits, not a boolean."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextFieldExtension(OpenApiSerializerFieldExtension):
    """A TextField's schema: DRF's, plus a pattern of what it refuses, unless a validator gives one."""

    target_class = TextField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        has_pattern = any(isinstance(validator, RegexValidator) for validator in self.target.validators)
        if has_pattern or "format" in schema:
            return schema
        if self.target.allow_blank:
            # Not a pattern: drf-spectacular would add "or empty" beside it, and "" would match both.
            schema["not"] = {"pattern": NUL}
        else:
            schema["pattern"] = NON_BLANK_TEXT_PATTERN
        return schema
