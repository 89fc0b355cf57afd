"""The Learner Manager and the PLR attainments download window (R-PLR-1…8).

The Learner Manager's condition builder sends its rows as repeated form fields (`field`, `op`, `value`, and `g`,
the sub-group a row is in) with the top group's `logic` and each sub-group's `logic_<g>`; they are turned into the
JSON tree `condition_parse` accepts (one level of sub-groups), so the top group works without script.
A download is started for every matching learner (sent as the condition, never as a list of ids) or for the
ticked ones, and shown in its window: progress until done, then the grid with its exports and Update Selected.
"""

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from waypoint.attainments.conditions import (
    NO_VALUE,
    REFERENCE_FIELDS,
    Field,
    Op,
    condition_parse,
    learner_manager_list,
)
from waypoint.attainments.exports import rows_csv_response, rows_xlsx_response
from waypoint.attainments.models import PlrDownload
from waypoint.attainments.selectors import RowFilter, plr_download_get_for, plr_download_progress, plr_rows_list
from waypoint.attainments.services import (
    plr_download_discard,
    plr_download_refresh,
    plr_download_start,
    plr_refusal,
    plr_rows_update_selected,
)
from waypoint.core.errors import ApplicationError, NotFound, ValidationFailed
from waypoint.people.selectors import employer_list, group_list
from waypoint.web.queries import programme_list_with_subs, tutor_list
from waypoint.web.views.common import PAGE_SIZE, acting_user, tell_refusal

FIELD_LABELS: list[tuple[str, str]] = [
    (Field.SURNAME, "Surname"),
    (Field.FIRST_NAME, "First name"),
    (Field.ULN, "ULN"),
    (Field.PROGRAMME, "Programme"),
    (Field.PROGRAMME_STATUS, "Programme status"),
    (Field.GROUP, "Group"),
    (Field.TUTOR, "Tutor"),
    (Field.EMPLOYER, "Employer"),
]
OP_LABELS: list[tuple[str, str]] = [
    (Op.CONTAINS, "contains"),
    (Op.STARTS_WITH, "starts with"),
    (Op.EQUALS, "equals"),
    (Op.NOT_EQUALS, "does not equal"),
    (Op.IS_EMPTY, "is empty"),
    (Op.IS_NOT_EMPTY, "is not empty"),
    (Op.IN, "is one of (comma-separated)"),
]
# The grid's columns: (heading, sort key or None).
ROW_COLUMNS: list[tuple[str, str | None]] = [
    ("Learner", "learner"),
    ("ULN", "uln"),
    ("Subject", "subject"),
    ("Subject code", "subject_code"),
    ("Qualification type", "qualification_type"),
    ("Level", None),
    ("Grade", None),
    ("Award date", "award_date"),
    ("Awarding organisation", None),
    ("Source", None),
    ("Error Code", "error_code"),
    ("Error Description", None),
    ("Response Code", "response_code"),
    ("Response Description", None),
]
FILTER_KEYS = ("error_code", "response_code", "has_events", "sort")
# The fields whose value is chosen from a list of names, and the operators that take one.
PICK_FIELDS = frozenset({Field.PROGRAMME.value, Field.GROUP.value, Field.TUTOR.value, Field.EMPLOYER.value})
PICK_OPS = frozenset({Op.EQUALS.value, Op.NOT_EQUALS.value, Op.IN.value})
# A row (and a sub-group) added by script: `__row__`, `__g__` and `__group__` are replaced by their numbers.
NEW_ROW: dict[str, Any] = {
    "number": "__row__",
    "g": "__g__",
    "field": "",
    "op": "",
    "value": "",
    "pick": "",
    "picked": [],
}


# The condition builder


