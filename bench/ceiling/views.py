"""The ceiling's one view and its URL: the catalogue's first page, straight from SQL."""

from django.db import connection
from django.http import JsonResponse
from django.urls import path

COUNT = "SELECT count(*) FROM inventory_product"
PAGE = (
    "SELECT sku, name, description, price::text, currency, on_hand - reserved FROM inventory_product "
    "ORDER BY sku LIMIT 20"
)


def products(request):
    with connection.cursor() as cursor:
        cursor.execute(COUNT)
        count = cursor.fetchone()[0]
        cursor.execute(PAGE)
        keys = ("sku", "name", "description", "price", "currency", "available")
        results = [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
    return JsonResponse({"count": count, "next": None, "previous": None, "results": results})


urlpatterns = [path("products/", products)]
