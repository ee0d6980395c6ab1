from rest_framework.pagination import CursorPagination


class DefaultCursorPagination(CursorPagination):
    """Feeds page by an opaque cursor: stable under inserts, which offset paging is not on a busy feed."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
