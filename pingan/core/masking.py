"""Masking of personal data, done on the server before anything leaves it."""


def mask_phone(e164: str | None) -> str:
    """+8613812345678 -> 138****5678."""
    if not e164:
        return ""
    digits = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(value: str | None) -> str:
    """110101199003071234 -> 110***********1234 keeps the region prefix and check digits."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(name: str | None) -> str:
    """张三丰 -> 张**: residents' names in public lists show the surname only."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)
