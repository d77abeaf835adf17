from django.http import Http404, HttpResponse
from django.shortcuts import render

from kapcare.accounts.access import staff_permission_required
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.instruments import INSTRUMENTS


@staff_permission_required()
def instrument_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The instrument library: what Kapcare scores and on whose authority."""
    instruments = sorted(INSTRUMENTS.values(), key=lambda i: i.name)
    return render(
        request, "measures/instrument_list.html", {"instruments": instruments}
    )


@staff_permission_required()
def instrument_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise Http404("No such instrument")
    return render(
        request, "measures/instrument_detail.html", {"instrument": instrument}
    )
