from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from server.api import SchemaView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("server.api_urls")),
    path("api/v1/schema/", SchemaView.as_view(), name="api-schema"),
    # The human page of the API. The split view serves Swagger UI's start-up code as a script
    # file of its own (?script), so the page keeps the site's CSP: no inline script, no CDN.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]

admin.site.site_header = "Halqa"
admin.site.site_title = "Halqa"
