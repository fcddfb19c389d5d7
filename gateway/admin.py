"""Django admin for applications: the secret is never shown here, only rotated via services."""
from __future__ import annotations

from django.contrib import admin, messages

from gateway.models import Application, ServiceCode
from gateway.services import rotate_secret, set_status


class ServiceCodeInline(admin.TabularInline):
    model = ServiceCode
    extra = 0
    can_delete = False
    readonly_fields = ("api", "code")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "app_key", "owner", "status", "rate_limit_per_second", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "app_key", "owner__username", "owner__email")
    readonly_fields = ("app_key", "created_at", "secret_rotated_at")
    exclude = ("app_secret_encrypted",)
    inlines = [ServiceCodeInline]
    actions = ["disable", "enable", "rotate"]

    @admin.action(description="Disable selected applications")
    def disable(self, request, queryset) -> None:
        for app in queryset:
            set_status(app, False)

    @admin.action(description="Enable selected applications")
    def enable(self, request, queryset) -> None:
        for app in queryset:
            set_status(app, True)

    @admin.action(description="Rotate the AppSecret (shown once)")
    def rotate(self, request, queryset) -> None:
        for app in queryset:
            self.message_user(request, f"{app.app_key}: new AppSecret {rotate_secret(app)}", messages.WARNING)

    def has_add_permission(self, request) -> bool:
        return False  # created through the console or `facegate admin create-app` (keys + codes)
