"""The phone ends as an installable web app: the manifest, the service worker and the page it
shows when there is no signal.

The service worker is served from the site's root (/sw.js) so that its scope is the whole
site, never cached by the browser's HTTP cache (a new release must reach phones at the next
visit), and lists the shell by its hashed static names: a release changes the names, the
worker's text and so its cache. It keeps the shell (styles, scripts, icons, the offline page);
pages come from the network only (they carry personal data and must not outlive a sign-out on
a shared phone), and without it the offline page answers instead of the browser's error page.
API calls are never touched.
"""

import hashlib

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME = "#1d4e89"
# What a phone needs to draw any page without the network.
SHELL = (
    "pingan/app.css",
    "pingan/app.js",
    "vendor/htmx/htmx.min.js",
    "pingan/favicon.svg",
    "pingan/icons/icon-192.png",
)


@require_safe
@cache_control(max_age=3600)
def manifest(request):
    body = {
        "name": "平安 · 社区与农村警务",
        "short_name": "平安",
        "description": "报警、接警、纠纷、义警与积分：派出所、民警、辅警、群众与义警的一个平台",
        "lang": "zh-CN",
        "start_url": "/?source=app",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": static("pingan/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("pingan/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("pingan/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("pingan/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
        "shortcuts": [
            {"name": "我要报警", "url": "/report/"},
            {"name": "我的警情", "url": "/unit/"},
        ],
    }
    return JsonResponse(
        body,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@require_safe
def service_worker(request):
    shell = [static(path) for path in SHELL] + ["/offline/"]
    version = hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    text = render_to_string("pwa/sw.js", {"shell": shell, "version": version})
    response = HttpResponse(text, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
def offline(request):
    return render(request, "offline.html")
