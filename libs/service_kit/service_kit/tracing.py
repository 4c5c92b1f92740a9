"""One trace per order: OpenTelemetry set up once per process, and the trace context carried in messages.

Each process of a service (web, worker, relay) sets up one tracer provider when Django starts (`setup`, from
the kit's AppConfig) with OpenTelemetry's own instrumentations of Django (a span per request, continuing the
W3C `traceparent` a client or the gateway sends) and Celery (a span per task published and per task run, the
context carried in the task's headers). With TRACE_QUERIES=true also psycopg's (a span per query) and
redis-py's (a span per command): off by default, as they cost more than the rest together (measured in-process
on the catalogue's GET: CPU per request +4 % with Django's spans, +20 % with a span per query as well; an
order makes some 80 queries), where the budget for all of tracing is 10 %.

Celery's headers alone would lose the trace at the outbox: a message is published after its transaction
commits, often by the relay, long after the request's span has ended. So the envelope carries the context
it was written in (`Message.traceparent`, the W3C header's value), and every send (after commit, by the
relay, again on redelivery, on a dead letter's replay) publishes inside that context (`context_of`). The
consumer's task span is then a child of the span that wrote the message, and what the handler writes in turn
carries the consumer's context on: the POST, the reserve, the charge and the commit are one trace.

Where spans go: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (Compose's Jaeger); otherwise, when
TRACES_DIR is set (the native stack: var/<stack>/traces), OTLP JSON, one export batch per line, in a file per
process, so tests and people can read them (a file past 50 MB is moved aside to `.1`, the older one dropped);
with neither, or OTEL_SDK_DISABLED=true, no tracing at all.

What starts a trace (`WorkOnly`): a request that may change something (not a GET, HEAD or OPTIONS, not a
health check) and a task; every one of them by default, a share of them by trace id with
OTEL_TRACES_SAMPLER_ARG below 1 (a shop's peak: the work of an unrecorded trace still carries its ids, in the
logs too, but records and exports no span). A trace a caller's sampled `traceparent` starts is always kept.
A read joins a trace its caller sampled but starts none; a query or a Redis command outside a request or a
task, as the relay's idle sweeps make every second, starts none either: it would be a trace of one span.
"""

import contextlib
import json
import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from opentelemetry import context, propagate, trace

logger = logging.getLogger(__name__)

_setup_lock = threading.Lock()
_set_up = False


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, for an envelope; None outside any trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def context_of(traceparent: str | None) -> Iterator[None]:
    """Run inside the trace context an envelope carries (nothing changes without one)."""
    if not traceparent:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)


def tracer():
    """The tracer of the kit's own spans (a no-op one where tracing is off)."""
    return trace.get_tracer("service_kit")


def record_child_spans(name: str, parents: dict[str, str], *, start_time: int, attributes_of) -> None:
    """One span named `name` in each of several traces, from `start_time` (ns) to now, each a child of the
    span a W3C traceparent names: work done once for many messages (a batch of receipts) appears in each
    message's own trace. `parents` maps a key to its traceparent; `attributes_of(key)` gives its span's
    attributes."""
    from opentelemetry.trace import SpanKind

    for key, traceparent in parents.items():
        tracer().start_span(
            name,
            context=propagate.extract({"traceparent": traceparent}),
            kind=SpanKind.CONSUMER,
            start_time=start_time,
            attributes=attributes_of(key),
        ).end()


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id (32 hex digits) of a W3C traceparent whose trace is recorded (sampled), or None."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": traceparent} if traceparent else {}
    span_context = trace.get_current_span(TraceContextTextMapPropagator().extract(carrier)).get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid and span_context.trace_flags.sampled else None


def trace_url(trace_id: str) -> str | None:
    """Where people look at a trace: TRACE_UI_URL with {trace_id} (e.g. Jaeger's
    `http://127.0.0.1:16686/trace/{trace_id}`), or None where no trace viewer is configured."""
    template = os.environ.get("TRACE_UI_URL")
    return template.replace("{trace_id}", trace_id) if template else None


