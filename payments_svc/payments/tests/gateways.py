"""Stand-ins for the card gateway, chosen through the PAYMENTS_GATEWAY setting."""

from payments.gateway import ChargeResult, SimulatedCardGateway


class RecordingGateway(SimulatedCardGateway):
    """The simulated gateway, counting the calls that would leave the machine."""

    charges: list[dict] = []
    refunds: list[dict] = []

    def charge(self, **kwargs) -> ChargeResult:
        self.charges.append(kwargs)
        return super().charge(**kwargs)

    def refund(self, **kwargs) -> None:
        self.refunds.append(kwargs)


class UnreachableGateway(SimulatedCardGateway):
    """A gateway that cannot be reached, as during a network outage."""

    def charge(self, **kwargs) -> ChargeResult:
        raise ConnectionError("gateway unreachable")
