from django.contrib import admin
from django.contrib.auth import views as auth
from django.urls import path

from . import editing, views, views_feed
from .backends import OIDCCallback, OIDCStart

urlpatterns = [
    path("", views.home, name="home"),
    path("gezond/", views.health, name="health"),
    path("aanmelden/", auth.LoginView.as_view(template_name="web/login.html",
                                               redirect_authenticated_user=True), name="login"),
    path("afmelden/", auth.LogoutView.as_view(), name="logout"),
    path("zoek/", views.search, name="search"),
    path("hulp/", views.guide, name="guide"),
    path("hulp/<str:name>.png", views.guide_picture, name="guide_picture"),
    path("folder/", views.patient, name="patient"),
    path("folder/keuzes/", views.patient_choices, name="patient_choices"),
    path("folder/<uuid:pk>/", views.document, name="document"),
    path("folder/<uuid:pk>/pagina/<int:page>.png", views.document_page, name="document_page"),
    path("folder/<uuid:pk>/pdf", views.document_pdf, name="document_pdf"),
    path("dag/", views.days, name="days"),
    path("dag/<uuid:pk>/", views.day, name="day"),
    path("dag/<uuid:pk>/voorbeeld/<int:row>.png", views.day_preview, name="day_preview"),
    path("dag/<uuid:pk>/maak", views.day_make, name="day_make"),
    path("dag/<uuid:pk>/voortgang", views.day_progress, name="day_progress"),
    path("dag/<uuid:pk>/behandeld", views.day_dealt, name="day_dealt"),
    path("dag/<uuid:pk>/nagekeken", views_feed.day_checked, name="day_checked"),
    path("koppeling/fhir/Appointment", views_feed.appointment, name="feed_fhir"),
    path("dag/<uuid:pk>/rij/<int:row>/", views.day_row, name="day_row"),
    path("dag/<uuid:pk>/patient/<int:row>/", views.day_leaflet, name="day_leaflet"),
    path("dag/<uuid:pk>/patient/<int:row>/pagina/<int:page>.png", views.day_leaflet_page,
         name="day_leaflet_page"),
    path("dag/<uuid:pk>/email/", views.day_email, name="day_email"),
    path("dag/<uuid:pk>/email/verstuur", views.day_email_send, name="day_email_send"),
    path("dag/<uuid:pk>/email/proef", views.day_email_proof, name="day_email_proof"),
    path("dag/<uuid:pk>/email/voortgang", views.day_email_progress, name="day_email_progress"),
    path("dag/<uuid:pk>/<str:kind>/<int:number>", views.day_file, name="day_file"),
    path("inhoud/", editing.overview, name="content_check"),
    path("inhoud/nieuw/", editing.new, name="content_new"),
    path("inhoud/vertaling/<slug:slug>/<str:lang>", editing.translate, name="content_translate"),
    path("inhoud/bewerk/<path:path>", editing.edit, name="content_edit"),
    path("inhoud/bewaar", editing.save, name="content_save"),
    path("inhoud/controle", editing.check, name="content_findings"),
    path("inhoud/voorbeeld", editing.preview, name="content_preview"),
    path("inhoud/voorbeeld/<str:key>/<int:page>.png", editing.preview_page,
         name="content_preview_page"),
    path("inhoud/voorbeeld/<str:key>.pdf", editing.preview_pdf, name="content_preview_pdf"),
    path("inhoud/concept/<uuid:pk>/", editing.review, name="content_draft"),
    path("inhoud/concept/<uuid:pk>/indienen", editing.submit, name="content_submit"),
    path("inhoud/concept/<uuid:pk>/intrekken", editing.withdraw, name="content_withdraw"),
    path("inhoud/concept/<uuid:pk>/besluit", editing.decide, name="content_decide"),
    path("inhoud/versies/<path:path>", editing.versions, name="content_versions"),
    path("inhoud/terugzetten/<path:path>", editing.restore, name="content_restore"),
    path("audit/", views.audit_log, name="audit"),
    path("beheer/", admin.site.urls),
]  # fmt: skip

# OpenID Connect (LEAFLETPRESS_SIGN_IN=oidc; otherwise these answer 404).
urlpatterns += [
    path("oidc/authenticate/", OIDCStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", OIDCCallback.as_view(), name="oidc_authentication_callback"),
]

handler403 = "leafletpress.web.views.forbidden"
handler404 = "leafletpress.web.views.not_found"
handler500 = "leafletpress.web.views.server_error"
