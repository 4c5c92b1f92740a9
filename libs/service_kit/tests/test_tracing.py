"""One trace per order: the envelope carries the context it was written in, every send runs inside it, log
lines carry the trace's ids, spans are written as OTLP JSON, and only requests and tasks start a trace."""

import json
import logging
import uuid

import pytest
from django.db import transaction
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from service_kit import tracing
from service_kit.messaging.dead_letters import dead_letter_record, dead_letter_replay
from service_kit.messaging.envelope import InvalidEnvelope, Message
from service_kit.messaging.outbox import outbox_enqueue
from service_kit.messaging.receipts import receipts_queue, receipts_send
from service_kit.models import DeadLetter, OutboxMessage
from service_kit.request_id import LogContextFilter

from .celery_app import app
from .handlers import strict_handler
from .messaging import RedisQueue, message, one_way


def recorder(sampler) -> InMemorySpanExporter:
    """A tracer of its own with this sampler (the process has none: no TRACES_DIR in the kit's tests), and what
    it ends."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    exporter.tracer = provider.get_tracer("test")
    return exporter


@pytest.fixture
def spans():
    return recorder(tracing._work_only_sampler())


def hex_ids(span) -> tuple[str, str]:
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


@pytest.mark.django_db(transaction=True)
def test_a_message_written_inside_a_span_carries_its_trace_context(spans, kit_queue):
    with spans.tracer.start_as_current_span("POST /api/orders/", kind=SpanKind.SERVER) as span, transaction.atomic():
        sent = outbox_enqueue(type="kit.ping", payload={})

    trace_id, span_id = hex_ids(span)
    assert sent.traceparent.startswith(f"00-{trace_id}-{span_id}-")
    assert int(sent.traceparent[-2:], 16) & 1  # sampled
    assert OutboxMessage.objects.get(message_id=sent.id).envelope["traceparent"] == sent.traceparent


@pytest.mark.django_db(transaction=True)
def test_a_message_written_outside_any_trace_carries_none(kit_queue):
    with transaction.atomic():
        sent = outbox_enqueue(type="kit.ping", payload={})

    assert sent.traceparent is None


def test_work_done_inside_an_envelopes_context_is_a_child_of_the_span_that_wrote_it(spans):
    with spans.tracer.start_as_current_span("POST", kind=SpanKind.SERVER) as writer:
        traceparent = tracing.current_traceparent()

    with tracing.context_of(traceparent), spans.tracer.start_as_current_span("apply_async", kind=SpanKind.PRODUCER):
        pass

    [_, publish] = spans.get_finished_spans()
    assert publish.context.trace_id == writer.get_span_context().trace_id
    assert publish.parent.span_id == writer.get_span_context().span_id


def test_without_a_context_the_envelope_changes_nothing(spans):
    with tracing.context_of(None):
        assert not trace.get_current_span().get_span_context().is_valid


def test_the_envelope_round_trip_keeps_the_trace_context_and_refuses_a_malformed_one():
    sent = message("kit.ping", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")

    assert Message.from_dict(sent.as_dict()).traceparent == sent.traceparent
    with pytest.raises(InvalidEnvelope, match="traceparent"):
        Message.from_dict({**sent.as_dict(), "traceparent": 7})


@pytest.mark.django_db(transaction=True)
def test_a_replayed_dead_letter_keeps_its_trace(kit_queue):
    sent = message(
        "kit.test_effect", payload={"order_id": str(uuid.uuid4())}, traceparent=f"00-{'c' * 32}-{'d' * 16}-01"
    )
    dead_letter_record(envelope=sent.as_dict(), message_id=sent.id, message_type=sent.type, error="RuntimeError()")

    dead_letter_replay(dead_letter=DeadLetter.objects.get(message_id=sent.id))

    assert OutboxMessage.objects.get(message_id=sent.id).envelope["traceparent"] == sent.traceparent
    [task] = kit_queue.messages()
    assert task["args"][0]["traceparent"] == sent.traceparent


@pytest.mark.django_db(transaction=True)
def test_each_receipt_of_a_batch_is_a_span_of_its_own_message_s_trace(spans, kit_queue, settings, monkeypatch):
    monkeypatch.setattr(tracing, "tracer", lambda: spans.tracer)
    envelopes, untraced = [one_way().as_dict() for _ in range(2)], one_way().as_dict()
    with spans.tracer.start_as_current_span("run/kit.strict", kind=SpanKind.CONSUMER) as first_run:
        strict_handler.apply(args=[envelopes[0]])
    with spans.tracer.start_as_current_span("run/kit.strict", kind=SpanKind.CONSUMER) as second_run:
        strict_handler.apply(args=[envelopes[1]])
    strict_handler.apply(args=[untraced])
    receipts = RedisQueue(settings.CELERY_BROKER_URL, receipts_queue("kit"))
    receipts.clear()
    try:
        assert receipts_send() == 3
        [task] = receipts.messages()
    finally:
        receipts.clear()
    batch = task["args"][0]
    # The consumer's context of each message rides with its id; one without a trace has none.
    carried = {
        message_id: tuple(value.split("-")[1:3]) for message_id, value in batch["payload"]["traceparents"].items()
    }
    assert carried == {envelopes[0]["id"]: hex_ids(first_run), envelopes[1]["id"]: hex_ids(second_run)}

    app.tasks["kit.receipt"].apply(args=[batch])

    recorded = [span for span in spans.get_finished_spans() if span.name == "receipt"]
    assert sorted((hex_ids(span)[0], format(span.parent.span_id, "016x")) for span in recorded) == sorted(
        [hex_ids(first_run), hex_ids(second_run)]
    )
    assert {span.attributes["messaging.message.id"] for span in recorded} == {e["id"] for e in envelopes}


@pytest.fixture
def sampled_none():
    """A tracer that records no new trace (a ratio of 0), and what it ends."""
    return recorder(tracing._work_only_sampler(ratio=0.0))


def test_below_a_ratio_of_one_a_new_trace_may_go_unrecorded_yet_carries_its_ids(sampled_none):
    with sampled_none.tracer.start_as_current_span("run/kit.ping", kind=SpanKind.CONSUMER) as span:
        traceparent = tracing.current_traceparent()

    assert sampled_none.get_finished_spans() == ()
    assert traceparent.startswith(f"00-{hex_ids(span)[0]}-")
    assert not int(traceparent[-2:], 16) & 1  # not sampled
    # Nothing to link to: the admin shows no trace for it.
    assert tracing.trace_id_of(traceparent) is None
    assert tracing.trace_id_of(traceparent[:-2] + "01") == hex_ids(span)[0]


def test_a_callers_sampled_trace_is_recorded_whatever_the_ratio(sampled_none):
    caller = f"00-{'e' * 32}-{'f' * 16}-01"
    with tracing.context_of(caller), sampled_none.tracer.start_as_current_span("POST", kind=SpanKind.SERVER):
        pass

    [span] = sampled_none.get_finished_spans()
    assert hex_ids(span)[0] == "e" * 32


@pytest.mark.parametrize(("value", "ratio"), [(None, 1.0), ("0.25", 0.25), ("7", 1.0), ("-1", 0.0), ("x", 1.0)])
def test_the_ratio_is_opentelemetry_s_sampler_argument_bounded(monkeypatch, value, ratio):
    if value is None:
        monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)
    else:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", value)

    assert tracing.sampling_ratio() == ratio


def test_log_lines_carry_the_trace_and_span_ids(spans):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with spans.tracer.start_as_current_span("task", kind=SpanKind.CONSUMER) as span:
        LogContextFilter(service="kit").filter(record)

    assert (record.trace_id, record.span_id) == hex_ids(span)
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    LogContextFilter(service="kit").filter(outside)
    assert (outside.trace_id, outside.span_id) == (None, None)


def test_only_requests_and_tasks_start_a_trace_and_a_query_inside_one_joins_it(spans):
    with spans.tracer.start_as_current_span("SELECT 1", kind=SpanKind.CLIENT):
        pass
    with (
        spans.tracer.start_as_current_span("run/kit.ping", kind=SpanKind.CONSUMER),
        spans.tracer.start_as_current_span("SELECT 2", kind=SpanKind.CLIENT),
    ):
        pass

    assert [span.name for span in spans.get_finished_spans()] == ["SELECT 2", "run/kit.ping"]


def test_a_read_starts_no_trace_of_its_own_but_joins_one_its_caller_sampled(spans):
    for method, key in [("GET", "http.method"), ("HEAD", "http.request.method"), ("POST", "http.method")]:
        with spans.tracer.start_as_current_span(method, kind=SpanKind.SERVER, attributes={key: method}):
            pass
    with spans.tracer.start_as_current_span("POST", kind=SpanKind.SERVER, attributes={"http.method": "POST"}):
        caller = tracing.current_traceparent()
    with (
        tracing.context_of(caller),
        spans.tracer.start_as_current_span("GET", kind=SpanKind.SERVER, attributes={"http.method": "GET"}),
    ):
        pass

    assert [span.name for span in spans.get_finished_spans()] == ["POST", "POST", "GET"]


def test_spans_are_written_as_otlp_json_one_batch_a_line(spans, tmp_path):
    with spans.tracer.start_as_current_span("POST", kind=SpanKind.SERVER) as span:
        pass
    exporter = tracing.OtlpJsonFileExporter(tmp_path / "kit-1.jsonl")

    exporter.export(spans.get_finished_spans())
    exporter.export(spans.get_finished_spans())

    lines = (tmp_path / "kit-1.jsonl").read_text().splitlines()
    assert len(lines) == 2
    [written] = json.loads(lines[0])["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert (written["traceId"], written["spanId"]) == hex_ids(span)
    assert written["name"] == "POST"