def condition_rows(data: QueryDict) -> list[dict[str, str]]:
    """The builder's rows as submitted (blank rows dropped). A programme, group, tutor or employer compared by
    equals, does not equal or is one of is chosen from the row's list (`pick-<row>-<field>`, ids): when one is
    chosen, it is the row's value; otherwise the text typed is, as without script. A row's `g` is the number of
    the sub-group it belongs to, or "" (or absent) for the top group."""
    keys = data.getlist("row")
    groups = data.getlist("g")
    rows = []
    triples = zip(data.getlist("field"), data.getlist("op"), data.getlist("value"), strict=False)
    for i, (field, op, value) in enumerate(triples):
        if not field:
            continue
        if i < len(keys) and field in PICK_FIELDS and op in PICK_OPS:
            picked = [v for v in data.getlist(f"pick-{keys[i]}-{field}") if v.isdigit()]
            if picked:
                value = ",".join(picked if op == Op.IN else picked[:1])
        group = groups[i].strip() if i < len(groups) else ""
        rows.append({"field": field, "op": op, "value": value, "g": group if group.isdigit() else ""})
    return rows


def condition_groups(data: QueryDict) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The top group's rows and its sub-groups (`key`, `logic` from `logic_<key>`, `rows`), in the order they
    first appear. A sub-group without rows is left out."""
    top: list[dict[str, str]] = []
    subgroups: dict[str, dict[str, Any]] = {}
    for row in condition_rows(data):
        if not row["g"]:
            top.append(row)
            continue
        key = row["g"]
        if key not in subgroups:
            subgroups[key] = {"key": key, "logic": data.get(f"logic_{key}", "and"), "rows": []}
        subgroups[key]["rows"].append(row)
    return top, list(subgroups.values())


def _pick_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """The names each pickable field's list offers, as (id, name): sub-programmes as "Parent / Sub"."""
    programmes: list[tuple[str, str]] = []
    for parent in programme_list_with_subs():
        programmes.append((str(parent.pk), parent.name))
        programmes += [(str(sub.pk), f"{parent.name} / {sub.name}") for sub in parent.sub_programmes.all()]
    groups = [(str(pk), name) for pk, name in group_list().order_by("name").values_list("pk", "name")]
    tutors = [(str(u.pk), u.get_full_name() or u.get_username()) for u in tutor_list()]  # type: ignore[attr-defined]
    employers = [(str(pk), name) for pk, name in employer_list().order_by("name").values_list("pk", "name")]
    return [
        (Field.PROGRAMME.value, programmes),
        (Field.GROUP.value, groups),
        (Field.TUTOR.value, tutors),
        (Field.EMPLOYER.value, employers),
    ]


