from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (capped at 100), as API.md says."""

    page_size_query_param = "page_size"
    max_page_size = 100
