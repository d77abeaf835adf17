from django import forms

from kapcare.lib.canada import clean_canadian_phone, clean_postal_code
from kapcare.website.models import ClinicProfile


class ClinicProfileForm(forms.ModelForm[ClinicProfile]):
    class Meta:
        model = ClinicProfile
        fields = [
            "name", "logo", "street_address", "city", "province", "postal_code", "phone",
            "email", "hours", "time_zone", "crisis_resources", "alert_response_statement",
            "high_alert_deadline_minutes", "moderate_alert_deadline_business_days",
            "relapse_warning_enabled", "relapse_consecutive_measures",
            "first_contact_business_days", "appointment_reminder_hours",
            "portal_booking",
        ]  # fmt: skip
        widgets = {
            "hours": forms.Textarea(attrs={"rows": 4}),
            "crisis_resources": forms.Textarea(attrs={"rows": 4}),
            "alert_response_statement": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("phone", "")))

    def clean_postal_code(self) -> str:
        return clean_postal_code(str(self.cleaned_data.get("postal_code", "")))

    def clean_logo(self) -> object:
        logo = self.cleaned_data.get("logo")
        if logo and getattr(logo, "size", 0) > 1024 * 1024:
            raise forms.ValidationError("The logo must be under 1 MB.")
        return logo
