"""Chain the audit entries written before issue 11, in the order they were written, under the
current key (pingan/audit/chain.py), and start the chain head after the last of them."""

from django.db import migrations


def chain_existing(apps, schema_editor):
    from pingan.audit import chain

    AuditEntry = apps.get_model("audit", "AuditEntry")
    ChainHead = apps.get_model("audit", "ChainHead")
    key_id, key = chain.current_key()
    seq, prev = 0, chain.GENESIS
    for entry in AuditEntry.objects.order_by("at", "pk").iterator():
        seq += 1
        values = {
            "seq": seq,
            "at": entry.at,
            "actor_id": entry.actor_id,
            "actor_label": entry.actor_label,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_ref": entry.object_ref,
            "detail": chain.normal_detail(entry.detail),
            "ip": chain.normal_ip(entry.ip),
            "outcome": "success",
            "key_id": key_id,
            "prev_mac": prev,
        }
        mac = chain.compute_mac(values, key)
        AuditEntry.objects.filter(pk=entry.pk).update(
            seq=seq,
            detail=values["detail"],
            ip=values["ip"],
            key_id=key_id,
            prev_mac=prev,
            mac=mac,
        )
        prev = mac
    ChainHead.objects.create(id=1, seq=seq, mac=prev)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_chain"),
    ]

    operations = [
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
