"""Not in the Django admin, on purpose (三员分立): whoever can change permissions there must not
read the audit, and nobody may edit or delete an entry. The audit administrator searches and
exports the log on its own pages (/audit/, pages.py)."""
