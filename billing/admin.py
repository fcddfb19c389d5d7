"""Django admin for orders, packs and the charge ledger; admins may add packs of any size and duration."""
from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from billing.models import Charge, Order, ResourcePack


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "api", "tier", "quantity", "amount", "currency", "status", "created_at",
                    "paid_at", "paid_by")
    list_filter = ("status", "api", "tier")
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ResourcePack)
class ResourcePackAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "api", "calls_total", "calls_used", "starts_at", "expires_at", "source")
    list_filter = ("api", "source")
    readonly_fields = ("calls_used", "order", "granted_by", "created_at")
    fields = ("application", "api", "calls_total", "calls_used", "starts_at", "expires_at", "source", "order",
              "granted_by", "created_at")

    def get_changeform_initial_data(self, request) -> dict:
        return {"source": ResourcePack.Source.GRANT, "starts_at": timezone.now()}

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.source, obj.granted_by = ResourcePack.Source.GRANT, request.user
        super().save_model(request, obj, form, change)


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ("request_id", "application", "api", "units", "status", "result_code", "created_at", "settled_at")
    list_filter = ("status", "api")
    search_fields = ("request_id",)
    readonly_fields = [f.name for f in Charge._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
