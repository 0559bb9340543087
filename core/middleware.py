"""Text that PostgreSQL cannot store is taken out of every form before a view reads it."""

from __future__ import annotations

from django.http import QueryDict


class StripNulMiddleware:
    """Removes NUL characters (``\\x00``) from the values of a submitted form.

    PostgreSQL refuses them in text (``ValueError``) and in ``jsonb`` (``DataError``), so a
    reason, reply or note holding one, passed on as typed into a model or the audit trail, was
    a server error. Django's form fields refuse them already; many writes read ``request.POST``
    directly. A person never types one, so nothing they meant is lost. Files are untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST":
            return None
        post = request.POST
        if not any("\x00" in value for _, values in post.lists() for value in values):
            return None
        cleaned = QueryDict(mutable=True, encoding=post.encoding)
        for key, values in post.lists():
            cleaned.setlist(key, [value.replace("\x00", "") for value in values])
        cleaned._mutable = False
        request.POST = cleaned
        return None
