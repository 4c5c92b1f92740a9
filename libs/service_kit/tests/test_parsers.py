"""StrictJSONParser: hostile JSON bodies are a 400 envelope, plain ones parse as before."""

import io
import json

import pytest
from rest_framework.exceptions import ParseError
from service_kit.parsers import MAX_DEPTH, StrictJSONParser


def _parse(text: str):
    return StrictJSONParser().parse(io.BytesIO(text.encode()), "application/json", {})


def _refusal(text: str) -> str:
    with pytest.raises(ParseError) as caught:
        _parse(text)
    assert caught.value.get_codes() == "parse_error"
    return str(caught.value.detail)


def test_plain_json_parses_as_the_standard_library_does():
    text = '{"lines": [{"sku": "A-1", "quantity": 2}], "price": 19.99, "ok": true, "none": null, "s": "[{"}'
    assert _parse(text) == json.loads(text)


def test_nesting_at_the_bound_parses_and_one_deeper_is_refused():
    assert _parse("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert "nested deeper than 32" in _refusal("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert "nested deeper" in _refusal('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))


def test_ten_thousand_open_brackets_are_refused_without_recursion():
    assert "nested deeper" in _refusal("[" * 10_000)


def test_brackets_inside_strings_are_not_nesting():
    text = json.dumps({"note": "[" * 1000 + '\\"{' * 100})
    assert _parse(text) == json.loads(text)


def test_duplicate_keys_in_any_object_are_refused():
    assert "Duplicate key" in _refusal('{"quantity": 1, "quantity": 50}')
    assert "'sku'" in _refusal('{"lines": [{"sku": "A", "sku": "B"}]}')


@pytest.mark.parametrize("number", ["9" * 5001, "-" + "1" * 41, "0." + "1" * 50, "1" * 30 + ".5e1" + "0" * 10])
def test_numbers_longer_than_any_field_are_refused(number):
    assert "number longer than" in _refusal('{"quantity": ' + number + "}")


def test_a_long_but_reasonable_number_parses():
    assert _parse('{"n": ' + "9" * 30 + "}") == {"n": int("9" * 30)}


@pytest.mark.parametrize("text", ["[NaN]", "[Infinity]", "[-Infinity]", "[1e999]", "[-1e400]"])
def test_nan_and_infinity_are_refused(text):
    assert _refusal(text).startswith("JSON refused")


def test_malformed_json_is_a_parse_error():
    assert _refusal('{"a": ').startswith("JSON parse error")


def test_a_body_not_in_its_encoding_is_a_parse_error():
    with pytest.raises(ParseError):
        StrictJSONParser().parse(io.BytesIO(b'{"a": "\xff"}'), "application/json", {})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    ["[" * 10_000, '{"text": "a", "text": "b"}', '{"text": ' + "9" * 5001 + "}", '{"text": NaN}'],
)
def test_api_answers_hostile_json_with_a_400_envelope(staff_client, body):
    response = staff_client.post("/api/kit/notes/", body, content_type="application/json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "client_error"
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [("parse_error", None)]
