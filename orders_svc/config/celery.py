from service_kit.celery import make_celery_app

app = make_celery_app()
