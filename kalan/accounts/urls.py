from django.urls import path

from kalan.accounts import views

app_name = "accounts"
urlpatterns = [
    path("signin/", views.sign_in, name="sign-in"),
    path("signout/", views.sign_out, name="sign-out"),
    path("language/", views.set_language, name="set-language"),
]
