import os

from django.core.wsgi import get_wsgi_application

# Forced, not setdefault: a floor started with pingan's settings answers 500s (perf.md §2.2).
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
application = get_wsgi_application()
