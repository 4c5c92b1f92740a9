"""Routes of /api/inventory/."""

from rest_framework.routers import SimpleRouter

from .apis import ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
