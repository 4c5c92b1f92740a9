from django.apps import AppConfig


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"
