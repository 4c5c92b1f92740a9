"""The catalogue read at a small and a large size: does GET /api/inventory/products/ scale?

Bulk products (SKU BULK-nnnnnnn) are loaded with COPY, in one statement rather than a million
INSERTs, and deleted again at the end of the run, so the stack's catalogue is what it was.
"""

import io
from datetime import UTC, datetime

import psycopg

from .ceilings import fixed_rate, wrk
from .target import Target

COLUMNS = "sku, name, description, price, currency, on_hand, reserved, created_at, updated_at"
PREFIX = "BULK-"


def _connect(target: Target) -> psycopg.Connection:
    return psycopg.connect(target.database_urls["inventory"], autocommit=True)


def product_count(target: Target) -> int:
    with _connect(target) as conn:
        return conn.execute("SELECT count(*) FROM inventory_product").fetchone()[0]


def grow_to(target: Target, total: int) -> int:
    """COPY bulk products until the catalogue holds `total`; returns the count reached."""
    with _connect(target) as conn:
        have = conn.execute("SELECT count(*) FROM inventory_product").fetchone()[0]
        start = conn.execute("SELECT count(*) FROM inventory_product WHERE sku LIKE %s", (PREFIX + "%",)).fetchone()[0]
        missing = total - have
        if missing <= 0:
            return have
        now = datetime.now(UTC).isoformat()
        with conn.cursor().copy(f"COPY inventory_product ({COLUMNS}) FROM STDIN") as copy:
            chunk = 50_000
            for base in range(start, start + missing, chunk):
                buffer = io.StringIO()
                for i in range(base, min(base + chunk, start + missing)):
                    buffer.write(f"{PREFIX}{i:07d}\tBulk item {i}\t\t9.99\tUSD\t100\t0\t{now}\t{now}\n")
                copy.write(buffer.getvalue())
        conn.execute("ANALYZE inventory_product")
        return conn.execute("SELECT count(*) FROM inventory_product").fetchone()[0]


def remove_bulk(target: Target) -> None:
    with _connect(target) as conn:
        conn.execute("DELETE FROM inventory_product WHERE sku LIKE %s", (PREFIX + "%",))
        conn.execute("VACUUM ANALYZE inventory_product")


def measure(target: Target, settings) -> dict:
    """Fixed-rate latency and throughput through nginx at the current size."""
    url = f"{target.gateway}/api/inventory/products/"
    return {
        "products": product_count(target),
        "fixed_rate": fixed_rate(url, rate=settings.read_rate, seconds=settings.read_seconds),
        "throughput": wrk(url, connections=settings.read_connections, seconds=settings.read_seconds),
    }