def _with_picks(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each row with the field whose list it shows (`pick`, or "") and the ids chosen there."""
    shown: list[dict[str, Any]] = []
    for row in rows:
        pickable = row["field"] in PICK_FIELDS and row["op"] in PICK_OPS
        picked = [v.strip() for v in row["value"].split(",") if v.strip().isdigit()] if pickable else []
        shown.append({**row, "pick": row["field"] if pickable else "", "picked": picked})
    return shown


def condition_tree(data: QueryDict) -> dict[str, Any]:
    """The rows as the JSON tree `condition_parse` accepts: the top group's conditions, then its sub-groups."""
    top, subgroups = condition_groups(data)
    conditions: list[dict[str, Any]] = [_condition(row) for row in top]
    for sub in subgroups:
        conditions.append({"logic": sub["logic"], "conditions": [_condition(row) for row in sub["rows"]]})
    return {"logic": data.get("logic", "and"), "conditions": conditions}


def _condition(row: dict[str, str]) -> dict[str, Any]:
    field, op, text = row["field"], row["op"], row["value"].strip()
    value: Any
    if op in NO_VALUE:
        value = None
    elif op == Op.IN:
        value = [_typed(field, op, part.strip()) for part in text.split(",") if part.strip()]
    else:
        value = _typed(field, op, text)
    return {"field": field, "operator": op, "value": value}


def _typed(field: str, op: str, text: str) -> str | int:
    """Reference fields take ids, except when matched by name."""
    if field in REFERENCE_FIELDS and op not in (Op.CONTAINS, Op.STARTS_WITH) and text.isdigit():
        return int(text)
    return text


def _condition_query(data: QueryDict) -> str:
    """The builder's fields as a query string, to carry the condition (sub-groups too) to another request."""
    top, subgroups = condition_groups(data)
    pairs: list[tuple[str, str]] = [("logic", data.get("logic", "and"))]
    for row in top + [row for sub in subgroups for row in sub["rows"]]:
        pairs += [("field", row["field"]), ("op", row["op"]), ("value", row["value"]), ("g", row["g"])]
    pairs += [(f"logic_{sub['key']}", sub["logic"]) for sub in subgroups]
    return urlencode(pairs)


@login_required
@require_GET
def learner_manager(request: HttpRequest) -> HttpResponse:
    user = request.user
    top, subgroups = condition_groups(request.GET)
    if not top and not subgroups:
        top = [{"field": Field.SURNAME.value, "op": Op.CONTAINS.value, "value": "", "g": ""}]
    # Rows are numbered across the groups (`row`, and the name of each row's lists of names).
    number = 0
    rows: list[dict[str, Any]] = []
    for row in _with_picks(top):
        rows.append({**row, "number": number})
        number += 1
    shown_subgroups: list[dict[str, Any]] = []
    for sub in subgroups:
        sub_rows: list[dict[str, Any]] = []
        for row in _with_picks(sub["rows"]):
            sub_rows.append({**row, "number": number})
            number += 1
        shown_subgroups.append({**sub, "rows": sub_rows})
    error = None
    page = None
    try:
        tree = condition_tree(request.GET)
        learners = learner_manager_list(user, condition_parse(tree))
        page = Paginator(learners, PAGE_SIZE).get_page(request.GET.get("page"))
    except ValidationFailed as e:
        error = e.message
    context = {
        "rows": rows,
        "subgroups": shown_subgroups,
        "all_rows": rows + [row for sub in shown_subgroups for row in sub["rows"]],
        "first_new_row": number,
        "first_new_group": max((int(sub["key"]) for sub in subgroups), default=0) + 1,
        "new_row": NEW_ROW,
        "new_group": {"key": "__group__", "logic": "and", "rows": [{**NEW_ROW, "g": "__group__"}]},
        "picks": _pick_options(),
        "pick_ops": json.dumps(sorted(PICK_OPS)),
        "logic": request.GET.get("logic", "and"),
        "fields": FIELD_LABELS,
        "ops": OP_LABELS,
        "no_value_ops": [o.value for o in NO_VALUE],
        "page": page,
        "error": error,
        "refusal": plr_refusal(user),
        "condition_query": _condition_query(request.GET),
    }
    return render(request, "web/attainments/learner_manager.html", context)


@login_required
@require_POST
def plr_download_create(request: HttpRequest) -> HttpResponse:
    """Attainments (PLR) Download: every learner the condition matches, or the ticked ones."""
    user = acting_user(request)
    back = f"{reverse('learner_manager')}?{_condition_query(request.POST)}"
    try:
        learners: Any
        if request.POST.get("scope") == "all":
            learners = learner_manager_list(user, condition_parse(condition_tree(request.POST)))
        else:
            learners = [int(v) for v in request.POST.getlist("learner") if v.isdigit()]
            if not learners:
                messages.error(request, "Select at least one learner to download, or select all matching.")
                return redirect(back)
        download = plr_download_start(by=user, learners=learners)
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(back)
    return redirect("plr_download", download.pk)


# The download window


def _download_for(request: HttpRequest, download_id: int) -> PlrDownload | HttpResponse:
    """The admin's own download, or a page saying why not (403 refusal, 404)."""
    if refusal := plr_refusal(request.user):
        return render(request, "403.html", {"exception": refusal}, status=403)
    try:
        return plr_download_get_for(request.user, download_id)
    except NotFound as e:
        raise Http404(e.message) from None


def _row_filter(data: QueryDict) -> RowFilter:
    has_events = {"yes": True, "no": False}.get(data.get("has_events", ""))
    return RowFilter(
        error_code=data.get("error_code", "").strip() or None,
        response_code=data.get("response_code", "").strip() or None,
        has_events=has_events,
    )


def _sort(data: QueryDict) -> str:
    sort = data.get("sort", "learner")
    keys = {key for _, key in ROW_COLUMNS if key}
    return sort if sort.removeprefix("-") in keys else "learner"


def _filter_query(data: QueryDict, **changes: str) -> str:
    values = {k: data.get(k, "") for k in FILTER_KEYS}
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v})


