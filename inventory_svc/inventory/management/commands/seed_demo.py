"""Seed the demo catalogue: creates what is missing, never touches what exists (stock included)."""

from decimal import Decimal

from django.core.management.base import BaseCommand

from inventory import services
from inventory.models import Product

DEMO_PRODUCTS = [
    {
        "sku": "DEMO-MUG",
        "name": "Demo mug",
        "description": "A 350 ml stoneware mug with the shop's logo.",
        "price": Decimal("12.50"),
        "stock": 100,
    },
    {
        "sku": "DEMO-TSHIRT",
        "name": "Demo T-shirt",
        "description": "An organic cotton T-shirt, unisex cut.",
        "price": Decimal("19.99"),
        "stock": 50,
    },
    {
        "sku": "DEMO-POSTER",
        "name": "Demo poster",
        "description": "A 50 x 70 cm print on matte paper.",
        "price": Decimal("9.00"),
        "stock": 30,
    },
]


class Command(BaseCommand):
    help = "Create the demo products that are missing; existing ones keep their data and stock."

    def handle(self, *args, **options):
        for data in DEMO_PRODUCTS:
            if Product.objects.filter(sku=data["sku"]).exists():
                self.stdout.write(f"product {data['sku']}: present")
                continue
            services.product_create(**data)
            self.stdout.write(f"product {data['sku']}: created")
