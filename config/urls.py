from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer

from common import two_factor, views
from dashboard import audit_views
from stepped_care import flag_views


class OptionsAsJSON:
    """OPTIONS answers JSON like the rest of the API: the Swagger page's HTML renderer has no template
    for it (it was a 500) and the schema's would answer YAML."""

    def get_renderers(self):
        if self.request.method == "OPTIONS":
            return [JSONRenderer()]
        return super().get_renderers()


class ApiSchemaView(OptionsAsJSON, SpectacularAPIView):
    """The OpenAPI schema of the API."""


class ApiDocsView(OptionsAsJSON, SpectacularSwaggerView):
    """The Swagger UI page of the API."""


@login_not_required
def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", two_factor.setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
    path("health/", health, name="health"),
    path("flags/<uuid:pk>/resolve/", flag_views.flag_resolve, name="resolve_flag"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("groups/", include("workshops.urls")),
    path("appointments/", include("appointments.urls")),
    path("", include("frontdoor.urls")),
    path("", include("referrals.urls")),
    path("supervision/", include("supervision.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("dataset/", include("dataset.urls")),
    path("api/schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

# The API answers JSON problems even for what happens outside a view; people get the usual pages (a
# refusal: the app's page naming who may, common.views.permission_denied).
handler400 = "common.api_errors.bad_request"
handler403 = "common.views.permission_denied"
handler404 = "common.api_errors.not_found"
handler500 = "common.api_errors.server_error"