def ids() -> tuple[str | None, str | None]:
    """The current trace id and span id in hex, for log lines; (None, None) outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class OtlpJsonFileExporter:
    """Spans as OTLP JSON (the OTLP/HTTP JSON encoding of an ExportTraceServiceRequest), a line per batch."""

    MAX_BYTES = 50 * 1024 * 1024

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence):
        from opentelemetry.sdk.trace.export import SpanExportResult

        line = json.dumps(otlp_json(spans), separators=(",", ":"))
        try:
            with self._lock:
                if self.path.exists() and self.path.stat().st_size > self.MAX_BYTES:
                    self.path.replace(self.path.with_name(self.path.name + ".1"))
                with self.path.open("a") as out:
                    out.write(line + "\n")
        except OSError:
            logger.exception("spans not written", extra={"path": str(self.path)})
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def otlp_json(spans: Sequence) -> dict:
    """An ExportTraceServiceRequest in OTLP's JSON encoding: spans grouped by resource and scope, ids in hex,
    enums as numbers, 64-bit integers as strings.

    Written here from the finished spans: OpenTelemetry's Python SDK encodes OTLP only as protobuf, and going
    through it (the SDK's encoder, protobuf's JSON printer, then ids turned from base64 to hex) took seven
    times the CPU of this in each process's export thread (measured on a batch of 16 Celery spans: 0.23
    against 0.033 ms a span)."""
    resources: dict[int, tuple] = {}
    for span in spans:
        _, scopes = resources.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version) if scope else ("", None)
        scopes.setdefault(key, []).append(_otlp_span(span))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _otlp_attributes(resource.attributes)},
                "scopeSpans": [
                    {"scope": {"name": name, **({"version": version} if version else {})}, "spans": encoded}
                    for (name, version), encoded in scopes.items()
                ],
            }
            for resource, scopes in resources.values()
        ]
    }


def _otlp_span(span) -> dict:
    encoded = {
        "traceId": format(span.context.trace_id, "032x"),
        "spanId": format(span.context.span_id, "016x"),
        "name": span.name,
        "kind": span.kind.value + 1,  # OTLP counts from SPAN_KIND_UNSPECIFIED = 0
        "startTimeUnixNano": str(span.start_time),
        "endTimeUnixNano": str(span.end_time),
    }
    if span.parent is not None:
        encoded["parentSpanId"] = format(span.parent.span_id, "016x")
    if span.attributes:
        encoded["attributes"] = _otlp_attributes(span.attributes)
    if span.events:
        encoded["events"] = [
            {"timeUnixNano": str(event.timestamp), "name": event.name, "attributes": _otlp_attributes(event.attributes)}
            for event in span.events
        ]
    if span.links:
        encoded["links"] = [
            {
                "traceId": format(link.context.trace_id, "032x"),
                "spanId": format(link.context.span_id, "016x"),
                "attributes": _otlp_attributes(link.attributes),
            }
            for link in span.links
        ]
    if span.status.status_code.value:  # UNSET is OTLP's default, left out
        encoded["status"] = {"code": span.status.status_code.value, "message": span.status.description or ""}
    return encoded


def _otlp_attributes(attributes) -> list[dict]:
    return [{"key": key, "value": _otlp_value(value)} for key, value in (attributes or {}).items()]


def _otlp_value(value) -> dict:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_otlp_value(item) for item in value]}}
    return {"stringValue": str(value)}


# Requests that change nothing start no trace of their own: a shop's reads (the catalogue, an order's status
# polled) outnumber its orders many times, and each traced one costs ~25 % more CPU (measured in-process on
# the catalogue's GET: 3.3 against 2.6 ms). A read still joins a trace its caller sampled (`traceparent`).
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _method(attributes) -> str | None:
    attributes = attributes or {}
    return attributes.get("http.request.method") or attributes.get("http.method")


def sampling_ratio() -> float:
    """The share of new traces recorded: OpenTelemetry's OTEL_TRACES_SAMPLER_ARG, between 0 and 1; 1 (every
    order) when unset or not a number."""
    try:
        ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1"))
    except ValueError:
        return 1.0
    return min(max(ratio, 0.0), 1.0) if math.isfinite(ratio) else 1.0


def _work_only_sampler(ratio: float | None = None):
    from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
    from opentelemetry.trace import SpanKind

    ratio = sampling_ratio() if ratio is None else ratio
    by_ratio = TraceIdRatioBased(ratio)  # at 1, every trace id

    class WorkOnly(Sampler):
        """A root span is kept when it is a request or a task (server, consumer, producer), not a client call:
        the ratio's share of them by trace id (OpenTelemetry's TraceIdRatioBased), all of them at 1."""

        def should_sample(
            self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None
        ):
            if kind is SpanKind.SERVER and _method(attributes) in READS:
                return SamplingResult(Decision.DROP)
            if kind not in (SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER):
                return SamplingResult(Decision.DROP)
            return by_ratio.should_sample(parent_context, trace_id, name, kind, attributes, links)

        def get_description(self) -> str:
            return f"WorkOnly{{{ratio}}}"

    return ParentBased(root=WorkOnly())


def _exporter(service: str):
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if os.environ.get("TRACES_DIR"):
        directory = Path(os.environ["TRACES_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        return OtlpJsonFileExporter(directory / f"{service}-{os.getpid()}.jsonl")
    return None


def setup(service: str) -> bool:
    """Set up tracing for this process once; whether it is on."""
    global _set_up
    with _setup_lock:
        if _set_up:
            return True
        if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return False
        exporter = _exporter(service)
        if exporter is None:
            return False
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": service}), sampler=_work_only_sampler())
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        DjangoInstrumentor().instrument(excluded_urls=r"api/\w+/health")
        CeleryInstrumentor().instrument()
        if os.environ.get("TRACE_QUERIES", "").lower() in {"1", "true", "yes"}:
            PsycopgInstrumentor().instrument(enable_commenter=False)
            RedisInstrumentor().instrument()
        _set_up = True
        return True
