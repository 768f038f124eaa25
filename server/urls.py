from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from server.api import SchemaView, api_index
from web import staff_views

urlpatterns = [
    # Staff with nothing to do in the admin (facilitators) land on their own page instead.
    path("admin/", staff_views.admin_home, name="admin-home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_index, name="api-index"),
    path("api/v1/", include("server.api_urls")),
    path("api/v1/schema/", SchemaView.as_view(), name="api-schema"),
    # The human page of the API. The split view serves Swagger UI's start-up code as a script
    # file of its own (?script), so the page keeps the site's CSP: no inline script, no CDN.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]

# Under /api/ every error is the API's JSON body; elsewhere, the site's own pages (web/errors.py).
handler400 = "server.api.error_400"
handler403 = "server.api.error_403"
handler404 = "server.api.error_404"
handler500 = "server.api.error_500"

admin.site.site_header = "Halqa"
admin.site.site_title = "Halqa"
