"""factory_boy factories of accounts."""

import factory

from accounts.models import User

PASSWORD = "correct-horse-battery-7"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.django.Password(PASSWORD)
