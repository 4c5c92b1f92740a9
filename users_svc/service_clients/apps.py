from django.apps import AppConfig


class ServiceClientsConfig(AppConfig):
    name = "service_clients"
    verbose_name = "Service clients"
