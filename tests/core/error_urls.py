"""A URLconf for tests/core/test_error_pages.py: the site's, plus views that raise."""

from django.http import Http404
from django.urls import path

from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.urls import handler400, handler403, handler404, handler500
from pingan.urls import urlpatterns as site


def raises(exc):
    def view(request):
        raise exc

    return view


urlpatterns = [
    path("boom/not-found/", raises(NotFound("未找到该纠纷"))),
    path("boom/forbidden/", raises(Forbidden("只有所长可以审核"))),
    path("boom/conflict/", raises(Conflict("stale", "该记录已被他人修改，请刷新后重试"))),
    path("boom/bad/", raises(ServiceError("bad_input", "请填写事由"))),
    path("boom/english-404/", raises(Http404("No Incident matches the given query."))),
    path("boom/crash/", raises(RuntimeError("a bug"))),
    *site,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
