import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control

from kapcare.accounts.access import otp_exempt, staff_permission_required
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import shown_again
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.website.context_processors import clinic_for
from kapcare.website.forms import ClinicProfileForm
from kapcare.website.models import ClinicProfile, clinic_profile_values
from kapcare.website.services import update_clinic_profile


@otp_exempt
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness check for load balancers; also the benchmark's minimal view."""
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@cache_control(public=True, max_age=3600)
def clinic_logo(request: HttpRequest) -> FileResponse:
    logo = clinic_for(request).logo
    if not logo:
        raise Http404("No logo")
    content_type = mimetypes.guess_type(logo.name)[0] or "application/octet-stream"
    if not content_type.startswith("image/") or content_type == "image/svg+xml":
        raise Http404("No logo")
    return FileResponse(logo.open("rb"), content_type=content_type)


@staff_permission_required("website.change_clinicprofile")
def clinic_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile = clinic_for(request)
    form = ClinicProfileForm(
        request.POST or None, request.FILES or None, instance=profile
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            changed = update_clinic_profile(
                request=request, form=form, seen=form.cleaned_data["seen"]
            )
        except ChangedMeanwhileError as exc:
            profile.refresh_from_db()  # the page header shows the saved name again
            current = ClinicProfile.objects.get(pk=profile.pk)
            form = shown_again(
                lambda data: ClinicProfileForm(data, instance=current), request.POST,
                fingerprint(clinic_profile_values(current)), exc,
            )  # fmt: skip
            status = 409
        else:
            messages.success(
                request, "Clinic details saved." if changed else "Nothing changed."
            )
            return redirect("website:clinic_settings")
    return render(
        request, "website/clinic_settings.html", {"form": form}, status=status
    )