def _progress_context(download: PlrDownload) -> dict[str, Any]:
    done, total = plr_download_progress(download)
    return {"download": download, "done": done, "total": total, "percent": done * 100 // total if total else 0}


@login_required
@require_GET
def plr_download(request: HttpRequest, download_id: int) -> HttpResponse:
    found = _download_for(request, download_id)
    if isinstance(found, HttpResponse):
        return found
    download = found
    context = _progress_context(download)
    if download.finished:
        sort = _sort(request.GET)
        rows = plr_rows_list(download, filters=_row_filter(request.GET), sort=sort)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        columns = []
        for heading, key in ROW_COLUMNS:
            if key is None:
                columns.append({"heading": heading, "url": None, "arrow": ""})
                continue
            current = sort.removeprefix("-") == key
            descending = sort.startswith("-")
            next_sort = f"-{key}" if current and not descending else key
            arrow = ("▼" if descending else "▲") if current else ""
            columns.append(
                {"heading": heading, "url": "?" + _filter_query(request.GET, sort=next_sort), "arrow": arrow}
            )
        context.update(
            page=page,
            columns=columns,
            filters={k: request.GET.get(k, "") for k in FILTER_KEYS},
            filter_query=_filter_query(request.GET),
            update_refusal=plr_refusal(request.user, update=True),
        )
    return render(request, "web/attainments/download.html", context)


@login_required
@require_GET
def plr_download_status(request: HttpRequest, download_id: int) -> HttpResponse:
    """The progress bar polled every second; once the download has finished, the window reloads with the grid."""
    found = _download_for(request, download_id)
    if isinstance(found, HttpResponse):
        return found
    if found.finished:
        return HttpResponse(headers={"HX-Refresh": "true"})
    return render(request, "web/attainments/_progress.html", _progress_context(found))


EXPORTS = {"csv": rows_csv_response, "xlsx": rows_xlsx_response}


@login_required
@require_GET
def plr_download_export(request: HttpRequest, download_id: int, kind: str) -> HttpResponse | StreamingHttpResponse:
    """The grid, as filtered and sorted on the page, as CSV or Excel (R-PLR-5)."""
    found = _download_for(request, download_id)
    if isinstance(found, HttpResponse):
        return found
    rows = plr_rows_list(found, filters=_row_filter(request.GET), sort=_sort(request.GET))
    return EXPORTS[kind](rows, f"plr-download-{found.pk}")


@login_required
@require_POST
def plr_download_update(request: HttpRequest, download_id: int) -> HttpResponse:
    """Update Selected: the ticked rows, or every row the filters match; the counts are shown as a message."""
    found = _download_for(request, download_id)
    if isinstance(found, HttpResponse):
        return found
    back = f"{reverse('plr_download', args=[found.pk])}?{_filter_query(request.POST)}"
    try:
        if request.POST.get("scope") == "all":
            result = plr_rows_update_selected(
                download=found, by=acting_user(request), filters=_row_filter(request.POST)
            )
        else:
            ids = [int(v) for v in request.POST.getlist("row") if v.isdigit()][:PAGE_SIZE]
            if not ids:
                messages.error(request, "Select at least one row to update, or all rows.")
                return redirect(back)
            result = plr_rows_update_selected(download=found, by=acting_user(request), row_ids=ids)
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(back)
    messages.success(
        request,
        f"Update Selected: {result.processed} processed, {result.updated} updated, "
        f"{result.unchanged} not updated (unchanged), {result.skipped} skipped (no learning event).",
    )
    return redirect(back)


@login_required
@require_POST
def plr_download_refresh_view(request: HttpRequest, download_id: int) -> HttpResponse:
    found = _download_for(request, download_id)
    if isinstance(found, HttpResponse):
        return found
    try:
        plr_download_refresh(download=found, by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
    return redirect("plr_download", found.pk)


@login_required
@require_POST
def plr_download_close(request: HttpRequest, download_id: int) -> HttpResponse:
    """Close: the download and its rows are discarded; back to the Learner Manager."""
    try:
        download = plr_download_get_for(request.user, download_id)
    except NotFound as e:
        raise Http404(e.message) from None
    plr_download_discard(download=download, by=acting_user(request))
    messages.info(request, "The PLR download was closed and its downloaded data discarded.")
    return redirect("learner_manager")
