"""django-filter mechanics shared by the services' list endpoints."""

import django_filters
from django.core.exceptions import ValidationError


class StrictFilterSet(django_filters.FilterSet):
    """A parameter sent empty is refused like any value outside its choices, not read as "no filter"."""

    def is_valid(self):
        valid = super().is_valid()
        for name, field in self.form.fields.items():
            if self.data.get(name) == "":
                code = "invalid_choice" if "invalid_choice" in field.error_messages else "invalid"
                message = field.error_messages[code]
                self.form.add_error(name, ValidationError(message, code=code, params={"value": ""}))
                valid = False
        return valid
