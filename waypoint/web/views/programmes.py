"""Programmes, their sub-programmes and their ordered component templates (R-CORE-2)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from waypoint.core.errors import NotFound
from waypoint.programmes.selectors import programme_get, template_list
from waypoint.web.queries import learner_count_by_programme, programme_list_with_subs
from waypoint.web.views.common import PAGE_SIZE


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    context = {
        "programmes": list(programme_list_with_subs()),
        "learner_counts": learner_count_by_programme(request.user),
    }
    return render(request, "web/programmes/list.html", context)


@login_required
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    try:
        programme = programme_get(programme_id)
    except NotFound as e:
        raise Http404(e.message) from None
    page = Paginator(template_list(programme.pk), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "programme": programme,
        "sub_programmes": list(programme.sub_programmes.order_by("name")),
        "page": page,
        "learner_counts": learner_count_by_programme(request.user),
    }
    return render(request, "web/programmes/detail.html", context)
