from django import forms


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", max_length=256, widget=forms.PasswordInput)


class OtpForm(forms.Form):
    code = forms.CharField(
        label="动态口令",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="当前密码", max_length=256, widget=forms.PasswordInput)
    new_password = forms.CharField(
        label="新密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="再次输入新密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    otp = forms.CharField(label="动态口令", max_length=16, required=False)

    def __init__(self, *args, needs_otp: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_otp = needs_otp
        if needs_otp:
            self.fields["otp"].required = True
        else:
            del self.fields["otp"]

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", "两次输入的新密码不一致")
        return data
