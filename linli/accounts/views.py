from django.http import HttpResponse


def home(request):
    return HttpResponse("linli")


def login_view(request):
    return HttpResponse("login")


def logout_view(request):
    return HttpResponse("logout")
