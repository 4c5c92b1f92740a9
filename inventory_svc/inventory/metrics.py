"""inventory_svc's figures: stock held for orders not paid yet, read when scraped."""

from django.db.models import Count, Min
from django.utils import timezone
from service_kit.metrics import gauge, scrape_collector

from .models import Reservation, ReservationStatus


@scrape_collector
def reservations_held():
    held = Reservation.objects.filter(status=ReservationStatus.HELD).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    age = (timezone.now() - held["oldest"]).total_seconds() if held["oldest"] else 0.0
    yield gauge("shop_reservations_held", "Reservations holding stock for orders not paid yet.", held["count"])
    yield gauge("shop_reservations_held_oldest_age_seconds", "Age of the oldest held reservation (0: none).", age)
