"""The audit chain (issue 11), its schema: sequence numbers and HMAC-SM3 links, an outcome, the
chain head and archive checkpoints. 0003 chains the entries written before; 0004 makes the
columns required and, on PostgreSQL, the tables append-only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("seq", models.BigIntegerField(default=0)),
                ("mac", models.CharField(max_length=64)),
            ],
            options={"verbose_name": "审计链头", "verbose_name_plural": "审计链头"},
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="时间")),
                ("first_seq", models.BigIntegerField(verbose_name="起始序号")),
                ("through_seq", models.BigIntegerField(unique=True, verbose_name="截止序号")),
                ("prev_mac", models.CharField(max_length=64, verbose_name="起始前校验值")),
                ("through_mac", models.CharField(max_length=64, verbose_name="截止校验值")),
                ("through_at", models.DateTimeField(verbose_name="截止记录时间")),
                ("entries", models.PositiveIntegerField(verbose_name="条数")),
                ("file", models.CharField(max_length=255, verbose_name="归档文件")),
                ("sha256", models.CharField(max_length=64, verbose_name="文件 SHA-256")),
            ],
            options={
                "verbose_name": "审计归档点",
                "verbose_name_plural": "审计归档点",
                "ordering": ["-through_seq"],
            },
        ),
        migrations.AlterModelOptions(
            name="auditentry",
            options={
                "ordering": ["-seq"],
                "verbose_name": "审计记录",
                "verbose_name_plural": "审计记录",
            },
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("login", "登录"),
                    ("login_failed", "登录失败"),
                    ("account_locked", "账号锁定"),
                    ("address_locked", "地址锁定"),
                    ("unlocked", "解除锁定"),
                    ("logout", "退出登录"),
                    ("password_changed", "修改密码"),
                    ("password_reset", "管理员重置密码"),
                    ("token_issued", "签发令牌"),
                    ("token_revoked", "吊销令牌"),
                    ("totp_enrolled", "绑定动态口令"),
                    ("totp_reset", "重置动态口令"),
                    ("recovery_code_used", "使用恢复码"),
                    ("recovery_codes_regenerated", "重新生成恢复码"),
                    ("role_changed", "角色变更"),
                    ("permission_changed", "权限变更"),
                    ("account_created", "创建账号"),
                    ("account_changed", "修改账号"),
                    ("view_personal_data", "查看个人信息"),
                    ("view_party_data", "查看当事人信息"),
                    ("export", "导出数据"),
                    ("admin_change", "后台修改"),
                    ("config_change", "配置变更"),
                    ("superuser_action", "超级用户操作"),
                    ("audit_viewed", "查阅审计日志"),
                    ("audit_exported", "导出审计日志"),
                    ("audit_archived", "归档审计日志"),
                ],
                db_index=True,
                max_length=48,
                verbose_name="操作",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="outcome",
            field=models.CharField(
                choices=[("success", "成功"), ("denied", "被拒绝"), ("failed", "失败")],
                default="success",
                max_length=16,
                verbose_name="结果",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(default="", max_length=16, verbose_name="密钥标识"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_mac",
            field=models.CharField(default="", max_length=64, verbose_name="前一条校验值"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="mac",
            field=models.CharField(default="", max_length=64, verbose_name="校验值"),
            preserve_default=False,
        ),
    ]
