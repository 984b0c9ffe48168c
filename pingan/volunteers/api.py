from ninja import Router

from pingan.core.api_auth import REQUIRED

router = Router(auth=REQUIRED)
