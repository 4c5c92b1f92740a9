"""HTTP views of payments: parse the request, call a selector, shape the answer."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics

from .filters import PaymentFilter
from .models import Payment
from .selectors import payment_get, payment_list
from .serializers import PaymentOutputSerializer


class PaymentListApi(generics.ListAPIView):
    """The caller's payments, newest first (staff: every payment); `?status=` narrows them."""

    serializer_class = PaymentOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PaymentFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Payment.objects.none()
        return payment_list(user=self.request.user)


class PaymentDetailApi(generics.RetrieveAPIView):
    """One payment of the caller (staff: any); someone else's answers 404."""

    serializer_class = PaymentOutputSerializer

    def get_object(self):
        return payment_get(payment_id=self.kwargs["payment_id"], user=self.request.user)
