"""Forms of accounts: they check shape only; lock-out and audit live in the view and actions."""

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "class": "weui-input"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "weui-input"}),
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip()
