"""The static files storage: WhiteNoise's hashed, compressed copies once `collectstatic` ran.

`collectstatic` writes `name.<hash>.ext` plus `.gz` (and `.br` with the brotli package) into
STATIC_ROOT; WhiteNoise serves those with `Cache-Control: max-age=315360000, immutable`, so a
phone on village 3G fetches each file once and never revalidates it. Before `collectstatic` has
run (tests, a development checkout, the browser tests' server) there is no manifest: pages then
link the plain names, which WhiteNoise serves from the source folders (WHITENOISE_USE_FINDERS),
instead of failing with "Missing staticfiles manifest entry".
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    # CSS url() and @import only: source-map comments are left alone, since the vendored
    # bundles name maps we do not ship (leaflet.js.map), which Django would refuse to hash.
    patterns = (
        (
            "*.css",
            (
                r"""(?P<matched>url\(['"]{0,1}\s*(?P<url>.*?)["']{0,1}\))""",
                (
                    r"""(?P<matched>@import\s*["']\s*(?P<url>.*?)["'])""",
                    """@import url("%(url)s")""",
                ),
            ),
        ),
    )

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            # Not collected (no manifest, or a file added since): the plain name.
            return name
