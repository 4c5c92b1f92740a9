from service_kit.urls import *  # handler400, 403, 404, 500: errors in the envelope
from service_kit.urls import service_urlpatterns

urlpatterns = service_urlpatterns("orders", "orders.urls")
