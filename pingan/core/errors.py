"""Domain errors carry a machine-readable code, a Chinese message and an HTTP status.

Services raise them; the API turns them into `{"error": {"code", "message"}}` and pages show
the message. Nothing here knows about HTTP beyond the number.
"""


class ServiceError(Exception):
    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details=None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        # Seconds until trying again makes sense (429, 423, 503): sent as Retry-After.
        self.retry_after = retry_after
        if status is not None:
            self.status = status


class NotFound(ServiceError):
    status = 404

    def __init__(self, message: str = "未找到该记录，或您无权查看"):
        super().__init__("not_found", message)


class Forbidden(ServiceError):
    status = 403

    def __init__(self, message: str = "您无权执行此操作"):
        super().__init__("forbidden", message)


class Conflict(ServiceError):
    status = 409
