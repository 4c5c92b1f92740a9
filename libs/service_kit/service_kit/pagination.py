"""Pagination of every list: page numbers, capped page sizes, and a count that stays cheap on large tables."""

import json

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

PAGE_SIZE_INVALID = "A positive whole number is required."
# Up to this many rows a list's `count` is exact; past it, PostgreSQL's own estimate (API.md allows it),
# so a page of a table of millions costs a bounded scan rather than a COUNT(*) of every row.
EXACT_COUNT_BOUND = 10_000


class BoundedCountPaginator(Paginator):
    """Django's paginator whose count scans at most EXACT_COUNT_BOUND + 1 rows."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        exact = queryset[: EXACT_COUNT_BOUND + 1].count()
        if exact <= EXACT_COUNT_BOUND:
            return exact
        plan = json.loads(queryset.explain(format="json"))
        return max(EXACT_COUNT_BOUND + 1, int(plan[0]["Plan"]["Plan Rows"]))


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (capped at 100), as API.md says.

    A page size that is not a positive whole number is a 400 rather than silently the default, and a
    page that is not one a 404 (DRF's answer to a bad page): the schema says what is allowed, and a
    typo should not look like an answer."""

    django_paginator_class = BoundedCountPaginator
    page_size_query_param = "page_size"
    max_page_size = 100
    # The schema documents `page` as a number; "last" would be an undocumented one.
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        # "?page=" names no page: a 404 like any other invalid page, rather than silently the first.
        return request.query_params.get(self.page_query_param, 1)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            return pagination._positive_int(raw, strict=True, cutoff=self.max_page_size)
        except ValueError:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_INVALID]}, code="invalid") from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Number of results to return per page, at most {self.max_page_size}."
        return parameters
