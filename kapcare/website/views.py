import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control

from kapcare.accounts.access import otp_exempt, staff_permission_required
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import note_saved_values
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
            # The editor's entries stay, each that differs with the saved value
            # under it, and what is saved now becomes `seen`: saving again (after
            # checking) goes through. The page header shows the saved name again.
            profile.refresh_from_db()
            current = ClinicProfile.objects.get(pk=profile.pk)
            posted = request.POST.copy()
            posted["seen"] = fingerprint(clinic_profile_values(current))
            form = ClinicProfileForm(posted, instance=current)
            form.add_error(None, str(exc))
            note_saved_values(form)
            status = 409
        else:
            messages.success(
                request, "Clinic details saved." if changed else "Nothing changed."
            )
            return redirect("website:clinic_settings")
    return render(
        request, "website/clinic_settings.html", {"form": form}, status=status
    )
