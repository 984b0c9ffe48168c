"""Progress lines for the generator's output (the management command's stdout, or none)."""


def say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message if message.endswith("\n") else message + "\n")
        if hasattr(stdout, "flush"):
            stdout.flush()
